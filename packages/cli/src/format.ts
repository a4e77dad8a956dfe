/**
 * Human-readable rendering of events and run summaries, shared by `tail`, `watch` and `status`.
 * Pure functions of their input (colour is a parameter), so they are unit-testable.
 */
import { type AnyEventEnvelope, failureSummary, type RunSnapshot, type TestError } from '@testwire/protocol';
import { baselineNote, describeBaselineEvent } from './baseline-format.js';
import { type Colors, countOf, formatDuration, titleOf, totalOf } from './format-basics.js';
import { shardLabel } from './group-runs.js';

export {
  type Colors,
  createColors,
  formatDuration,
  shouldColor,
  titleOf,
  totalOf,
} from './format-basics.js';

/** `HH:MM:SS.mmm` of an ISO timestamp, local time. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--.---';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

/**
 * What failed, on one line: the error's `summary` (`expected 11, received 12`, `36 !== 35`; computed here
 * for producers that do not send it), after the error's type unless that is a plain or assertion error or
 * the line already starts with it; after the step it failed in when the error says (`in pay › confirm: …`).
 */
export function errorLine(error: TestError | undefined): string {
  if (!error) return '';
  const text = failureSummary(error);
  const type = error.type;
  const what =
    type && !/^(?:Error|\w*AssertionError)$/.test(type) && !text.startsWith(type) ? `${type}: ${text}` : text;
  return error.step?.length ? `in ${error.step.join(' › ')}: ${what}` : what;
}

/** `suite › nested › title` */
/** A short label for a run: `jest @acme/web` (framework and project). */
export function runLabel(run: { framework?: string; project?: string }, c: Colors): string {
  const framework = c.bold(run.framework ?? 'unknown');
  return run.project && run.project !== run.framework ? `${framework} ${c.cyan(run.project)}` : framework;
}

const STATUS_MARK = { passed: '✓', failed: '✗', skipped: '○', todo: '✎' } as const;

export function statusMark(status: string, c: Colors): string {
  switch (status) {
    case 'passed':
      return c.green(STATUS_MARK.passed);
    case 'failed':
      return c.red(STATUS_MARK.failed);
    case 'skipped':
      return c.yellow(STATUS_MARK.skipped);
    case 'todo':
      return c.magenta(STATUS_MARK.todo);
    default:
      return c.dim('•');
  }
}

/** `8 passed, 2 failed, 1 skipped, 1 todo` (zero counts other than passed are left out). */
export function countsText(
  counts: {
    passed: number;
    failed: number;
    skipped: number;
    todo?: number;
    flaky?: number;
    retrying?: number;
  },
  c: Colors,
): string {
  const parts = [c.green(`${counts.passed} passed`)];
  if (counts.failed) parts.push(c.red(`${counts.failed} failed`));
  if (counts.skipped) parts.push(c.yellow(`${counts.skipped} skipped`));
  if (counts.todo) parts.push(c.magenta(`${counts.todo} todo`));
  if (counts.flaky) parts.push(c.yellow(`${counts.flaky} flaky`));
  if (counts.retrying) parts.push(c.yellow(`${counts.retrying} retrying`));
  return parts.join(', ');
}

/**
 * One line per event for `testwire tail`:
 * `10:30:16.120 test.result     ✗ math › divides (3 ms) AssertionError: expected 1 to equal 2`
 */
export function formatEvent(event: AnyEventEnvelope, c: Colors): string {
  const head = `${c.dim(formatClock(event.timestamp))} ${event.type.padEnd(22)} `;
  return head + describeEvent(event, c);
}

