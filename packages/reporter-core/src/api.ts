/**
 * What crosses the adapter/core boundary: the calls an adapter makes (ReporterCore) and the shapes it passes.
 * Adapters build these from their runner's objects; the core never sees a runner object.
 */
import type { BenchmarkStats, PerformanceMetricsData, TestStatus } from '@testwire/protocol';
import type { CoverageReport } from './coverage.js';

/**
 * A test as an adapter names it. Reuse one object per test from hook to hook, and never change one that was
 * passed to the core: the core may hold it (a ref that changes, e.g. a location learnt later, is a new object).
 */
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
  /** The test's declaration: a line (and column) of `file`, or of `declaredIn` when that is set. */
  line?: number;
  column?: number;
  /**
   * The file the test is declared in, when that is not `file`: a Playwright test declared in a helper module
   * that spec files call (one test per spec file, so `file` is the spec's). Its `location` names this file,
   * with `line` and `column`; the id does not depend on it. Absolute, file:// URL or root-relative, as `file`.
   */
  declaredIn?: string;
}

/** How one attempt of a test ended, already mapped by the adapter's status table. */
export interface TestOutcome {
  status: TestStatus;
  rawStatus: string;
  /** Milliseconds. */
  duration: number;
  /** 1-based, default 1. */
  attempt?: number;
  /**
   * The runner will run this test again: this attempt failed, or did not run because its group's did (a
   * Playwright serial group runs again whole). Honoured on failed and skipped attempts only.
   */
  willRetry?: boolean;
  /**
   * The runner's own verdict on a passing attempt (Playwright's `outcome()`: a serial group's retry runs its
   * passing tests again, which are not flaky). Absent: the core decides — a pass after a failed attempt, or
   * any passing attempt after the first.
   */
  flaky?: boolean;
  timedOut?: boolean;
  /**
   * Raw runner errors; the core normalizes them. An error may carry `step` (string[]: the titles of the step
   * it was thrown in, outermost first), which the normalized error keeps.
   */
  errors?: unknown[];
  assertions?: number;
  /** Epoch ms. */
  startedAt?: number;
  /** The worker that ran the attempt, as the runner names it (Playwright: its parallel index). */
  worker?: string;
  /** Files the attempt attached (absolute paths; the core sends them relative to the root, never the bytes). */
  attachments?: AttachmentInfo[];
  /** The test's annotations (Vitest `annotate`), file absolute or relative to the root. */
  annotations?: { type: string; message: string; file?: string; line?: number; column?: number }[];
  /** A benchmark's statistics (`vitest bench`), sent as they are: plain numbers. */
  benchmark?: BenchmarkStats;
}

/** A file a test attached (a screenshot, a trace), as the adapter found it. */
export interface AttachmentInfo {
  name: string;
  contentType: string;
  /** Where the file is (absolute, or relative to the root); none for an in-memory body. */
  path?: string;
  /** Bytes of an in-memory body (the body itself is never sent). */
  size?: number;
}

/** One step of a test attempt, when it ends. */
export interface StepInfo {
  title: string;
  /** The runner's category (`test.step`, `expect`, `hook`, `fixture`…). */
  category: string;
  /** Titles of the enclosing steps, outermost first. */
  parents: string[];
  /** Epoch ms. */
  startedAt?: number;
  duration: number;
  /** 1-based. */
  attempt: number;
  error?: unknown;
  file?: string;
  line?: number;
  column?: number;
}

export interface RunStartInfo {
  /** Tests known at start; leave undefined when the runner does not know (total grows as tests are seen). */
  totalTests?: number;
  testFiles?: string[];
  options?: object;
  watch?: boolean;
  shard?: { current: number; total: number };
  /** The active runner's test patterns as configured (framework.detected's `testPatterns` of `active`). */
  testPatterns?: string[];
  /** The active runner's config file (absolute or root-relative), when the runner tells it. */
  configPath?: string;
}

