/**
 * The test detail's model: one test's title and place, every attempt with its duration and error
 * (expected/received and a line diff of them, the stack without runner frames and the source location
 * where it threw), the test's own output, its steps and attachments, and how it compares with the
 * baseline. Pure: the renderer copies these strings into elements.
 */
import { type BaselineTestComparison, printedValues, type TestError } from '@testwire/protocol';
import { testBaselineVerdict } from './baseline-line.js';
import type { AttemptRecord, OutputRecord, RunRecord, StepRecord, TestRecord } from './test-index.js';
import { failureLine, failureLocation, formatDuration, stripAnsi } from './view-model.js';

export interface DiffLine {
  /** `-` only in expected, `+` only in received, ` ` both. */
  op: '-' | '+' | ' ';
  text: string;
}

export interface ErrorView {
  /** One line: `expected 9, received 10`. */
  summary: string;
  /** `test/cart.test.js:15` where it threw (first own frame), else the test's declaration. */
  location?: string;
  message: string;
  expected?: string;
  received?: string;
  /** Line diff of expected and received when either spans lines. */
  diff?: DiffLine[];
  /** The test's own frames (runner frames left out). */
  stack: string;
  /** Runner and node_modules frames left out of `stack` (they are in the error's fullStack). */
  hiddenFrames: number;
}

export interface StepView {
  depth: number;
  title: string;
  category: string;
  duration: string;
  location?: string;
  error?: string;
}

export interface AttemptView {
  attempt: number;
  status: string;
  duration: string;
  startedAt?: string;
  timedOut: boolean;
  willRetry: boolean;
  errors: ErrorView[];
  steps: StepView[];
  stepsDropped: number;
  attachments: { name: string; contentType: string; path?: string; size?: string }[];
  annotations: string[];
}

export interface DetailView {
  key: string;
  title: string;
  titlePath: string[];
  location: string;
  status: string;
  duration: string;
  /** `flaky`, `retrying`, `slow (1.5 s ≥ 1 s)`, `hung for 42 s` */
  marks: string[];
  baseline?: string;
  baselineRegression: boolean;
  attempts: AttemptView[];
  output: OutputRecord[];
  outputDropped: number;
  /** Output the runner could not tie to a test (jest: the test's file): shown when the test has none. */
  fileOutput: OutputRecord[];
}

// vitest / chai: `expected 120 to be 108 // Object.is equality` (received first).
const CHAI = /^expected (.+?) to (?:be|equal|deeply equal|strictly equal|eql) (.+?)(?:\s+\/\/.*)?$/m;

/** Expected and received values: the error's fields, else what the message printed. */
export function expectedReceived(error: TestError): { expected?: string; received?: string } {
  if (typeof error.expected === 'string' || typeof error.actual === 'string')
    return { expected: error.expected, received: error.actual };
  const message = stripAnsi(String(error.message ?? ''));
  const printed = printedValues(message);
  if (printed && (printed.expected !== undefined || printed.received !== undefined))
    return { expected: printed.expected, received: printed.received };
  const chai = CHAI.exec(message);
  if (chai) return { expected: chai[2], received: chai[1] };
  return {};
}

/** Longest-common-subsequence line diff; beyond `max` lines a side, every line is shown as changed. */
export function lineDiff(expected: string, received: string, max = 400): DiffLine[] {
  const a = expected.split('\n');
  const b = received.split('\n');
  if (a.length > max || b.length > max) {
    return [
      ...a.map((text) => ({ op: '-' as const, text })),
      ...b.map((text) => ({ op: '+' as const, text })),
    ];
  }
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: '-', text: a[i++] });
    else out.push({ op: '+', text: b[j++] });
  }
  while (i < a.length) out.push({ op: '-', text: a[i++] });
  while (j < b.length) out.push({ op: '+', text: b[j++] });
  return out;
}

const FRAME_LINE = /^\s*at\s/;

/** The error of one attempt, for the detail view. */
export function errorView(error: TestError, file?: string, line?: number): ErrorView {
  const message = stripAnsi(String(error.message ?? ''));
  const { expected, received } = expectedReceived(error);
  const view: ErrorView = {
    summary: failureLine(error) || '(no message)',
    location: failureLocation(error, file, line),
    message,
    stack: '',
    hiddenFrames: 0,
  };
  if (expected !== undefined) view.expected = expected;
  if (received !== undefined) view.received = received;
  if (
    expected !== undefined &&
    received !== undefined &&
    (expected.includes('\n') || received.includes('\n'))
  )
    view.diff = lineDiff(expected, received);
  const stack = stripAnsi(String(error.stack ?? ''));
  const frames = stack.split('\n').filter((l) => FRAME_LINE.test(l));
  view.stack = frames.map((l) => l.trim()).join('\n');
  const full = stripAnsi(String(error.fullStack ?? ''))
    .split('\n')
    .filter((l) => FRAME_LINE.test(l)).length;
  view.hiddenFrames = Math.max(0, full - frames.length);
  return view;
}

