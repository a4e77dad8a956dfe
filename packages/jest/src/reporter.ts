import {
  createReporterCore,
  type ReporterCore,
  type ReporterOptions,
  type RunResultInfo,
  type RunStartInfo,
  type TestOutcome,
} from '@testwire/reporter-core';
import { onAssigned } from './assigned.js';
import { bailed } from './bail.js';
import { type JestConfigUsed, type JestProjectPatterns, jestConfigUsed, projectPatterns } from './config.js';
import { type JestCoverageConfig, jestCoverageReport } from './coverage.js';
import { openHandleLeaks } from './open-handles.js';
import { type JestProjectConfig, ProjectNames } from './projects.js';
import { RetryCounts } from './retries.js';
import { mapJestStatus } from './status.js';
import { JestTwins, type Twin, type TwinSet } from './twins.js';
import { jestVersion } from './version.js';
import { type RunningTest, WorkerRestarts } from './worker-restarts.js';

/**
 * Options of `['@testwire/jest', {…}]` in jest's `reporters`. Every option also has an environment
 * variable (see README); reporter options win over the environment.
 */
export type TestwireJestOptions = ReporterOptions;

// Structural types of what jest hands a reporter: the subset read here, identical in jest 29 and 30.
// (Importing @jest/* types would tie the published declarations to one jest major.)
interface JestGlobalConfig extends JestCoverageConfig {
  rootDir: string;
  watch?: boolean;
  watchAll?: boolean;
  ci?: boolean;
  collectCoverage?: boolean;
  collectCoverageFrom?: string[];
  logHeapUsage?: boolean;
  forceExit?: boolean;
  /** --detectOpenHandles: jest assigns `results.openHandles` after the reporters (open-handles.ts). */
  detectOpenHandles?: boolean;
  maxWorkers?: number;
  bail?: number;
  shard?: { shardIndex: number; shardCount: number } | null;
  testNamePattern?: string | null;
  /** `projects` as configured (inline configs, paths; globs expanded): see projects.ts. */
  projects?: unknown[];
}
interface JestTest {
  path: string;
  context?: JestTestContext;
}
/** A project's context: its config as jest resolved it (one per project of the run). */
interface JestTestContext {
  config?: JestProjectConfig & JestProjectPatterns & { setupFilesAfterEnv?: string[] };
}
interface JestAssertionResult {
  ancestorTitles: string[];
  title: string;
  fullName?: string;
  status: string;
  duration?: number | null;
  failureMessages?: string[];
  failureDetails?: unknown[];
  invocations?: number;
  retryReasons?: string[];
  numPassingAsserts?: number;
  location?: { line: number; column: number } | null;
  startedAt?: number | null;
}
interface JestTestFileResult {
  testFilePath: string;
  testResults: JestAssertionResult[];
  testExecError?: { message?: string; stack?: string | null } | null;
  console?: { message: string; origin?: string; type: string }[] | null;
  displayName?: { name?: string } | string;
  /** With coverage (babel provider): this file's istanbul coverage, by source file. */
  coverage?: unknown;
  /** With --logHeapUsage: heap used after the file, in the worker that ran it (after a GC when exposed). */
  memoryUsage?: number;
  /** `start`: when the worker that ran the file started it (epoch ms); 0 when none did (jest gave up on it). */
  perfStats?: { start?: number };
}
interface JestAggregatedResult {
  numTotalTestSuites: number;
  /** Set by Jest after every reporter's onRunComplete: the run's verdict and exit code. */
  success?: boolean;
  /** Set by Jest's CoverageReporter, which runs after custom reporters. */
  coverageMap?: unknown;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  wasInterrupted?: boolean;
  snapshot?: { failure?: boolean };
  runExecError?: { message?: string; stack?: string | null } | null;
  /** Epoch ms: when jest began the run (its summary's `Time:` counts from it). */
  startTime?: number;
  /** --detectOpenHandles: the handles still open, assigned after every reporter's onRunComplete. */
  openHandles?: unknown[];
}

const STDERR_METHODS = new Set(['error', 'warn', 'trace', 'assert']);
/**
 * A beforeAll's error as jest-circus hands it to each test under the hook's describe block: its stack runs
 * through the hook call (`_callCircusHook`) made by the block itself (`_runTestsForDescribeBlock`, jest 30:
 * `…Once`), with at most node's own frames between them (`processTicksAndRejections`, when the call resumed
 * after an await). A beforeEach/afterEach is called by the test (`_runTest`, `_runTestInContext`); an
 * afterAll's error never reaches a test (it is the file's `testExecError`).
 */
