/**
 * The event catalog of the testwire wire protocol, written once: each shape is a schema of
 * `schema-builder.ts`, and the exported types are derived from it. The same objects are the runtime guards'
 * schemas and the JSON Schema document (`schema/testwire.schema.json`), so a field is added in one place.
 *
 * Field names of reference 000 (the user's event contract) are kept as they are; everything marked
 * "testwire addition" is ours. Fields are only ever added, never renamed or dropped.
 *
 * Conventions on the wire: JSON primitives only, times as ISO strings or epoch milliseconds, durations in
 * milliseconds, memory in MB (as in the reference), file paths relative to the run's root with `/`.
 */
import * as t from './schema-builder.js';

/** Counts, indexes, line numbers: integers are never negative on the wire. */
const int = t.integer({ minimum: 0 });
const num = t.number();
const str = t.string();
const bool = t.boolean();
const strs = t.array(str);
const nums = t.array(num);

export type Framework = 'jest' | 'vitest' | 'playwright' | 'mocha' | (string & {});
const framework = t.string<Framework>();

/** Normalized test status. The runner's own status is kept in `rawStatus`. */
export type TestStatus = t.Static<typeof testStatusSchema>;
export const testStatusSchema = t.enumOf(['passed', 'failed', 'skipped', 'todo']);

/** Fields every event published by a testwire reporter carries, so filters like `{project}` work on all. */
export interface CommonData extends t.StaticProps<typeof common> {}
const common = {
  framework: t.optional(framework),
  /** testwire addition: package.json name or the runner's project name. */
  project: t.optional(str),
};

/** testwire addition: where a test is declared. `file` is relative to the run's root. */
export interface TestLocation extends t.Static<typeof testLocation> {}
const testLocation = t.object({
  file: str,
  line: t.optional(int),
  column: t.optional(int),
});

/** Identity of one test, present on every per-test event (testwire addition). */
export interface TestIdentity extends t.StaticProps<typeof identity> {}
const identity = {
  /** Stable id: same framework, project, file, title path and repeat index -> same id, across runs. */
  id: str,
  /** Describe blocks then the test title; the last element is the test's own title. */
  titlePath: strs,
  location: t.optional(testLocation),
};

export interface TestError extends t.Static<typeof testErrorSchema> {}
export const testErrorSchema = t.object({
  message: str,
  /**
   * Stack frames with paths relative to the run's root. From testwire reporters: the frames only (the
   * message is not repeated), trimmed to the user's frames — those in node_modules, `node:` internals and
   * the runners' own packages are dropped, so the first frame is usually the test file. All frames are
   * kept when none is the user's.
   */
  stack: t.optional(str),
  /** testwire addition: every frame of the stack, when `stack` dropped some. */
  fullStack: t.optional(str),
  /** Error class name, e.g. `AssertionError`, `TimeoutError`. */
  type: t.optional(str),
  /** testwire addition: present when the runner reports them (already serialized to strings). */
  expected: t.optional(str),
  actual: t.optional(str),
  /** testwire addition: the runner's diff of expected and actual, when it reports one apart from the message. */
  diff: t.optional(str),
  /**
   * testwire addition: one line saying what failed — `expected 11, received 12`, `36 !== 35`,
   * `expected 120 to be 108`. Consumers of older producers compute it with `failureSummary()`.
   */
  summary: t.optional(str),
  /** testwire addition: a runner-specific code such as `ERR_TIMEOUT`. */
  code: t.optional(str),
  /**
   * testwire addition: the titles of the step the error was thrown in, outermost first (Playwright's
   * `test.step`, nested steps one title each), when the runner tells.
   */
  step: t.optional(strs),
});
const error = testErrorSchema;

