/**
 * The mocha reporter: runner events -> @testwire/reporter-core calls, while a wrapped terminal reporter
 * (spec by default) prints exactly what it would print alone.
 *
 *   mocha Runner ──emit──┬─> wrapped reporter (spec, dot, json, a module…)   prints, writes files
 *   (capture suspended)  └─> TestwireReporter ─> reporter-core ─> broadcaster ─> /ws, /events
 *   test code ─> console / process.stdout ─> terminal, and (serial mode) test.output of the running test
 *
 * Serial mode streams live. With `--parallel`, mocha's main process receives each file's events in one
 * burst when that file's worker finishes; the workers also stream them as they happen (parallel-relay.ts),
 * handled here as they arrive and skipped in the burst. The total is not known up front (`totalKnown: false`).
 */

import type { TestStatus } from '@testwire/protocol';
import {
  checkThresholds,
  createReporterCore,
  PathNode,
  type ReporterCore,
  type ReporterCoreOptions,
  type TestOutcome,
  type TestRef,
  untilDeadline,
} from '@testwire/reporter-core';
import { bailed, parallelBailed, parallelBailing } from './bail.js';
import type { C8Coverage } from './c8.js';
import { OutputCapture } from './capture.js';
import { nycCoverageReport } from './coverage.js';
import { nycCoverageStart } from './coverage-start.js';
import { declaredOrdinal, declaredOrdinals } from './declared-ordinals.js';
import type { OutsideError } from './dropped-files.js';
import { sendLoadOutput, takeLoadOutput } from './hold-load-output.js';
import { onFatalAfterRun } from './late-crash.js';
import type { HeldOutput } from './load-output.js';
import { findRunningMocha, loadReporter, type MochaRuntime } from './mocha-runtime.js';
import {
  EVENTS,
  MOCHA_TIMEOUT_CODE,
  type MochaReporterConstructor,
  type MochaReporterInstance,
  type MochaReporterOptions,
  type MochaRunnable,
  type MochaRunner,
  type MochaSuite,
} from './mocha-types.js';
import type { TestwireMochaOptions } from './options.js';
import type { ParallelRelay, RelayStream } from './parallel-relay.js';
import { loadC8, loadDroppedFiles, loadRelay } from './parts.js';
import { PendingClassifier } from './pending.js';
import { FINISH_TIMEOUT_MS, UNRUN_EVENT, type UnrunData } from './relay-wire.js';
import { runSetup, runStartInfo, tellOptionProblems } from './run-setup.js';

/** How a mocha test ended: its `state`, with the pending tests declared as `it('title')` told apart (todo). */
type MochaOutcome = 'passed' | 'failed' | 'pending' | 'todo';

/** Typed as a Record so a new outcome fails to compile until it is mapped. */
const STATUS: Record<MochaOutcome, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  todo: 'todo',
};

type HookKind = 'before all' | 'before each' | 'after each' | 'after all';
const HOOK_KIND = /^"(before all|before each|after each|after all)" hook/;

/** Defaults for {@link createTestwireReporter}: core options (e.g. a `sink`) and reporter options. */
export type TestwireReporterDefaults = Partial<Omit<ReporterCoreOptions, 'framework'>> & TestwireMochaOptions;

/**
 * Mocha reporter streaming the run through testwire. Use `mocha --reporter @testwire/mocha`; options via
 * `--reporter-option key=value` (see README): `reporter` (the terminal reporter to keep, default `spec`),
 * `port`, `host`, `url`, `apiKey`, `project`, `captureOutput`; other keys go to the wrapped reporter.
 */
/** The tests of one file that share a title path (twins), as they arrived. */
interface TitlePathState {
  /** Twins seen so far. */
  count: number;
  /** The last twin has begun and not ended (a retry, or its events, are about it). */
  open: boolean;
  /** Ordinals whose final result was sent (marked on demand, see isFinished). */
  finished?: number[];
  /** Ordinals announced to the core (parallel mode). */
  seen?: number[];
  /** The errors of each ordinal's failed final result, for a failure after it ended (see failAgain). */
  errors?: Map<number, unknown[]>;
}

export class TestwireReporter {
  /** The reporter-core instance (exposed for tools and tests). */
  readonly core: ReporterCore;
  /** The wrapped terminal reporter, if any. */
  readonly inner: MochaReporterInstance | undefined;