function describeEvent(event: AnyEventEnvelope, c: Colors): string {
  switch (event.type) {
    case 'test.started': {
      const d = event.data;
      const total = totalOf(d.totalTests);
      const files = d.testFiles.length ? ` in ${countOf(d.testFiles.length, 'file')}` : '';
      return `${runLabel(d, c)} ${total}${files} ${c.dim(event.runId)}`;
    }
    case 'test.progress': {
      const d = event.data;
      const pct = `${Math.round((d.progress ?? 0) * 100)}%`.padStart(4);
      const what =
        d.status === 'running'
          ? ` ${c.cyan('▸')} ${titleOf(d.titlePath, d.testName ?? '')}`
          : ` ${c.dim(d.status)}`;
      return `${runLabel(d, c)} ${pct} ${d.completed}/${d.total}${what}`;
    }
    case 'test.result': {
      const d = event.data;
      const retry = d.willRetry
        ? c.yellow(' (will retry)')
        : d.attempt > 1
          ? c.dim(` (attempt ${d.attempt})`)
          : '';
      const flaky = d.flaky ? c.yellow(' flaky') : '';
      const error =
        d.status === 'failed' && (d.error ?? d.errors?.[0])
          ? ` ${c.red(errorLine(d.error ?? d.errors?.[0]))}`
          : '';
      return `${statusMark(d.status, c)} ${titleOf(d.titlePath, d.testName)} ${c.dim(`(${formatDuration(d.duration)})`)}${retry}${flaky}${baselineNote(d.baseline, c)}${error}`;
    }
    case 'test.failed': {
      const d = event.data;
      const scope = d.scope && d.scope !== 'test' ? c.dim(`[${d.scope}] `) : '';
      const where = d.titlePath?.length ? titleOf(d.titlePath) : d.testName || d.file;
      return `${c.red('✗')} ${scope}${where} ${c.red(errorLine(d.error))}`;
    }
    case 'test.step': {
      const d = event.data;
      const mark = d.error ? c.red('✗') : c.dim('↳');
      // the line names the step already
      const error = d.error ? ` ${c.red(errorLine({ ...d.error, step: undefined }))}` : '';
      return `${mark} ${titleOf([...d.stepPath, d.title])} ${c.dim(`${d.category} (${formatDuration(d.duration)})`)}${error}`;
    }
    case 'test.output': {
      const d = event.data;
      const text = d.output.replace(/\n$/, '').replace(/\n/g, `\n${' '.repeat(36)}`);
      return `${c.dim(`[${d.stream}]`)} ${d.outputType === 'stderr' ? c.yellow(text) : text}`;
    }
    case 'test.completed': {
      const d = event.data;
      const s = d.summary;
      const verdict = s.success ? c.green('✓ passed') : c.red('✗ failed');
      const line = `${runLabel(d, c)} ${verdict} ${countsText(s, c)} of ${s.total} in ${formatDuration(s.duration)}`;
      if (!d.interrupted) return line;
      const running = (d.runningTests ?? []).map(
        (test) =>
          `${titleOf(test.titlePath ?? [], test.testName)}${test.elapsed !== undefined ? ` (${formatDuration(test.elapsed)})` : ''}`,
      );
      return `${line} ${c.red(`interrupted${d.interruptedBy ? ` by ${d.interruptedBy}` : ''}`)}${running.length ? `; running: ${running.join(', ')}` : ''}`;
    }
    case 'performance.metrics': {
      const d = event.data;
      return `heap ${d.memory.heapUsed.toFixed(1)} MB, rss ${d.memory.rss.toFixed(1)} MB, cpu ${d.cpu.usage.toFixed(1)}%`;
    }
    case 'performance.bottleneck': {
      const d = event.data;
      if (d.type === 'hung_test') {
        const where = d.location?.line !== undefined ? `${d.location.file}:${d.location.line}` : d.file;
        return `${c.red('⚠ hung')} ${titleOf(d.titlePath ?? [], d.testName)} still running after ${formatDuration(d.elapsed ?? d.duration)}${where ? c.dim(`  ${where}`) : ''}`;
      }
      return `${c.yellow('⧗')} ${d.testName} ${formatDuration(d.duration)} > ${formatDuration(d.threshold)} (${d.severity})`;
    }
    case 'coverage.completed': {
      const s = event.data.summary;
      return `statements ${s.statements}% branches ${s.branches}% functions ${s.functions}% lines ${s.lines}%`;
    }
    case 'coverage.progress':
      return `${event.data.filesProcessed}/${event.data.totalFiles} files ${event.data.percentage}%`;
    case 'system.error': {
      const d = event.data;
      return `${c.red(d.error.code)} ${d.component}: ${d.error.message}`;
    }
    default:
      return describeBaselineEvent(event, c) ?? c.dim(compactJson(event.data));
  }
}