const BEFORE_ALL_FAILURE =
  /\bat (?:async )?_callCircusHook\b[^\n]*\n(?:\s*at [^\n]*node:internal[^\n]*\n)*\s*at (?:async )?_runTestsForDescribeBlock/;
const JEST_TIMEOUT = /Exceeded timeout of \d+\s*ms/;
/** A test during which its worker's child process exited: jest runs its file again in a new one. */
const WORKER_EXITED = {
  name: 'WorkerExited',
  message:
    "jest's worker process exited during this test (process.exit, or a crash): jest runs its file again",
};

/**
 * Jest reporter streaming the run through testwire. Thin: each jest hook becomes one reporter-core call.
 *
 *   onRunStart ─> runStarted          onTestCaseStart ─> testStarted (per attempt)
 *   onTestFileStart ─> fileStarted    onTestCaseResult ─> testResult (per attempt, live)
 *   onTestFileResult ─> results jest did not send live (skipped, or every result on old jest 29 minors),
 *                       console output (file-level: jest does not attribute it to a test), testExecError
 *   onRunComplete ─> runCompleted (bounded flush); with coverage, once Jest decided the run (see below)
 */
export class TestwireJestReporter {
  private readonly core: ReporterCore;
  private readonly globalConfig: JestGlobalConfig;
  /** The jest major running this reporter (30 when unknown): where jest 29 and 30 differ. */
  private readonly jestMajor: number;
  /** Tests that share a title path in one file, told apart (this run). */
  private readonly twins: JestTwins;
  /** Retries each file's source configures (jest does not tell reporters). */
  private readonly retries = new RetryCounts();
  /** Tests started and not ended, per file: a file jest runs again in a new worker (worker-restarts.ts). */
  private readonly running = new WorkerRestarts<TwinSet>((file, left, set, raisedAt) =>
    this.restarted(file, left, set.base.project, raisedAt),
  );
  private filesDone = 0;
  /**
   * Per file, its live results so far: how many were a test's first and only attempt (how many of those
   * failed, with how many errors), and whether any was not (a retry, or one streamed as retrying). When every
   * test of the file's result is one of those, with as many failed and as many errors, the file's result has
   * nothing to add (see settledLive).
   */
  private readonly live = new Map<string, LiveTally>();
  /**
   * Per test file, the `Test` jest started it with (its own project's) and the projects that started it this
   * run. Jest hands every live hook (a test's start, its result) the `Test` of one project — the first of the
   * run to use the runner — whatever project runs the file: the project of a live hook is the one that
   * started its file. Once a second project started a path, that path's live hooks cannot say whose test they
   * are about: its results are sent from each project's file result (which is right), its starts left out.
   */
  private readonly startedFiles = new Map<string, { test: JestTest; projects: Set<string> }>();
  /** Each project's name in the stream: unique among the run's projects (projects.ts). */
  private readonly projectNames: ProjectNames;
  private totalFiles = 0;
  /** The config file jest runs with (`--config`, else the one it found), and its test patterns (framework.detected). */
  private readonly configUsed: JestConfigUsed;
  /**
   * The run's start, held until the first file starts when the config's patterns are only known from the
   * project config jest resolved (an ES module, TypeScript or function config, a preset's patterns): jest hands
   * that config with each file, and no sooner (config.ts). framework.detected goes out with the run's start.
   */
  private pendingStart: RunStartInfo | undefined;

  constructor(globalConfig: JestGlobalConfig, options?: TestwireJestOptions) {
    this.globalConfig = globalConfig;
    const rootDir = globalConfig?.rootDir ?? process.cwd();
    const version = jestVersion(rootDir);
    this.core = createReporterCore({
      rootDir,
      ...(options ?? {}),
      framework: 'jest',
      frameworkVersion: version,
    });
    this.jestMajor = Number.parseInt(version ?? '', 10) || 30;
    // Jest 29 awaits a block's concurrent tests in declaration order; jest 30 reports each when it ends.
    this.twins = new JestTwins(this.jestMajor >= 30);
    // Reporters are made in jest's own process, after it read its config: its command line is this one's.
    this.configUsed = jestConfigUsed(process.argv.slice(2), process.cwd());
    this.projectNames = new ProjectNames(globalConfig?.projects);
  }