  private readonly runner: MochaRunner;
  private readonly options: MochaReporterOptions;
  private readonly parallel: boolean;
  private readonly capture: OutputCapture | undefined;
  private readonly pending = new PendingClassifier();
  /** Each test object's ref, and when it began (serial mode): one lookup per hook. */
  private readonly tests = new WeakMap<object, TestEntry>();
  /**
   * Per file and title path, its tests so far (twins.ts of the other adapters; here by arrival, see ref()),
   * found by a walk of the path: no key string per event.
   */
  private readonly titlePaths = new PathNode<TitlePathState>();
  /**
   * Tests whose final result was sent, in order. Retries run clones of the test object (a ref each), so
   * "has this test ended?" is answered by file + title path + ordinal, marked on demand (see isFinished): the
   * question comes with failures only, while every test ends.
   */
  private readonly finishedRefs: TestRef[] = [];
  private markedRefs = 0;
  /** The ref stateOf answered last, and its state. */
  private lastStateRef: TestRef | undefined;
  private lastState: TitlePathState | undefined;
  /** Serial mode with `.only`: the twins' ordinals as declared (declared-ordinals.ts); else arrival decides. */
  private declared: WeakMap<object, number> | undefined;
  /** Suites (serial mode) with a failed hook, settled when the suite ends. */
  private readonly failedHooks = new Map<MochaSuite, { title: string; error: unknown }>();
  /** Where console output goes right now: a test, a file (hooks outside tests), or the run. */
  private outputTarget: TestRef | undefined;
  private lastFile: string | undefined;
  /** The run began (mocha's first RUN_BEGIN): a later one is an error outside the run (onRunBegin). */
  private begun = false;
  private completed = false;
  /** Under c8: its options, read when the run begins (see c8.ts). */
  private c8: C8Coverage | undefined;
  /** Parallel mode: the workers' live streams (parallel-relay.ts). */
  private relay: ParallelRelay | undefined;
  /** The handler of each runner event, for the events the relay hands over. */
  private readonly handlers = new Map<string, (first?: unknown, second?: unknown) => void>();
  /** Serial mode: what the test files printed while mocha loaded them, sent when the run begins. */
  private loadOutput: HeldOutput[] = [];
  /** Parallel mode: mocha's errors outside the run, one per file whose run it dropped (dropped-files.ts). */
  private readonly outsideErrors: OutsideError[] = [];
  /** Parallel mode: the files whose burst came (their run resolved): the others' runs mocha dropped. */
  private readonly burstFiles = new Set<string>();
  /** Parallel mode: mocha's runner went BAILING (bail.ts parallelBailing), seen as it emitted a burst. */
  private parallelBail = false;
  /** What was wrong with our reporter options: told as framework.error when the run begins. */
  private readonly optionProblems: readonly string[];

  /**
   * Called by mocha as `new Reporter(runner, mochaOptions)`; reporter options are in
   * `mochaOptions.reporterOption` (mocha >= 8) or `reporterOptions`.
   */
  constructor(runner: MochaRunner, options: MochaReporterOptions = {}) {
    this.runner = runner;
    this.options = options;
    // Before the wrapped reporter exists: what it prints is not the test files'.
    const loadOutput = takeLoadOutput();
    const defaults = (new.target as { defaults?: TestwireReporterDefaults }).defaults ?? {};
    this.parallel = options.parallel === true;

    let runtime: MochaRuntime | undefined;
    try {
      runtime = findRunningMocha(runner);
    } catch {
      runtime = undefined;
    }
    const setup = runSetup(options, defaults, runtime?.version);
    this.optionProblems = setup.problems;
    if (setup.problems.length > 0)
      warn(`invalid reporter options: ${setup.problems.join('; ')} (using defaults)`);

    // The wrapped reporter is created first so its listeners run first, as if it were the only reporter.
    this.inner = this.createInner(setup.reporter ?? 'spec', runtime, options, setup.forwarded);

    this.core = createReporterCore(setup.coreOptions);

    // The core's decision (the option, else TESTWIRE_CAPTURE_OUTPUT; off when disabled): off, nothing is
    // tapped, here or in the workers.
    const captureOutput = this.core.captureOutput;
    // Workers of parallel mode write straight to the terminal: nothing to capture in this process.
    this.capture =
      captureOutput && !this.parallel
        ? new OutputCapture((text, stream, method) => this.onOutput(text, stream, method))
        : undefined;
    if (this.capture) {
      this.loadOutput = loadOutput;
      this.suspendCaptureDuringEvents(this.capture);
    }
    // before the run begins: mocha then drops the tests `.only` leaves out
    if (this.core.enabled && !this.parallel) this.readDeclaredOrdinals();
    if (this.core.enabled && this.parallel) this.startRelay(captureOutput);
    if (this.core.enabled) this.listen();
  }

