import { basename } from 'node:path';
import type {
  CoverageTotals,
  EventDataMap,
  EventType,
  PerformanceMetricsData,
  PublishedEvent,
  RunInfo,
  TestError,
  TestStatus,
} from '@testwire/protocol';
import { loadBroadcaster } from './broadcaster-loader.js';
import { createThreadedCore } from './core-thread.js';
import { type CoverageReport, checkThresholds, cleanCoverageReport, coverageCompleted } from './coverage.js';
import { type BroadcasterLike, type ConnectOptions, Delivery } from './delivery.js';
import { detectCi, findPackageName } from './environment.js';
import { internalErrorReporter, normalizeError, stripAnsi, truncate } from './errors.js';
import { createRunId, PathRelativizer, stableTestId } from './ids.js';
import { lossEventData, lossLine, type RunLoss, runLoss } from './loss.js';
import { type ReporterCoreOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { PerformanceSampler } from './performance.js';

/** One test as an adapter identifies it. */
export interface TestRef {
  /** Absolute, file:// URL, or root-relative; the core emits root-relative with '/'. */
  file: string;
  /** Describe blocks…, then the test title. An empty title path means "the file" (e.g. file-level output). */
  titlePath: string[];
  /** Runner project (playwright project, vitest project, jest displayName). */
  project?: string;
  repeatIndex?: number;
  /**
   * Tells apart tests that share file, project, title path and repeat index (copy-pasted `it('works')`,
   * `test.each` with repeated names): 0 for the first such test, 1 for the second… in the order the runner
   * declares or reports them (see the adapter). A retry keeps its test's ordinal. Default 0.
   */
  ordinal?: number;
  line?: number;
  column?: number;
}

/** How one attempt of a test ended, already mapped by the adapter's status table. */
export interface TestOutcome {
  status: TestStatus;
  rawStatus: string;
  /** Milliseconds. */
  duration: number;
  /** 1-based, default 1. */
  attempt?: number;
  /** This attempt failed and the runner will retry the test. */
  willRetry?: boolean;
  timedOut?: boolean;
  /** Raw runner errors; the core normalizes them. */
  errors?: unknown[];
  assertions?: number;
  /** Epoch ms. */
  startedAt?: number;
}

export interface RunStartInfo {
  /** Tests known at start; leave undefined when the runner does not know (total grows as tests are seen). */
  totalTests?: number;
  testFiles?: string[];
  options?: object;
  watch?: boolean;
  shard?: { current: number; total: number };
}

export interface RunResultInfo {
  /** The run's outcome as the runner decides it (must agree with its exit code). */
  success: boolean;
  rawStatus?: string;
  interrupted?: boolean;
  /** Errors outside any test. */
  errors?: unknown[];
}

/** The API every testwire adapter drives. Every method is guarded: it never throws into the runner. */
export interface ReporterCore {
  /** Id of the current run (a new one after runCompleted, when the next run starts). */
  readonly runId: string;
  /** false with `enabled: false` or TESTWIRE=off: every method is then a no-op. */
  readonly enabled: boolean;
  /** The broadcaster's URL once obtained (undefined with a sink, when disabled, or while connecting). */
  readonly url: string | undefined;
  /**
   * The bound of the final flush in ms (option flushTimeoutMs, env TESTWIRE_FLUSH_TIMEOUT, default 10 000):
   * an adapter that holds the runner for the flush bounds its hold by this plus a margin.
   */
  readonly flushTimeoutMs: number;
  /** Stable id of a test. */
  idFor(test: TestRef): string;
  /** A run begins -> test.started. Calling it after runCompleted starts a new run (watch mode). */
  runStarted(info?: RunStartInfo): void;
  /** The runner learnt of `count` more tests; `final` once the total is complete. */
  testsDiscovered(count: number, options?: { final?: boolean }): void;
  fileStarted(file: string): void;
  /** A test (attempt) starts -> test.progress (status running). */
  testStarted(test: TestRef, attempt?: number): void;
  /** An attempt ended -> test.result (+ test.failed, + performance.bottleneck) + test.progress. */
  testResult(test: TestRef, outcome: TestOutcome): void;
  /** Console output -> test.output, attributed to `test` when given (file-level with an empty titlePath). */
  output(test: TestRef | undefined, text: string, stream: 'stdout' | 'stderr', method?: string): void;
  /** A file that could not run -> test.failed scope 'file'. */
  fileFailed(file: string, error: unknown): void;
  /** A hook failed -> test.failed scope 'hook'. */
  hookFailed(test: TestRef | undefined, error: unknown, hook?: string): void;
  /** An error outside any test -> test.failed scope 'run'. */
  runError(error: unknown): void;
  /**
   * The run's coverage (before runCompleted) -> coverage.threshold when thresholds are set, coverage.completed,
   * and the `coverage` of test.completed.
   */
  coverage(report: CoverageReport): void;
  /** The run ended -> test.completed, then a flush bounded by flushTimeoutMs. Never rejects. */
  runCompleted(result: RunResultInfo): Promise<void>;
  /**
   * runCompleted for a runner that exits right after a hook without awaiting anything (jest --forceExit, which
   * decides the run after its coverage reporter and then calls process.exit): blocks the calling thread until
   * the core's thread has flushed (bounded by flushTimeoutMs). Only a core on its own thread has it — an
   * in-thread core cannot flush while its thread is blocked; without it, use runCompleted.
   */
  completeBeforeExit?(result: RunResultInfo): void;
}

const TEST_STATUSES = new Set<string>(['passed', 'failed', 'skipped', 'todo']);

/** Maximum size of one test.output event's text. */
const MAX_OUTPUT = 64 * 1024;

interface RunState {
  runId: string;
  startedAt: number;
  totalKnown: boolean;
  knownTotal: number;
  completed: number;
  counts: Record<TestStatus, number>;
  flaky: number;
  totalDuration: number;
  failedIds: Set<string>;
  /** Final (not willRetry) result counted per test id: a later attempt replaces it in the counts. */
  finals: Map<string, { status: TestStatus; attempt: number; flaky: boolean }>;
  running: Map<string, { ref: TestRef; attempt: number }>;
  /** Id of the test started last: what a progress sample names while it runs. */
  current: string | undefined;
  errors: TestError[];
  progress: ProgressState;
  coverage?: CoverageTotals;
}

/**
 * test.progress is a sample of the run's state, not a log of transitions: a fast suite changes state
 * thousands of times a second, and a consumer renders "test X running, 812/2000". Samples are throttled
 * per run (see `progressChanged`).
 */
interface ProgressState {
  /** When the last sample was sent (Date.now()); -Infinity before the first. */
  sentAt: number;
  /** State changed since the last sample. */
  pending: boolean;
  /** Trailing-edge timer (unref'd). */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A `running` sample naming a test has been sent in this run. */
  sentRunning: boolean;
}

/** What every event about one test carries; computed once per test (a SHA-1 and path work). */
interface TestIdentity {
  id: string;
  titlePath: string[];
  testName: string;
  suite: string;
  file: string;
  location: { file: string; line?: number; column?: number };
  line?: number;
  project?: string;
  repeatIndex?: number;
}

interface CachedTest {
  ref: {
    file: string;
    titlePath: readonly string[];
    project?: string;
    repeatIndex?: number;
    ordinal?: number;
  };
  identity: TestIdentity;
}

/** Tests whose identity is remembered; beyond this the cache starts over (memory stays bounded). */
const MAX_CACHED_TESTS = 100_000;

/**
 * Creates the core of a testwire reporter. Options are validated up front; a bad option is reported once on
 * stderr and replaced by its default — a reporter never fails a test run.
 */
export function createReporterCore(options: ReporterCoreOptions): ReporterCore {
  return createThreadedCore(options, (input) => new Core(input, { quiet: true })) ?? new Core(options);
}

/** Hooks for a Core that replays, on the hook thread's behalf, the calls made on another thread. */
export interface CoreInternals {
  /** Ids for new runs (the calling thread decides them, so its `runId` agrees). */
  nextRunId?: () => string;
  /** Called once the broadcaster is obtained. */
  onBroadcaster?: (broadcaster: BroadcasterLike) => void;
  /** Errors arrive already normalized (the calling thread holds the runner's error objects). */
  errorsNormalized?: boolean;
  /** Option problems were already reported. */
  quiet?: boolean;
  /**
   * A run lost events (see loss.ts): by default one line on this thread's stderr; a core on another thread
   * hands it to the runner's thread, which writes the line before the process can exit.
   */
  onLoss?: (loss: RunLoss) => void;
}

export type PerformanceSample = Omit<PerformanceMetricsData, 'framework' | 'project'>;

export class Core implements ReporterCore {
  readonly enabled: boolean;
  private readonly options: ResolvedOptions;
  /** Internal errors never reach the runner; with TESTWIRE_DEBUG each kind is printed once. */
  private readonly internalError: (where: string, error: unknown) => void;
  private readonly paths: PathRelativizer;
  private readonly project: string | undefined;
  private readonly rootName: string;
  private readonly delivery: Delivery;
  private readonly sampler: PerformanceSampler;
  /** Identity per test, by `testKey` (a test's id is needed for its start, output and result). */
  private readonly tests = new Map<string, CachedTest>();
  /** The same, by TestRef object: adapters that keep one ref per test skip building the key. */
  private readonly testsByRef = new WeakMap<TestRef, CachedTest>();
  /** Timestamp of the last event (a burst of events shares the millisecond, hence the string). */
  private lastStampMs = -1;
  private lastStamp = '';
  private currentRunId = createRunId();
  private run: RunState | undefined;
  /** 'idle' before the first run, 'running', or 'completed' (the next starting call opens a new run). */
  private phase: 'idle' | 'running' | 'completed' = 'idle';

  /** When replaying calls made on another thread: the time of the call being replayed. */
  private replayNow: number | undefined;

  constructor(
    input: ReporterCoreOptions,
    private readonly internals: CoreInternals = {},
  ) {
    const { options, problems } = resolveOptions(input);
    this.options = options;
    this.internalError = internalErrorReporter(options.debug);
    if (problems.length > 0 && !internals.quiet) {
      process.stderr.write(`testwire: invalid reporter options: ${problems.join('; ')}\n`);
    }
    this.enabled = options.enabled;
    this.paths = PathRelativizer.forRoot(options.rootDir);
    this.project = options.project ?? safe(() => findPackageName(options.rootDir));
    this.rootName = basename(options.rootDir);
    this.delivery = new Delivery(options.maxBufferedEvents, (where, error) =>
      this.internalError(where, error),
    );
    this.sampler = new PerformanceSampler(options.performanceIntervalMs, (sample) =>
      this.performanceSample(sample),
    );
    if (this.enabled && options.sink) this.delivery.useSink(options.sink);
    // Load the broadcaster and bind or join now, while the runner is still starting up (collecting
    // files, spawning workers): the connection is then ready when the first events come, and the final
    // flush of a short run does not wait for it.
    else if (this.enabled) this.connect();
  }

  get runId(): string {
    return this.currentRunId;
  }

  /** A sample of the runner process (from this core's sampler, or the thread that runs the hooks). */
  performanceSample(sample: PerformanceSample): void {
    if (!this.enabled) return;
    try {
      const run = this.run;
      const finished = run ? run.counts.passed + run.counts.failed : 0;
      this.emit('performance.metrics', {
        ...sample,
        tests: run
          ? {
              running: run.running.size,
              completed: run.completed,
              averageDuration: finished > 0 ? Math.round(run.totalDuration / finished) : 0,
            }
          : undefined,
      });
    } catch (error) {
      this.internalError('performance', error);
    }
  }

  /** Runs `body` (one replayed call) with the clock reading `at`: events carry the time of the call. */
  replayAt(at: number, body: () => void): void {
    this.replayNow = at;
    try {
      body();
    } finally {
      this.replayNow = undefined;
    }
  }

  private now(): number {
    return this.replayNow ?? Date.now();
  }

  private normalize(error: unknown): TestError {
    return this.internals.errorsNormalized ? (error as TestError) : normalizeError(error, this.paths);
  }

  get url(): string | undefined {
    return this.delivery.current?.url;
  }

  get flushTimeoutMs(): number {
    return this.options.flushTimeoutMs;
  }

  idFor(test: TestRef): string {
    try {
      return this.computeId(test);
    } catch (error) {
      this.internalError('idFor', error);
      return 't_0000000000000000';
    }
  }

  private computeId(test: TestRef): string {
    return this.identity(test).id;
  }

  /** The identity of a test (cached: the same test is seen at its start, output and result). */
  private identity(test: TestRef): TestIdentity {
    if (!test || typeof test.file !== 'string' || !Array.isArray(test.titlePath)) {
      throw new TypeError(`expected a TestRef {file: string, titlePath: string[]}, got ${typeof test}`);
    }
    const byRef = this.testsByRef.get(test);
    // sameTest: the ref may have been changed since (the cached copy of it has not).
    if (byRef && sameTest(byRef.ref, test)) return byRef.identity;
    const key = testKey(test);
    let cached = this.tests.get(key);
    if (!cached || !sameTest(cached.ref, test)) {
      const fresh: CachedTest = {
        ref: {
          file: test.file,
          titlePath: test.titlePath.slice(),
          project: test.project,
          repeatIndex: test.repeatIndex,
          ordinal: test.ordinal,
        },
        identity: this.buildIdentity(test),
      };
      // A key collision (a title containing the separator) is computed every time, never cached.
      if (cached) return fresh.identity;
      if (this.tests.size >= MAX_CACHED_TESTS) this.tests.clear();
      this.tests.set(key, fresh);
      // Remembered by object on first sight only: an adapter that builds a new ref per call (jest) would
      // otherwise fill the WeakMap with garbage.
      this.testsByRef.set(test, fresh);
      cached = fresh;
    }
    return cached.identity;
  }

  private buildIdentity(test: TestRef): TestIdentity {
    const file = this.paths.file(test.file);
    const titlePath = test.titlePath.map(String);
    const line = positiveInt(test.line);
    const column = positiveInt(test.column);
    const identity: TestIdentity = {
      id: stableTestId({
        framework: this.options.framework,
        project: this.project,
        runnerProject: test.project,
        file,
        titlePath: test.titlePath,
        repeatIndex: test.repeatIndex,
        ordinal: test.ordinal,
      }),
      titlePath,
      testName: titlePath[titlePath.length - 1] ?? '',
      suite: titlePath.slice(0, -1).join(' > '),
      file,
      location: { file, ...(line ? { line } : {}), ...(column ? { column } : {}) },
    };
    if (line) identity.line = line;
    if (test.project) identity.project = test.project;
    if (test.repeatIndex !== undefined) identity.repeatIndex = test.repeatIndex;
    return identity;
  }

  runStarted(info: RunStartInfo = {}): void {
    this.guard('runStarted', () => this.startRun(info));
  }

  testsDiscovered(count: number, options?: { final?: boolean }): void {
    this.guard('testsDiscovered', () => {
      const run = this.ensureRun(true);
      if (!run) return;
      const before = { total: run.knownTotal, known: run.totalKnown };
      if (Number.isFinite(count) && count > 0) run.knownTotal += Math.floor(count);
      if (options?.final) run.totalKnown = true;
      // Consumers render "completed / total": tell them when the total moved or became final.
      const shown = (total: number) => Math.max(total, seenTests(run));
      if (shown(run.knownTotal) !== shown(before.total) || run.totalKnown !== before.known)
        this.progressChanged(run);
    });
  }

  fileStarted(file: string): void {
    this.guard('fileStarted', () => {
      this.ensureRun(true);
      void file; // the file's tests announce themselves; nothing to send until then
    });
  }

  // testStarted and testResult run for every test: they use try/catch rather than `guard` (no closure per
  // call) and build each event's data in one object (no spreads); most runs never get them optimized,
  // so every allocation and copy shows.
  testStarted(test: TestRef, attempt = 1): void {
    if (!this.enabled) return;
    try {
      const run = this.ensureRun(true);
      if (!run) return;
      const id = this.identity(test).id;
      run.running.set(id, { ref: test, attempt });
      run.current = id;
      this.progressChanged(run, true);
    } catch (error) {
      this.internalError('testStarted', error);
    }
  }

  testResult(test: TestRef, outcome: TestOutcome): void {
    if (!this.enabled) return;
    try {
      const run = this.ensureRun(true);
      if (run) this.result(run, test, outcome);
    } catch (error) {
      this.internalError('testResult', error);
    }
  }

  private result(run: RunState, test: TestRef, outcome: TestOutcome): void {
    const identity = this.identity(test);
    const id = identity.id;
    run.running.delete(id);
    const attempt = positiveInt(outcome.attempt) ?? 1;
    const duration = nonNegative(outcome.duration);
    const timedOut = outcome.timedOut === true;
    // An adapter's table maps every runner status; anything else is a bug that must not pass as green.
    const status: TestStatus = timedOut || !TEST_STATUSES.has(outcome.status) ? 'failed' : outcome.status;
    const rawErrors = outcome.errors;
    const errors: TestError[] =
      rawErrors && rawErrors.length > 0 ? rawErrors.map((error) => this.normalize(error)) : [];
    if (timedOut) markTimeout(errors, duration);
    if (status === 'failed' && errors.length === 0) {
      errors.push({ message: `Test failed (${outcome.rawStatus || 'no error reported by the runner'})` });
    }
    const willRetry = status === 'failed' && outcome.willRetry === true;
    const flaky = status === 'passed' && (attempt > 1 || run.failedIds.has(id));
    if (status === 'failed') run.failedIds.add(id);

    if (!willRetry) {
      // A later attempt supersedes a result already counted as final (a runner that does not say
      // whether it will retry, like jest): count each test once, by its last attempt.
      const previous = run.finals.get(id);
      if (previous && previous.attempt < attempt) {
        run.completed--;
        run.counts[previous.status]--;
        if (previous.flaky) run.flaky--;
      }
      run.finals.set(id, { status, attempt, flaky });
      run.completed++;
      run.counts[status]++;
      if (flaky) run.flaky++;
      if (status === 'passed' || status === 'failed') run.totalDuration += duration;
    }

    const data = this.testData(identity);
    data.status = status;
    data.duration = duration;
    data.rawStatus = outcome.rawStatus;
    data.attempt = attempt;
    if (flaky) data.flaky = true;
    if (willRetry) data.willRetry = true;
    if (timedOut) data.timedOut = true;
    if (errors.length > 0) {
      data.error = errors[0];
      data.errors = errors;
    }
    if (typeof outcome.assertions === 'number') data.assertions = outcome.assertions;
    if (typeof outcome.startedAt === 'number') data.startedAt = outcome.startedAt;
    this.send('test.result', data);

    if (status === 'failed') {
      const failed = this.testData(identity);
      failed.status = 'failed';
      failed.duration = duration;
      failed.error = errors[0];
      if (errors.length > 1) failed.errors = errors;
      failed.scope = 'test';
      failed.attempt = attempt;
      if (timedOut) failed.timedOut = true;
      if (willRetry) failed.willRetry = true;
      this.send('test.failed', failed);
    }
    const threshold = this.options.slowTestThreshold;
    if (threshold > 0 && duration > threshold && status !== 'skipped' && status !== 'todo') {
      this.emit('performance.bottleneck', {
        type: 'slow_test',
        testName: identity.testName,
        duration,
        threshold,
        severity: duration > threshold * 3 ? 'high' : duration > threshold * 2 ? 'medium' : 'low',
        suggestions: [
          'Consider breaking down into smaller tests',
          'Mock slow external dependencies (network, disk, timers)',
          'Move expensive setup into beforeAll or shared fixtures',
        ],
        id,
        file: identity.file,
        // The test's own events carry the runner's project (testData): so does its bottleneck.
        ...(identity.project !== undefined ? { project: identity.project } : {}),
      });
    }
    this.progressChanged(run);
  }

  /** `data` of an event about one test: framework, project, then the test's identity. */
  private testData(identity: TestIdentity): Record<string, unknown> {
    const data: Record<string, unknown> = { framework: this.options.framework };
    if (this.project) data.project = this.project;
    data.id = identity.id;
    data.titlePath = identity.titlePath;
    data.testName = identity.testName;
    data.suite = identity.suite;
    data.file = identity.file;
    data.location = identity.location;
    if (identity.line !== undefined) data.line = identity.line;
    // The runner's project (playwright project, jest displayName) wins over the package's, as before.
    if (identity.project !== undefined) data.project = identity.project;
    if (identity.repeatIndex !== undefined) data.repeatIndex = identity.repeatIndex;
    return data;
  }

  output(test: TestRef | undefined, text: string, stream: 'stdout' | 'stderr', method?: string): void {
    this.guard('output', () => {
      if (!this.options.captureOutput) return;
      const run = this.ensureRun(false);
      if (!run) return;
      const clean = truncate(stripAnsi(String(text)), MAX_OUTPUT);
      if (clean.length === 0) return;
      const outputType = stream === 'stderr' ? 'stderr' : 'stdout';
      const base = { output: clean, outputType, stream: method || outputType } as const;
      if (test && test.titlePath.length > 0) {
        this.emit('test.output', { ...this.identity(test), ...base });
      } else if (test) {
        this.emit('test.output', { ...base, file: this.paths.file(test.file) });
      } else {
        this.emit('test.output', base);
      }
    });
  }

  fileFailed(file: string, error: unknown): void {
    this.guard('fileFailed', () => {
      const run = this.ensureRun(true);
      if (!run) return;
      const normalized = this.normalize(error);
      const relative = this.paths.file(file);
      run.errors.push(normalized);
      this.emit('test.failed', {
        testName: relative,
        suite: '',
        status: 'failed',
        duration: 0,
        error: normalized,
        file: relative,
        scope: 'file',
      });
    });
  }

  hookFailed(test: TestRef | undefined, error: unknown, hook?: string): void {
    this.guard('hookFailed', () => {
      const run = this.ensureRun(false);
      if (!run) return;
      const normalized = this.normalize(error);
      const name = hook ? `"${hook}" hook` : 'hook';
      if (test && test.titlePath.length > 0) {
        const identity = this.identity(test);
        this.emit('test.failed', {
          ...identity,
          testName: `${name} for "${identity.testName}"`,
          status: 'failed',
          duration: 0,
          error: normalized,
          scope: 'hook',
        });
      } else {
        run.errors.push(normalized);
        const file = test ? this.paths.file(test.file) : '';
        this.emit('test.failed', {
          testName: name,
          suite: '',
          status: 'failed',
          duration: 0,
          error: normalized,
          file,
          scope: 'hook',
        });
      }
    });
  }

  runError(error: unknown): void {
    this.guard('runError', () => {
      const run = this.ensureRun(false);
      if (!run) return;
      const normalized = this.normalize(error);
      run.errors.push(normalized);
      this.emit('test.failed', {
        testName: 'unhandled error',
        suite: '',
        status: 'failed',
        duration: 0,
        error: normalized,
        file: '',
        scope: 'run',
      });
    });
  }

  coverage(report: CoverageReport): void {
    this.guard('coverage', () => {
      const run = this.ensureRun(false);
      if (!run) return;
      const cleaned = cleanCoverageReport(report);
      const threshold = checkThresholds(cleaned, (file) => this.paths.file(file));
      if (threshold) this.emit('coverage.threshold', threshold);
      const completed = coverageCompleted(cleaned, threshold);
      run.coverage = completed.summary;
      this.emit('coverage.completed', completed);
    });
  }

  async runCompleted(result: RunResultInfo): Promise<void> {
    try {
      if (!this.enabled) return;
      // A second runCompleted for the same run must not invent an empty run: it only waits for delivery.
      const run = this.phase === 'completed' ? undefined : this.ensureRun(true);
      if (!run) {
        await this.delivery.flush(this.options.flushTimeoutMs);
        return;
      }
      // The bound runs from the call: a core replaying another thread's calls may be behind them.
      const deadline = this.now() + this.options.flushTimeoutMs;
      this.sampler.stop();
      // The last sample carries the final counts, before test.completed.
      if (run.progress.pending) this.sendProgress(run);
      this.stopProgress(run);
      for (const error of result?.errors ?? []) run.errors.push(this.normalize(error));
      const total = run.counts.passed + run.counts.failed + run.counts.skipped + run.counts.todo;
      this.emit('test.completed', {
        summary: {
          total,
          passed: run.counts.passed,
          failed: run.counts.failed,
          skipped: run.counts.skipped,
          todo: run.counts.todo,
          flaky: run.flaky,
          duration: this.now() - run.startedAt,
          success: result?.success === true,
        },
        ...(run.coverage ? { coverage: run.coverage } : {}),
        ...(result?.rawStatus ? { rawStatus: result.rawStatus } : {}),
        ...(run.errors.length > 0 ? { errors: run.errors.slice(0, 50) } : {}),
        ...(result?.interrupted ? { interrupted: true } : {}),
      });
      this.phase = 'completed';
      this.run = undefined;
      // The broadcaster stays open: a watch-mode rerun reuses it, and it never keeps the process alive.
      await this.deliverRun(run.runId, deadline);
    } catch (error) {
      this.internalError('runCompleted', error);
    }
  }

  /**
   * The run's final flush, bounded by `deadline`. What the run lost on the way — dropped by a bounded queue,
   * or not confirmed by the endpoint at the bound — is said once on stderr and in a `system.error` (outside
   * the run, so test.completed stays its last event), which goes out behind the events it names.
   */
  private async deliverRun(runId: string, deadline: number): Promise<void> {
    const flushStarted = Date.now();
    const report = await this.delivery.flush(Math.max(0, deadline - flushStarted));
    this.debug(
      `run ${runId}: final flush ${report.delivered ? 'done' : 'incomplete'} in ${Date.now() - flushStarted} ms`,
    );
    const loss = runLoss(report, runId, this.url ?? this.options.url, this.options.flushTimeoutMs);
    if (!loss) return;
    if (this.internals.onLoss) this.internals.onLoss(loss);
    else process.stderr.write(lossLine(loss));
    this.emit('system.error', lossEventData(loss), '');
    // Only drops to tell: the connection works, so the notice can still go out within the bound.
    if (report.delivered) await this.delivery.flush(Math.max(0, deadline - Date.now()));
  }

  // -------------------------------------------------------------------------------------------------------

  private startRun(info: RunStartInfo): RunState | undefined {
    if (!this.enabled) return undefined;
    if (this.run) this.stopProgress(this.run);
    if (this.phase !== 'idle') this.sampler.stop();
    // Replaying another thread's calls, that thread decided the run's id; otherwise a new run gets a new one.
    if (this.internals.nextRunId) this.currentRunId = this.internals.nextRunId();
    else if (this.phase !== 'idle') this.currentRunId = createRunId();
    const startedAt = this.now();
    const totalKnown = typeof info.totalTests === 'number' && Number.isFinite(info.totalTests);
    const run: RunState = {
      runId: this.currentRunId,
      startedAt,
      totalKnown,
      knownTotal: totalKnown ? Math.max(0, Math.floor(info.totalTests as number)) : 0,
      completed: 0,
      counts: { passed: 0, failed: 0, skipped: 0, todo: 0 },
      flaky: 0,
      totalDuration: 0,
      failedIds: new Set(),
      finals: new Map(),
      running: new Map(),
      current: undefined,
      errors: [],
      progress: { sentAt: Number.NEGATIVE_INFINITY, pending: false, timer: undefined, sentRunning: false },
    };
    this.run = run;
    this.phase = 'running';
    this.connect();

    const runInfo: RunInfo = {
      runId: run.runId,
      framework: this.options.framework,
      startedAt,
      rootName: this.rootName,
      pid: process.pid,
    };
    if (this.options.frameworkVersion) runInfo.frameworkVersion = this.options.frameworkVersion;
    if (this.project) runInfo.project = this.project;
    if (info.shard) runInfo.shard = info.shard;
    if (info.watch !== undefined) runInfo.watch = info.watch;
    const ci = detectCi();
    if (ci) runInfo.ci = ci;

    this.emit('test.started', {
      totalTests: run.knownTotal,
      testFiles: (info.testFiles ?? []).map((file) => this.paths.file(file)),
      ...(info.options ? { options: toPlainOptions(info.options) } : {}),
      totalKnown,
      run: runInfo,
    });
    this.sampler.start();
    return run;
  }

  /**
   * The current run; opens one when none is active. After a completed run only `starting` calls open a new
   * run (watch mode); stray late calls (output after the end) are dropped rather than inventing a run.
   */
  private ensureRun(starting: boolean): RunState | undefined {
    if (!this.enabled) return undefined;
    if (this.run) return this.run;
    if (this.phase === 'completed' && !starting) return undefined;
    return this.startRun({});
  }

  private connect(): void {
    if (this.options.sink) return;
    const { port, host, url, apiKey } = this.options;
    const connectOptions: ConnectOptions = {};
    if (port !== undefined) connectOptions.port = port;
    if (host !== undefined) connectOptions.host = host;
    if (url !== undefined) connectOptions.url = url;
    if (apiKey !== undefined) connectOptions.apiKey = apiKey;
    // async: a module that cannot be loaded becomes a rejection (events dropped, run unaffected).
    this.delivery.connect(async () => {
      const broadcaster = await loadBroadcaster().getBroadcaster(connectOptions);
      this.internals.onBroadcaster?.(broadcaster);
      return broadcaster;
    });
  }

  /**
   * The run's state changed (a test started or ended, the total moved). Sends a progress sample at once
   * when none went out in the last `progressIntervalMs` (leading edge) or when this is the run's first test
   * start; otherwise one sample goes out when the interval is over (trailing edge), with the state as it
   * is then. runCompleted sends a pending sample before test.completed, so the last one is final.
   */
  private progressChanged(run: RunState, started = false): void {
    const interval = this.options.progressIntervalMs;
    const progress = run.progress;
    const now = this.now();
    if (interval <= 0 || now - progress.sentAt >= interval || (started && !progress.sentRunning)) {
      this.sendProgress(run, now);
      return;
    }
    progress.pending = true;
    if (progress.timer) return;
    progress.timer = setTimeout(
      () => {
        progress.timer = undefined;
        this.guard('progress', () => {
          if (progress.pending && this.run === run) this.sendProgress(run);
        });
      },
      Math.max(1, interval - (now - progress.sentAt)),
    );
    progress.timer.unref?.();
  }

  private stopProgress(run: RunState): void {
    const progress = run.progress;
    if (progress.timer) clearTimeout(progress.timer);
    progress.timer = undefined;
    progress.pending = false;
  }

  /** Sends a progress sample now: naming the test started last if it still runs, else any running one. */
  private sendProgress(run: RunState, now = this.now()): void {
    const progress = run.progress;
    progress.pending = false;
    progress.sentAt = now;
    let current = run.current !== undefined ? run.running.get(run.current) : undefined;
    if (!current) {
      const first = run.running.values().next();
      current = first.done ? undefined : first.value;
    }
    const total = Math.max(run.knownTotal, seenTests(run));
    const data: Record<string, unknown> = {
      framework: this.options.framework,
      ...(this.project ? { project: this.project } : {}),
      status: current ? 'running' : 'idle',
      // Below 1 while the total may still grow (vitest finds files as it goes): never "done" before it is.
      progress: total > 0 ? Math.min(run.totalKnown ? 1 : 0.99, run.completed / total) : 0,
      completed: run.completed,
      total,
      duration: now - run.startedAt,
      passed: run.counts.passed,
      failed: run.counts.failed,
      skipped: run.counts.skipped,
      todo: run.counts.todo,
      totalKnown: run.totalKnown,
    };
    if (current) {
      progress.sentRunning = true;
      const identity = this.identity(current.ref);
      data.id = identity.id;
      data.titlePath = identity.titlePath;
      data.location = identity.location;
      data.testName = identity.testName;
      data.suite = identity.suite;
      data.file = identity.file;
      if (identity.project) data.project = identity.project;
    }
    this.send('test.progress', data);
  }

  /** Adds framework/project to `data` (every event carries them, so {project} filters work) and queues it. */
  private emit<T extends EventType>(
    type: T,
    data: Omit<EventDataMap[T], 'framework'> & { framework?: string },
    runId = this.currentRunId,
  ): void {
    const payload = {
      framework: this.options.framework,
      ...(this.project ? { project: this.project } : {}),
      ...data,
    };
    this.send(type, payload, runId);
  }

  /** Queues an event whose `data` is complete (framework and project included). */
  private send(type: EventType, data: object, runId = this.currentRunId): void {
    const now = this.now();
    if (now !== this.lastStampMs) {
      this.lastStampMs = now;
      this.lastStamp = new Date(now).toISOString();
    }
    this.delivery.push({
      type,
      runId,
      timestamp: this.lastStamp,
      data,
    } as unknown as PublishedEvent);
  }

  private guard(where: string, body: () => void): void {
    if (!this.enabled) return;
    try {
      body();
    } catch (error) {
      this.internalError(where, error);
    }
  }

  private debug(message: string): void {
    if (this.options.debug) process.stderr.write(`testwire: ${message}\n`);
  }
}

function markTimeout(errors: TestError[], duration: number): void {
  if (errors.length === 0) {
    errors.push({ message: `Test timed out after ${Math.round(duration)} ms`, type: 'TimeoutError' });
    return;
  }
  if (!/time(?:d)?[\s-]?out/i.test(errors[0].message)) {
    errors[0] = { ...errors[0], message: `Test timed out: ${errors[0].message}` };
  }
}

/**
 * Tests seen so far: finished plus running, where a retry of a test whose failed attempt already counts
 * as finished (jest does not say it will retry) is not counted twice.
 */
function seenTests(run: RunState): number {
  let running = 0;
  for (const id of run.running.keys()) if (!run.finals.has(id)) running++;
  return run.completed + running;
}

/** Cache key of a test: everything its identity depends on (checked against the entry by `sameTest`). */
function testKey(test: TestRef): string {
  return `${test.file}\u0000${test.project ?? ''}\u0000${test.repeatIndex ?? ''}\u0000${test.ordinal ?? 0}\u0000${test.line ?? ''}:${test.column ?? ''}\u0000${test.titlePath.join('\u0000')}`;
}

/** Guards the joined key against titles that contain the separator. */
function sameTest(cached: CachedTest['ref'], test: TestRef): boolean {
  if (
    cached.file !== test.file ||
    cached.project !== test.project ||
    cached.repeatIndex !== test.repeatIndex ||
    (cached.ordinal ?? 0) !== (test.ordinal ?? 0)
  )
    return false;
  const path = test.titlePath;
  if (cached.titlePath.length !== path.length) return false;
  for (let i = 0; i < path.length; i++) if (cached.titlePath[i] !== path[i]) return false;
  return true;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Options as JSON primitives only (runner configs hold functions, regexps, class instances). */
export function toPlainOptions(options: object): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) result[key] = value;
    else if (
      Array.isArray(value) &&
      value.every((item) => ['string', 'number', 'boolean'].includes(typeof item))
    ) {
      result[key] = value.slice(0, 100);
    }
  }
  return result;
}

function safe<T>(body: () => T): T | undefined {
  try {
    return body();
  } catch {
    return undefined;
  }
}