  /**
   * Whether the run's patterns wait for the project config jest resolved: the config's cannot be read here,
   * and the run has one project (with `projects`, each has its own patterns: framework.detected tells none).
   */
  private get patternsFromProject(): boolean {
    const projects = this.globalConfig?.projects;
    return this.configUsed.patternsUnread === true && !(Array.isArray(projects) && projects.length > 0);
  }

  /** Before any file runs. Jest knows the number of files, not of tests. */
  onRunStart(results: { numTotalTestSuites?: number }): void {
    this.twins.reset();
    this.running.reset();
    this.filesDone = 0;
    this.live.clear();
    this.startedFiles.clear();
    this.totalFiles = results?.numTotalTestSuites ?? 0;
    const config = this.globalConfig ?? ({} as JestGlobalConfig);
    const shard = config.shard
      ? { current: config.shard.shardIndex, total: config.shard.shardCount }
      : undefined;
    const { configPath, testPatterns } = this.configUsed;
    const start: RunStartInfo = {
      watch: Boolean(config.watch || config.watchAll),
      shard,
      options: {
        testFiles: this.totalFiles,
        ci: config.ci,
        coverage: config.collectCoverage,
        maxWorkers: config.maxWorkers,
        bail: config.bail,
        ...(config.testNamePattern ? { testNamePattern: config.testNamePattern } : {}),
      },
      ...(configPath !== undefined ? { configPath } : {}),
      ...(testPatterns !== undefined ? { testPatterns } : {}),
    };
    if (this.patternsFromProject) this.pendingStart = start;
    else this.startRun(start);
  }

  /**
   * test.started and framework.detected (with the resolved config's `patterns` for a start held for them),
   * then coverage.started.
   */
  private startRun(start: RunStartInfo, patterns?: string[]): void {
    this.pendingStart = undefined;
    this.core.runStarted(patterns ? { ...start, testPatterns: patterns } : start);
    const config = this.globalConfig ?? ({} as JestGlobalConfig);
    if (config.collectCoverage) {
      this.core.coverageStarted({
        provider: config.coverageProvider ?? 'babel',
        patterns: Array.isArray(config.collectCoverageFrom) ? config.collectCoverageFrom : [],
      });
    }
  }

  /** A test file starts (in a worker or in band). */
  onTestFileStart(test: JestTest): void {
    // The run's one project config, as jest resolved it: the patterns a held start waited for.
    if (this.pendingStart) this.startRun(this.pendingStart, projectPatterns(test?.context?.config));
    const path = test?.path ?? '';
    const project = test?.context?.config?.id ?? this.projectOf(test) ?? '';
    const started = this.startedFiles.get(path);
    if (started) started.projects.add(project);
    else this.startedFiles.set(path, { test, projects: new Set([project]) });
    this.core.fileStarted(test?.path);
  }

  /** Whether two projects of this run started `path` (see startedFiles). */
  private shared(path: string | undefined): boolean {
    return (this.startedFiles.get(path ?? '')?.projects.size ?? 0) > 1;
  }

  /** The `Test` a live hook is about: the one its file started with (see startedFiles), else the hook's. */
  private ownTest(hookTest: JestTest): JestTest {
    return this.startedFiles.get(hookTest?.path ?? '')?.test ?? hookTest;
  }

  /** The project of `test` as the stream names it (projects.ts); undefined for one without a name. */
  private projectOf(test: JestTest): string | undefined {
    return this.projectNames.of(test?.context?.config);
  }

  /** Before each attempt of a test, before its beforeEach hooks (not called for skipped/todo tests). */
  onTestCaseStart(
    hookTest: JestTest,
    info: { ancestorTitles: string[]; title: string; startedAt?: number | null },
  ): void {
    try {
      const path = hookTest?.path ?? '';
      if (this.shared(path)) return;
      const test = this.ownTest(hookTest);
      const set = this.setOf(test, info);
      // The worker's clock: a start held and called again later keeps when it happened.
      const at = info?.startedAt ?? Date.now();
      if (this.running.holdsStart(path, set, at)) {
        this.running.hold(path, () => this.onTestCaseStart(hookTest, info));
        return;
      }
      // A start that overtook the result of an earlier start of its title path is sent once the results
      // before it say which test it is: the next twin, or maybe a retry (twins.ts).
      const started = this.twins.started(
        set,
        (ref) => {
          if (!ref) return;
          running.ref = ref;
          this.core.testStarted(ref, this.twins.startAttempt(set, ref));
        },
        typeof info?.startedAt === 'number' ? info.startedAt : undefined,
      );
      const running = this.running.started(path, set, started, at);
      // After a worker exit, the test's next attempt (jest counts from 1 again in the new worker).
      if (started) this.core.testStarted(started, this.twins.startAttempt(set, started));
    } catch (error) {
      // never throw into jest (said with TESTWIRE_DEBUG)
      this.core.adapterError('onTestCaseStart', error);
    }
  }

