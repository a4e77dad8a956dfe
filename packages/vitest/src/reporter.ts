/**
 * The Vitest reporter: Vitest's reported-tasks hooks (Vitest >= 3) -> @testwire/reporter-core calls.
 *
 *   onInit                      keep the Vitest instance (root, version, watch)
 *   onTestRunStart(specs)       a new run: files known, their tests not yet             -> runStarted
 *   onTestModuleCollected       the module's tests are known                           -> testsDiscovered
 *   onTestModuleStart           -> fileStarted
 *   onTestCaseReady             -> testStarted, then the test's held console output
 *   onTestCaseResult            -> testResult once per attempt (see outcome.ts)
 *   onHookStart/End             beforeAll/afterAll that threw (started, never ended)    -> hookFailed (named)
 *   onTestModuleCollected/End   module errors no hook explains (import failed)         -> fileFailed
 *   onUserConsoleLog            -> output, attributed through the log's task id
 *   onCoverage (4, 5)           the run's coverage map, before onTestRunEnd               -> coverage
 *   onFinished (3)              Vitest 3 hands the coverage map here, beside onTestRunEnd
 *   onTestRunEnd                never-finished tests, unhandled errors (a worker's crash: its file's, naming the
 *                               test it died in), coverage, then the awaited, bounded flush (interrupted by
 *                               `bail`: bail.ts)
 *
 * A watch-mode rerun is a new `onTestRunStart`, so a new run with its own run id.
 * Every hook is guarded: the reporter never throws into Vitest and never prints (its own internal errors
 * only with TESTWIRE_DEBUG, through the core's adapterError); Vitest's exit code and terminal output are the
 * same with or without it.
 */
import {
  checkThresholds,
  createReporterCore,
  type ReporterCore,
  type ReporterCoreOptions,
  type ReporterOptions,
  type TestRef,
} from '@testwire/reporter-core';
import { withAnnotations } from './annotations.js';
import { bailed } from './bail.js';
import { coverageReportOf } from './coverage.js';
import { NO_TEST_FILES, noTestFilesError } from './no-tests.js';
import { outcomesOf } from './outcome.js';
import { projectNamesOf, testFilesOf, testPatternsOf } from './run-files.js';
import { numberTwins, SuiteTitles, TwinOrdinals, testsOf, titlesOf } from './twins.js';
import { FILE_TYPE_ERROR, isTypeCheckError, withTypeCheckFrame } from './typecheck.js';
import type {
  VitestContext,
  VitestEntityNode,
  VitestError,
  VitestHookContext,
  VitestRunEndReason,
  VitestTestCase,
  VitestTestModule,
  VitestTestSpecification,
  VitestTestSuite,
  VitestUserConsoleLog,
} from './vitest-types.js';
import {
  type CrashedFile,
  fileCrashError,
  placeWorkerCrashes,
  testCrashError,
  type WorkerCrashes,
} from './worker-crash.js';

/** framework.error's code for what Vitest calls an unhandled rejection (its error's name is only `Error`). */
const UNHANDLED_REJECTION = { code: 'UNHANDLED_REJECTION' } as const;

/** Options of `['@testwire/vitest', { … }]` in `test.reporters`. Every one is optional. */
export type TestwireVitestOptions = ReporterOptions;

/** Console output waiting for its test to start, bounded so a chatty run cannot grow memory. */
const MAX_HELD_LOGS = 10_000;

/**
 * A test of the run, in RunState.tests: its twin ordinal (TestRef.ordinal) times two, plus FINISHED once its
 * result is published — a small integer, no object per test: what lives for the whole run is what the
 * runner thread's garbage collector copies, and a test's ref is needed only from its start to its result.
 */
const FINISHED = 1;

interface HeldLog {
  text: string;
  stream: 'stdout' | 'stderr';
}