  /**
   * Mocha calls this after the run (and global teardown), before it exits: the final flush is awaited here,
   * bounded in time, then `fn(failures)` lets mocha exit. The wrapped reporter's own `done` (xunit closing
   * its file) runs alongside.
   */
  done(failures: number, fn?: (failures: number) => void): void {
    let called = false;
    let result = failures;
    const finish = () => {
      if (called) return;
      called = true;
      fn?.(result);
    };
    this.capture?.uninstall();

    const innerDone = new Promise<void>((resolve) => {
      const inner = this.inner;
      if (!inner || typeof inner.done !== 'function') return resolve();
      try {
        inner.done(failures, (value) => {
          if (typeof value === 'number') result = value;
          resolve();
        });
      } catch (error) {
        warn(`the wrapped reporter failed in done(): ${message(error)}`);
        resolve();
      }
    });

    // A test mocha fails from now on ends the process at once (late-crash.ts): until the run is flushed,
    // that error has the flush finished first.
    const stopWatching = this.core.enabled
      ? onFatalAfterRun(this.runner, (error) => this.dyingAfterRun(error))
      : () => undefined;
    // Under c8 the coverage is converted first (as long as c8's own conversion would take); the flush bound
    // runs from when the run is complete.
    const completed = this.completed
      ? Promise.resolve()
      : this.settleDroppedFiles().then(() => this.completeRun(failures));
    this.completed = true;
    completed
      .then(() => innerDone)
      .catch(() => undefined)
      .finally(() => {
        stopWatching();
        finish();
      });
  }

  /**
   * The process dies of `error` as soon as this returns (mocha throws it out of its 'uncaughtException'
   * listener, Node exits 7; late-crash.ts): the run's flush is waited for first, blocking, bounded. The run is
   * complete by then (test.completed is handed over within a turn of the loop of mocha's end, c8's conversion
   * included), and the core takes nothing more of a completed run: the error is not in the stream. Were the run
   * still open, this would complete it as failed with the error.
   */
  private dyingAfterRun(error: unknown): void {
    this.core.completeBeforeExit?.({ success: false, rawStatus: 'failed', errors: [error] });
  }

  /**
   * Parallel mode: mocha dropped the files whose run rejected (a worker died, a file failed to load) and
   * reported each as an error outside the run. Each is its file's failure (scope 'file'), when it can be told
   * whose (dropped-files.ts; else the run's); the test a dropped file was running ends here, failed, saying so —
   * before test.completed, so that none stays running. Then the relay closes.
   */
  private async settleDroppedFiles(): Promise<void> {
    const relay = this.relay;
    try {
      const outside = this.outsideErrors;
      if (outside.length === 0) return;
      const reasons = outside.map(({ reason }) => reason);
      const streams = relay ? await relay.dropped(Date.now() + FINISH_TIMEOUT_MS) : [];
      // --bail held the streams: those of files dropped for another reason (a worker that died, a run that
      // failed) tell what their file was running — without a bail, every stream whose burst never came
      relay?.release(this.parallelBail ? 'cut off' : 'all');
      const files = Array.isArray(this.options.files) ? this.options.files.map(String) : [];
      // only a run that dropped files needs this part (dist/dropped-files.cjs)
      const { droppedFiles, droppedFileError, reasonsOf } = loadDroppedFiles();
      const dropped = droppedFiles(files, this.burstFiles, outside);
      if (dropped.length === 0) for (const reason of reasons) this.core.runError(reason);
      for (const { file, reason } of dropped) {
        const running = streams.find((stream) => stream.file === file)?.running?.test;
        // a worker's death is classified WORKER_CRASHED from its text, a load failure COLLECTION_ERROR
        this.core.fileFailed(file, droppedFileError(reason, running?.title));
      }
      this.failDroppedTests(streams, reasonsOf(streams, reasons, files));
    } catch (error) {
      this.core.adapterError('settleDroppedFiles', error);
    } finally {
      relay?.close();
    }
  }

  /** The test each dropped file's stream was running: failed, with its file's reason when it is known. */
  private failDroppedTests(streams: RelayStream[], reasons: Map<RelayStream, unknown>): void {
    for (const stream of streams) {
      const running = stream.running;
      if (!running) continue;
      const ref = this.ref(running.test);
      if (this.isFinished(ref)) continue;
      const { rawStatus, error } = loadDroppedFiles().droppedTestFailure(reasons.get(stream));
      this.core.testResult(ref, {
        status: 'failed',
        rawStatus,
        // until its stream ended: when the worker died, as near as the main process can tell
        duration: Math.max(0, (stream.closedAt ?? Date.now()) - running.since),
        attempt: attemptOf(running.test),
        startedAt: running.since,
        errors: [error],
      });
      this.finishedRefs.push(ref);
    }
  }

