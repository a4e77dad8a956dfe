/**
 * What the page shows, computed from the client's run state: pure functions, no DOM, so they are unit
 * tested in Node and the renderer only copies strings into elements.
 *
 * Everything here reads wire data defensively: an event from an older or newer reporter may lack a field,
 * and a throw here would stop the page from rendering anything.
 */
import {
  type AnyEventEnvelope,
  type CoverageThresholdData,
  failureSummary,
  type RunSnapshot,
  type TestError,
  type TestState,
} from '@testwire/protocol';
import { testBaselineVerdict } from './baseline-line.js';

export type RunOutcome = 'running' | 'passed' | 'failed';

export interface RunCard {
  runId: string;
  /** Project name, else the root folder's name, else the run id. */
  title: string;
  /** `vitest 3.2.4`, `jest` */
  framework: string;
  outcome: RunOutcome;
  /**
   * The card's badge: the outcome, or `interrupted` for a run that ended so (a signal, its process gone, the
   * endpoint's owner process dead with it); its outcome is then `failed`.
   */
  badge: string;
  /** What interrupted it, in words (`interrupted by SIGTERM`, `interrupted: owner process lost`), if it was. */
  interruptedText?: string;
  /** Known total (never below the tests already completed); 0 when nothing is known yet. */
  total: number;
  totalKnown: boolean;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  flaky: number;
  /** Tests whose last attempt failed and that the runner will retry (not failed, not completed). */
  retrying: number;
  completed: number;
  /** 0..1; undefined while the total is unknown. */
  progress?: number;
  /** The test running now (`suite › test`) and its file. */
  current?: string;
  currentFile?: string;
  /** Wall time of the run so far (running) or in total (completed), ms. */
  durationMs?: number;
  /**
   * A running run while the page is not live (catching up, endpoint gone): local clock of when it was last
   * heard of, where its duration stopped (`10:31:40`).
   */
  heardAt?: string;
  /** Extra facts for the card's footer: `shard 1/3`, `watch`, `github-actions`. */
  tags: string[];
  /** When the run started, local clock `10:31:02` (what tells two runs of one project apart). */
  started?: string;
  /** `main@9fceb02` when the run said (CI), else undefined. */
  vcs?: string;
  /** Coverage per metric when the run reported it. */
  coverage: { metric: CoverageMetric; pct: number }[];
}

export const COVERAGE_METRICS = ['lines', 'statements', 'functions', 'branches'] as const;
export type CoverageMetric = (typeof COVERAGE_METRICS)[number];

/** The runner's verdict when it gave one (a run can fail with no failed test: bail, thresholds, no tests). */
export function runOutcome(run: RunSnapshot): RunOutcome {
  if (run.status !== 'completed') return 'running';
  if (run.summary && typeof run.summary.success === 'boolean')
    return run.summary.success ? 'passed' : 'failed';
  return run.counts.failed > 0 || run.errors.length > 0 ? 'failed' : 'passed';
}

/** How a run that ended interrupted is said, or undefined when it was not. */
export function runInterruption(run: RunSnapshot): string | undefined {
  if (run.status !== 'completed' || run.interrupted !== true) return undefined;
  const by = run.interruptedBy;
  if (typeof by !== 'string' || by === '') return 'interrupted';
  if (/^[a-z]+_lost$/.test(by)) return `interrupted: ${by.replace('_lost', '')} process lost`;
  return `interrupted by ${by}`;
}

/**
 * What the page knows of when a run was last heard of, and whether its clock may run to now. A running run's
 * duration grows with the wall clock only while the page is live; while it catches up on history, or while
 * the endpoint is gone, nothing says the run is still going, so its time stops where it was last heard of.
 */
export interface RunClock {
  /**
   * Epoch ms the run was last known to be going: its last event's own timestamp, or the moment the page lost
   * a live connection while the run ran (it was running until then). Undefined when nothing was heard.
   */
  heardAt?: number;
  /** The page is connected and in sync: a running run's time is measured to now. */
  live: boolean;
}

const LIVE: RunClock = { live: true };

/**
 * Epoch ms a completed run ended: its `completedAt`, else (an older snapshot without it) when it was last heard
 * of. For a run the client completed as `owner_lost` (it died with the endpoint's owner process), that is when
 * the client lost the old owner, not when the new one answered: @testwire/client decides it (and the
 * `summary.duration` to match), the page does not work it out a second time.
 */
