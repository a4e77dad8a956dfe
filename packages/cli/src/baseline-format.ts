/**
 * Baseline comparisons as `tail` and `watch` show them: the note a `test.result` gets when it carries
 * `baseline` (a regression found live), the lines of `baseline.compared` / `baseline.saved`, and the
 * regressions `watch` lists per run while it runs.
 */
import type { AnyEventEnvelope, BaselineTestComparison } from '@testwire/protocol';
import { type Colors, countOf, formatDuration, titleOf } from './format-basics.js';

/** ` ▲ slower than main: +500 ms (+100 %)` — empty when there is nothing to say. */
export function baselineNote(baseline: BaselineTestComparison | undefined, c: Colors): string {
  if (!baseline) return '';
  const against = `vs ${baseline.label}`;
  if (baseline.newlyFailing) return ` ${c.red(`▲ newly failing ${against}`)}`;
  if (baseline.slower)
    return ` ${c.yellow(`▲ slower ${against}: +${formatDuration(baseline.change)} (+${baseline.percentage} %)`)}`;
  if (baseline.added) return ` ${c.cyan(`new ${against}`)}`;
  if (baseline.fixed) return ` ${c.green(`fixed ${against}`)}`;
  if (baseline.faster)
    return ` ${c.green(`faster ${against}: ${formatDuration(baseline.change)} (${baseline.percentage} %)`)}`;
  if (baseline.status) return ` ${c.dim(`was ${baseline.status} ${against}`)}`;
  return '';
}

/** The `tail` line of a baseline event (undefined for other types). */
export function describeBaselineEvent(event: AnyEventEnvelope, c: Colors): string | undefined {
  if (event.type === 'baseline.saved') {
    const d = event.data;
    return `saved ${d.label} ${c.dim(d.path)}: ${countOf(d.tests, 'test')}${d.coverage !== undefined ? `, coverage ${d.coverage} %` : ''}`;
  }
  if (event.type === 'baseline.compared') {
    const { comparison, regressions, baseline } = event.data;
    const verdict = comparison.summary.regression ? c.red('regression') : c.green('no regression');
    const slower = regressions.length ? `, ${regressions.length} slower` : '';
    return `vs ${baseline}: ${verdict} (score ${comparison.summary.score}) ${comparison.testsAdded} added, ${comparison.testsRemoved} removed, ${comparison.testsChanged} changed${slower}`;
  }
  return undefined;
}

interface Regression {
  name: string;
  baseline: BaselineTestComparison;
}

/** Regressions per run as `watch` shows them: from each test.result's `baseline`, as they arrive. */
export class RegressionLog {
  private readonly byRun = new Map<string, Map<string, Regression>>();

  /** Records what `event` says about a regression (a test.result with `baseline.regression`). */
  record(event: AnyEventEnvelope): void {
    if (event.type !== 'test.result' || !event.runId) return;
    const baseline = event.data.baseline;
    const known = this.byRun.get(event.runId);
    // A later attempt that is no longer a regression (a retry passed) takes its earlier entry back.
    if (!baseline?.regression) {
      known?.delete(event.data.id);
      return;
    }
    let run = known;
    if (!run) {
      run = new Map();
      this.byRun.set(event.runId, run);
    }
    run.set(event.data.id, {
      name: titleOf(event.data.titlePath, event.data.testName),
      baseline,
    });
  }

  /** The run's regressions, first found first, one line each: `math › total  ▲ slower vs main: +1.2 s (+45 %)`. */
  lines(runId: string, c: Colors): string[] {
    return [...(this.byRun.get(runId)?.values() ?? [])].map(
      (regression) => `${regression.name}${baselineNote(regression.baseline, c)}`,
    );
  }
}