  /** Coverage (nyc, c8), then test.completed and the final flush, bounded in time. */
  private async completeRun(failures: number): Promise<void> {
    let success = failures === 0;
    try {
      const coverage = this.parallel ? undefined : nycCoverageReport();
      const report = coverage ?? (await this.c8?.collect());
      if (report) {
        this.core.coverage(report);
        // `nyc --check-coverage` / `c8 --check-coverage` fail the command on a missed threshold once mocha
        // has exited.
        // A verdict the thresholds cannot give (nyc's `all` files unread) comes as thresholdsMet.
        if (checkThresholds(report)?.passed === false || report.thresholdsMet === false) success = false;
      }
    } catch (error) {
      this.core.adapterError("reading the run's coverage", error);
    }
    const bailed = this.stoppedByBail();
    // Mocha counts only what ran: the total declared up front drops to the tests the stream has (the core
    // never shows fewer than it has seen).
    if (bailed) this.core.testsDiscovered(0, { final: true, total: 0 });
    const flushed = this.core.runCompleted({
      success,
      rawStatus: failures === 0 ? 'passed' : 'failed',
      ...(bailed ? { interrupted: true, interruptedBy: 'bail' } : {}),
    });
    // Ref'd: until fn(failures) runs, mocha has not set its exit code, so the process must not end early.
    // The timer is cleared as soon as the flush settles and never outlives the bound.
    await untilDeadline(flushed, Date.now() + this.core.holdBoundMs, { ref: true });
  }

  /**
   * Whether mocha stopped at a failure and never ran (serial) or reported (parallel) the rest (bail.ts).
   */
  private stoppedByBail(): boolean {
    try {
      if (this.parallel) {
        const files = Array.isArray(this.options.files) ? this.options.files.map(String) : [];
        return parallelBailed(this.parallelBail, files, this.burstFiles, this.relay?.bailedInFile === true);
      }
      return bailed(this.runner, this.finishedRefs.length);
    } catch (error) {
      this.core.adapterError('reading whether mocha bailed', error);
      return false;
    }
  }

  // -------------------------------------------------------------------------------------------------------

  private createInner(
    reporter: string | MochaReporterConstructor,
    runtime: MochaRuntime | undefined,
    options: MochaReporterOptions,
    forwarded: Record<string, unknown>,
  ): MochaReporterInstance | undefined {
    if (reporter === 'none') return undefined;
    let ctor: MochaReporterConstructor | undefined;
    if (typeof reporter === 'function') ctor = reporter;
    else {
      const loaded = loadReporter(reporter, runtime);
      if ('reporter' in loaded) ctor = loaded.reporter;
      else {
        const spec = runtime?.reporters.spec;
        warn(
          `${loaded.error}; ${spec && reporter !== 'spec' ? 'using "spec"' : 'printing no terminal output'}`,
        );
        ctor = reporter !== 'spec' ? spec : undefined;
      }
    }
    if (ctor === (this.constructor as unknown) || ctor === TestwireReporter) {
      warn('reporter=@testwire/mocha would wrap itself; using "spec"');
      ctor = runtime?.reporters.spec;
    }
    if (!ctor) return undefined;
    // The wrapped reporter sees mocha's options with only its own reporter options (`output=` and such).
    const innerOptions = { ...options, reporterOption: forwarded, reporterOptions: forwarded };
    return new ctor(this.runner, innerOptions);
  }

  /**
   * Everything printed while the runner emits an event is reporter output (spec's lines, the epilogue), not
   * test output: test code never runs inside `emit`. Wrapping the instance's `emit` covers every reporter
   * listening on this runner, whatever the order of registration.
   */
  private suspendCaptureDuringEvents(capture: OutputCapture): void {
    const runner = this.runner;
    const emit = runner.emit;
    runner.emit = function (this: MochaRunner, ...args: unknown[]) {
      return capture.suspend(emit as (...args: unknown[]) => boolean, this, args);
    };
  }