export function runEndedAt(run: RunSnapshot, heardAt?: number): number | undefined {
  if (run.status !== 'completed') return undefined;
  const end = run.completedAt ? Date.parse(run.completedAt) : Number.NaN;
  return Number.isNaN(end) ? heardAt : end;
}

/** Until when a run's time counts: its end when it ended, now while the page is live, else its last event. */
export function runClockEnd(run: RunSnapshot, now: number, clock: RunClock = LIVE): number {
  if (run.status === 'completed') return runEndedAt(run, clock.heardAt) ?? now;
  return clock.live ? now : (clock.heardAt ?? now);
}

export function runDuration(run: RunSnapshot, now: number, clock: RunClock = LIVE): number | undefined {
  if (run.status === 'completed' && typeof run.summary?.duration === 'number') return run.summary.duration;
  const started = run.startedAt ? Date.parse(run.startedAt) : Number.NaN;
  if (Number.isNaN(started)) return undefined;
  return Math.max(0, runClockEnd(run, now, clock) - started);
}

export function runTitle(run: RunSnapshot): string {
  return run.project || run.run?.project || run.run?.rootName || run.runId;
}

export function runCard(run: RunSnapshot, now: number, clock: RunClock = LIVE): RunCard {
  const c = run.counts;
  const total = Math.max(run.totalTests || 0, c.completed);
  const known = run.status === 'completed' || (run.totalKnown && total > 0);
  const tags: string[] = [];
  const info = run.run;
  if (info?.shard) tags.push(`shard ${info.shard.current}/${info.shard.total}`);
  if (info?.watch) tags.push('watch');
  if (info?.ci?.provider) tags.push(info.ci.provider);
  const coverage: RunCard['coverage'] = [];
  for (const metric of COVERAGE_METRICS) {
    const pct = run.coverage?.[metric];
    if (typeof pct === 'number') coverage.push({ metric, pct: Math.round(pct * 10) / 10 });
  }
  const version = info?.frameworkVersion;
  const outcome = runOutcome(run);
  const interruptedText = runInterruption(run);
  return {
    runId: run.runId,
    title: runTitle(run),
    framework: version ? `${run.framework} ${version}` : String(run.framework),
    outcome,
    badge: interruptedText ? 'interrupted' : outcome,
    ...(interruptedText ? { interruptedText } : {}),
    total,
    totalKnown: known,
    passed: c.passed,
    failed: c.failed,
    skipped: c.skipped,
    todo: c.todo,
    flaky: c.flaky,
    retrying: c.retrying ?? 0,
    completed: c.completed,
    progress: known ? (total === 0 ? 1 : Math.min(1, c.completed / total)) : undefined,
    current: run.current?.testName || undefined,
    currentFile: run.current?.file || undefined,
    durationMs: runDuration(run, now, clock),
    ...(run.status === 'running' && !clock.live && clock.heardAt !== undefined
      ? { heardAt: formatClock(clock.heardAt).slice(0, 8) }
      : {}),
    tags,
    started: runStartClock(run) || undefined,
    vcs: runVcs(run),
    coverage,
  };
}

/**
 * What a coverage.threshold said failed, one line each, per file where the thresholds apply per file:
 * `src/a.ts: lines 45% < 80%`, `statements 70% < 75%`, `branches: 12 uncovered > 10`.
 */
export function coverageFailures(data: CoverageThresholdData | undefined): string[] {
  if (!data || data.passed || !Array.isArray(data.failures)) return [];
  return data.failures.map((f) => {
    const where = f.file ?? f.glob;
    // A negative threshold is the most uncovered items allowed, and `actual` then counts them.
    const what =
      f.threshold < 0
        ? `${f.metric} ${f.actual} uncovered > ${-f.threshold}`
        : `${f.metric} ${Math.round(f.actual * 10) / 10}% < ${f.threshold}%`;
    return where ? `${where}: ${what}` : what;
  });
}

/** Local clock time the run started: `10:31:02`. */
export function runStartClock(run: RunSnapshot): string {
  return formatClock(typeof run.run?.startedAt === 'number' ? run.run.startedAt : run.startedAt).slice(0, 8);
}

