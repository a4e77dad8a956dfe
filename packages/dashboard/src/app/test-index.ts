/**
 * Everything the page knows about each test, kept from the event stream: every attempt (with its error,
 * start and duration), the test's own output, its steps and attachments, the baseline comparison and the
 * slow / hung reports. `RunStateStore` keeps only a test's latest state; the explorer, the detail view and
 * the timeline need the history, so this index records it beside the store. Pure (no DOM).
 *
 *   test.started ─┐
 *   test.progress ├─> RunRecord { tests: Map<id, TestRecord { attempts[], output[], steps }>, fileOutput }
 *   test.result  ─┤
 *   test.output  ─┤   bounded: output per test / file, steps per attempt
 *   test.step    ─┤
 *   perf.bottleneck ┘
 *
 * Wire data is read defensively: a field an older or newer reporter lacks must not stop the page.
 */
import type {
  AnyEventEnvelope,
  BaselineComparedData,
  BaselineTestComparison,
  CoverageThresholdData,
  RunSnapshot,
  TestAttachment,
  TestError,
  TestStatus,
} from '@testwire/protocol';
import { emptyRunBaseline, type RunBaseline } from './baseline-line.js';
import { runEndedAt } from './view-model.js';

export type TestPhase = TestStatus | 'running';

export interface StepRecord {
  title: string;
  category: string;
  depth: number;
  stepPath: string[];
  duration: number;
  /** Epoch ms, when the runner said. */
  startedAt?: number;
  location?: string;
  error?: TestError;
}

export interface AttemptRecord {
  attempt: number;
  status: TestPhase;
  duration?: number;
  /** Epoch ms. */
  startedAt?: number;
  /** The worker that ran it, when the runner said (test.result `worker`). */
  worker?: string;
  error?: TestError;
  /** Further errors of the attempt (soft assertions, playwright). */
  errors?: TestError[];
  timedOut?: boolean;
  willRetry?: boolean;
  flaky?: boolean;
  attachments?: TestAttachment[];
  annotations?: { type: string; message: string }[];
  steps: StepRecord[];
  stepsDropped: number;
}

export interface OutputRecord {
  stream: string;
  outputType: 'stdout' | 'stderr';
  text: string;
  timestamp: string;
}

export interface TestRecord {
  /** `<runId>\0<id>`: unique across runs. */
  key: string;
  runId: string;
  id: string;
  titlePath: string[];
  testName: string;
  file: string;
  line?: number;
  column?: number;
  project?: string;
  status: TestPhase;
  /** Its latest attempt failed and will be retried. */
  retrying: boolean;
  flaky: boolean;
  attempts: AttemptRecord[];
  output: OutputRecord[];
  outputDropped: number;
  baseline?: BaselineTestComparison;
  /** A reporter flagged it slow (performance.bottleneck slow_test). */
  slow?: { duration: number; threshold: number; severity: string };
  /** A reporter flagged it hung while it ran (performance.bottleneck hung_test): ms run then, epoch ms of the report. */
  hung?: { elapsedMs: number; at: number };
  /** Epoch ms it was first seen running (or its first attempt's start). */
  startedAt?: number;
  /** Epoch ms its latest attempt ended. */
  endedAt?: number;
  duration?: number;
  /** seq of the last event that changed it: the explorer's change marker. */
  seq: number;
}

export interface RunRecord {
  runId: string;
  tests: Map<string, TestRecord>;
  /** Output no reporter could tie to one test (jest: per file), by file ('' = none). */
  fileOutput: Map<string, OutputRecord[]>;
  thresholds?: CoverageThresholdData;
  /** How the run compares with its baseline, live (from test.result) and at its end (baseline.compared). */
  baseline?: RunBaseline;
  completed: boolean;
  /** Epoch ms the run started (test.started), when known. */
  startedAt?: number;
  /**
   * Epoch ms the run was last known to be going: its last event's timestamp, or when the page lost a live
   * connection while it ran (`heard`). Where its time stops while the page is not live.
   */
  heardAt?: number;
  /**
   * Epoch ms the run ended (its test.completed; for a run lost with the endpoint's owner, the end the client
   * gave it: see runEndedAt), once completed: a test still running then ran until this, not until now.
   */
  endedAt?: number;
}