/** Everything that belongs to one run (one `onTestRunStart` … `onTestRunEnd`). */
interface RunState {
  core: ReporterCore;
  /** Test modules the run will report (one per specification); all counted -> the total is final. */
  expectedModules: number;
  /**
   * Vitest task id -> reported entity, filled as modules are queued and collected: modules, and their suites
   * and tests once a log needs them (`testsIndexed`; most runs print nothing from their tests).
   */
  entities: Map<string, VitestEntityNode>;
  testsIndexed: boolean;
  counted: Set<string>;
  /** Tests of the counted modules, and tests finished: equal (every module counted) -> none left open. */
  countedTests: number;
  finishedTests: number;
  /**
   * Per test, by its TestCase (not its id: Vitest keeps one reported entity per runner task, its
   * `reportedTasksMap`, and registers a test's task once per collection of its file, i.e. once per run; an
   * object's identity hash costs less than a built string's hash): ordinal × 2 + FINISHED (see FINISHED).
   */
  tests: Map<VitestTestCase, number>;
  /** Tests started and not finished: their ref, shared by the start and the result (one object to send). */
  live: Map<VitestTestCase, TestRef>;
  /** Logs by task id, until the task is known (and, for a test, has started). */
  heldLogs: Map<string, HeldLog[]>;
  heldCount: number;
  /** Errors of a suite/module already published, so each is reported once. */
  reportedErrors: Map<string, number>;
  /**
   * The beforeAll/afterAll of a suite/module (by task id) that started and has not ended, with the entity's
   * error count then. Vitest sends no hook end for a hook that threw (@vitest/runner marks it passed only
   * after it returned): a hook still open when its suite or module ends is the one that failed.
   */
  openHooks: Map<string, { name: 'beforeAll' | 'afterAll'; errors: number }>;
}

export class TestwireVitestReporter {
  private readonly options: TestwireVitestOptions;
  private vitest: VitestContext | undefined;
  /** One core for the reporter's life: each run (watch-mode rerun) is a new run of the same core. */
  private core: ReporterCore | undefined;
  private run: RunState | undefined;
  /** The coverage map of the run that is ending (onCoverage / Vitest 3's onFinished), until onTestRunEnd. */
  private coverageMap: unknown;
  private readonly twins = new TwinOrdinals();
  private readonly suiteTitles = new SuiteTitles();

  /** Options are checked by reporter-core: a bad one is reported once on stderr, never fails the run. */
  constructor(options: TestwireVitestOptions = {}) {
    this.options = typeof options === 'object' && options !== null ? { ...options } : {};
  }

  /** Called once when Vitest starts, before anything runs. */
  onInit(vitest: VitestContext): void {
    this.guard(() => {
      this.vitest = vitest;
      this.core ??= createReporterCore(this.coreOptions(vitest));
    });
  }

  /** Called when a run starts (also each watch-mode rerun): test files are known, their tests not yet. */
  onTestRunStart(specifications: ReadonlyArray<VitestTestSpecification>): void | Promise<void> {
    if (this.vitest?.config.shard && specifications)
      return this.shardOf(specifications).then((files) => this.guard(() => this.startRun(files)));
    this.guard(() => {
      this.startRun(specifications);
    });
  }

  /** Called when a test file is queued; it is not imported yet. */
  onTestModuleQueued(testModule: VitestTestModule): void {
    this.guard(() => {
      const run = this.ensureRun();
      if (run) this.remember(run, testModule);
    });
  }

  /** Called when a test file was imported and its tests are known (also when the import failed). */
  onTestModuleCollected(testModule: VitestTestModule): void {
    this.guard(() => {
      const run = this.ensureRun();
      if (!run) return;
      this.collect(run, testModule);
      // The import failed: nothing else comes for this file (Vitest 3 sends no onTestModuleEnd for it).
      if (testModule.state() === 'failed') this.reportFileErrors(run, testModule);
    });
  }

  /** Called when the tests of a file start running. */
  onTestModuleStart(testModule: VitestTestModule): void {
    this.guard(() => {
      const run = this.ensureRun();
      if (!run) return;
      this.collect(run, testModule);
      this.core?.fileStarted(testModule.moduleId);
    });
  }

  /** Called when every test of a file has finished, or the file failed to import. */
  onTestModuleEnd(testModule: VitestTestModule): void {
    this.guard(() => {
      const run = this.run;
      if (!run) return;
      this.collect(run, testModule);
      this.reportFileErrors(run, testModule);
      // With logHeapUsage: the heap after the file (no forced GC: Vitest measures as it is); the worker is
      // not named, so the files of the run are one series.
      const heap = testModule.diagnostic?.()?.heap;
      if (typeof heap === 'number') run.core.heapSample({ file: testModule.moduleId, heapUsed: heap });
      // Output of tests that never started in this file is flushed with the file.
      if (run.heldCount > 0) for (const test of testsOf(testModule)) this.flushLogs(run, test.id);
      this.flushLogs(run, testModule.id);
    });
  }