  /**
   * After each attempt of a test, live. With `jest.retryTimes` jest calls it once per attempt
   * (`invocations` = attempt number) without saying whether it will retry: a failed attempt is reported as a
   * failure, and a later attempt of the same test supersedes it (reporter-core counts each test once).
   */
  onTestCaseResult(hookTest: JestTest, result: JestAssertionResult): void {
    try {
      const attempt = Math.max(1, result.invocations ?? 1);
      // Another project's run of this file (whose test it is cannot be told), or a concurrent twin that its
      // start time does not tell (twins.ts): held back, the file's result sends it.
      const path = hookTest?.path ?? '';
      const test = this.ownTest(hookTest);
      let twin: Twin | undefined;
      let set: TwinSet | undefined;
      if (!this.shared(path)) {
        set = this.setOf(test, result);
        const startedAt = typeof result.startedAt === 'number' ? result.startedAt : undefined;
        if (this.running.holdsResult(path, set, startedAt, result.duration ?? 0)) {
          this.running.hold(path, () => this.onTestCaseResult(hookTest, result));
          return;
        }
        const status = mapJestStatus(result.status);
        twin = this.twins.liveResult(set, attempt, status === 'failed' || status === 'todo', startedAt);
      }
      if (!twin) {
        this.noteLive(path, false);
      } else {
        const willRetry =
          mapJestStatus(result.status) === 'failed' &&
          attempt <= this.retries.of(test?.path, test?.context?.config?.setupFilesAfterEnv);
        this.sendResult(twin, result, attempt, willRetry);
        this.noteLive(path, attempt === 1 && !willRetry, twin.failed, twin.errors);
      }
      // A start that waited for the results before it (twins.ts), after this one when it was sent.
      if (set) this.twins.resultSent(set);
      // This result may tell that a held start was its child's own (worker-restarts.ts): after it, in order.
      this.running.settle(path);
    } catch (error) {
      // never throw into jest (said with TESTWIRE_DEBUG)
      this.core.adapterError('onTestCaseResult', error);
    }
  }