export const OUTPUT_PER_TEST = 200;
export const OUTPUT_PER_FILE = 200;
export const STEPS_PER_ATTEMPT = 300;

const testKey = (runId: string, id: string) => `${runId}\0${id}`;

const ms = (timestamp: string | undefined): number | undefined => {
  const t = timestamp ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
};

function locationText(loc: { file?: string; line?: number } | undefined): string | undefined {
  if (!loc?.file) return undefined;
  return loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file;
}

export class TestIndex {
  readonly runs = new Map<string, RunRecord>();
  /** Grows on every change: views recompute only when it moved. */
  version = 0;

  /** Applies one event; true when something the views show changed. */
  apply(envelope: AnyEventEnvelope): boolean {
    const changed = this.applyEvent(envelope);
    const run = envelope.runId ? this.runs.get(envelope.runId) : undefined;
    const at = ms(envelope.timestamp);
    if (run && at !== undefined) run.heardAt = Math.max(run.heardAt ?? at, at);
    return changed;
  }

  private applyEvent(envelope: AnyEventEnvelope): boolean {
    const runId = envelope.runId;
    if (!runId) return false;
    const d = (envelope.data ?? {}) as Record<string, any>;
    switch (envelope.type) {
      case 'test.started': {
        const previous = this.runs.get(runId);
        // The same run id started again (watch mode reusing it): as the run state does, start over.
        if (previous?.completed) this.runs.delete(runId);
        const run = this.run(runId);
        run.startedAt = typeof d.run?.startedAt === 'number' ? d.run.startedAt : ms(envelope.timestamp);
        return this.changed();
      }
      case 'test.progress': {
        if (d.status !== 'running' || typeof d.id !== 'string') return false;
        const test = this.test(runId, d, envelope.seq);
        if (test.status === 'running' && test.startedAt !== undefined) return false;
        if (test.status !== 'running' && !test.retrying) return false; // a late sample of a finished test
        test.status = 'running';
        test.startedAt ??= ms(envelope.timestamp);
        test.seq = envelope.seq;
        return this.changed();
      }
      case 'test.result':
        if (typeof d.id !== 'string') return false;
        this.result(runId, d, envelope);
        return this.changed();
      case 'test.failed': {
        // A test's error normally comes with its test.result; keep this one when the result had none.
        if ((d.scope && d.scope !== 'test') || typeof d.id !== 'string') return false;
        const test = this.runs.get(runId)?.tests.get(d.id);
        const attempt = test?.attempts.find((a) => a.attempt === (d.attempt ?? 1));
        if (!attempt || attempt.error || !d.error) return false;
        attempt.error = d.error;
        return this.changed();
      }
      case 'test.output': {
        const record: OutputRecord = {
          stream: String(d.stream ?? d.outputType ?? 'stdout'),
          outputType: d.outputType === 'stderr' ? 'stderr' : 'stdout',
          text: typeof d.output === 'string' ? d.output : String(d.output ?? ''),
          timestamp: envelope.timestamp,
        };
        if (typeof d.id === 'string') {
          const test = this.test(runId, d, envelope.seq);
          if (test.output.length >= OUTPUT_PER_TEST) {
            test.output.shift();
            test.outputDropped++;
          }
          test.output.push(record);
        } else {
          const run = this.run(runId);
          const file = typeof d.file === 'string' ? d.file : '';
          let list = run.fileOutput.get(file);
          if (!list) {
            list = [];
            run.fileOutput.set(file, list);
          }
          if (list.length >= OUTPUT_PER_FILE) list.shift();
          list.push(record);
        }
        return this.changed();
      }
      case 'test.step': {
        if (typeof d.id !== 'string') return false;
        const test = this.test(runId, d, envelope.seq);
        const attempt = this.attempt(test, d.attempt ?? 1);
        if (attempt.steps.length >= STEPS_PER_ATTEMPT) {
          attempt.stepsDropped++;
          return false;
        }
        attempt.steps.push({
          title: String(d.title ?? ''),
          category: String(d.category ?? ''),
          depth: typeof d.depth === 'number' ? d.depth : 0,
          stepPath: Array.isArray(d.stepPath) ? d.stepPath : [],
          duration: typeof d.duration === 'number' ? d.duration : 0,
          startedAt: typeof d.startedAt === 'number' ? d.startedAt : undefined,
          location: locationText(d.stepLocation),
          error: d.error,
        });
        return this.changed();
      }
      case 'performance.bottleneck': {
        if (typeof d.id !== 'string') return false;
        const test = this.test(runId, d, envelope.seq);
        if (d.type === 'hung_test') {
          test.hung = { elapsedMs: d.elapsed ?? d.duration ?? 0, at: ms(envelope.timestamp) ?? Date.now() };
        } else {
          test.slow = { duration: d.duration, threshold: d.threshold, severity: String(d.severity ?? '') };
        }
        test.seq = envelope.seq;
        return this.changed();
      }
      case 'coverage.threshold':
        this.run(runId).thresholds = d as CoverageThresholdData;
        return this.changed();
      case 'baseline.compared': {
        const run = this.run(runId);
        run.baseline ??= emptyRunBaseline();
        run.baseline.compared = d as BaselineComparedData;
        return this.changed();
      }
      case 'test.completed': {
        const run = this.run(runId);
        run.completed = true;
        run.endedAt = ms(envelope.timestamp);
        return this.changed();
      }
      default:
        return false;
    }
  }

