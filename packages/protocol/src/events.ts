/**
 * The event catalog of the testwire wire protocol.
 *
 * Field names of reference 000 (the user's event contract) are kept as they are; everything marked
 * "testwire addition" is ours. Fields are only ever added, never renamed or dropped.
 *
 * Conventions on the wire: JSON primitives only, times as ISO strings or epoch milliseconds, durations in
 * milliseconds, memory in MB (as in the reference), file paths relative to the run's root with `/`.
 */

export type Framework = 'jest' | 'vitest' | 'playwright' | 'mocha' | (string & {});

/** Normalized test status. The runner's own status is kept in `rawStatus`. */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'todo';

/** Fields every event published by a testwire reporter carries, so filters like `{project}` work on all. */
export interface CommonData {
  framework?: Framework;
  /** testwire addition: package.json name or the runner's project name. */
  project?: string;
}

/** testwire addition: where a test is declared. `file` is relative to the run's root. */
export interface TestLocation {
  file: string;
  line?: number;
  column?: number;
}

/** Identity of one test, present on every per-test event (testwire addition). */
export interface TestIdentity {
  /** Stable id: same framework, project, file, title path and repeat index -> same id, across runs. */
  id: string;
  /** Describe blocks then the test title; the last element is the test's own title. */
  titlePath: string[];
  location?: TestLocation;
}

export interface TestError {
  message: string;
  /**
   * Stack frames with paths relative to the run's root. From testwire reporters: the frames only (the
   * message is not repeated), trimmed to the user's frames — those in node_modules, `node:` internals and
   * the runners' own packages are dropped, so the first frame is usually the test file. All frames are
   * kept when none is the user's.
   */
  stack?: string;
  /** testwire addition: every frame of the stack, when `stack` dropped some. */
  fullStack?: string;
  /** Error class name, e.g. `AssertionError`, `TimeoutError`. */
  type?: string;
  /** testwire addition: present when the runner reports them (already serialized to strings). */
  expected?: string;
  actual?: string;
  /** testwire addition: the runner's diff of expected and actual, when it reports one apart from the message. */
  diff?: string;
  /**
   * testwire addition: one line saying what failed — `expected 11, received 12`, `36 !== 35`,
   * `expected 120 to be 108`. Consumers of older producers compute it with `failureSummary()`.
   */
  summary?: string;
  /** testwire addition: a runner-specific code such as `ERR_TIMEOUT`. */
  code?: string;
}

/** testwire addition: what is known about the run, sent with test.started. */
export interface RunInfo {
  runId: string;
  framework: Framework;
  frameworkVersion?: string;
  project?: string;
  /** Base name of the root directory (absolute paths never go on the wire). */
  rootName?: string;
  shard?: { current: number; total: number };
  pid?: number;
  /** Epoch ms. */
  startedAt: number;
  watch?: boolean;
  ci?: { provider?: string; branch?: string; commit?: string; buildUrl?: string };
}

// ---------------------------------------------------------------------------------------------------------
// test.*

export interface TestStartedData extends CommonData {
  framework: Framework;
  /** Total tests known at start; 0 when the runner does not know it up front (see `totalKnown`). */
  totalTests: number;
  testFiles: string[];
  options?: Record<string, unknown>;
  /** testwire addition */
  totalKnown?: boolean;
  run?: RunInfo;
}

export interface TestProgressData extends CommonData, Partial<TestIdentity> {
  framework: Framework;
  testName?: string;
  suite?: string;
  /** `running` while a test runs; `idle` between tests. */
  status: 'running' | 'idle' | (string & {});
  /** completed / total, 0..1 */
  progress: number;
  completed: number;
  total: number;
  /** Milliseconds since the run started. */
  duration: number;
  /** testwire additions */
  passed?: number;
  failed?: number;
  skipped?: number;
  todo?: number;
  /** false when `total` is what is known so far, not the final count. */
  totalKnown?: boolean;
  file?: string;
}

export interface TestResultData extends CommonData, TestIdentity {
  framework: Framework;
  testName: string;
  suite: string;
  status: TestStatus;
  duration: number;
  file: string;
  line?: number;
  assertions?: number;
  /** testwire additions */
  column?: number;
  rawStatus?: string;
  /** 1-based attempt number; one test.result per attempt. */
  attempt: number;
  /** True on the final, passing attempt of a test that failed before. */
  flaky?: boolean;
  /** True when this attempt will be retried. */
  willRetry?: boolean;
  timedOut?: boolean;
  error?: TestError;
  errors?: TestError[];
  repeatIndex?: number;
  /** Epoch ms */
  startedAt?: number;
}