  /**
   * A file finished. Sends what jest did not report live: skipped tests (no case events), attempts only
   * visible in `invocations`/`retryReasons`, console output, and a file that failed to run.
   */
  onTestFileResult(test: JestTest, result: JestTestFileResult): void {
    try {
      // First the hooks held while the file's restart was in question (worker-restarts.ts): this answers it,
      // with when the child whose result this is started the file (none when jest gave up on it: zero).
      const childStart = result?.perfStats?.start;
      const left = this.running.fileDone(
        test?.path ?? '',
        typeof childStart === 'number' && childStart > 0 ? childStart : undefined,
      );
      const file = result?.testFilePath ?? test?.path;
      const assertions = result?.testResults ?? [];
      // Tests that ran first, then skipped ones (never reported live): the order twins take ordinals in.
      // Two passes over the list rather than filtered copies: this runs for every test of every file.
      const ranPerSet = new Map<TwinSet, number>();
      const settled = this.settledLive(test?.path ?? '', assertions);
      for (let pass = 0; !settled && pass < 2 * assertions.length; pass++) {
        const assertion = assertions[pass % assertions.length];
        const reportedLive = mapJestStatus(assertion.status) !== 'skipped';
        if (reportedLive !== pass < assertions.length) continue;
        const set = this.setOf(test, assertion, file);
        const index = reportedLive ? (ranPerSet.get(set) ?? 0) : 0;
        // Only a title path seen twice needs counting (twins are rare; most sets hold one test). A held set
        // (twins.ts) may have one twin so far and many to come: its results are sent here.
        if (reportedLive && (set.twins.length > 1 || set.held)) ranPerSet.set(set, index + 1);
        const twin = this.twins.fileResult(set, index, reportedLive);
        const invocations = Math.max(1, assertion.invocations ?? 1);
        const sent = twin.attempts;
        // Its last attempt, streamed live, ended otherwise in the file's result: streamed as retrying, but jest
        // did not retry it; or jest 30 pinned an error on it after its live result (an error thrown later from
        // the test's own timer or promise): streamed as passed, it failed; streamed as failed, it has one more
        // error. That attempt again, as jest ends it, with all its errors: the core keeps the latest result of
        // an attempt, so the test still counts once.
        if (sent === invocations && (twin.retrying || endedOtherwise(twin, assertion)))
          this.sendResult(twin, assertion, invocations);
        if (sent >= invocations) continue;
        // Earlier attempts jest did not send live: rebuild them from retryReasons (one error per attempt).
        for (let attempt = sent + 1; attempt < invocations; attempt++) {
          const reason = assertion.retryReasons?.[attempt - 1];
          this.core.testResult(twin.ref, {
            status: 'failed',
            rawStatus: 'failed',
            duration: 0,
            attempt: twin.earlier + attempt,
            willRetry: true,
            errors: [
              reason ??
                `attempt ${attempt} failed (jest reports the error only with retryTimes(n, {logErrorsBeforeRetry: true}))`,
            ],
          });
        }
        this.sendResult(twin, assertion, invocations);
      }
      this.beforeAllFailures(test, file, assertions);
      if (result?.testExecError) this.execError(file, result.testExecError, assertions, left);
      // The babel provider hands each file's coverage over (none for a file that loads no covered source);
      // the v8 provider only raw V8 data, which is not summarized during the run.
      const config = this.globalConfig;
      if (config?.collectCoverage && config.coverageProvider !== 'v8')
        this.core.coverageProgress(file, result?.coverage ?? {}, this.totalFiles);
      if (typeof result?.memoryUsage === 'number') {
        this.core.heapSample({
          file,
          heapUsed: result.memoryUsage,
          // Jest calls gc() first when the worker exposes it (node --expose-gc); it does not name the worker.
          gcForced: typeof (globalThis as { gc?: unknown }).gc === 'function',
        });
      }
      for (const entry of result?.console ?? []) {
        // Jest buffers console calls per file, not per test: attribute them to the file.
        const stream = STDERR_METHODS.has(entry.type) ? 'stderr' : 'stdout';
        this.core.output({ file, titlePath: [] }, entry.message, stream, entry.type);
      }
      this.core.testsDiscovered(result?.testResults?.length ?? 0, {
        final: this.totalFiles > 0 && ++this.filesDone >= this.totalFiles,
      });
      const project = this.projectOf(test);
      this.twins.fileDone(project, file ?? '');
      if (test?.path !== file) this.twins.fileDone(project, test?.path ?? '');
    } catch (error) {
      // never throw into jest (said with TESTWIRE_DEBUG)
      this.core.adapterError('onTestFileResult', error);
    }
  }

  /** The run ended. Jest computes `results.success` only after reporters ran: derive it the same way. */
  async onRunComplete(contexts: unknown, results: JestAggregatedResult): Promise<void> {
    try {
      // No file started (none to run, or the runner failed to load): the start held for the patterns goes out
      // now, with the patterns of the run's project config if jest tells it.
      if (this.pendingStart) {
        const [context] = contexts instanceof Set ? (contexts as Set<JestTestContext>) : [];
        this.startRun(this.pendingStart, projectPatterns(context?.config));
      }
      // Hooks held while a file's restart was in question (worker-restarts.ts) come before the run's end.
      this.running.answerAll();
      const success =
        results?.numFailedTests === 0 &&
        results?.numRuntimeErrorTestSuites === 0 &&
        !results?.snapshot?.failure &&
        !results?.runExecError &&
        !results?.wasInterrupted;
      const info: RunResultInfo = {
        success,
        rawStatus: results?.wasInterrupted ? 'interrupted' : success ? 'passed' : 'failed',
        interrupted: results?.wasInterrupted === true,
        errors: results?.runExecError ? [results.runExecError] : [],
      };
      // `bail` reached with files left: jest exits after this without them (bail.ts). Its verdict stays `failed`.
      if (
        !info.interrupted &&
        this.filesDone < this.totalFiles &&
        bailed(this.globalConfig, results?.numFailedTests)
      ) {
        info.interrupted = true;
        info.interruptedBy = 'bail';
      }
      // The run's duration as jest's summary has it (`Time:`, from when jest began the run): the stream's run
      // starts later (the reporter's onRunStart; the first file, for a config whose patterns wait for it).
      const startTime = results?.startTime;
      if (typeof startTime === 'number' && startTime > 0) info.duration = Date.now() - startTime;
      if (this.completeLater(results, info)) return;
      await this.core.runCompleted(info);
    } catch (error) {
      // never throw into jest (said with TESTWIRE_DEBUG)
      this.core.adapterError('onRunComplete', error);
    }
  }