  /**
   * After a resync the events in the gap are gone: the snapshot's latest state of each test is the truth.
   * What is recorded already (earlier attempts, output) stays; runs the snapshot does not list are dropped.
   */
  restore(runs: RunSnapshot[]): void {
    const listed = new Set(runs.map((run) => run.runId));
    for (const id of this.runs.keys()) if (!listed.has(id)) this.runs.delete(id);
    for (const snapshot of runs) {
      const run = this.run(snapshot.runId);
      run.completed = snapshot.status === 'completed';
      run.endedAt = runEndedAt(snapshot, run.heardAt);
      run.startedAt ??= snapshot.run?.startedAt ?? ms(snapshot.startedAt);
      for (const state of snapshot.tests) {
        const test = this.test(snapshot.runId, state, state.seq);
        test.status = state.status;
        test.retrying = state.willRetry === true;
        test.flaky = state.flaky === true;
        test.duration = state.duration;
        test.line ??= state.line;
        if (state.status !== 'running') {
          const attempt = this.attempt(test, state.attempt || 1);
          attempt.status = state.status;
          attempt.duration = state.duration;
          attempt.error = state.error ?? attempt.error;
          attempt.willRetry = state.willRetry;
          attempt.flaky = state.flaky;
        }
      }
    }
    this.changed();
  }

  /** Drops runs the client's state no longer holds (it keeps a bounded number of completed runs). */
  prune(keep: (runId: string) => boolean): void {
    let dropped = false;
    for (const id of this.runs.keys()) {
      if (!keep(id)) {
        this.runs.delete(id);
        dropped = true;
      }
    }
    if (dropped) this.changed();
  }

  /** The run was known to be going at `at` (the page was live and it ran): its time goes at least that far. */
  heard(runId: string, at: number): void {
    const run = this.runs.get(runId);
    if (run && !run.completed) run.heardAt = Math.max(run.heardAt ?? at, at);
  }

  /**
   * Forgets these runs: a new broadcaster replays their events from its first, and kept records would see
   * every output line twice. Runs it does not carry (a previous broadcaster's) keep what is known of them.
   */
  forget(runIds: Iterable<string>): void {
    for (const id of runIds) this.runs.delete(id);
    this.changed();
  }

  get(key: string): TestRecord | undefined {
    const cut = key.indexOf('\0');
    if (cut < 0) return undefined;
    return this.runs.get(key.slice(0, cut))?.tests.get(key.slice(cut + 1));
  }

  clear(): void {
    this.runs.clear();
    this.changed();
  }

  private changed(): true {
    this.version++;
    return true;
  }

  /** A test's latest comparison decides whether it counts as slower / newly failing (a retry that passes clears it). */
  private noteBaseline(runId: string, id: string, b: BaselineTestComparison | undefined): void {
    const run = this.run(runId);
    if (!b && !run.baseline) return;
    run.baseline ??= emptyRunBaseline();
    run.baseline.label ??= b?.label;
    const slower = b?.regression === true && b.newlyFailing !== true;
    if (slower) run.baseline.regressed.add(id);
    else run.baseline.regressed.delete(id);
    if (b?.newlyFailing) run.baseline.newlyFailing.add(id);
    else run.baseline.newlyFailing.delete(id);
  }