export interface TestFailedData extends CommonData, Partial<TestIdentity> {
  framework: Framework;
  testName: string;
  suite: string;
  status: 'failed';
  duration: number;
  error: TestError;
  file: string;
  line?: number;
  /** testwire additions */
  /** What failed: a test, a hook, a whole file that could not run, or the run (unhandled error). */
  scope?: 'test' | 'hook' | 'file' | 'run';
  attempt?: number;
  errors?: TestError[];
  timedOut?: boolean;
  willRetry?: boolean;
}

export interface TestOutputData extends CommonData, Partial<TestIdentity> {
  framework?: Framework;
  testName?: string;
  suite?: string;
  output: string;
  outputType: 'stdout' | 'stderr';
  /** console method or raw stream: log, info, warn, error, debug, stdout, stderr */
  stream: string;
  /** testwire addition */
  file?: string;
}

export interface TestSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  duration: number;
  success: boolean;
  /** testwire additions */
  todo?: number;
  flaky?: number;
}

/** Percentages (0–100, 2 decimals). */
export interface CoverageTotals {
  /** testwire: the mean of the four metrics. */
  total?: number;
  statements: number;
  branches: number;
  functions: number;
  lines: number;
}

export interface TestCompletedData extends CommonData {
  framework: Framework;
  summary: TestSummary;
  coverage?: CoverageTotals;
  /** testwire additions */
  /** Runner's own final status (e.g. playwright `passed | failed | timedout | interrupted`). */
  rawStatus?: string;
  /** Errors outside any test (unhandled rejections, config errors). */
  errors?: TestError[];
  interrupted?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// performance.*

export interface PerformanceMetricsData extends CommonData {
  memory: { heapUsed: number; heapTotal: number; external: number; rss: number };
  cpu: { usage: number; load: number[] };
  uptime: number;
  gc?: { recentEvents: number; totalTime: number; lastEventTime?: string };
  tests?: { running: number; completed: number; averageDuration: number };
}

export interface PerformanceBottleneckData extends CommonData {
  type: 'slow_test' | (string & {});
  testName: string;
  duration: number;
  threshold: number;
  severity: 'low' | 'medium' | 'high' | (string & {});
  suggestions: string[];
  memoryDelta?: { heapUsed: number; external: number };
  /** testwire addition */
  id?: string;
  file?: string;
}

export interface PerformanceLeakData extends CommonData {
  type: 'memory_leak' | (string & {});
  testName: string;
  leakType: string;
  size: number;
  location?: string;
  stackTrace?: string[];
  suggestions?: string[];
}

// ---------------------------------------------------------------------------------------------------------
// coverage.*

export interface CoverageStartedData extends CommonData {
  framework: Framework;
  provider: string;
  totalFiles: number;
  patterns: string[];
}

export interface CoverageProgressData extends CommonData {
  filesProcessed: number;
  totalFiles: number;
  currentFile?: string;
  percentage: number;
  coverage: CoverageTotals;
}

export interface CoverageCompletedData extends CommonData {
  framework: Framework;
  provider: string;
  summary: CoverageTotals;
  thresholdsMet: boolean;
  files: number;
  reports: string[];
}

/**
 * A positive threshold is the least percentage (`actual` is a percentage), a negative one the most uncovered
 * items (`actual` is the uncovered count), as jest and vitest define them.
 */
export interface CoverageThresholdData extends CommonData {
  passed: boolean;
  thresholds: Partial<Record<'statements' | 'branches' | 'functions' | 'lines', number>>;
  actual: Partial<Record<'statements' | 'branches' | 'functions' | 'lines', number>>;
  failures: {
    metric: string;
    threshold: number;
    actual: number;
    deficit: number;
    /** testwire addition: the file that failed, when the thresholds apply to each file. */
    file?: string;
    /** testwire addition: the glob whose own thresholds failed (vitest's glob-keyed thresholds). */
    glob?: string;
  }[];
  /** testwire addition: the thresholds were checked per file (vitest `perFile`). */
  perFile?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// framework.*

export interface FrameworkInfo {
  name: Framework;
  version?: string;
  configPath?: string;
  testPatterns?: string[];
}

export interface FrameworkDetectedData extends CommonData {
  frameworks: FrameworkInfo[];
  active?: Framework;
}

export interface FrameworkSwitchedData {
  project?: string;
  from: Framework;
  to: Framework;
  reason: string;
  success: boolean;
  framework: FrameworkInfo;
}

export interface FrameworkErrorData extends CommonData {
  framework: Framework;
  error: { message: string; code?: string; details?: Record<string, unknown>; stack?: string };
  severity: 'error' | 'warning' | (string & {});
}

// ---------------------------------------------------------------------------------------------------------
// baseline.*

export interface BaselineSavedData extends CommonData {
  label: string;
  framework: Framework;
  path: string;
  size: number;
  tests: number;
  coverage?: number;
}

export interface BaselineComparedData extends CommonData {
  baseline: string;
  comparison: {
    testsAdded: number;
    testsRemoved: number;
    testsChanged: number;
    performanceRegression: boolean;
    coverageImproved: boolean;
    summary: { regression: boolean; improvement: boolean; score: number };
  };
  regressions: { test: string; change: number; percentage: number }[];
}

// ---------------------------------------------------------------------------------------------------------
// system.*

export interface SystemHealthData {
  status: 'healthy' | 'degraded' | 'unhealthy' | (string & {});
  uptime: number;
  version: string;
  components: { name: string; status: string; message?: string; lastCheck: string }[];
  metrics: {
    memory: { total: number; used: number; percentage: number };
    cpu: { cores: number; usage: number; load: number[] };
  };
}

export interface SystemErrorData {
  component: string;
  error: { message: string; code: string; severity: 'warning' | 'error' | (string & {}) };
  impact?: string;
  recovery?: string;
  /** testwire addition, for code SUBSCRIBER_LAGGING: the seq range this subscriber did not receive. */
  gap?: { fromSeq: number; toSeq: number };
  /** testwire addition: the epoch the gap refers to (resume with `{epoch, since: fromSeq - 1}`). */
  epoch?: string;
  /** testwire addition, from a reporter: its runner and project. */
  framework?: string;
  project?: string;
  /**
   * testwire addition, codes EVENTS_DROPPED and FLUSH_TIMEOUT (a reporter's delivery of a run): the run that
   * lost events. The event itself is outside any run (envelope `runId` ''), so that `test.completed` stays
   * the last event of the run.
   */
  runId?: string;
  /** testwire addition: events of that run dropped on the way (a bounded queue was full, refused), by type. */
  dropped?: Record<string, number>;
  /**
   * testwire addition, code FLUSH_TIMEOUT: events of that run the endpoint had not confirmed when the final
   * flush reached its bound, by type. They are lost if the runner's process exits before they are sent.
   */
  unconfirmed?: Record<string, number>;
}

/** Every event type and the shape of its `data`. */
export interface EventDataMap {
  'test.started': TestStartedData;
  'test.progress': TestProgressData;
  'test.result': TestResultData;
  'test.failed': TestFailedData;
  'test.output': TestOutputData;
  'test.completed': TestCompletedData;
  'performance.metrics': PerformanceMetricsData;
  'performance.bottleneck': PerformanceBottleneckData;
  'performance.leak': PerformanceLeakData;
  'coverage.started': CoverageStartedData;
  'coverage.progress': CoverageProgressData;
  'coverage.completed': CoverageCompletedData;
  'coverage.threshold': CoverageThresholdData;
  'framework.detected': FrameworkDetectedData;
  'framework.switched': FrameworkSwitchedData;
  'framework.error': FrameworkErrorData;
  'baseline.saved': BaselineSavedData;
  'baseline.compared': BaselineComparedData;
  'system.health': SystemHealthData;
  'system.error': SystemErrorData;
}

export type EventType = keyof EventDataMap;

/** Typed as a Record so adding an event type without listing it here fails to compile. */
const EVENT_TYPE_TABLE: Record<EventType, true> = {
  'test.started': true,
  'test.progress': true,
  'test.result': true,
  'test.failed': true,
  'test.output': true,
  'test.completed': true,
  'performance.metrics': true,
  'performance.bottleneck': true,
  'performance.leak': true,
  'coverage.started': true,
  'coverage.progress': true,
  'coverage.completed': true,
  'coverage.threshold': true,
  'framework.detected': true,
  'framework.switched': true,
  'framework.error': true,
  'baseline.saved': true,
  'baseline.compared': true,
  'system.health': true,
  'system.error': true,
};

export const EVENT_TYPES: readonly EventType[] = Object.keys(EVENT_TYPE_TABLE) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(EVENT_TYPE_TABLE, value);
}
