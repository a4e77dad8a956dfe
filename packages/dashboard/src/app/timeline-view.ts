/** Draws a run's timeline (see timeline.ts): one row per lane, bars placed in % of the run's span. */
import { h } from './dom.js';
import type { TimelineRun } from './timeline.js';
import { formatDuration } from './view-model.js';

export function renderTimeline(model: TimelineRun): HTMLElement[] {
  const span = model.spanMs;
  const pct = (ms: number) => `${Math.max(0, Math.min(100, (ms / span) * 100)).toFixed(3)}%`;
  const axis = h('div', { class: 'tl-axis', 'aria-hidden': 'true' });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    const tick = h('span', { class: 'tl-tick' }, formatDuration(span * f));
    tick.style.left = `${f * 100}%`;
    axis.append(tick);
  }
  const lanes = model.lanes.map((lane) => {
    const row = h(
      'div',
      {
        class: 'tl-lane',
        role: 'listitem',
        'data-inferred': lane.inferred ? 'true' : undefined,
        'aria-label': `${lane.inferred ? `lane ${lane.name}` : lane.name}: ${lane.bars.length} bars`,
      },
      h(
        'span',
        { class: 'tl-lane-name', title: lane.name },
        lane.inferred ? lane.name : lane.name.replace(/^worker /, 'w'),
      ),
    );
    const track = h('div', { class: 'tl-track' });
    for (const bar of lane.bars) {
      const dur = bar.end - bar.start;
      const text = bar.running
        ? `▶ ${bar.label} ${formatDuration(dur)}${bar.hung ? ' (hung)' : ''}`
        : bar.label;
      const el = h(
        'span',
        {
          class: 'tl-bar',
          'data-status': bar.status,
          'data-running': bar.running ? 'true' : undefined,
          'data-hung': bar.hung ? 'true' : undefined,
          'data-test-key': bar.testKey,
          title: `${bar.title}\n${formatDuration(bar.start)} → ${formatDuration(bar.end)} (${formatDuration(dur)})${bar.running ? ', running' : ''}`,
        },
        text,
      );
      el.style.left = pct(bar.start);
      el.style.width = `max(3px, ${pct(dur)})`;
      track.append(el);
    }
    row.append(track);
    return row;
  });
  const note = h(
    'p',
    { class: 'hint' },
    `${model.lanes.length} lanes${
      model.inferred
        ? model.lanes.some((l) => !l.inferred)
          ? '; w0, w1 … are the runner’s workers, numbered lanes are inferred (running tests, or no worker named)'
          : ', inferred: the events name no workers, so bars are packed onto the fewest lanes that keep them apart'
        : ', one per worker of the runner'
    }.${model.omitted ? ` ${model.omitted} shortest bars left out.` : ''}`,
  );
  return [axis, h('div', { class: 'tl-lanes', role: 'list' }, ...lanes), note];
}