  private listen(): void {
    // Mocha's events carry at most two arguments (`fail`: the runnable and its error): no rest array per event.
    const on = (event: string, handler: (first?: any, second?: any) => void) => {
      const guarded = (first?: unknown, second?: unknown) => {
        try {
          handler(first, second);
        } catch (error) {
          // The core never throws; this guards the adapter's own reading of mocha objects.
          this.core.adapterError(`mocha "${event}" event`, error);
        }
      };
      this.handlers.set(event, guarded);
      this.runner.on(event, (first?: unknown, second?: unknown) => {
        // parallel mode: every event the runner emits is of a file's burst (settleDroppedFiles) but mocha's
        // errors outside the run (a phony runnable, no test or hook, which mocha 12 gives the dropped file)
        if (this.parallel && (event !== EVENTS.TEST_FAIL || isTestOrHook(first))) this.noteBurstFile(first);
        if (this.parallel && !this.parallelBail) this.parallelBail = parallelBailing(this.runner);
        // a burst event a worker already streamed (parallel mode)
        if (this.relay?.skipping) return;
        guarded(first, second);
      });
    };
    on(EVENTS.RUN_BEGIN, () => this.onRunBegin());
    on(EVENTS.SUITE_BEGIN, (suite: MochaSuite) => {
      this.outputTarget = undefined;
      if (suite.file) this.noteFile(suite.file);
    });
    on(EVENTS.SUITE_END, (suite: MochaSuite) => {
      this.outputTarget = undefined;
      this.settleFailedHook(suite);
    });
    on(EVENTS.HOOK_BEGIN, (hook: MochaRunnable) => this.onHookBegin(hook));
    on(EVENTS.HOOK_END, (hook: MochaRunnable) => {
      if (!isEachHook(hook)) this.outputTarget = undefined;
    });
    on(EVENTS.TEST_BEGIN, (test: MochaRunnable) => this.onTestBegin(test));
    on(EVENTS.TEST_PASS, (test: MochaRunnable) => this.result(test, 'passed'));
    on(EVENTS.TEST_FAIL, (runnable: MochaRunnable, error: unknown) => this.onFail(runnable, error));
    on(EVENTS.TEST_PENDING, (test: MochaRunnable) => {
      this.ref(test, 'pending');
      this.result(test, this.pendingKind(test));
    });
    on(EVENTS.TEST_RETRY, (test: MochaRunnable, error: unknown) => this.result(test, 'failed', error, true));
    on(EVENTS.TEST_END, (test: MochaRunnable) => {
      const ref = this.ref(test);
      this.finishedRefs.push(ref);
      this.stateOf(ref).open = false;
    });
    on(UNRUN_EVENT, (data: UnrunData | undefined, error: unknown) => this.onUnrun(data, error));
    on(EVENTS.RUN_END, () => {
      this.outputTarget = undefined;
      if (this.lastFile !== undefined) this.fileEnded(this.lastFile);
      this.capture?.uninstall();
      // Parallel mode: the relay stays open until done(), which reads the dropped files' streams to their end.
    });
  }

  private readDeclaredOrdinals(): void {
    try {
      this.declared = declaredOrdinals(this.runner.suite);
    } catch (error) {
      this.core.adapterError('declaredOrdinals', error);
    }
  }

  private noteBurstFile(data: unknown): void {
    const file = (data as { file?: unknown } | undefined)?.file;
    if (typeof file === 'string') this.burstFiles.add(file);
  }

  /** Parallel mode: the workers stream each event as it happens; each is handled as its burst would be. */
  private startRelay(output: boolean): void {
    this.relay = loadRelay().ParallelRelay.start(
      this.runner,
      {
        event: (stream: RelayStream, name: string, data: unknown, error: unknown) => {
          // Each stream has its own output target, as the one file of serial mode does.
          this.outputTarget = stream.target;
          this.handlers.get(name)?.(data, error);
          stream.target = this.outputTarget;
          // what failDroppedTests needs if mocha drops this stream's file
          const file = (data as { file?: unknown } | undefined)?.file;
          if (stream.file === undefined && typeof file === 'string') stream.file = file;
          if (name === EVENTS.TEST_BEGIN) stream.running = { test: data as MochaRunnable, since: Date.now() };
          else if (name === EVENTS.TEST_END) stream.running = undefined;
        },
        output: (stream, text, std, via, file) =>
          this.core.output(file ? { file, titlePath: [] } : stream.target, text, std, via),
      },
      // --bail: mocha drops the bursts of the files still running when one bails; their streams are held until
      // mocha takes their burst (parallel-relay.ts), so that the stream has the files mocha reports
      { output, hold: this.options.bail === true },
    );
  }

  private onRunBegin(): void {
    // Mocha reports an error outside the run as a run of its own (Runner#uncaught: start, fail, end) when its
    // runner is not in its running state, which its parallel runner never is: a worker that died is such an
    // error, inside the run this reporter streams. One run per reporter: a second start is part of it.
    if (this.begun) return;
    this.begun = true;
    // nyc's counters are in this process already; else c8's, if this process runs under c8.
    const coverage = nycCoverageStart();
    const collecting = coverage !== undefined || Boolean(process.env.NODE_V8_COVERAGE);
    // Parallel mode loads test files in workers only: the main process learns of tests as files finish.
    this.core.runStarted(
      runStartInfo(this.options, this.parallel ? undefined : this.runner.total, collecting, {
        timeout: this.runner.suite?.timeout?.(),
        slow: this.runner.suite?.slow?.(),
      }),
    );
    tellOptionProblems(this.core, this.optionProblems);
    if (coverage) this.core.coverageStarted(coverage);
    else this.startC8();
    this.sendLoadOutput();
    this.capture?.install();
  }

  /** What the test files printed while mocha loaded them, as each file's output. */
  private sendLoadOutput(): void {
    const held = this.loadOutput;
    this.loadOutput = [];
    sendLoadOutput(this.core, held, this.options.files);
  }