  private run(runId: string): RunRecord {
    let run = this.runs.get(runId);
    if (!run) {
      run = { runId, tests: new Map(), fileOutput: new Map(), completed: false };
      this.runs.set(runId, run);
    }
    return run;
  }

  /** The test's record, created from whatever identity the event carries. */
  private test(runId: string, d: Record<string, any>, seq: number): TestRecord {
    const run = this.run(runId);
    let test = run.tests.get(d.id);
    const titlePath: string[] =
      Array.isArray(d.titlePath) && d.titlePath.length > 0
        ? d.titlePath.map(String)
        : [String(d.testName ?? d.id)];
    if (!test) {
      test = {
        key: testKey(runId, d.id),
        runId,
        id: d.id,
        titlePath,
        testName: String(d.testName ?? titlePath[titlePath.length - 1] ?? ''),
        file: String(d.file ?? d.location?.file ?? ''),
        status: 'running',
        retrying: false,
        flaky: false,
        attempts: [],
        output: [],
        outputDropped: 0,
        seq,
      };
      run.tests.set(d.id, test);
    }
    if (!test.file && (d.file || d.location?.file)) test.file = String(d.file ?? d.location.file);
    if (test.line === undefined) test.line = d.line ?? d.location?.line;
    if (test.column === undefined) test.column = d.column ?? d.location?.column;
    if (test.project === undefined && typeof d.project === 'string') test.project = d.project;
    return test;
  }

  private attempt(test: TestRecord, n: number): AttemptRecord {
    let attempt = test.attempts.find((a) => a.attempt === n);
    if (!attempt) {
      attempt = { attempt: n, status: 'running', steps: [], stepsDropped: 0 };
      test.attempts.push(attempt);
      test.attempts.sort((a, b) => a.attempt - b.attempt);
    }
    return attempt;
  }

  private result(runId: string, d: Record<string, any>, envelope: AnyEventEnvelope): void {
    const test = this.test(runId, d, envelope.seq);
    if (Array.isArray(d.titlePath) && d.titlePath.length > 0) test.titlePath = d.titlePath.map(String);
    if (typeof d.testName === 'string') test.testName = d.testName;
    const n: number = typeof d.attempt === 'number' ? d.attempt : 1;
    const attempt = this.attempt(test, n);
    attempt.status = d.status;
    attempt.duration = typeof d.duration === 'number' ? d.duration : undefined;
    attempt.startedAt = typeof d.startedAt === 'number' ? d.startedAt : undefined;
    attempt.worker = typeof d.worker === 'string' ? d.worker : undefined;
    attempt.error = d.error ?? d.errors?.[0];
    attempt.errors = Array.isArray(d.errors) && d.errors.length > 1 ? d.errors.slice(1) : undefined;
    attempt.timedOut = d.timedOut;
    attempt.willRetry = d.willRetry;
    attempt.flaky = d.flaky;
    attempt.attachments = Array.isArray(d.attachments) ? d.attachments : undefined;
    attempt.annotations = Array.isArray(d.annotations) ? d.annotations : undefined;
    const latest = test.attempts[test.attempts.length - 1];
    if (latest !== attempt) return; // an earlier attempt arriving late changes its row only
    test.status = d.status;
    test.retrying = d.willRetry === true;
    const earlierFailed = test.attempts.some((a) => a.attempt < n && a.status === 'failed');
    test.flaky = d.flaky ?? (d.status === 'passed' && earlierFailed);
    test.duration = attempt.duration;
    if (d.baseline) test.baseline = d.baseline;
    this.noteBaseline(runId, d.id, d.baseline);
    const end = ms(envelope.timestamp);
    const start =
      attempt.startedAt ??
      (end !== undefined && attempt.duration !== undefined ? end - attempt.duration : undefined);
    const first = test.attempts[0]?.startedAt ?? start;
    test.startedAt = Math.min(test.startedAt ?? Number.POSITIVE_INFINITY, first ?? Number.POSITIVE_INFINITY);
    if (!Number.isFinite(test.startedAt)) test.startedAt = undefined;
    test.endedAt = start !== undefined && attempt.duration !== undefined ? start + attempt.duration : end;
    test.seq = envelope.seq;
  }
}