/** `▲ slower than main: 1.2 s → 2.4 s (+100 %)`; what a test.result's `baseline` says. */
export function baselineText(b: BaselineTestComparison): string {
  const label = b.label || 'the baseline';
  const was = typeof b.duration === 'number' ? formatDuration(b.duration) : '?';
  const change = typeof b.change === 'number' ? formatDuration(Math.abs(b.change)) : '?';
  const pct = typeof b.percentage === 'number' ? ` (${b.percentage > 0 ? '+' : ''}${b.percentage} %)` : '';
  switch (testBaselineVerdict(b)) {
    case 'newly-failing':
      return `▲ newly failing: it passed in ${label}`;
    case 'slower':
      return `▲ slower than ${label}: was ${was}, +${change}${pct}`;
    case 'added':
      return `new: not in ${label}`;
    case 'fixed':
      return `fixed: it failed in ${label}`;
    case 'faster':
      return `faster than ${label}: was ${was}, −${change}${pct}`;
    default:
      return `as in ${label}`;
  }
}

/**
 * Steps arrive as they end, a parent after its children; listed as a tree they read parent first, siblings
 * in the order they ran (by start when every step has one, else by end: siblings run one after another).
 */
export function stepsInTreeOrder(steps: StepRecord[]): StepRecord[] {
  const byStart = steps.every((s) => typeof s.startedAt === 'number');
  const order = new Map<string, number>();
  steps.forEach((s, i) => {
    order.set([...s.stepPath, s.title].join('\0'), byStart ? (s.startedAt as number) : i);
  });
  const key = (s: StepRecord) => {
    const path = [...s.stepPath, s.title];
    return path.map((_, i) => order.get(path.slice(0, i + 1).join('\0')) ?? Number.POSITIVE_INFINITY);
  };
  const keys = new Map(steps.map((s) => [s, key(s)]));
  return [...steps].sort((x, y) => {
    const a = keys.get(x) as number[];
    const b = keys.get(y) as number[];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
}

/** `10:30:16.042` (UTC) of epoch ms; undefined when there is none or it is out of Date's range. */
const clock = (epochMs: number | undefined) => {
  const at = epochMs === undefined ? undefined : new Date(epochMs);
  return at && !Number.isNaN(at.getTime()) ? at.toISOString().slice(11, 23) : undefined;
};

function attemptView(test: TestRecord, a: AttemptRecord): AttemptView {
  const errors = [a.error, ...(a.errors ?? [])].filter((e): e is TestError => !!e);
  return {
    attempt: a.attempt,
    status: a.willRetry ? 'failed, retried' : a.status,
    duration: formatDuration(a.duration),
    startedAt: clock(a.startedAt),
    timedOut: a.timedOut === true,
    willRetry: a.willRetry === true,
    errors: errors.map((e) => errorView(e, test.file, test.line)),
    steps: stepsInTreeOrder(a.steps).map((s) => ({
      depth: s.depth,
      title: s.title,
      category: s.category,
      duration: formatDuration(s.duration),
      location: s.location,
      error: s.error ? failureLine(s.error) : undefined,
    })),
    stepsDropped: a.stepsDropped,
    attachments: (a.attachments ?? []).map((x) => ({
      name: String(x.name),
      contentType: String(x.contentType),
      path: x.path,
      size: typeof x.size === 'number' ? `${Math.round(x.size / 102.4) / 10} KB` : undefined,
    })),
    annotations: (a.annotations ?? []).map((x) => (x.message ? `${x.type}: ${x.message}` : x.type)),
  };
}

/**
 * The view of one test. `live` false (the page is catching up, or the endpoint is gone): a running test's time
 * stops at its run's last event; once the run ended, at its end.
 */
export function detailOf(test: TestRecord, run?: RunRecord, now = Date.now(), live = true): DetailView {
  const end = run?.completed ? (run.endedAt ?? now) : live ? now : (run?.heardAt ?? now);
  const marks: string[] = [];
  if (test.flaky) marks.push('flaky');
  if (test.retrying) marks.push('retrying');
  if (test.slow)
    marks.push(`slow (${formatDuration(test.slow.duration)} ≥ ${formatDuration(test.slow.threshold)})`);
  if (test.hung && test.status === 'running') {
    const elapsed = formatDuration(test.hung.elapsedMs + Math.max(0, end - test.hung.at));
    marks.push(run?.completed ? `hung: ran ${elapsed} until its run ended` : `hung: running for ${elapsed}`);
  }
  const running = test.status === 'running';
  const status = test.retrying ? 'retrying' : running && run?.completed ? 'did not finish' : test.status;
  return {
    key: test.key,
    title: test.titlePath[test.titlePath.length - 1] ?? test.testName,
    titlePath: test.titlePath,
    location: failureLocation(undefined, test.file, test.line) ?? '',
    status,
    duration: running
      ? test.startedAt !== undefined && !run?.completed
        ? `${formatDuration(end - test.startedAt)} so far`
        : '–'
      : formatDuration(test.duration),
    marks,
    baseline: test.baseline ? baselineText(test.baseline) : undefined,
    baselineRegression: test.baseline?.regression === true,
    attempts: test.attempts.map((a) => attemptView(test, a)),
    output: test.output,
    outputDropped: test.outputDropped,
    fileOutput: test.output.length === 0 ? (run?.fileOutput.get(test.file) ?? []) : [],
  };
}