/** What an adapter knows of an error outside the tests (framework.error); the core classifies the rest. */
export interface FrameworkErrorInfo {
  /** A stable code (framework-errors.ts FRAMEWORK_ERROR_CODES); classified from the error when left out. */
  code?: string;
  severity?: 'error' | 'warning';
  /** What a user can do about it; the code's default when left out. */
  suggestion?: string;
  /** The file it concerns. */
  file?: string;
  /**
   * What failed, as the runner names it (`globalSetup`, `webServer`): a run error's test.failed `testName`
   * (`unhandled error` when left out).
   */
  title?: string;
  /** Plain data only (strings, numbers, booleans, arrays of them). */
  details?: Record<string, unknown>;
}

/** A run with coverage begins (coverage.started). */
export interface CoverageStartInfo {
  /** `babel`, `v8`, `istanbul`, `nyc`, `c8`, … */
  provider: string;
  /** Source files coverage is collected from, when known up front. */
  totalFiles?: number;
  /** The include/exclude globs (`!` for excludes), as the runner has them. */
  patterns?: string[];
}

/** Heap used after one test file, in the worker or process that ran it (performance.leak's evidence). */
export interface HeapSample {
  /** The test file that just finished. */
  file: string;
  /** Bytes of heap used after the file (after a forced GC when `gcForced`). */
  heapUsed: number;
  /** The worker or process the file ran in; files of different workers are separate series. */
  worker?: string;
  gcForced?: boolean;
}

/**
 * A leak the runner itself found and names, one per leaked resource (jest --detectOpenHandles: a handle still
 * open after the run) -> performance.leak as given, unlike heapSample's growth, which the core judges.
 */
export interface LeakInfo {
  /** The class of leak: `open_handle` for a handle that keeps the process alive. */
  type: string;
  /** What leaked, as the runner names it (jest: the async resource's type, e.g. `TCPSERVERWRAP`, `Timeout`). */
  leakType: string;
  /** The test file (or test) the runner attributes it to, as it prints it. */
  testName: string;
  /** Where it was made: `file:line:column` of the first frame in the user's code. */
  location?: string;
  /** The frames that made it, trimmed as the runner prints them. */
  stackTrace?: string[];
  /** MB kept; 0 when the runner measures none (an open handle is counted, not weighed). */
  size?: number;
  suggestions?: string[];
  /** The file the leak is attributed to (absolute or root-relative: sent root-relative). */
  file?: string;
}