function compactJson(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/**
 * How a run that ended interrupted is said: `interrupted by SIGTERM`, `interrupted (owner lost)` for what the
 * endpoint or a client concluded (`owner_lost`, `publisher_lost`, `shard_lost`), `interrupted` when nothing
 * says by what.
 */
export function interruptedText(interruptedBy: unknown): string {
  if (typeof interruptedBy !== 'string' || interruptedBy === '') return 'interrupted';
  if (/^[a-z]+_lost$/.test(interruptedBy)) return `interrupted (${interruptedBy.replace('_', ' ')})`;
  return `interrupted by ${interruptedBy}`;
}

/**
 * The tests a run had when it ended interrupted: all it knew of (its total, or the tests with a result when
 * those are more), whatever the summary counted (often only the tests that ran).
 */
export function interruptedTotal(run: RunSnapshot): number {
  return Math.max(run.summary?.total ?? 0, run.totalTests, run.counts.completed);
}

/**
 * The final summary of one run, as `watch` prints it on exit (and `status` for completed runs):
 *
 *   ✗ jest @acme/web  failed  8 passed, 2 failed, 1 skipped of 11 in 1.4 s
 *       coverage  statements 89.1% · branches 84.2% · functions 91.5% · lines 87.8%   (when reported)
 *       ✗ math › divides  AssertionError: expected 1 to equal 2
 */
export function formatRunSummary(run: RunSnapshot, c: Colors, maxFailures = 10): string[] {
  const counts = run.summary ?? {
    ...run.counts,
    total: run.totalTests,
    duration: undefined,
    success: undefined,
  };
  const interrupted = run.status === 'completed' && run.interrupted === true;
  const total = interrupted ? interruptedTotal(run) : (run.summary?.total ?? run.totalTests);
  const duration = run.summary?.duration;
  let mark: string;
  let verdict: string;
  if (run.status !== 'completed') [mark, verdict] = [c.yellow('…'), c.yellow('running')];
  else if (interrupted) [mark, verdict] = [c.red('✗'), c.red(interruptedText(run.interruptedBy))];
  else if (run.summary?.success) [mark, verdict] = [c.green('✓'), c.green('passed')];
  else [mark, verdict] = [c.red('✗'), c.red('failed')];
  const lines = [
    `${mark} ${runLabel(run, c)}${c.dim(shardLabel(run))}  ${verdict}  ${countsText({ ...counts, flaky: run.counts.flaky }, c)} of ${total}${duration !== undefined ? ` in ${formatDuration(duration)}` : ''}`,
  ];
  const coverage = run.coverage;
  if (coverage)
    lines.push(
      c.dim(
        `    coverage  statements ${coverage.statements}% · branches ${coverage.branches}% · functions ${coverage.functions}% · lines ${coverage.lines}%`,
      ),
    );
  const failures = run.tests.filter((t) => t.status === 'failed' && !t.willRetry);
  for (const test of failures.slice(0, maxFailures)) {
    lines.push(
      `    ${c.red('✗')} ${titleOf(test.titlePath, test.testName)}  ${c.red(errorLine(test.error))}`,
    );
  }
  if (failures.length > maxFailures)
    lines.push(c.dim(`    … and ${failures.length - maxFailures} more failures`));
  for (const error of run.errors.slice(0, 3)) {
    lines.push(
      `    ${c.red('✗')} ${c.dim(`[${error.scope}]`)} ${error.file ?? error.testName ?? ''} ${c.red(errorLine(error.error))}`,
    );
  }
  return lines;
}