/** testwire addition: what is known about the run, sent with test.started. */
export interface RunInfo extends t.Static<typeof runInfoSchema> {}
export const runInfoSchema = t.object({
  runId: str,
  framework,
  frameworkVersion: t.optional(str),
  project: t.optional(str),
  /** Base name of the root directory (absolute paths never go on the wire). */
  rootName: t.optional(str),
  shard: t.optional(t.object({ current: int, total: int })),
  pid: t.optional(int),
  /** The host name of the machine (or network namespace) the run's process ran on: tells shards apart. */
  hostname: t.optional(str),
  /** Epoch ms. */
  startedAt: num,
  watch: t.optional(bool),
  ci: t.optional(
    t.object({
      provider: t.optional(str),
      branch: t.optional(str),
      commit: t.optional(str),
      buildUrl: t.optional(str),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------------------
// test.*

/**
 * testwire addition: one test compared with a baseline (`test.result`'s `baseline`, `baseline.compared`'s
 * `regressions`). Durations in ms; `duration` is the baseline's reference (the median of its samples).
 */
export interface BaselineTestComparison extends t.Static<typeof baselineTestComparisonSchema> {}
export const baselineTestComparisonSchema = t.object({
  /** The baseline's label. */
  label: str,
  /** True when this result regresses: a duration regression, or a test that passed there fails now. */
  regression: bool,
  /** The test is not in the baseline. */
  added: t.optional(bool),
  /** Its status in the baseline. */
  status: t.optional(testStatusSchema),
  /** It passed in the baseline and fails now. */
  newlyFailing: t.optional(bool),
  /** It failed in the baseline and passes now. */
  fixed: t.optional(bool),
  /** The baseline's reference duration (ms): the median of its samples. */
  duration: t.optional(num),
  /** This duration minus the baseline's (ms). */
  change: t.optional(num),
  /** `change` as a percentage of the baseline's duration. */
  percentage: t.optional(num),
  /** True when the duration regressed beyond both thresholds and the noise guard. */
  slower: t.optional(bool),
  /** True when the duration improved beyond the same thresholds. */
  faster: t.optional(bool),
});

export interface TestStartedData extends t.Static<typeof testStarted> {}
const testStarted = t.object({
  ...common,
  framework,
  /** Total tests known at start; 0 when the runner does not know it up front (see `totalKnown`). */
  totalTests: int,
  testFiles: strs,
  options: t.optional(t.record()),
  /** testwire addition */
  totalKnown: t.optional(bool),
  run: t.optional(runInfoSchema),
});

export interface TestProgressData extends t.Static<typeof testProgress> {}
const testProgress = t.object({
  ...common,
  ...t.partial(identity),
  framework,
  testName: t.optional(str),
  suite: t.optional(str),
  /** `running` while a test runs; `idle` between tests. */
  status: t.string<'running' | 'idle' | (string & {})>(),
  /** completed / total, 0..1 */
  progress: num,
  completed: int,
  total: int,
  /** Milliseconds since the run started. */
  duration: num,
  /** testwire additions */
  passed: t.optional(int),
  failed: t.optional(int),
  skipped: t.optional(int),
  todo: t.optional(int),
  /** false when `total` is what is known so far, not the final count. */
  totalKnown: t.optional(bool),
  file: t.optional(str),
});

/**
 * testwire addition: a file a test attached, announced by reference — its bytes never go on the wire. `path`
 * is relative to the run's root (with `/`) when the file is under it; an attachment without a file (an
 * inline body) or outside the root carries no path, only its name and type.
 */
export interface TestAttachment extends t.Static<typeof testAttachmentSchema> {}
export const testAttachmentSchema = t.object({
  name: str,
  contentType: str,
  path: t.optional(str),
  /** Bytes of the body the runner held in memory (not sent). */
  size: t.optional(int),
});

/**
 * A benchmark's statistics as its runner measured them (`vitest bench`: tinybench). Times in ms (fractions
 * kept); `hz` operations per second; `rme` the relative margin of error, in percent; `samples` how many
 * times the function ran; `totalTime` the time it was sampled.
 */
export interface BenchmarkStats extends t.Static<typeof benchmarkStats> {}
const benchmarkStats = t.object({
  hz: num,
  mean: num,
  min: num,
  max: num,
  median: t.optional(num),
  p75: num,
  p99: num,
  p995: num,
  p999: num,
  rme: num,
  samples: int,
  totalTime: num,
});

export interface TestResultData extends t.Static<typeof testResult> {}
const testResult = t.object({
  ...common,
  ...identity,
  framework,
  testName: str,
  suite: str,
  status: testStatusSchema,
  duration: num,
  file: str,
  line: t.optional(int),
  column: t.optional(int),
  assertions: t.optional(int),
  /** testwire additions */
  rawStatus: t.optional(str),
  /** 1-based attempt number; one test.result per attempt. */
  attempt: t.integer({ minimum: 1 }),
  /** True on the final, passing attempt of a test that failed before. */
  flaky: t.optional(bool),
  /** True when this attempt will be retried. */
  willRetry: t.optional(bool),
  timedOut: t.optional(bool),
  error: t.optional(error),
  errors: t.optional(t.array(error)),
  repeatIndex: t.optional(int),
  /** Epoch ms */
  startedAt: t.optional(num),
  /**
   * testwire addition: the worker that ran the attempt, as the runner names it (Playwright: its parallel
   * index, `0` … workers − 1). Absent when the runner does not tell its reporters.
   */
  worker: t.optional(str),
  /**
   * testwire addition: how this final result compares with the baseline the run compares against, when it
   * differs from it (a duration regression, a test that passed there and fails now, a new test…). Absent
   * when the run compares against no baseline or the test is as it was.
   */
  baseline: t.optional(baselineTestComparisonSchema),
  /** testwire addition: files the attempt attached (screenshots, traces, videos), by reference only. */
  attachments: t.optional(t.array(testAttachmentSchema)),
  /** testwire addition: the test's annotations (Vitest `annotate`: type, message, where it was made). */
  annotations: t.optional(t.array(t.object({ type: str, message: str, location: t.optional(testLocation) }))),
  /** testwire addition: a benchmark's statistics (`vitest bench`: tinybench's figures). */
  benchmark: t.optional(benchmarkStats),
});

export interface TestFailedData extends t.Static<typeof testFailed> {}
const testFailed = t.object({
  ...common,
  ...t.partial(identity),
  framework,
  testName: str,
  suite: str,
  status: t.literal('failed'),
  duration: num,
  error,
  errors: t.optional(t.array(error)),
  file: str,
  line: t.optional(int),
  /** testwire additions */
  /** What failed: a test, a hook, a whole file that could not run, or the run (unhandled error). */
  scope: t.optional(t.enumOf(['test', 'hook', 'file', 'run'])),
  attempt: t.optional(t.integer({ minimum: 1 })),
  timedOut: t.optional(bool),
  willRetry: t.optional(bool),
});

export interface TestOutputData extends t.Static<typeof testOutput> {}
const testOutput = t.object({
  ...common,
  ...t.partial(identity),
  testName: t.optional(str),
  suite: t.optional(str),
  output: str,
  outputType: t.enumOf(['stdout', 'stderr']),
  /** console method or raw stream: log, info, warn, error, debug, stdout, stderr */
  stream: str,
  /** testwire addition */
  file: t.optional(str),
});

export interface TestSummary extends t.Static<typeof testSummarySchema> {}
export const testSummarySchema = t.object({
  total: int,
  passed: int,
  failed: int,
  skipped: int,
  duration: num,
  success: bool,
  /** testwire additions */
  todo: t.optional(int),
  flaky: t.optional(int),
});

/** Percentages (0–100, 2 decimals). */
export interface CoverageTotals extends t.Static<typeof coverageTotalsSchema> {}
export const coverageTotalsSchema = t.object({
  /** testwire: the mean of the four metrics. */
  total: t.optional(num),
  statements: num,
  branches: num,
  functions: num,
  lines: num,
});

/** testwire addition: a test running at some moment (an interruption), and for how long it had run. */
export interface RunningTest extends t.Static<typeof runningTestSchema> {}
export const runningTestSchema = t.object({
  id: t.optional(str),
  testName: str,
  titlePath: t.optional(strs),
  file: t.optional(str),
  location: t.optional(testLocation),
  project: t.optional(str),
  attempt: t.optional(t.integer({ minimum: 1 })),
  /** Milliseconds the test had been running; absent when the endpoint does not know its start. */
  elapsed: t.optional(num),
});

export interface TestCompletedData extends t.Static<typeof testCompleted> {}
const testCompleted = t.object({
  ...common,
  framework,
  summary: testSummarySchema,
  coverage: t.optional(coverageTotalsSchema),
  /** testwire additions */
  /** Runner's own final status (e.g. playwright `passed | failed | timedout | interrupted`). */
  rawStatus: t.optional(str),
  /** Errors outside any test (unhandled rejections, config errors). */
  errors: t.optional(t.array(error)),
  interrupted: t.optional(bool),
  /**
   * testwire addition, with `interrupted`: what interrupted the run — `SIGTERM`, `SIGINT`… (a signal the
   * runner's process received), `exit` (the process exited with the run open: process.exit() in a test, an
   * uncaught error), `publisher_lost` (the endpoint lost a joined process without its test.completed and
   * completed the run on its behalf), or `shard_lost` (a sharded CI group's serve stopped waiting for a shard
   * that went quiet).
   */
  interruptedBy: t.optional(str),
  /** testwire addition, with `interrupted`: the tests running when the run was interrupted. */
  runningTests: t.optional(t.array(runningTestSchema)),
});

/**
 * testwire addition: one step of a test attempt (Playwright `test.step`, and opt-in expect calls, hooks and
 * fixtures), sent when the step ends — a parent after its children, the order the runner ends them in.
 */
export interface TestStepData extends t.Static<typeof testStep> {}
const testStep = t.object({
  ...common,
  ...identity,
  framework,
  testName: str,
  file: str,
  /** The test attempt the step belongs to (1-based). */
  attempt: t.integer({ minimum: 1 }),
  /** The step's own title, e.g. `log in` or `expect.toBeVisible`. */
  title: str,
  /** The runner's category: `test.step`, `expect`, `hook`, `fixture`, `pw:api`… */
  category: str,
  /** Titles of the enclosing steps, outermost first (empty for a top-level step). */
  stepPath: strs,
  /** 0 for a top-level step. */
  depth: int,
  /** Where the step is declared (`location` is the test's). */
  stepLocation: t.optional(testLocation),
  /** Epoch ms. */
  startedAt: t.optional(num),
  duration: num,
  error: t.optional(error),
});

// ---------------------------------------------------------------------------------------------------------
// performance.*

export interface PerformanceMetricsData extends t.Static<typeof performanceMetrics> {}
const performanceMetrics = t.object({
  ...common,
  memory: t.object({ heapUsed: num, heapTotal: num, external: num, rss: num }),
  cpu: t.object({ usage: num, load: nums }),
  uptime: num,
  gc: t.optional(t.object({ recentEvents: int, totalTime: num, lastEventTime: t.optional(str) })),
  tests: t.optional(t.object({ running: int, completed: int, averageDuration: num })),
});

export interface PerformanceBottleneckData extends t.Static<typeof performanceBottleneck> {}
const performanceBottleneck = t.object({
  ...common,
  type: t.string<'slow_test' | 'hung_test' | (string & {})>(),
  testName: str,
  duration: num,
  threshold: num,
  severity: t.string<'low' | 'medium' | 'high' | (string & {})>(),
  suggestions: strs,
  memoryDelta: t.optional(t.object({ heapUsed: t.optional(num), external: t.optional(num) })),
  /** testwire addition */
  id: t.optional(str),
  file: t.optional(str),
  /**
   * testwire additions, type `hung_test` (sent while the test still runs, once per attempt): milliseconds it
   * has run so far (also in `duration`), where it is declared, its title path and attempt.
   */
  elapsed: t.optional(num),
  location: t.optional(testLocation),
  titlePath: t.optional(strs),
  attempt: t.optional(t.integer({ minimum: 1 })),
});

export interface PerformanceLeakData extends t.Static<typeof performanceLeak> {}
const performanceLeak = t.object({
  ...common,
  type: t.string<'memory_leak' | (string & {})>(),
  testName: str,
  leakType: str,
  size: num,
  location: t.optional(str),
  stackTrace: t.optional(strs),
  suggestions: t.optional(strs),
  /** testwire additions (heap growth across files, see docs/protocol.md): the evidence. */
  /** The file after which the growth was judged (root-relative). */
  file: t.optional(str),
  /** Growth (MB) beyond which a leak is reported. */
  threshold: t.optional(num),
  /** Heap used (MB) after each file of the series, oldest first. */
  samples: t.optional(nums),
  /** The series: the worker or process the files ran in, as the runner names it. */
  worker: t.optional(str),
  /** True when the heap was measured after a forced garbage collection. */
  gcForced: t.optional(bool),
});

// ---------------------------------------------------------------------------------------------------------
// coverage.*

export interface CoverageStartedData extends t.Static<typeof coverageStarted> {}
const coverageStarted = t.object({
  ...common,
  framework,
  provider: str,
  totalFiles: int,
  patterns: strs,
  /** testwire addition: false when `totalFiles` is not known up front (0 then). */
  totalKnown: t.optional(bool),
});

export interface CoverageProgressData extends t.Static<typeof coverageProgress> {}
const coverageProgress = t.object({
  ...common,
  filesProcessed: int,
  totalFiles: int,
  currentFile: t.optional(str),
  percentage: num,
  coverage: coverageTotalsSchema,
  /** testwire addition: source files with coverage so far (`coverage` is over them). */
  sourceFiles: t.optional(int),
});

export interface CoverageCompletedData extends t.Static<typeof coverageCompleted> {}
const coverageCompleted = t.object({
  ...common,
  framework,
  provider: str,
  summary: coverageTotalsSchema,
  thresholdsMet: bool,
  files: int,
  reports: strs,
  /**
   * testwire addition: why these figures may differ from the provider's own report, when they can (c8: taken
   * at mocha's end, before c8 converts after the process exits — see the mocha README).
   */
  note: t.optional(str),
});

/** Per metric, where the thresholds name one (`Partial<Record<metric, number>>`). */
const metricMap = t.object({
  statements: t.optional(num),
  branches: t.optional(num),
  functions: t.optional(num),
  lines: t.optional(num),
});

/**
 * A positive threshold is the least percentage (`actual` is a percentage), a negative one the most uncovered
 * items (`actual` is the uncovered count), as jest and vitest define them.
 */
export interface CoverageThresholdData extends t.Static<typeof coverageThreshold> {}
const coverageThreshold = t.object({
  ...common,
  passed: bool,
  thresholds: metricMap,
  actual: metricMap,
  /** testwire addition: the thresholds were checked per file (vitest `perFile`). */
  perFile: t.optional(bool),
  failures: t.array(
    t.object({
      metric: str,
      threshold: num,
      actual: num,
      deficit: num,
      /** testwire addition: the file that failed, when the thresholds apply to each file. */
      file: t.optional(str),
      /** testwire addition: the glob whose own thresholds failed (vitest's glob-keyed thresholds). */
      glob: t.optional(str),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------------------
// framework.*

export interface FrameworkInfo extends t.Static<typeof frameworkInfo> {}
const frameworkInfo = t.object({
  name: framework,
  version: t.optional(str),
  configPath: t.optional(str),
  testPatterns: t.optional(strs),
});

export interface FrameworkDetectedData extends t.Static<typeof frameworkDetected> {}
const frameworkDetected = t.object({
  ...common,
  frameworks: t.array(frameworkInfo),
  active: t.optional(framework),
});

export interface FrameworkSwitchedData extends t.Static<typeof frameworkSwitched> {}
const frameworkSwitched = t.object({
  project: t.optional(str),
  from: framework,
  to: framework,
  reason: str,
  success: bool,
  framework: frameworkInfo,
});

export interface FrameworkErrorData extends t.Static<typeof frameworkError> {}
const frameworkError = t.object({
  ...common,
  framework,
  error: t.object({
    message: str,
    code: t.optional(str),
    details: t.optional(t.record()),
    stack: t.optional(str),
  }),
  /** testwire additions: the file it concerns (root-relative), when there is one. */
  file: t.optional(str),
  severity: t.string<'error' | 'warning' | (string & {})>(),
});

// ---------------------------------------------------------------------------------------------------------
// baseline.*

export interface BaselineSavedData extends t.Static<typeof baselineSaved> {}
const baselineSaved = t.object({
  ...common,
  label: str,
  framework,
  /** Relative to the run's root: `./.test-baselines/<label>.json` by default. */
  path: str,
  /** Bytes of the file. */
  size: int,
  /** Tests of this runner (and project) in the baseline. */
  tests: int,
  /** Coverage total (%) of the run saved, when it had coverage. */
  coverage: t.optional(num),
  /** testwire addition: runs folded into the duration statistics of this runner's tests (at most 10). */
  runs: t.optional(int),
});

/** testwire addition: a test named in `baseline.compared`'s lists. */
const baselineTestRef = t.object({ id: str, test: str, file: t.optional(str) });

export interface BaselineComparedData extends t.Static<typeof baselineCompared> {}
const baselineCompared = t.object({
  ...common,
  baseline: str,
  comparison: t.object({
    testsAdded: int,
    testsRemoved: int,
    testsChanged: int,
    performanceRegression: bool,
    coverageImproved: bool,
    summary: t.object({ regression: bool, improvement: bool, score: num }),
    /** testwire additions */
    /** Tests that passed in the baseline and failed in this run (also counted in testsChanged). */
    testsNewlyFailing: t.optional(int),
    /** Coverage totals (%) of the baseline and of this run, when both have coverage; change in points. */
    coverage: t.optional(t.object({ baseline: num, current: num, change: num })),
  }),
  /** Duration regressions, worst first (at most 100). */
  regressions: t.array(
    t.object({
      test: str,
      /** ms slower than the baseline's median. */
      change: num,
      /** `change` as a percentage of the baseline's median. */
      percentage: num,
      /** testwire additions */
      id: t.optional(str),
      file: t.optional(str),
      /** The baseline's median and this run's duration (ms). */
      baselineDuration: t.optional(num),
      duration: t.optional(num),
    }),
  ),
  /** testwire additions (each list at most 100 entries; the counts above are complete) */
  added: t.optional(t.array(baselineTestRef)),
  removed: t.optional(t.array(baselineTestRef)),
  /** Tests whose status changed (`from` in the baseline, `to` now). */
  changed: t.optional(t.array(t.object({ id: str, test: str, file: t.optional(str), from: str, to: str }))),
  /** The thresholds a duration regression had to exceed (see docs/protocol.md, baseline.compared). */
  thresholds: t.optional(t.object({ relative: num, absoluteMs: num })),
  /** Relative to the run's root. */
  path: t.optional(str),
});

// ---------------------------------------------------------------------------------------------------------
// system.*

export interface SystemHealthData extends t.Static<typeof systemHealth> {}
const systemHealth = t.object({
  status: t.string<'healthy' | 'degraded' | 'unhealthy' | (string & {})>(),
  uptime: num,
  version: str,
  components: t.array(
    t.object({ name: str, status: str, message: t.optional(str), lastCheck: t.optional(str) }),
  ),
  metrics: t.object({
    memory: t.object({ total: num, used: num, percentage: num }),
    cpu: t.object({ cores: int, usage: num, load: nums }),
  }),
});

/** `{ 'test.result': 3, 'test.completed': 1 }` */
const eventTypeCounts = t.record(int);

export interface SystemErrorData extends t.Static<typeof systemError> {}
const systemError = t.object({
  component: str,
  error: t.object({
    message: str,
    code: str,
    severity: t.string<'warning' | 'error' | (string & {})>(),
  }),
  impact: t.optional(str),
  recovery: t.optional(str),
  /** testwire addition, for code SUBSCRIBER_LAGGING: the seq range this subscriber did not receive. */
  gap: t.optional(t.object({ fromSeq: int, toSeq: int })),
  /** testwire addition: the epoch the gap refers to (resume with `{epoch, since: fromSeq - 1}`). */
  epoch: t.optional(str),
  /** testwire addition, from a reporter: its runner and project. */
  framework: t.optional(str),
  project: t.optional(str),
  /**
   * testwire addition, codes EVENTS_DROPPED and FLUSH_TIMEOUT (a reporter's delivery of a run): the run that
   * lost events. The event itself is outside any run (envelope `runId` ''), so that `test.completed` stays
   * the last event of the run.
   */
  runId: t.optional(str),
  /** testwire addition: events of that run dropped on the way (a bounded queue was full, refused), by type. */
  dropped: t.optional(eventTypeCounts),
  /**
   * testwire addition, code FLUSH_TIMEOUT: events of that run the endpoint had not confirmed when the final
   * flush reached its bound, by type. They are lost if the runner's process exits before they are sent.
   * Code NOT_HANDED_OVER: events in the history of a process that took the endpoint over during its final
   * flush that no subscriber came back for.
   */
  unconfirmed: t.optional(eventTypeCounts),
});

// ---------------------------------------------------------------------------------------------------------

/**
 * Every event type and the schema of its `data`: the catalog. An event added here is in `EventType`,
 * `EventDataMap`, the runtime guards and the JSON Schema document.
 */
export const eventDataSchemas = {
  'test.started': testStarted,
  'test.progress': testProgress,
  'test.result': testResult,
  'test.failed': testFailed,
  'test.output': testOutput,
  'test.completed': testCompleted,
  'test.step': testStep,
  'performance.metrics': performanceMetrics,
  'performance.bottleneck': performanceBottleneck,
  'performance.leak': performanceLeak,
  'coverage.started': coverageStarted,
  'coverage.progress': coverageProgress,
  'coverage.completed': coverageCompleted,
  'coverage.threshold': coverageThreshold,
  'framework.detected': frameworkDetected,
  'framework.switched': frameworkSwitched,
  'framework.error': frameworkError,
  'baseline.saved': baselineSaved,
  'baseline.compared': baselineCompared,
  'system.health': systemHealth,
  'system.error': systemError,
} satisfies Record<string, t.TObject>;

export type EventType = keyof typeof eventDataSchemas;

/** Every event type and the shape of its `data`. */
export type EventDataMap = { [K in EventType]: t.Static<(typeof eventDataSchemas)[K]> };

export const EVENT_TYPES: readonly EventType[] = Object.keys(eventDataSchemas) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventDataSchemas, value);
}