export interface RunResultInfo {
  /** The run's outcome as the runner decides it (must agree with its exit code). */
  success: boolean;
  rawStatus?: string;
  interrupted?: boolean;
  /**
   * With `interrupted`: why the runner stopped early when it was not a signal (e.g. `bail`: Vitest's
   * `--bail`); test.completed's `interruptedBy`. A signal the reporter saw names itself.
   */
  interruptedBy?: string;
  /**
   * The run's duration as the runner measures it, ms (e.g. Playwright's `FullResult.duration`, which starts
   * before its first hook): the summary's `duration`. Without it, the time from the run's start to its end.
   */
  duration?: number;
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
   * How long an adapter that holds its runner for the final flush holds it at most, in ms: the flush bound
   * (option flushTimeoutMs, env TESTWIRE_FLUSH_TIMEOUT, default 10 000) plus the margin that lets the layers
   * below answer first (`FLUSH_MARGIN_MS` in @testwire/broadcaster/budget).
   */
  readonly holdBoundMs: number;
  /**
   * Whether console output is streamed (option captureOutput, else env TESTWIRE_CAPTURE_OUTPUT; false when
   * disabled): an adapter that taps the console itself taps nothing when it is off.
   */
  readonly captureOutput: boolean;
  /** Stable id of a test. */
  idFor(test: TestRef): string;
  /** A run begins -> test.started. Calling it after runCompleted starts a new run (watch mode). */
  runStarted(info?: RunStartInfo): void;
  /**
   * The runner learnt of `count` more tests; `final` once the total is complete. `total`: the run's whole
   * count instead, which may be lower than what was declared (a bail left tests out: mocha counts only what
   * ran); never shown below the tests already seen.
   */
  testsDiscovered(count: number, options?: { final?: boolean; total?: number }): void;
  fileStarted(file: string): void;
  /**
   * A test (attempt) starts -> test.progress (status running). `timeoutMs`: the test's own timeout when the
   * runner tells it (hung-test detection uses it instead of the hungTestThreshold option; 0 = none).
   */
  testStarted(test: TestRef, attempt?: number, timeoutMs?: number): void;
  /** Whether steps of this category are streamed (options steps/stepCategories): ask before building one. */
  wantsStep(category: string): boolean;
  /** A step of a test attempt ended -> test.step. */
  testStep(test: TestRef, step: StepInfo): void;
  /** An attempt ended -> test.result (+ test.failed, + performance.bottleneck) + test.progress. */
  testResult(test: TestRef, outcome: TestOutcome): void;
  /** Console output -> test.output, attributed to `test` when given (file-level with an empty titlePath). */
  output(test: TestRef | undefined, text: string, stream: 'stdout' | 'stderr', method?: string): void;
  /**
   * A file that could not run, or an error outside its tests -> test.failed scope 'file' and framework.error.
   * `info`: the framework.error's code and suggestion, when the adapter knows better than the classification
   * from the error's text (which takes a file's error for a failure to load it: COLLECTION_ERROR).
   */
  fileFailed(file: string, error: unknown, info?: FrameworkErrorInfo): void;
  /** A hook failed -> test.failed scope 'hook'. */
  hookFailed(test: TestRef | undefined, error: unknown, hook?: string): void;
  /**
   * An error outside any test -> test.failed scope 'run' and framework.error. `info`: the code and suggestion
   * when the adapter knows better than the classification from the error's text (a runner that says the
   * error was an unhandled rejection: UNHANDLED_REJECTION).
   */
  runError(error: unknown, info?: FrameworkErrorInfo): void;
  /**
   * The run's coverage (before runCompleted) -> coverage.threshold when thresholds are set, coverage.completed,
   * and the `coverage` of test.completed.
   */
  coverage(report: CoverageReport): void;
  /**
   * An error outside the tests that fileFailed/runError/hookFailed do not carry (a process timeout, a
   * worker that crashed, a runner's config warning) -> framework.error. fileFailed, runError and hookFailed
   * outside a test emit framework.error themselves: do not call both for one error.
   */
  frameworkError(error: unknown, info?: FrameworkErrorInfo): void;
  /** Coverage collection of this run begins -> coverage.started. */
  coverageStarted(info: CoverageStartInfo): void;
  /**
   * The coverage one test file produced, as istanbul file-coverage data by path (jest's
   * `testResult.coverage`) -> coverage.progress over every file's coverage so far. Summarized on the core's
   * thread.
   */
  coverageProgress(testFile: string, coverage: unknown, totalTestFiles?: number): void;
  /** Heap after a file -> performance.leak when the heap keeps growing across files (leak.ts). */
  heapSample(sample: HeapSample): void;
  /** A leak the runner found (an open handle after the run) -> performance.leak; before runCompleted. */
  leak(info: LeakInfo): void;
  /**
   * The adapter's own internal error (a bug in reading the runner's objects): the adapter catches it, never
   * throws it into the runner, and hands it here, where it is said once per `where` on stderr with
   * TESTWIRE_DEBUG and dropped otherwise.
   */
  adapterError(where: string, error: unknown): void;
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

/** A sample of the runner process (heap, CPU), taken on the thread that runs the hooks. */
export type PerformanceSample = Omit<PerformanceMetricsData, 'framework' | 'project'>;