  /** Under c8 (NODE_V8_COVERAGE set): c8's options, and coverage.started. Nothing is loaded otherwise. */
  private startC8(): void {
    if (!process.env.NODE_V8_COVERAGE) return;
    try {
      this.c8 = loadC8().C8Coverage.detect();
      if (this.c8) this.core.coverageStarted(this.c8.start());
    } catch (error) {
      this.core.adapterError("reading c8's options", error);
    }
  }

  private onTestBegin(test: MochaRunnable): void {
    const entry = this.entry(test, 'begin');
    const ref = entry.ref;
    this.noteTest(ref, test.file);
    if (!this.parallel) entry.startedAt = Date.now();
    this.outputTarget = ref;
    this.core.testStarted(ref, attemptOf(test));
  }

  private onHookBegin(hook: MochaRunnable): void {
    if (!this.capture && !this.relay) return;
    const test = hook.ctx?.currentTest;
    if (isEachHook(hook)) {
      // beforeEach/afterEach run for one test: what they print belongs to it.
      this.outputTarget = test && typeof test.titlePath === 'function' ? this.ref(test) : this.outputTarget;
    } else {
      this.outputTarget = hook.file ? { file: hook.file, titlePath: [] } : undefined;
    }
  }

  private onFail(runnable: MochaRunnable, error: unknown): void {
    if (runnable.type === 'hook') {
      this.onHookFail(runnable, error);
      return;
    }
    if (runnable.type !== 'test' || typeof runnable.titlePath !== 'function') {
      // mocha's phony "Uncaught error outside test suite" runnable. In parallel mode, a file whose run mocha
      // dropped (its worker died, it failed to load), reported once every file has settled: which file it is
      // is told when the run is done (settleDroppedFiles).
      if (this.parallel) this.outsideErrors.push({ reason: error, file: runnable.file || undefined });
      else this.core.runError(error);
      return;
    }
    const ref = this.ref(runnable);
    if (this.isFinished(ref)) this.failAgain(runnable, ref, error);
    else this.result(runnable, 'failed', error);
  }

  /**
   * mocha fails a test that has already ended — its `done()` called again (ERR_MOCHA_MULTIPLE_DONE, "done()
   * called multiple times"), an async error after it passed: the test's state becomes failed, and mocha's
   * report lists the failure under the test, after its pass (json: in `passes` and in `failures`) or after
   * its first failure (a second entry; spec prints both errors). Mirrored as mocha has it: a second final
   * result of the same attempt, failed, with this error first (what this failure is about) and the test's
   * earlier ones after it — the test's status is failed, and each of mocha's failure entries is a test.failed
   * of the test.
   */
  private failAgain(test: MochaRunnable, ref: TestRef, error: unknown): void {
    const errors = [error, ...this.errorsOf(ref)];
    this.noteErrors(ref, errors);
    this.core.testResult(ref, {
      status: 'failed',
      rawStatus: 'failed',
      duration: typeof test.duration === 'number' ? test.duration : 0,
      attempt: attemptOf(test),
      startedAt: this.entry(test).startedAt,
      errors,
    });
  }

  /** The errors of a test's failed final result (none: it passed, or was skipped). */
  private errorsOf(ref: TestRef): unknown[] {
    return this.stateOf(ref).errors?.get(ref.ordinal ?? 0) ?? [];
  }

  private noteErrors(ref: TestRef, errors: unknown[]): void {
    const state = this.stateOf(ref);
    state.errors ??= new Map();
    state.errors.set(ref.ordinal ?? 0, errors);
  }

  private onHookFail(hook: MochaRunnable, error: unknown): void {
    const kind = hookKind(hook);
    const current = hook.ctx?.currentTest;
    let test: TestRef | undefined;
    if (current) {
      test =
        typeof current.titlePath === 'function'
          ? this.ref(current, 'unseen') // a before-all hook's currentTest has not begun; others are known
          : // parallel mode: currentTest is a {title, id} stub; its path is the hook's suite path + title
            { file: hook.file ?? '', titlePath: [...safeTitlePath(hook).slice(0, -1), current.title] };
    } else if (hook.file) {
      test = { file: hook.file, titlePath: [] };
    }
    this.core.hookFailed(test, error, kind ?? hook.originalTitle ?? hook.title);
    // before all / before each / after each failures make mocha skip the rest of the hook's suite; the tests
    // it will not run are reported as failed when the suite ends (serial mode: live suites know their tests).
    const suite = hook.parent;
    if (kind !== 'after all' && suite && Array.isArray(suite.tests) && !this.failedHooks.has(suite)) {
      this.failedHooks.set(suite, { title: hook.title, error });
    }
  }