  /** Called before a test's `beforeEach` hooks: the test is about to run. */
  onTestCaseReady(testCase: VitestTestCase): void {
    // Guarded in place (no closure): this and onTestCaseResult run for every test on Vitest's main thread.
    try {
      const run = this.ensureRun();
      if (!run) return;
      this.rememberTest(run, testCase);
      const ref = this.refOf(run, testCase);
      run.live.set(testCase, ref);
      run.core.testStarted(ref, 1);
      this.flushLogs(run, testCase.id);
    } catch (error) {
      // Never into Vitest (see guard).
      this.core?.adapterError('onTestCaseReady', error);
    }
  }

  /** Called when a test and its hooks finished, retries included: one `test.result` per attempt. */
  onTestCaseResult(testCase: VitestTestCase): void {
    try {
      const run = this.ensureRun();
      if (!run) return;
      this.rememberTest(run, testCase);
      this.finishTest(run, testCase);
    } catch (error) {
      // Never into Vitest (see guard).
      this.core?.adapterError('onTestCaseResult', error);
    }
  }

  /** Called before a hook runs; a beforeAll/afterAll is open (with its suite's error count) until it ends. */
  onHookStart(hook: VitestHookContext): void {
    this.guard(() => {
      const run = this.run;
      if (!run || (hook.name !== 'beforeAll' && hook.name !== 'afterAll')) return;
      run.openHooks.set(hook.entity.id, { name: hook.name, errors: errorsOf(hook.entity).length });
    });
  }

  /**
   * Called after a hook returned (never for one that threw: see openHooks). A beforeAll/afterAll that added
   * errors to its suite all the same failed: `hookFailed`. beforeEach/afterEach errors belong to the test's
   * own result and are reported with it.
   */
  onHookEnd(hook: VitestHookContext): void {
    this.guard(() => {
      const run = this.run;
      if (!run || (hook.name !== 'beforeAll' && hook.name !== 'afterAll')) return;
      const entity = hook.entity;
      const open = run.openHooks.get(entity.id);
      run.openHooks.delete(entity.id);
      if (open?.name !== hook.name || errorsOf(entity).length <= open.errors) return;
      const ref = entity.type === 'suite' ? this.suiteRef(entity) : this.fileRef(entity);
      for (const error of this.unreportedErrors(run, entity)) run.core.hookFailed(ref, error, hook.name);
    });
  }

  /**
   * Called when a suite finished: its errors are those of the beforeAll/afterAll that threw (the hook still
   * open), else errors no hook explains (a beforeAll's cleanup function that threw).
   */
  onTestSuiteResult(testSuite: VitestTestSuite): void {
    this.guard(() => {
      const run = this.run;
      if (!run) return;
      const hook = this.failedHook(run, testSuite);
      for (const error of this.unreportedErrors(run, testSuite)) {
        // tsc's error in a describe block, outside its tests (--typecheck): no hook's, the file's.
        if (!hook && isTypeCheckError(error))
          run.core.fileFailed(testSuite.module.moduleId, error, FILE_TYPE_ERROR);
        else run.core.hookFailed(this.suiteRef(testSuite), error, hook);
      }
    });
  }

  /**
   * Called for console output of the tests. Vitest sends logs right away but batches task updates,
   * so a log usually arrives before its test's `onTestCaseReady`: it is held until then.
   */
  onUserConsoleLog(log: VitestUserConsoleLog): void {
    this.guard(() => {
      const run = this.run;
      if (!run || this.options.captureOutput === false) return;
      const text = typeof log.content === 'string' ? log.content : String(log.content);
      const stream = log.type === 'stderr' ? 'stderr' : 'stdout';
      const taskId = typeof log.taskId === 'string' ? log.taskId : '';
      const entity = run.entities.get(taskId) ?? this.indexTests(run, taskId);
      if (entity && (entity.type !== 'test' || run.live.has(entity) || this.finished(run, entity))) {
        this.emitLog(run, entity, { text, stream });
        return;
      }
      if (run.heldCount >= MAX_HELD_LOGS) {
        // Bounded: past the limit, output goes out unattributed rather than being held.
        run.core.output(undefined, text, stream);
        return;
      }
      const held = run.heldLogs.get(taskId);
      if (held) held.push({ text, stream });
      else run.heldLogs.set(taskId, [{ text, stream }]);
      run.heldCount++;
    });
  }