  /**
   * Jest decides parts of the run on `results` after every reporter's onRunComplete returned; the run then
   * completes once they are in, instead of here:
   * - with coverage on, Jest's CoverageReporter runs after this reporter: the coverage map and the threshold
   *   verdict do not exist yet. Jest decides the run — `results.success = …`, its exit code, false for a
   *   missed threshold — after every reporter returned: coverage.threshold / coverage.completed, and
   *   test.completed with Jest's own verdict, at that assignment;
   * - with --detectOpenHandles, Jest collects the handles still open after its globalTeardown, 100 ms later,
   *   and assigns `results.openHandles`: a performance.leak per handle (open-handles.ts) before test.completed,
   *   at that assignment.
   * Jest does not await that flush; the core holds the process until it is done (bounded by
   * `flushTimeoutMs`), and a local broadcaster takes milliseconds. With `--forceExit` Jest calls process.exit
   * right after: there the core's thread flushes while Jest's thread waits (completeBeforeExit, same bound).
   * Not when Jest exits or throws right after the reporters (`bail` reached, a run error) or the core runs
   * in-thread under --forceExit: the run completes in onRunComplete, without coverage or open handles. If
   * Jest never assigns (another path), the run completes when the event loop empties.
   */
  private completeLater(results: JestAggregatedResult, info: RunResultInfo): boolean {
    const config = this.globalConfig;
    if (results?.runExecError || bailed(config, results?.numFailedTests)) return false;
    const exitsAtOnce = config?.forceExit === true;
    if (exitsAtOnce && typeof this.core.completeBeforeExit !== 'function') return false;
    let jestSuccess: boolean | undefined;
    let handles: unknown;
    let awaitsSuccess = config?.collectCoverage === true;
    const onSuccess = (next: boolean) => {
      jestSuccess = next;
      awaitsSuccess = false;
      complete();
    };
    if (awaitsSuccess && !onAssigned(results, 'success', onSuccess)) return false;
    const onHandles = (next: unknown) => {
      handles = next;
      awaitsHandles = false;
      complete();
    };
    let awaitsHandles = config?.detectOpenHandles === true && onAssigned(results, 'openHandles', onHandles);
    if (!awaitsSuccess && !awaitsHandles) return false;
    const coverage = awaitsSuccess;
    let completed = false;
    const complete = () => {
      if (completed || awaitsSuccess || awaitsHandles) return;
      completed = true;
      process.off('beforeExit', onBeforeExit);
      const success = typeof jestSuccess === 'boolean' ? jestSuccess : info.success;
      // coverage.*, then the leaks, then test.completed: whichever Jest assigned first.
      if (coverage) {
        try {
          // Jest failed a run whose tests and snapshots passed: its coverage reporter's threshold error.
          const thresholdsFailed = info.success && !success;
          const report = jestCoverageReport(results.coverageMap, config, thresholdsFailed);
          if (report) this.core.coverage(report);
        } catch {
          // a coverage map this reporter cannot read: the run still completes (this runs inside Jest's code)
        }
      }
      try {
        const testFiles = new Set(this.startedFiles.keys());
        const rootDir = config?.rootDir ?? process.cwd();
        for (const leak of openHandleLeaks(handles, rootDir, testFiles, this.jestMajor)) this.core.leak(leak);
      } catch (error) {
        this.core.adapterError('openHandles', error);
      }
      const completion: RunResultInfo = {
        ...info,
        success,
        rawStatus: info.interrupted ? 'interrupted' : success ? 'passed' : 'failed',
      };
      if (exitsAtOnce) {
        this.core.completeBeforeExit?.(completion);
        return;
      }
      // Jest no longer waits for us: keep the process alive until the flush is done (the core bounds it).
      // Bounded: the core's flush bound (option, env or default), plus a margin for its answer.
      const hold = setTimeout(() => {}, this.core.holdBoundMs);
      void this.core.runCompleted(completion).finally(() => clearTimeout(hold));
    };
    const onBeforeExit = () => {
      awaitsSuccess = false;
      awaitsHandles = false;
      complete();
    };
    process.once('beforeExit', onBeforeExit);
    return true;
  }