  private settleFailedHook(suite: MochaSuite): void {
    const failure = this.failedHooks.get(suite);
    if (!failure) return;
    this.failedHooks.delete(suite);
    const error = hookFailedError(failure);
    const grep = this.runner._grep instanceof RegExp ? this.runner._grep : undefined;
    const invert = this.runner._invert === true;
    const visit = (s: MochaSuite) => {
      for (const test of s.tests ?? []) {
        if (grep && typeof test.fullTitle === 'function' && grep.test(test.fullTitle()) === invert) continue;
        this.unrun(test, 'unseen', error);
      }
      for (const child of s.suites ?? []) visit(child);
    };
    visit(suite);
  }

  /** Parallel mode: the tests a failed hook kept from ending, as the worker found them when the suite ended. */
  private onUnrun(data: UnrunData | undefined, error: unknown): void {
    const failed = hookFailedError({ title: String(data?.hook ?? 'a hook'), error });
    for (const test of data?.tests ?? []) this.unrun(test, test.began ? 'other' : 'unseen', failed);
  }

  /** A test a failed hook kept from ending: its final result, unless it has one. */
  private unrun(test: MochaRunnable, arrival: 'unseen' | 'other', error: ReturnType<typeof hookFailedError>) {
    const ref = this.ref(test, arrival);
    if (this.isFinished(ref)) return;
    const pending = typeof test.isPending === 'function' ? test.isPending() : test.pending === true;
    if (pending) this.result(test, this.pendingKind(test));
    else this.result(test, 'failed', error, false, 'hook failed');
    this.finishedRefs.push(ref);
  }

  private result(
    test: MochaRunnable,
    outcome: MochaOutcome,
    error?: unknown,
    willRetry = false,
    rawStatus?: string,
  ): void {
    const { ref, startedAt: started } = this.entry(test);
    this.noteTest(ref, test.file);
    const duration =
      typeof test.duration === 'number' ? test.duration : started !== undefined ? Date.now() - started : 0;
    const timedOut =
      outcome === 'failed' && (error as { code?: unknown } | undefined)?.code === MOCHA_TIMEOUT_CODE;
    // Runs for every test: one literal (fields added to it later would take a second allocation), no spreads.
    const result: TestOutcome = {
      status: STATUS[outcome],
      rawStatus: rawStatus ?? (outcome === 'todo' ? 'pending' : outcome),
      duration: outcome === 'pending' || outcome === 'todo' ? 0 : duration,
      attempt: attemptOf(test),
      startedAt: started,
    };
    if (willRetry) result.willRetry = true;
    if (timedOut) result.timedOut = true;
    if (error !== undefined) {
      result.errors = [error];
      // a final failure: mocha may fail the test again later (failAgain)
      if (!willRetry) this.noteErrors(ref, result.errors);
    }
    this.core.testResult(ref, result);
  }

  private pendingKind(test: MochaRunnable): 'pending' | 'todo' {
    return this.pending.classify(test) === 'todo' ? 'todo' : 'pending';
  }

  private onOutput(text: string, stream: 'stdout' | 'stderr', method: string | undefined): void {
    this.core.output(this.outputTarget, text, stream, method);
  }

  /** A new file: tell the core (serial: as the run reaches it; parallel: as its burst arrives). */
  private noteFile(file: string): void {
    if (file === this.lastFile) return;
    if (this.lastFile !== undefined) this.fileEnded(this.lastFile);
    this.lastFile = file;
    this.core.fileStarted(file);
  }

  /**
   * Serial mode runs every file in this process: the heap after each file is performance.leak's evidence.
   * Once per file, not per test; a GC first only when the user exposed it (node --expose-gc).
   */
  private fileEnded(file: string): void {
    if (this.parallel) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (typeof gc === 'function') gc();
    this.core.heapSample({
      file,
      heapUsed: process.memoryUsage().heapUsed,
      gcForced: typeof gc === 'function',
    });
  }

  private noteTest(ref: TestRef, file: string | undefined): void {
    if (file) this.noteFile(file);
    if (!this.parallel) return;
    const state = this.stateOf(ref);
    const ordinal = ref.ordinal ?? 0;
    state.seen ??= [];
    if (state.seen.includes(ordinal)) return;
    state.seen.push(ordinal);
    this.core.testsDiscovered(1);
  }

  private isFinished(ref: TestRef): boolean {
    // mark the refs finished since the last question
    for (; this.markedRefs < this.finishedRefs.length; this.markedRefs++) {
      const finished = this.finishedRefs[this.markedRefs];
      const state = this.stateOf(finished);
      state.finished ??= [];
      state.finished.push(finished.ordinal ?? 0);
    }
    return this.stateOf(ref).finished?.includes(ref.ordinal ?? 0) === true;
  }

