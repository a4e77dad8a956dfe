/**
 * Draws a test's detail (see detail.ts for what it holds) into its panel. Rebuilt when the test changes;
 * every string goes in as text.
 */
import type { AttemptView, DetailView, ErrorView } from './detail.js';
import { h } from './dom.js';
import { formatClock } from './view-model.js';

function errorBlock(e: ErrorView): HTMLElement {
  const box = h(
    'div',
    { class: 'error-view', 'data-testid': 'detail-error' },
    h('p', { class: 'error-summary' }, e.summary),
  );
  if (e.location) box.append(h('p', { class: 'error-location' }, 'at ', h('code', {}, e.location)));
  if (e.expected !== undefined || e.received !== undefined) {
    box.append(
      h(
        'dl',
        { class: 'expected-received' },
        h('dt', { class: 'er-label' }, 'Expected'),
        h(
          'dd',
          { class: 'er-value' },
          h('pre', { class: 'expected', 'data-testid': 'detail-expected' }, e.expected ?? ''),
        ),
        h('dt', { class: 'er-label' }, 'Received'),
        h(
          'dd',
          { class: 'er-value' },
          h('pre', { class: 'received', 'data-testid': 'detail-received' }, e.received ?? ''),
        ),
      ),
    );
  }
  if (e.diff) {
    const pre = h('pre', { class: 'diff', 'aria-label': 'Difference: - expected, + received' });
    for (const line of e.diff)
      pre.append(
        h(
          'span',
          { class: `diff-line op-${line.op === ' ' ? 'same' : line.op === '-' ? 'del' : 'add'}` },
          `${line.op} ${line.text}\n`,
        ),
      );
    box.append(pre);
  }
  box.append(
    h(
      'details',
      { class: 'error-message', open: e.expected === undefined },
      h('summary', {}, 'Message'),
      h('pre', {}, e.message),
    ),
  );
  if (e.stack) {
    box.append(
      h(
        'details',
        { class: 'error-stack' },
        h('summary', {}, e.hiddenFrames > 0 ? `Stack (${e.hiddenFrames} runner frames left out)` : 'Stack'),
        h('pre', {}, e.stack),
      ),
    );
  }
  return box;
}

function attemptBlock(a: AttemptView, count: number): HTMLElement {
  const head = [
    `Attempt ${a.attempt}${count > 1 ? ` of ${count}` : ''}`,
    a.status,
    a.duration,
    a.timedOut ? 'timed out' : '',
    a.startedAt ? `started ${a.startedAt} UTC` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const li = h(
    'li',
    { class: 'attempt', 'data-status': a.willRetry ? 'retried' : a.status, 'data-testid': 'detail-attempt' },
    h('h4', { class: 'attempt-head' }, head),
  );
  for (const e of a.errors) li.append(errorBlock(e));
  if (a.annotations.length)
    li.append(h('ul', { class: 'annotations' }, ...a.annotations.map((t) => h('li', {}, t))));
  if (a.steps.length) {
    const list = h('ol', { class: 'steps', 'aria-label': 'Steps' });
    for (const s of a.steps) {
      const item = h(
        'li',
        { class: 'step', 'data-error': s.error ? 'true' : undefined },
        h('span', { class: 'step-title' }, `${'  '.repeat(s.depth)}${s.title}`),
        h('span', { class: 'step-meta' }, [s.category, s.duration, s.location].filter(Boolean).join(' · ')),
      );
      if (s.error) item.append(h('span', { class: 'step-error' }, s.error));
      list.append(item);
    }
    li.append(
      h(
        'details',
        { class: 'steps-box' },
        h('summary', {}, `Steps (${a.steps.length}${a.stepsDropped ? ` + ${a.stepsDropped} not kept` : ''})`),
        list,
      ),
    );
  }
  if (a.attachments.length) {
    li.append(
      h(
        'ul',
        { class: 'attachments', 'aria-label': 'Attachments' },
        ...a.attachments.map((x) =>
          h(
            'li',
            {},
            h('span', { class: 'attachment-name' }, x.name),
            ` ${[x.contentType, x.size].filter(Boolean).join(', ')}`,
            x.path ? h('code', {}, x.path) : '',
          ),
        ),
      ),
    );
  }
  return li;
}

function outputBlock(lines: DetailView['output'], dropped: number): HTMLElement {
  const pre = h('pre', { class: 'output', 'data-testid': 'detail-output' });
  if (dropped > 0)
    pre.append(h('span', { class: 'output-dropped' }, `… ${dropped} earlier lines not kept\n`));
  for (const line of lines) {
    const text = line.text.endsWith('\n') ? line.text : `${line.text}\n`;
    pre.append(
      h(
        'span',
        { class: 'output-line', 'data-stream': line.outputType },
        h('span', { class: 'output-meta' }, `${formatClock(line.timestamp)} ${line.stream} `),
        text,
      ),
    );
  }
  return pre;
}

/** The panel's new content. */
export function renderDetail(view: DetailView, onClose: () => void): HTMLElement[] {
  const close = h(
    'button',
    { class: 'button detail-close', type: 'button', 'aria-label': 'Close test detail' },
    '✕',
  );
  close.addEventListener('click', onClose);
  const out: HTMLElement[] = [
    h(
      'header',
      { class: 'detail-head' },
      h('h3', { id: 'detail-title', class: 'detail-title', tabindex: '-1' }, view.title),
      close,
    ),
    h('p', { class: 'detail-path' }, view.titlePath.join(' › ')),
    h(
      'p',
      { class: 'detail-meta' },
      h('span', { class: 'badge', 'data-status': view.status }, view.status),
      h('span', { class: 'detail-duration' }, view.duration),
      view.location ? h('code', { class: 'detail-location' }, view.location) : '',
      ...view.marks.map((m) => h('span', { class: 'chip' }, m)),
    ),
  ];
  if (view.baseline)
    out.push(
      h(
        'p',
        {
          class: 'detail-baseline',
          'data-regression': view.baselineRegression ? 'true' : undefined,
          'data-testid': 'detail-baseline',
        },
        view.baseline,
      ),
    );
  if (view.attempts.length) {
    out.push(
      h(
        'h4',
        { class: 'detail-section' },
        view.attempts.length > 1 ? `Attempts (${view.attempts.length})` : 'Result',
      ),
    );
    out.push(
      h('ol', { class: 'attempts' }, ...view.attempts.map((a) => attemptBlock(a, view.attempts.length))),
    );
  }
  if (view.output.length || view.outputDropped) {
    out.push(
      h('h4', { class: 'detail-section' }, `Output (${view.output.length + view.outputDropped} lines)`),
    );
    out.push(outputBlock(view.output, view.outputDropped));
  } else if (view.fileOutput.length) {
    out.push(
      h('h4', { class: 'detail-section' }, 'Output of its file (the runner does not tie output to a test)'),
    );
    out.push(outputBlock(view.fileOutput, 0));
  } else {
    out.push(h('p', { class: 'empty' }, 'No output.'));
  }
  return out;
}