/** `main@9fceb02`, `main`, `@9fceb02` from the run's CI facts; undefined when it sent none. */
export function runVcs(run: RunSnapshot): string | undefined {
  const ci = run.run?.ci;
  const branch = typeof ci?.branch === 'string' ? ci.branch : '';
  const commit = typeof ci?.commit === 'string' ? ci.commit.slice(0, 7) : '';
  if (!branch && !commit) return undefined;
  return commit ? `${branch}@${commit}` : branch;
}

/** One line naming a run among others: `web · jest 30.2.0 · 10:31:02 · main@9fceb02`. */
export function runLabel(run: RunSnapshot): string {
  const version = run.run?.frameworkVersion;
  return [
    runTitle(run),
    version ? `${run.framework} ${version}` : String(run.framework),
    runStartClock(run),
    runVcs(run),
    run.run?.shard ? `shard ${run.run.shard.current}/${run.run.shard.total}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Running runs first, then the most recent. */
export function orderRuns(runs: RunSnapshot[]): RunSnapshot[] {
  return [...runs].sort((a, b) => {
    const ra = a.status === 'running' ? 0 : 1;
    const rb = b.status === 'running' ? 0 : 1;
    if (ra !== rb) return ra - rb;
    const ta = a.startedAt ?? '';
    const tb = b.startedAt ?? '';
    if (ta !== tb) return ta < tb ? 1 : -1;
    return b.lastSeq - a.lastSeq;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Failures

export interface FailureItem {
  /** Stable across renders, so an expanded item stays expanded. */
  key: string;
  runId: string;
  runTitle: string;
  /** `test`, or what failed outside a test: `file`, `hook`, `run`. */
  scope: string;
  /** `suite › test`, or the file / hook that failed. */
  title: string;
  /** What failed, on one line: `expected 11, received 12`, `36 !== 35`, else the message's first line. */
  firstLine: string;
  /** `src/math.test.ts:12` (where the error was thrown in the test file when the stack says so). */
  location?: string;
  /** The message, the diff or values it does not already show, and the stack: for the expanded view. */
  details: string;
}

/** The error's one-line summary (computed for producers that do not send one), bounded in length. */
export function failureLine(error: TestError | undefined, max = 240): string {
  return firstLine(failureSummary(error), max);
}

/** The first non-empty line of an error message, ANSI colours removed, bounded in length. */
export function firstLine(text: string | undefined, max = 240): string {
  if (!text) return '';
  const clean = stripAnsi(text);
  const line = clean.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

const FRAME = /\(?((?:[A-Za-z]:[\\/]|file:\/\/)?[^\s():]+):(\d+)(?::(\d+))?\)?\s*$/;

/**
 * `file:line` of a failure: the first stack frame in the test's own file (where the assertion threw),
 * else the test's declared location.
 */
export function failureLocation(
  error: TestError | undefined,
  file?: string,
  line?: number,
): string | undefined {
  if (error?.stack && file) {
    for (const raw of error.stack.split('\n')) {
      const frame = raw.trim();
      if (!frame.startsWith('at ') && !frame.includes('@')) continue;
      const m = FRAME.exec(frame);
      if (!m) continue;
      const path = m[1].replace(/\\/g, '/');
      if (path === file || path.endsWith(`/${file}`)) return `${file}:${m[2]}`;
    }
  }
  if (!file) return undefined;
  return line ? `${file}:${line}` : file;
}

/**
 * The expanded view: the message once, then what it does not already show — the runner's diff, the
 * expected and actual values — then the stack without the message it may start with (older reporters),
 * saying how many runner frames were left out.
 */
export function errorDetails(error: TestError | undefined): string {
  if (!error) return '';
  const text = (value: unknown) => (typeof value === 'string' ? stripAnsi(value) : '');
  const message = text(error.message);
  const parts = [message];
  const diff = text(error.diff);
  if (diff && !message.includes(diff)) parts.push(diff);
  const expected = typeof error.expected === 'string' ? text(error.expected) : undefined;
  const actual = typeof error.actual === 'string' ? text(error.actual) : undefined;
  const shown = (value: string | undefined) => value === undefined || message.includes(value);
  if ((expected !== undefined || actual !== undefined) && !diff && !(shown(expected) && shown(actual))) {
    parts.push(`expected: ${expected ?? ''}\nactual:   ${actual ?? ''}`);
  }
  const stack = text(error.stack);
  if (stack) {
    const start = stack.search(/^\s*at\s/m);
    const heading = message.split('\n').find((line) => line.trim() !== '') ?? '';
    const frames = start > 0 && stack.slice(0, start).includes(heading.trim()) ? stack.slice(start) : stack;
    const hidden = frameCount(text(error.fullStack)) - frameCount(frames);
    parts.push(
      hidden > 0 ? `${frames}\n    … ${hidden} frames of node_modules and runner internals` : frames,
    );
  }
  return parts.filter((p) => p.trim() !== '').join('\n\n');
}

function frameCount(stack: string): number {
  return stack ? stack.split('\n').filter((line) => /^\s*at\s/.test(line)).length : 0;
}

function testTitle(test: Pick<TestState, 'titlePath' | 'testName'>): string {
  const path = Array.isArray(test.titlePath) && test.titlePath.length > 0 ? test.titlePath : [test.testName];
  return path.filter((p) => p !== '').join(' › ');
}

/**
 * Failed tests (final attempts only: an attempt that will be retried is not a failure yet) and failures
 * outside tests, newest run first. `total` counts all; `items` holds at most `limit`.
 */
export function failuresOf(runs: RunSnapshot[], limit = 100): { items: FailureItem[]; total: number } {
  const items: FailureItem[] = [];
  let total = 0;
  for (const run of orderRuns(runs)) {
    const title = runTitle(run);
    for (let i = 0; i < run.errors.length; i++) {
      const e = run.errors[i];
      total++;
      if (items.length >= limit) continue;
      items.push({
        key: `${run.runId}\0e${i}`,
        runId: run.runId,
        runTitle: title,
        scope: e.scope,
        title: e.testName || e.file || `${e.scope} error`,
        firstLine: failureLine(e.error) || '(no message)',
        location: failureLocation(e.error, e.file),
        details: errorDetails(e.error),
      });
    }
    for (const test of run.tests) {
      if (test.status !== 'failed' || test.willRetry) continue;
      total++;
      if (items.length >= limit) continue;
      items.push({
        key: `${run.runId}\0${test.id}`,
        runId: run.runId,
        runTitle: title,
        scope: 'test',
        title: testTitle(test),
        firstLine: failureLine(test.error) || '(no message)',
        location: failureLocation(test.error, test.file, test.line),
        details: errorDetails(test.error),
      });
    }
  }
  return { items, total };
}

// ---------------------------------------------------------------------------------------------------------
// Slow tests

export interface SlowItem {
  key: string;
  runTitle: string;
  title: string;
  location?: string;
  durationMs: number;
  status: string;
  /** A reporter flagged it (performance.bottleneck). */
  flagged: boolean;
}

/** Tests shorter than this are never "slow": a list of 1 ms tests says nothing. */
export const SLOW_LIST_MIN_MS = 10;

/**
 * The `limit` slowest tests that ran (passed or failed, at least `SLOW_LIST_MIN_MS`) across runs; skipped
 * and todo tests did not run (ties: first seen wins).
 */
export function slowTestsOf(
  runs: RunSnapshot[],
  limit = 10,
  flagged: ReadonlySet<string> = new Set(),
): SlowItem[] {
  // A bounded insertion list: O(tests · limit) with a small limit beats sorting every test.
  const top: { run: RunSnapshot; test: TestState }[] = [];
  for (const run of runs) {
    for (const test of run.tests) {
      if (test.status !== 'passed' && test.status !== 'failed') continue;
      if (typeof test.duration !== 'number' || test.duration < SLOW_LIST_MIN_MS) continue;
      if (top.length === limit && test.duration <= (top[top.length - 1].test.duration ?? 0)) continue;
      let i = top.length;
      while (i > 0 && (top[i - 1].test.duration ?? 0) < test.duration) i--;
      top.splice(i, 0, { run, test });
      if (top.length > limit) top.pop();
    }
  }
  return top.map(({ run, test }) => ({
    key: `${run.runId}\0${test.id}`,
    runTitle: runTitle(run),
    title: testTitle(test),
    location: test.file ? (test.line ? `${test.file}:${test.line}` : test.file) : undefined,
    durationMs: test.duration ?? 0,
    status: test.status,
    flagged: flagged.has(test.id),
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/**
 * `10:30:16.042` in local time, from an ISO timestamp or epoch ms; empty when there is none or it is no
 * date (a number out of Date's range must not throw: it would stop the page's render).
 */
export function formatClock(timestamp: string | number | undefined): string {
  const t = timestamp !== undefined && timestamp !== '' ? new Date(timestamp) : undefined;
  if (!t || Number.isNaN(t.getTime())) return '';
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
}

const STATUS_MARK: Record<string, string> = { passed: '✓', failed: '✗', skipped: '○', todo: '✎' };

const pct = (n: unknown) => (typeof n === 'number' ? `${Math.round(n * 10) / 10}%` : '?');

/** One line describing an event for the log. Never throws. */
export function summarizeEvent(event: AnyEventEnvelope, max = 200): string {
  let text: string;
  try {
    text = summarize(event.type, (event.data ?? {}) as Record<string, any>);
  } catch {
    text = '';
  }
  if (!text) {
    try {
      text = JSON.stringify(event.data) ?? '';
    } catch {
      text = '';
    }
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a test.result's `baseline` says, live: ` ▲ slower vs main +500 ms (+100 %)`; '' when nothing. */
function baselineNote(b: Record<string, any> | undefined): string {
  if (!b || typeof b !== 'object') return '';
  switch (testBaselineVerdict(b)) {
    case 'newly-failing':
      return ` ▲ newly failing vs ${b.label}`;
    case 'slower':
      return ` ▲ slower vs ${b.label} +${formatDuration(b.change)} (+${b.percentage} %)`;
    case 'added':
      return ` · new vs ${b.label}`;
    case 'fixed':
      return ` · fixed vs ${b.label}`;
    case 'faster':
      return ` · faster vs ${b.label} ${formatDuration(b.change)}`;
    default:
      return '';
  }
}

function summarize(type: string, d: Record<string, any>): string {
  const who = [d.framework, d.project].filter(Boolean).join(' · ');
  switch (type) {
    case 'test.started':
      return `${who} — ${d.totalTests ?? 0} tests in ${d.testFiles?.length ?? 0} files`;
    case 'test.progress':
      return `${d.completed ?? 0}/${d.total ?? '?'} ${d.status === 'running' ? `▶ ${d.testName ?? ''}` : (d.status ?? '')}`;
    case 'test.result':
      return `${STATUS_MARK[d.status] ?? d.status} ${testTitle(d as TestState)} (${formatDuration(d.duration)})${d.attempt > 1 ? ` attempt ${d.attempt}` : ''}${baselineNote(d.baseline)}`;
    case 'test.failed':
      return `✗ ${d.scope && d.scope !== 'test' ? `[${d.scope}] ` : ''}${d.testName || d.file || ''}: ${failureLine(d.error)}`;
    case 'test.output':
      return `[${d.stream ?? d.outputType ?? 'out'}] ${firstLine(d.output)}`;
    case 'test.completed': {
      const s = d.summary ?? {};
      const verdict = d.interrupted === true ? 'interrupted' : s.success ? 'passed' : 'failed';
      return `${verdict} — ${s.passed ?? 0} passed, ${s.failed ?? 0} failed, ${s.skipped ?? 0} skipped in ${formatDuration(s.duration)}`;
    }
    case 'performance.metrics':
      return `heap ${d.memory?.heapUsed ?? '?'} MB · rss ${d.memory?.rss ?? '?'} MB · cpu ${pct(d.cpu?.usage)}`;
    case 'performance.bottleneck':
      return `${d.type ?? 'bottleneck'}: ${d.testName ?? ''} ${formatDuration(d.duration)} (threshold ${formatDuration(d.threshold)})`;
    case 'performance.leak':
      // An open handle (jest --detectOpenHandles) is counted, not weighed: where it was made, not 0 MB.
      return d.type === 'open_handle'
        ? `open ${d.leakType ?? 'handle'} after the run, made at ${d.location ?? d.testName ?? '?'}`
        : `${d.leakType ?? 'leak'} in ${d.testName ?? ''}: ${d.size ?? '?'} MB`;
    case 'coverage.started':
      return `${d.provider ?? ''} — ${d.totalFiles ?? '?'} files`;
    case 'coverage.progress':
      return `${pct(d.percentage)} ${d.currentFile ?? ''}`;
    case 'coverage.completed': {
      const c = d.summary ?? {};
      return `lines ${pct(c.lines)} · statements ${pct(c.statements)} · branches ${pct(c.branches)} · functions ${pct(c.functions)}`;
    }
    case 'coverage.threshold':
      return d.passed
        ? 'thresholds met'
        : `below threshold: ${(d.failures ?? []).map((f: any) => f.metric).join(', ')}`;
    case 'framework.detected':
      return (d.frameworks ?? []).map((f: any) => [f.name, f.version].filter(Boolean).join(' ')).join(', ');
    case 'framework.switched':
      return `${d.from} → ${d.to}: ${d.reason ?? ''}`;
    case 'framework.error':
      return `${d.severity ?? 'error'}: ${firstLine(d.error?.message)}`;
    case 'baseline.saved':
      return `${d.label} — ${d.tests ?? '?'} tests`;
    case 'baseline.compared': {
      const c = d.comparison ?? {};
      return `vs ${d.baseline}: ${c.summary?.regression ? 'regression' : 'no regression'} — ${c.testsAdded ?? 0} added, ${c.testsRemoved ?? 0} removed, ${c.testsChanged ?? 0} changed, ${d.regressions?.length ?? 0} slower`;
    }
    case 'system.health':
      return `${d.status ?? ''} · uptime ${formatDuration((d.uptime ?? 0) * 1000)}`;
    case 'system.error':
      return `${d.component ?? ''}: ${firstLine(d.error?.message)}`;
    default:
      return '';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Event log filter

export interface TypeFilter {
  matches(type: string): boolean;
  /** Set when the text is not a valid filter; `matches` then lets everything through. */
  error?: string;
  /** True when the filter lets everything through (empty text). */
  all: boolean;
}

/**
 * Parses the log's filter box: terms separated by spaces or commas. `test.*`, `*.error`, `*` are
 * patterns; a term without `*` matches types containing it (`result`, `coverage`); `!term` excludes.
 * An event is shown when it matches some include term (or there is none) and no exclude term.
 */
export function parseTypeFilter(text: string): TypeFilter {
  const terms = text
    .trim()
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (terms.length === 0) return { matches: () => true, all: true };
  const include: ((type: string) => boolean)[] = [];
  const exclude: ((type: string) => boolean)[] = [];
  for (const term of terms) {
    const negated = term.startsWith('!') || term.startsWith('-');
    const body = negated ? term.slice(1) : term;
    if (!/^[a-z0-9_.*-]+$/.test(body)) {
      return {
        matches: () => true,
        all: true,
        error: `"${term}" is not an event type or pattern; try test.*, *.error, result or !test.output`,
      };
    }
    let test: (type: string) => boolean;
    if (body.includes('*')) {
      const source = body.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*');
      const re = new RegExp(`^${source}$`);
      test = (type) => re.test(type);
    } else {
      test = (type) => type.includes(body);
    }
    (negated ? exclude : include).push(test);
  }
  return {
    matches: (type) => {
      const t = type.toLowerCase();
      return (include.length === 0 || include.some((f) => f(t))) && !exclude.some((f) => f(t));
    },
    all: false,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Event log

export interface LogEntry {
  /** Unique within the page (events of a new broadcaster epoch start their seq over). */
  key: number;
  seq: number;
  type: string;
  timestamp: string;
  runId?: string;
  event: AnyEventEnvelope;
}

/** The last `capacity` events, newest last; a ring, so pushing is O(1) whatever the event rate. */
export class EventLog {
  private readonly ring: (LogEntry | undefined)[];
  private next = 0;
  private count = 0;
  private nextKey = 1;

  constructor(readonly capacity = 200) {
    this.ring = new Array(capacity);
  }

  push(event: AnyEventEnvelope): LogEntry {
    const entry: LogEntry = {
      key: this.nextKey++,
      seq: event.seq,
      type: event.type,
      timestamp: event.timestamp,
      runId: event.runId,
      event,
    };
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    return entry;
  }

  get size(): number {
    return this.count;
  }

  /** Key of the oldest entry still held (entries with a smaller key are gone). */
  get oldestKey(): number {
    return this.nextKey - this.count;
  }

  /** Entries newest first. */
  newestFirst(): LogEntry[] {
    const out: LogEntry[] = [];
    for (let i = 1; i <= this.count; i++) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (entry) out.push(entry);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.count = 0;
  }
}