  /** The ref of a mocha test object (see entry()). */
  private ref(test: MochaRunnable, arrival: Arrival = 'other'): TestRef {
    return this.entry(test, arrival).ref;
  }

  /**
   * A mocha test object's entry: its ref, and when it began. Tests that share a title path in one file
   * (twins) get ordinals by arrival, which is declaration order: a test that begins is the next twin (a
   * retry — a clone with currentRetry() > 0 — is the last one again), a pending test that did not begin is
   * the next twin, a test that never ran (its suite's hook failed) is the next twin, and any other event is
   * about the last twin. Serial mode hands out one object per test (remembered); parallel mode a new object
   * per event, which is why arrival, not the object, decides. A run with `.only` (serial mode) has the
   * ordinals as declared instead: it leaves twins out (declared-ordinals.ts).
   */
  private entry(test: MochaRunnable, arrival: Arrival = 'other'): TestEntry {
    const known = this.tests.get(test);
    if (known) return known;
    const ref: TestRef = { file: test.file ?? '', titlePath: safeTitlePath(test) };
    const twins = this.stateOf(ref);
    let ordinal = this.declared && declaredOrdinal(this.declared, test);
    if (ordinal === undefined) {
      const next =
        twins.count === 0 ||
        arrival === 'unseen' ||
        (arrival === 'begin' && attemptOf(test) === 1) ||
        (arrival === 'pending' && !twins.open);
      if (next) twins.count++;
      ordinal = twins.count - 1;
    }
    if (arrival === 'begin') twins.open = true;
    if (ordinal > 0) ref.ordinal = ordinal;
    const entry: TestEntry = { ref, startedAt: undefined };
    this.tests.set(test, entry);
    return entry;
  }

  /** The state of a ref's file and title path (shared by its twins). */
  private stateOf(ref: TestRef): TitlePathState {
    // A test's begin and end ask about the same ref one after the other: no second walk.
    if (ref === this.lastStateRef && this.lastState) return this.lastState;
    const node = this.titlePaths.child(ref.file).path(ref.titlePath);
    node.value ??= { count: 0, open: false };
    this.lastStateRef = ref;
    this.lastState = node.value;
    return node.value;
  }
}

/**
 * A reporter class with defaults baked in — for programmatic use (`new Mocha({reporter: …})`) and tests:
 * `createTestwireReporter({ sink: (event) => events.push(event), reporter: 'none' })`. Options given on the
 * command line still win over these defaults.
 */
export function createTestwireReporter(defaults: TestwireReporterDefaults): typeof TestwireReporter {
  return class ConfiguredTestwireReporter extends TestwireReporter {
    static defaults = defaults;
  };
}

/** How a test's event arrived, for telling twins apart (see entry()). */
type Arrival = 'begin' | 'pending' | 'unseen' | 'other';

/** A test object's ref, and when it began (serial mode: the runner's clock, for a duration mocha omits). */
interface TestEntry {
  readonly ref: TestRef;
  startedAt: number | undefined;
}

/** The error a test a failed hook kept from running is reported with. */
function hookFailedError(failure: { title: string; error: unknown }) {
  const hookError = failure.error as { message?: unknown; stack?: unknown; name?: unknown } | undefined;
  const reason = typeof hookError?.message === 'string' ? hookError.message : String(failure.error);
  return {
    name: typeof hookError?.name === 'string' ? hookError.name : 'Error',
    message: `${failure.title} failed: ${reason}`,
    stack: typeof hookError?.stack === 'string' ? hookError.stack : undefined,
  };
}

function attemptOf(test: MochaRunnable): number {
  const retry = typeof test.currentRetry === 'function' ? test.currentRetry() : 0;
  return typeof retry === 'number' && retry >= 0 ? retry + 1 : 1;
}

function hookKind(hook: MochaRunnable): HookKind | undefined {
  const match = HOOK_KIND.exec(hook.originalTitle ?? hook.title ?? '');
  return match ? (match[1] as HookKind) : undefined;
}

function isTestOrHook(runnable: unknown): boolean {
  const type = (runnable as MochaRunnable | undefined)?.type;
  return type === 'test' || type === 'hook';
}

function isEachHook(hook: MochaRunnable): boolean {
  const kind = hookKind(hook);
  return kind === 'before each' || kind === 'after each';
}

function safeTitlePath(runnable: MochaRunnable): string[] {
  try {
    const path = runnable.titlePath();
    if (!Array.isArray(path)) return [String(runnable.title)];
    // Mocha makes the array at every call: it is kept as it is when its titles are strings (they are).
    for (const title of path) if (typeof title !== 'string') return path.map(String);
    return path;
  } catch {
    return [String(runnable.title)];
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function warn(text: string): void {
  try {
    process.stderr.write(`testwire: ${text}\n`);
  } catch {
    // stderr closed
  }
}