  /** Vitest >= 4: the run's coverage, just before onTestRunEnd (only when coverage is enabled). */
  onCoverage(coverage: unknown): void {
    this.coverageMap = coverage;
  }

  /**
   * Vitest 3 calls this beside onTestRunEnd (both started at once) with the coverage map, and onCoverage only
   * after both; onTestRunEnd yields once so that the map is here when the run completes. Vitest 4 dropped it.
   */
  onFinished(_files?: unknown, _errors?: unknown, coverage?: unknown): void {
    if (coverage !== undefined) this.coverageMap = coverage;
  }

  /**
   * Called when the run finished (awaited by Vitest). Success follows Vitest's exit code: the run's
   * reason is `passed` and there is no unhandled error (unless `dangerouslyIgnoreUnhandledErrors`).
   */
  async onTestRunEnd(
    testModules: ReadonlyArray<VitestTestModule>,
    unhandledErrors: ReadonlyArray<VitestError>,
    reason: VitestRunEndReason,
  ): Promise<void> {
    // Vitest 3: its onFinished (with the coverage map) is called right after this returns its promise.
    if (this.vitest?.config.coverage?.enabled === true) await Promise.resolve();
    const run = this.run;
    const coverageMap = this.coverageMap;
    this.coverageMap = undefined;
    if (!run) return;
    this.run = undefined;
    let success = false;
    const errors = Array.isArray(unhandledErrors) ? unhandledErrors : [];
    // A worker that died: Vitest's error names no file, the file it died in is the one left pending.
    let crashes: WorkerCrashes = { files: [], runErrors: errors };
    // The tests each worker was running when it died (started, never ended): their error, and their title
    // paths by crashed file.
    const dying = new Map<VitestTestCase, VitestError>();
    const running = new Map<CrashedFile, string[][]>();
    this.guard(() => {
      crashes = placeWorkerCrashes(Array.isArray(testModules) ? testModules : [], errors);
      for (const crash of crashes.files) {
        const titlePaths: string[][] = [];
        for (const [test, ref] of run.live) {
          if (test.module.id !== crash.module.id) continue;
          dying.set(test, testCrashError(crash.error));
          titlePaths.push(ref.titlePath);
        }
        running.set(crash, titlePaths);
      }
    });
    this.guard(() => {
      const modules = testModules ?? [];
      // Every test of the run's modules (all counted) has finished: none to close, and no walk of them (~1 µs
      // a test, on the runner's thread while Vitest awaits this hook).
      const allFinished =
        run.finishedTests === run.countedTests &&
        modules.every((testModule) => run.counted.has(testModule.id));
      for (const testModule of modules) {
        this.collect(run, testModule);
        this.reportFileErrors(run, testModule);
        if (allFinished) continue;
        // Tests that never reported (bail, interrupt, a worker that died): publish what Vitest knows, i.e. they
        // did not run; the one a worker died in says so.
        for (const test of testsOf(testModule)) {
          if (!this.finished(run, test)) this.finishTest(run, test, dying.get(test));
        }
      }
      // Every module of the run is counted now: the total is known, however many were expected.
      if (run.counted.size < run.expectedModules) run.core.testsDiscovered(0, { final: true });
    });
    this.guard(() => {
      for (const [taskId] of run.heldLogs) this.flushLogs(run, taskId, true);
    });
    this.guard(() => {
      for (const crash of crashes.files) {
        const error = fileCrashError(crash.error, running.get(crash) ?? []);
        run.core.fileFailed(crash.module.moduleId, error, { code: 'WORKER_CRASHED' });
      }
      // runError and fileFailed also list each error in test.completed's `errors`.
      for (const error of crashes.runErrors)
        run.core.runError(
          withTypeCheckFrame(error),
          error.type === 'Unhandled Rejection' ? UNHANDLED_REJECTION : undefined,
        );
      const noFiles = noTestFilesError(this.vitest, testModules ?? [], errors, reason);
      if (noFiles) run.core.runError(noFiles, NO_TEST_FILES);
      const ignoreErrors = this.vitest?.config.dangerouslyIgnoreUnhandledErrors === true;
      success = reason === 'passed' && (errors.length === 0 || ignoreErrors);
    });
    this.guard(() => {
      if (!this.reportsCoverage(testModules)) return;
      const report = coverageReportOf(coverageMap, this.vitest?.config.coverage, this.vitest?.config.root);
      if (!report) return;
      run.core.coverage(report);
      // Vitest checks the thresholds after this hook and exits with 1 when one is not met.
      if (checkThresholds(report)?.passed === false) success = false;
    });
    try {
      let interruptedBy: string | undefined;
      this.guard(() => {
        if (bailed(this.vitest, reason, testModules ?? [])) interruptedBy = 'bail';
      });
      await run.core.runCompleted({
        success,
        rawStatus: typeof reason === 'string' ? reason : undefined,
        interrupted: reason === 'interrupted',
        ...(interruptedBy ? { interruptedBy } : {}),
      });
    } catch {
      // reporter-core bounds and guards its flush; nothing may reach Vitest regardless.
    }
  }