  /**
   * The beforeAll hooks of the file that threw. Jest reports none: jest-circus fails every test under the
   * hook's describe block with the hook's error (those results are sent as jest gives them), and the stack
   * of that error says it came from a beforeAll (BEFORE_ALL_FAILURE). One hook failure per distinct error
   * (the same text on each test of the block), named after the describe block that holds all its tests (the
   * file, for a hook outside any block). An error thrown after an `await` in the hook has no frame of
   * jest-circus: nothing tells it from the tests' own errors, so it stays the tests' failure only.
   */
  private beforeAllFailures(test: JestTest, file: string, assertions: readonly JestAssertionResult[]): void {
    let hooks: Map<string, { titlePath: string[]; detail: unknown }> | undefined;
    for (const assertion of assertions) {
      const messages = assertion.failureMessages;
      if (!messages || messages.length === 0 || mapJestStatus(assertion.status) !== 'failed') continue;
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index];
        if (!BEFORE_ALL_FAILURE.test(message)) continue;
        const titles = assertion.ancestorTitles ?? [];
        hooks ??= new Map();
        const hook = hooks.get(message);
        if (hook) hook.titlePath = commonPrefix(hook.titlePath, titles);
        else hooks.set(message, { titlePath: [...titles], detail: assertion.failureDetails?.[index] });
      }
    }
    if (!hooks) return;
    const project = this.projectOf(test);
    for (const [message, { titlePath, detail }] of hooks) {
      const ref = project ? { file, titlePath, project } : { file, titlePath };
      this.core.hookFailed(ref, jestError(message, detail), 'beforeAll');
    }
  }

  /**
   * A file's error outside its tests (`testExecError`). Before any of its tests ran, the file could not run.
   * After: jest-circus reports an afterAll hook's failure so (its frames pass through `_callCircusHook`), with
   * the text in the stack only, or an error thrown outside any test.
   */
  private execError(
    file: string,
    error: NonNullable<JestTestFileResult['testExecError']>,
    assertions: readonly JestAssertionResult[],
    running: readonly RunningTest<TwinSet>[],
  ): void {
    const ran = assertions.some((assertion) => {
      const status = mapJestStatus(assertion.status);
      return status === 'passed' || status === 'failed';
    });
    // A file with no results whose tests were running: its worker ended during them (a crash, or out of
    // memory), and this error says so. They fail with it; jest lists no test of the file.
    if (assertions.length === 0) for (const test of running) this.crashed(test, [error], false, Date.now());
    if (!ran) this.core.fileFailed(file, error);
    else if (error.stack?.includes('_callCircusHook'))
      this.core.hookFailed({ file, titlePath: [] }, error, 'afterAll');
    else this.core.fileFailed(file, error, { code: 'UNHANDLED_ERROR' });
  }

  /**
   * Jest runs `test`'s file again in a new worker: the child before it exited during the tests it left
   * running. Those fail (jest runs them again), and the file's tests are new again to the twins, so that the
   * new child's tests keep their ids, their attempts going on.
   */
  private restarted(
    path: string,
    left: readonly RunningTest<TwinSet>[],
    project: string | undefined,
    endedBy: number,
  ): void {
    for (const running of left) this.crashed(running, [WORKER_EXITED], true, endedBy);
    this.twins.restarted(project, path);
    this.live.delete(path);
  }

  /**
   * A test whose worker process ended during it, as failed; it ran until `endedBy` at the latest (a later
   * child's first start, or the file's result), which its duration is measured to.
   */
  private crashed(test: RunningTest<TwinSet>, errors: unknown[], willRetry: boolean, endedBy: number): void {
    if (!test.ref) return;
    this.core.testResult(test.ref, {
      status: 'failed',
      rawStatus: 'failed',
      duration: Math.max(0, endedBy - test.startedAt),
      attempt: this.twins.crashed(test.key, test.ref.ordinal ?? 0),
      errors,
      ...(willRetry ? { willRetry } : {}),
    });
  }

  private noteLive(file: string, final: boolean, failed = false, errors = 0): void {
    let tally = this.live.get(file);
    if (!tally) {
      tally = { final: 0, failed: 0, errors: 0, unsettled: false };
      this.live.set(file, tally);
    }
    if (!final) tally.unsettled = true;
    else {
      tally.final++;
      if (failed) tally.failed++;
      tally.errors += errors;
    }
  }

  /**
   * True when each test of the file's result ran once and was sent live with that attempt as final, and as
   * many failed live, with as many errors, as in the file's result: then the walk below would find every one
   * of them sent already (the usual file, where it costs a lookup per test). Not when jest 30 pinned an error
   * thrown after a test's end on that test, in its file's result only: a test that passed live failed there,
   * or a test that failed live has one more error there.
   * Forgets the file's tally either way.
   */
  private settledLive(file: string, assertions: readonly JestAssertionResult[]): boolean {
    const tally = this.live.get(file);
    this.live.delete(file);
    if (!tally || tally.unsettled || tally.final !== assertions.length) return false;
    let failed = 0;
    let errors = 0;
    for (const assertion of assertions) {
      const status = mapJestStatus(assertion.status);
      if ((assertion.invocations ?? 1) > 1 || status === 'skipped') return false;
      if (status === 'failed') failed++;
      errors += assertion.failureMessages?.length ?? 0;
    }
    return failed === tally.failed && errors === tally.errors;
  }

  /** testwire never fails a run: jest turns an error returned here into exit code 1. */
  getLastError(): undefined {
    return undefined;
  }

  private sendResult(twin: Twin, result: JestAssertionResult, attempt: number, willRetry = false): void {
    const status = mapJestStatus(result.status);
    const messages = result.failureMessages;
    twin.attempts = Math.max(twin.attempts, attempt);
    twin.failed = status === 'failed';
    twin.retrying = willRetry;
    twin.errors = messages?.length ?? 0;
    // The location comes with results only (jest --testLocationInResults), each twin its own.
    if (result.location && twin.ref.line === undefined)
      twin.ref = { ...twin.ref, line: result.location.line, column: result.location.column };
    // One literal with the fields every result may have (undefined when not): this runs for every test on
    // jest's thread, and fields added to a literal later take a second allocation. No spreads, no empty arrays.
    const outcome: TestOutcome = {
      status,
      rawStatus: result.status,
      duration: result.duration ?? 0,
      // After a worker exit jest counts attempts from 1 again: the test's attempts go on (twins.ts).
      attempt: twin.earlier + attempt,
      assertions:
        typeof result.numPassingAsserts === 'number' && status !== 'skipped' && status !== 'todo'
          ? result.numPassingAsserts
          : undefined,
      startedAt: typeof result.startedAt === 'number' ? result.startedAt : undefined,
    };
    if (willRetry) outcome.willRetry = true;
    // A pass in a new worker is flaky when an attempt failed (the one the worker exited in, say), not for
    // its number: a test that passed in the worker that exited passes again.
    if (twin.earlier > 0 && status === 'passed') outcome.flaky = attempt > 1 || twin.earlierFailed;
    if (messages && messages.length > 0) {
      const details = result.failureDetails ?? [];
      outcome.errors = messages.map((text, index) => jestError(text, details[index]));
      outcome.timedOut = status === 'failed' && messages.some((text) => JEST_TIMEOUT.test(text));
    }
    this.core.testResult(twin.ref, outcome);
  }

  /** The tests of `test`'s file with this title path (twins.ts). */
  private setOf(
    test: JestTest,
    result: { ancestorTitles: string[]; title: string },
    file = test?.path,
  ): TwinSet {
    return this.twins.of(this.projectOf(test), file ?? '', result.ancestorTitles ?? [], result.title);
  }
}

/** Per file, its live results so far (see TestwireJestReporter.live). */
interface LiveTally {
  final: number;
  failed: number;
  /** Errors of the final attempts sent live. */
  errors: number;
  unsettled: boolean;
}

/**
 * Whether the file's result ends a test's last attempt otherwise than it was streamed: failed where it
 * passed, or failed with more errors (jest 30 adds an error thrown after the test's end to its result).
 */
function endedOtherwise(twin: Twin, assertion: JestAssertionResult): boolean {
  const failed = mapJestStatus(assertion.status) === 'failed';
  if (twin.failed !== failed) return true;
  return failed && (assertion.failureMessages?.length ?? 0) > twin.errors;
}

/** The titles `a` and `b` begin with. */
function commonPrefix(a: readonly string[], b: readonly string[]): string[] {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return a.slice(0, length);
}

/** Jest's failure message (message + stack, as printed) with expected/actual from the matcher, if any. */
function jestError(text: string, detail: unknown): unknown {
  const record = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>) : {};
  return {
    stack: text,
    ...(record.matcherResult ? { matcherResult: record.matcherResult } : {}),
    ...(typeof record.name === 'string' ? { name: record.name } : {}),
    ...(typeof record.code === 'string' ? { code: record.code } : {}),
  };
}