  // ---------------------------------------------------------------------------------------------------

  /**
   * Whether Vitest reports this run's coverage. It hands reporters the map either way, but after
   * onTestRunEnd its `reportCoverage` returns before writing any report or checking any threshold when a
   * task failed and `coverage.reportOnFailure` is off (the default): then no coverage.* figures either, and
   * the thresholds, unchecked, fail nothing. Vitest counts failed tasks in its state; a run's failed task
   * fails its module, so the modules tell the same where the state is missing.
   */
  private reportsCoverage(testModules: ReadonlyArray<VitestTestModule> | undefined): boolean {
    if (this.vitest?.config.coverage?.reportOnFailure === true) return true;
    const failedTasks = this.vitest?.state?.getCountOfFailedTests?.();
    if (typeof failedTasks === 'number') return failedTasks === 0;
    return !(testModules ?? []).some((testModule) => testModule.state() === 'failed');
  }

  private startRun(specifications: ReadonlyArray<VitestTestSpecification> | undefined): RunState | undefined {
    const vitest = this.vitest;
    const core = this.core;
    if (!vitest || !core?.enabled) return undefined;
    if (this.run) {
      // A run that never got its onTestRunEnd (cancelled, then rerun): close it rather than leave it open.
      // The completion event is queued synchronously; its flush need not hold up the new run.
      void core.runCompleted({ success: false, rawStatus: 'interrupted', interrupted: true });
    }
    const run: RunState = {
      core,
      expectedModules: specifications?.length ?? Number.POSITIVE_INFINITY,
      entities: new Map(),
      testsIndexed: false,
      counted: new Set(),
      countedTests: 0,
      finishedTests: 0,
      tests: new Map(),
      live: new Map(),
      heldLogs: new Map(),
      heldCount: 0,
      reportedErrors: new Map(),
      openHooks: new Map(),
    };
    this.run = run;
    const config = vitest.config;
    const shard = config.shard ? { current: config.shard.index, total: config.shard.count } : undefined;
    const projects = projectNamesOf(vitest);
    const testPatterns = testPatternsOf(vitest);
    core.runStarted({
      testFiles: testFilesOf(specifications),
      watch: config.watch === true,
      shard,
      options: {
        ...primitives({
          pool: config.pool,
          bail: config.bail,
          testTimeout: config.testTimeout,
          coverage: config.coverage?.enabled === true,
        }),
        ...(projects ? { projects } : {}),
      },
      ...(testPatterns ? { testPatterns } : {}),
      ...(typeof vitest.vite?.config?.configFile === 'string'
        ? { configPath: vitest.vite.config.configFile }
        : {}),
    });
    const coverage = config.coverage;
    if (coverage?.enabled === true) {
      // Vitest's workers hand their coverage to the provider, not to reporters: no coverage.progress.
      core.coverageStarted({
        provider: coverage.provider ?? 'v8',
        patterns: [...(coverage.include ?? []), ...(coverage.exclude ?? []).map((glob) => `!${glob}`)],
      });
    }
    return run;
  }

  /**
   * The files a sharded run (`--shard`) executes: Vitest hands every file to onTestRunStart and its pool then
   * keeps the shard's, which the same sequencer picks here. Undefined when that fails: the run's files are
   * then not listed up front, and its total is known at its end.
   */
  private async shardOf(
    specifications: ReadonlyArray<VitestTestSpecification>,
  ): Promise<ReadonlyArray<VitestTestSpecification> | undefined> {
    try {
      const Sequencer = this.vitest?.config.sequence?.sequencer;
      if (typeof Sequencer !== 'function') return undefined;
      return await new Sequencer(this.vitest as never).shard([...specifications]);
    } catch (error) {
      this.core?.adapterError('sharding the run', error);
      return undefined;
    }
  }

  /** A hook before `onTestRunStart` (not expected from Vitest >= 3) still gets a run. */
  private ensureRun(): RunState | undefined {
    return this.run ?? this.startRun(undefined);
  }

  /** The user's options as given (reporter-core names unknown ones), plus what only Vitest knows. */
  private coreOptions(vitest: VitestContext): ReporterCoreOptions {
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.options)) {
      if (value !== undefined) options[key] = value;
    }
    return {
      ...options,
      framework: 'vitest',
      // Tests run in workers (threads or forks): a hung test never blocks this thread.
      testsOffThread: true,
      frameworkVersion: typeof vitest.version === 'string' ? vitest.version : undefined,
      rootDir: vitest.config.root,
    };
  }

  private remember(run: RunState, entity: VitestEntityNode): boolean {
    const known = run.entities.has(entity.id);
    run.entities.set(entity.id, entity);
    // Output held for a task that was not known yet (logged while its file was being collected).
    if (!known && entity.type !== 'test') this.flushLogs(run, entity.id);
    return known;
  }

  private rememberTest(run: RunState, testCase: VitestTestCase): void {
    if (run.testsIndexed && !run.entities.has(testCase.id)) run.entities.set(testCase.id, testCase);
  }

  /** The first log of a task that is not a module: suites and tests are remembered from now on. */
  private indexTests(run: RunState, taskId: string): VitestEntityNode | undefined {
    if (run.testsIndexed) return undefined;
    run.testsIndexed = true;
    const modules = [...run.entities.values()].filter((entity) => entity.type === 'module');
    for (const testModule of modules) {
      for (const suite of testModule.children.allSuites()) this.remember(run, suite);
      for (const test of testsOf(testModule)) this.rememberTest(run, test);
    }
    return run.entities.get(taskId);
  }

  /** Learns a module's suites and tests; the first time, grows the run's known total. */
  private collect(run: RunState, testModule: VitestTestModule): void {
    this.remember(run, testModule);
    if (run.counted.has(testModule.id)) return;
    // One walk of the file's tests (Vitest's collections are generators): counted, numbered, and remembered
    // with the file's suites once a log needs them.
    if (run.testsIndexed) for (const suite of testModule.children.allSuites()) this.remember(run, suite);
    const tests = testsOf(testModule);
    const count = tests.length;
    if (run.testsIndexed) for (const test of tests) this.rememberTest(run, test);
    // A module with no tests yet may still be collecting: count it when its tests are there.
    if (count === 0 && testModule.state() === 'queued') return;
    // Each test's ref, made here in the same walk (its ordinal among tests sharing its title path).
    numberTwins(tests, (test, ordinal) => {
      if (!run.tests.has(test)) run.tests.set(test, ordinal * 2);
    });
    run.counted.add(testModule.id);
    run.countedTests += count;
    const final = run.counted.size >= run.expectedModules;
    if (count > 0 || final) run.core.testsDiscovered(count, final ? { final } : undefined);
  }

  /** Publishes the test's result; `diedWith`: the error of a worker that died while it ran (its last attempt's). */
  private finishTest(run: RunState, testCase: VitestTestCase, diedWith?: VitestError): void {
    const known = run.tests.get(testCase);
    if (known !== undefined && (known & FINISHED) !== 0) return;
    const ordinal = this.ordinalOf(run, testCase, known);
    const ref = run.live.get(testCase) ?? this.makeRef(testCase, ordinal);
    run.live.delete(testCase);
    this.flushLogs(run, testCase.id);
    const outcomes = outcomesOf(testCase);
    const last = outcomes.at(-1);
    if (last) withAnnotations(last, testCase);
    if (last && diedWith) last.errors = [...(last.errors ?? []), diedWith];
    for (const outcome of outcomes) {
      // A retry starts again: the stream shows attempt n running before its result.
      if ((outcome.attempt ?? 1) > 1) run.core.testStarted(ref, outcome.attempt);
      run.core.testResult(ref, outcome);
    }
    run.tests.set(testCase, (ordinal * 2) | FINISHED);
    run.finishedTests++;
  }

  private emitLog(run: RunState, entity: VitestEntityNode, log: HeldLog): void {
    if (entity.type === 'test') run.core.output(this.refOf(run, entity), log.text, log.stream);
    else run.core.output(this.fileRef(entity), log.text, log.stream);
  }

  /**
   * Publishes the logs held for a task once it is known (a test: once it has started).
   * `force` at the end of the run: what is still unknown goes out unattributed.
   */
  private flushLogs(run: RunState, taskId: string, force = false): void {
    if (run.heldCount === 0) return;
    const held = run.heldLogs.get(taskId);
    if (!held) return;
    const entity = run.entities.get(taskId);
    if (!force && !entity) return;
    run.heldLogs.delete(taskId);
    run.heldCount -= held.length;
    for (const log of held) {
      if (entity) this.emitLog(run, entity, log);
      else run.core.output(undefined, log.text, log.stream);
    }
  }

  /** The test's ref: the one it started with while it runs, else a new one. */
  private refOf(run: RunState, testCase: VitestTestCase): TestRef {
    return run.live.get(testCase) ?? this.makeRef(testCase, this.ordinalOf(run, testCase));
  }

  /** Its twin ordinal: numbered when its file was collected, else now (a test its tree did not hold then). */
  private ordinalOf(run: RunState, testCase: VitestTestCase, known = run.tests.get(testCase)): number {
    return known !== undefined ? known >> 1 : this.twins.of(testCase);
  }

  private finished(run: RunState, testCase: VitestTestCase): boolean {
    return ((run.tests.get(testCase) ?? 0) & FINISHED) !== 0;
  }

  private makeRef(testCase: VitestTestCase, ordinal: number): TestRef {
    const ref: TestRef = {
      file: testCase.module.moduleId,
      titlePath: [...this.suiteTitles.of(testCase.parent), testCase.name],
    };
    // Only the fields there are: the ref crosses to the reporter's thread at every test.
    const project = testCase.project?.name;
    if (project) ref.project = project;
    const location = testCase.location;
    if (location?.line !== undefined) ref.line = location.line;
    if (location?.column !== undefined) ref.column = location.column;
    if (ordinal > 0) ref.ordinal = ordinal;
    return ref;
  }

  private suiteRef(suite: VitestTestSuite): TestRef {
    return {
      file: suite.module.moduleId,
      titlePath: [...titlesOf(suite.parent), suite.name],
      project: suite.project?.name || undefined,
    };
  }

  /** Output of a suite or module (logged in a hook or at import) belongs to the file, not to a test. */
  private fileRef(entity: VitestTestSuite | VitestTestModule): TestRef {
    const file = entity.type === 'module' ? entity.moduleId : entity.module.moduleId;
    return { file, titlePath: [], project: entity.project?.name || undefined };
  }

  /**
   * Errors of a file: those of its own beforeAll/afterAll that threw (the hook still open), else errors no
   * hook explained: the import failed, a describe callback threw, no test.
   */
  private reportFileErrors(run: RunState, testModule: VitestTestModule): void {
    const errors = this.unreportedErrors(run, testModule);
    if (errors.length === 0) return;
    const hook = this.failedHook(run, testModule);
    for (const error of errors) {
      if (hook) run.core.hookFailed(this.fileRef(testModule), error, hook);
      else
        run.core.fileFailed(
          testModule.moduleId,
          error,
          isTypeCheckError(error) ? FILE_TYPE_ERROR : undefined,
        );
    }
  }

  /** The beforeAll/afterAll of a suite/module that started and never ended: it threw. Forgotten once asked. */
  private failedHook(
    run: RunState,
    entity: VitestTestSuite | VitestTestModule,
  ): 'beforeAll' | 'afterAll' | undefined {
    const open = run.openHooks.get(entity.id);
    run.openHooks.delete(entity.id);
    return open?.name;
  }

  private unreportedErrors(run: RunState, entity: VitestTestSuite | VitestTestModule): VitestError[] {
    const errors = errorsOf(entity);
    const reported = run.reportedErrors.get(entity.id) ?? 0;
    if (errors.length <= reported) return [];
    run.reportedErrors.set(entity.id, errors.length);
    return errors.slice(reported);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      // Never into Vitest: a reporter bug must not change the run's outcome or output (said with TESTWIRE_DEBUG).
      this.core?.adapterError('a Vitest hook', error);
    }
  }
}

function errorsOf(entity: VitestTestSuite | VitestTestModule): VitestError[] {
  return typeof entity.errors === 'function' ? entity.errors().map(withTypeCheckFrame) : [];
}

/** Describe blocks from the module down to (and including) `parent`. */

/** Keeps only JSON primitives (config values can be functions or objects). */
function primitives(values: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(values)) {
    if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      out[key] = value;
    }
  }
  return out;
}
