/**
 * The core: applies the call log (calls.ts) — one call at a time, each with its own time and run id — and
 * turns it into events: run state, identity, progress, failures, coverage, the run's completion and its
 * bounded final flush. It runs wherever the calls are taken: on the reporter's worker thread in production
 * (thread.ts), in the runner's thread with a `sink` or TESTWIRE_THREAD=off; the same class either way.
 *
 *   CoreCall ─> apply() ─> run state (RunStateStore counts; running tests, progress here)
 *                      └─> send(type, data, at, runId): the envelope, built once ─> Delivery ─> broadcaster
 */
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  type CoverageTotals,
  type EventDataMap,
  type EventEnvelope,
  type EventType,
  emptyCounts,
  type PublishedEvent,
  type RunInfo,
  RunStateStore,
  summaryOfCounts,
  type TestError,
  type TestStatus,
} from '@testwire/protocol';
import { version as VERSION } from '../package.json';
import type { PerformanceSample, RunStartInfo, TestRef } from './api.js';
import { RunBaseline } from './baseline/run-baseline.js';
import { loadBroadcaster } from './broadcaster-loader.js';
import type { CallOf, CoreCall } from './calls.js';
import { checkThresholds, cleanCoverageReport, coverageCompleted } from './coverage.js';
import { CoverageProgress } from './coverage-progress.js';
import { type BroadcasterLike, type ConnectOptions, Delivery } from './delivery.js';
import { detectCi, projectOf } from './environment.js';
import { type FrameworkErrorSource, frameworkErrorData } from './framework-errors.js';
import { type DetectedFramework, detectFrameworks, displayPath, projectDirOf } from './frameworks.js';
import { HealthMonitor } from './health.js';
import {
  type BeaconCounts,
  HungWatch,
  type RunningEntry,
  readBeacon,
  readBeaconCounts,
  type Watched,
} from './hung.js';
import { Identities, positiveInt, type TestIdentity } from './identity.js';
import { PathRelativizer } from './ids.js';
import { internalErrorReporter } from './internal-error.js';
import { LeakDetector } from './leak.js';
import { interruptedData, stepData } from './live-events.js';
import { lossEventData, lossLine, type RunLoss, runLoss } from './loss.js';
import type { ResolvedOptions } from './options.js';
import { ProgressSampler } from './progress.js';
import { redisTarget } from './redis-loader.js';
import { stripAnsi, truncate } from './text.js';

/**
 * The statuses a result can have, each word to its own constant: a status that crossed from the runner's
 * thread is a string of its own per test, and the run state keeps every test's, so it keeps the constant.
 */
const TEST_STATUSES = new Map<string, TestStatus>(
  (['passed', 'failed', 'skipped', 'todo'] as const).map((status) => [status, status]),
);

/** The errors of a test that passed or was skipped (shared: nothing adds to it). */
const NO_ERRORS: TestError[] = [];

/** Maximum size of one test.output event's text: a longer write goes out in several, cut after a line. */
const MAX_OUTPUT = 64 * 1024;
/**
 * Most of one write streamed (1 MiB, 16 events): the rest is cut, and its last event says how much. Vitest
 * hands over a test's whole console output as one write.
 */
const MAX_OUTPUT_PER_WRITE = 16 * MAX_OUTPUT;

/**
 * Bounds on what one event lists, so that it stays well under the broadcaster's MAX_EVENT_BYTES (2 MiB; a
 * larger event is refused): errors of one test attempt, and of the run in test.completed (one error is at
 * most ~50 KB of JSON: errors.ts ERROR_LIMITS), and the files test.started names.
 */
const MAX_ERRORS = 20;
const MAX_TEST_FILES = 10_000;

/** What a host tells the core, or learns from it. */
export interface CoreHooks {
  /** Called once the broadcaster is obtained (a core on a worker thread tells the runner's thread its URL). */
  onBroadcaster?: (broadcaster: BroadcasterLike) => void;
  /**
   * A run lost events (see loss.ts): by default one line on this thread's stderr; a core on a worker thread
   * hands it to the runner's thread, which writes the line before the process can exit.
   */
  onLoss?: (loss: RunLoss) => void;
  /** The runner thread's test starts and results in shared memory (hung.ts): what the hung detector reads. */
  beacon?: SharedArrayBuffer;
  /**
   * Called after each scan of the hung detector, with the time it judged: an observer (a test) learns that a
   * state was looked at, so that "nothing was reported" means something.
   */
  onHungScan?: (now: number) => void;
}

interface RunState {
  runId: string;
  startedAt: number;
  totalKnown: boolean;
  knownTotal: number;
  /** A test.result of this run said failed (a later pass of that test may be flaky). */
  failedSeen: boolean;
  /** Sum of the final durations of passed and failed tests (performance.metrics' average). */
  totalDuration: number;
  /** Tests running now, by id: what a progress sample names, the hung detector watches. */
  running: Map<string, RunningEntry>;
  hung: HungWatch;
  /** Set by a signal (interrupt call): what test.completed says. */
  interruption?: { by: string; at: number; tests: Record<string, unknown>[] };
  /** Id of the test started last. */
  current: string | undefined;
  errors: TestError[];
  progress: ProgressSampler;
  coverage?: CoverageTotals;
  /** The run's baseline work (option `baseline`): compare as results arrive, compare/save at the end. */
  baseline?: RunBaseline;
  /** coverage.started's provider, and the coverage so far (coverage.progress). */
  coverageProvider?: string;
  coverageProgress?: CoverageProgress;
  /** Test files of the run, when the runner told them (coverage.progress' totalFiles). */
  testFiles: number;
  leaks: LeakDetector;
  /**
   * The run's first system.health is owed: it is sent at the first call that is no part of the run's start
   * (see apply), so that it tells what the adapter set up with the start (coverage, the known total).
   */
  healthDue: boolean;
}

export class Core {
  private readonly internalError: (where: string, error: unknown) => void;
  private readonly paths: PathRelativizer;
  private readonly identities: Identities;
  private readonly project: string | undefined;
  private readonly rootName: string;
  private readonly delivery: Delivery;
  /** The one place that counts: test results in, counts out (the same reducer as every consumer's). */
  private readonly store = new RunStateStore({ maxCompletedRuns: 0 });
  private run: RunState | undefined;
  /** Final flushes still running (settle() waits for them). */
  private readonly completing = new Set<Promise<void>>();
  /** Timestamp of the last event (a burst of events shares the millisecond, hence the string). */
  private lastStampMs = -1;
  private lastStamp = '';
  /** framework.detected's frameworks: read once per core (a watch-mode rerun reads no file). */
  private detected: DetectedFramework[] | undefined;
  /** The reporter's option problems are told once, at the first run. */
  private optionProblemsTold = false;
  private readonly health: HealthMonitor;
  /** Epoch ms of the last call applied, and the runner's last heap sample: what system.health reads. */
  private lastCallAt = Date.now();
  private lastHeap: { used: number; total: number } | undefined;
  /**
   * testStarted and testResult calls applied (the beacon counts the runner's: more there = calls recorded
   * that wait in a batch not posted yet, e.g. while a test blocks the runner's thread).
   */
  private startsApplied = 0;
  private resultsApplied = 0;
  /** The start read from the beacon while unseen here, by its count (keeps its `hung` mark). */
  private beaconStart: { count: number; entry: RunningEntry } | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly hooks: CoreHooks = {},
  ) {
    this.internalError = internalErrorReporter(options.debug);
    this.paths = PathRelativizer.forRoot(options.rootDir);
    this.project = projectOf(options);
    this.identities = new Identities(options.framework, this.project, this.paths);
    this.rootName = basename(options.rootDir);
    this.delivery = new Delivery(options.maxBufferedEvents, (where, error) =>
      this.internalError(where, error),
    );
    this.health = new HealthMonitor(options.healthIntervalMs, VERSION, () =>
      this.guard('health', () => this.sendHealth(Date.now())),
    );
    if (options.sink) this.delivery.useSink(options.sink);
    // Load the broadcaster and bind or join now, while the runner is still starting up (collecting
    // files, spawning workers): the connection is then ready when the first events come, and the final
    // flush of a short run does not wait for it.
    else this.connect();
  }

  /** The broadcaster's URL once obtained (undefined with a sink or while connecting). */
  get url(): string | undefined {
    return this.delivery.current?.url;
  }

  /** The stable id of a test (the same the test's events carry). */
  idFor(test: TestRef): string {
    return this.identities.of(test).id;
  }

  /** Applies one call. Never throws: an internal error is reported (TESTWIRE_DEBUG) and the call skipped. */
  apply(call: CoreCall): void {
    try {
      this.lastCallAt = call.at;
      if (call.method === 'runStarted') {
        this.startRun(call.info, call.at, call.runId);
        return;
      }
      // A call of a run this core has not seen start (it cannot happen through the recorder): start it.
      const run = this.run?.runId === call.runId ? this.run : this.startRun({}, call.at, call.runId);
      // The run's first health, once what the adapter does at a run's start has been applied.
      if (
        run.healthDue &&
        call.method !== 'testsDiscovered' &&
        call.method !== 'fileStarted' &&
        call.method !== 'coverageStarted'
      )
        this.sendHealth(call.at, run);
      switch (call.method) {
        case 'testsDiscovered':
          this.testsDiscovered(run, call);
          break;
        case 'fileStarted':
          break; // the file's tests announce themselves; nothing to send until then
        case 'testStarted':
          this.testStarted(run, call);
          break;
        case 'testResult':
          this.testResult(run, call);
          break;
        case 'output':
          this.output(call);
          break;
        case 'fileFailed':
          this.fileFailed(run, call);
          break;
        case 'hookFailed':
          this.hookFailed(run, call);
          break;
        case 'runError':
          this.runError(run, call);
          break;
        case 'coverage':
          this.coverage(run, call);
          break;
        case 'runCompleted':
          this.runCompleted(run, call);
          break;
        case 'performanceSample':
          this.performanceSample(run, call.sample, call.at);
          break;
        case 'frameworkError':
          this.frameworkError(run, 'adapter', call.error, call.at, call.info);
          break;
        case 'coverageStarted':
          this.coverageStarted(run, call);
          break;
        case 'coverageProgress':
          this.coverageProgress(run, call);
          break;
        case 'heapSample': {
          const file = this.paths.file(call.sample.file);
          const leak = run.leaks.add(call.sample, file);
          if (leak) this.emit('performance.leak', leak, call.at, run.runId);
          break;
        }
        case 'leak': {
          const { file, ...leak } = call.leak;
          const data = file === undefined ? leak : { ...leak, file: this.paths.file(file) };
          this.emit('performance.leak', { ...data, size: leak.size ?? 0 }, call.at, run.runId);
          break;
        }
        case 'testStep':
          this.send(
            'test.step',
            stepData(this.testData(this.identities.of(call.test)), call.step, this.paths),
            call.at,
            run.runId,
          );
          break;
        case 'interrupt':
          run.interruption ??= { by: call.signal, at: call.at, tests: this.runningTests(run, call.at) };
          break;
      }
    } catch (error) {
      this.internalError(call?.method ?? 'apply', error);
    }
  }

  /** Resolves once every run completed so far has been flushed (each flush bounds itself). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.completing]);
  }

  // -------------------------------------------------------------------------------------------------------

  private startRun(info: RunStartInfo, at: number, runId: string): RunState {
    if (this.run) {
      this.run.progress.stop();
      this.run.hung.stop();
    }
    const running = new Map<string, RunningEntry>();
    const totalKnown = typeof info.totalTests === 'number' && Number.isFinite(info.totalTests);
    const run: RunState = {
      runId,
      startedAt: at,
      healthDue: false,
      totalKnown,
      knownTotal: totalKnown ? Math.max(0, Math.floor(info.totalTests as number)) : 0,
      totalDuration: 0,
      failedSeen: false,
      running,
      hung: new HungWatch(
        this.options.hungTestThreshold,
        (now) => this.watched(run, now),
        (entry, elapsed, threshold) => this.reportHung(run, entry, elapsed, threshold),
        (body) => this.guard('hung', body),
        this.hooks.onHungScan,
      ),
      current: undefined,
      errors: [],
      testFiles: Array.isArray(info.testFiles) ? info.testFiles.length : 0,
      leaks: new LeakDetector(this.options.leakThresholdMb, this.options.leakMinFiles),
      progress: new ProgressSampler(
        this.options.progressIntervalMs,
        (now) => this.sendProgress(run, now),
        (body) => this.guard('progress', body),
      ),
    };
    this.run = run;
    this.connect();
    // The baseline file is read here, once per run, on the core's thread (the worker's, in production).
    const baseline = this.options.baseline;
    if (baseline)
      this.guard('baseline', () => {
        run.baseline = new RunBaseline(
          baseline,
          this.options.framework,
          this.project,
          this.options.rootDir,
          info.shard !== undefined,
          (message) => process.stderr.write(`testwire: ${message}\n`),
        );
      });

    const runInfo: RunInfo = {
      runId,
      framework: this.options.framework,
      startedAt: at,
      rootName: this.rootName,
      pid: process.pid,
      hostname: hostname(),
    };
    if (this.options.frameworkVersion) runInfo.frameworkVersion = this.options.frameworkVersion;
    if (this.project) runInfo.project = this.project;
    const shard = info.shard ?? this.options.shard;
    if (shard) runInfo.shard = shard;
    if (info.watch !== undefined) runInfo.watch = info.watch;
    const ci = detectCi();
    if (ci) runInfo.ci = ci;

    this.emit(
      'test.started',
      {
        totalTests: run.knownTotal,
        testFiles: (info.testFiles ?? []).slice(0, MAX_TEST_FILES).map((file) => this.paths.file(file)),
        // Plain already: the recorder reduced it to JSON primitives.
        ...(info.options ? { options: info.options as Record<string, unknown> } : {}),
        totalKnown,
        run: runInfo,
      },
      at,
      runId,
    );
    this.frameworkDetected(info, at, runId);
    if (!this.optionProblemsTold && this.options.optionProblems?.length) {
      this.optionProblemsTold = true;
      for (const problem of this.options.optionProblems)
        this.frameworkError(run, 'adapter', { message: `testwire reporter: ${problem}` }, at, {
          code: 'REPORTER_OPTION_INVALID',
          severity: 'warning',
        });
    }
    if (this.health.enabled) {
      run.healthDue = true;
      this.health.start();
    }
    return run;
  }

  /** framework.detected: the project's frameworks, the active one with what its adapter knows. */
  private frameworkDetected(info: RunStartInfo, at: number, runId: string): void {
    this.detected ??= detectFrameworks(this.options.rootDir);
    const name = this.options.framework;
    const frameworks = this.detected.map((framework) => ({ ...framework }));
    let active = frameworks.find((framework) => framework.name === name);
    if (!active) {
      active = { name };
      frameworks.unshift(active);
    }
    if (this.options.frameworkVersion) active.version = this.options.frameworkVersion;
    if (info.configPath) {
      const configPath = displayPath(
        projectDirOf(this.options.rootDir),
        resolve(this.options.rootDir, info.configPath),
      );
      // Patterns read from another file (the default config beside the one the runner was given) are not
      // this run's: the adapter's, or none.
      if (configPath !== active.configPath) delete active.testPatterns;
      active.configPath = configPath;
    }
    if (info.testPatterns?.length) active.testPatterns = info.testPatterns;
    this.emit('framework.detected', { frameworks, active: name }, at, runId);
  }

  /** framework.error for an error outside the tests (file, run, hook or adapter). */
  private frameworkError(
    run: RunState,
    source: FrameworkErrorSource,
    error: TestError,
    at: number,
    info?: CallOf<'frameworkError'>['info'],
    file?: string,
  ): void {
    const where = file ?? (info?.file ? this.paths.file(info.file) : undefined);
    this.emit('framework.error', frameworkErrorData(source, error, info, where), at, run.runId);
  }

  private coverageStarted(run: RunState, call: CallOf<'coverageStarted'>): void {
    run.coverageProvider = call.info.provider;
    const totalKnown = typeof call.info.totalFiles === 'number' && call.info.totalFiles > 0;
    this.emit(
      'coverage.started',
      {
        provider: call.info.provider,
        totalFiles: totalKnown ? Math.floor(call.info.totalFiles as number) : 0,
        patterns: call.info.patterns ?? [],
        totalKnown,
      },
      call.at,
      run.runId,
    );
  }

  private coverageProgress(run: RunState, call: CallOf<'coverageProgress'>): void {
    run.coverageProgress ??= new CoverageProgress(Math.max(run.testFiles, call.totalTestFiles));
    const data = run.coverageProgress.add(call.coverage, this.paths.file(call.testFile));
    this.emit('coverage.progress', data, call.at, run.runId);
  }

  private sendHealth(at: number, run = this.run): void {
    if (run) run.healthDue = false;
    const counts = run ? this.counts(run) : undefined;
    const data = this.health.data(
      {
        running: run?.running.size ?? 0,
        completed: counts?.completed ?? 0,
        lastCallAt: this.lastCallAt,
        delivery: {
          url: this.url,
          starting: this.delivery.starting,
          buffered: this.delivery.buffered,
          dropped: this.delivery.dropped,
          sink: this.options.sink !== undefined,
        },
        coverage: run?.coverageProvider ? { provider: run.coverageProvider } : undefined,
        heap: this.lastHeap,
        sampling: this.options.performanceIntervalMs > 0,
      },
      at,
    );
    this.emit('system.health', data, at, run?.runId ?? '');
  }

  private testsDiscovered(run: RunState, call: CallOf<'testsDiscovered'>): void {
    const shown = (total: number) => Math.max(total, this.seenTests(run));
    const before = { total: shown(run.knownTotal), known: run.totalKnown };
    if (call.total !== undefined) run.knownTotal = Math.max(0, Math.floor(call.total));
    else if (Number.isFinite(call.count) && call.count > 0) run.knownTotal += Math.floor(call.count);
    if (call.final) run.totalKnown = true;
    // Consumers render "completed / total": tell them when the total moved or became final.
    if (shown(run.knownTotal) !== before.total || run.totalKnown !== before.known)
      run.progress.changed(call.at);
  }

  private testStarted(run: RunState, call: CallOf<'testStarted'>): void {
    const id = this.identities.of(call.test).id;
    const entry: RunningEntry = { ref: call.test, attempt: call.attempt, at: call.at };
    if (call.timeout !== undefined) entry.timeout = call.timeout;
    // Reported hung from the beacon before this call arrived: not twice.
    if (++this.startsApplied === this.beaconStart?.count && this.beaconStart.entry.hung) entry.hung = true;
    run.running.set(id, entry);
    run.current = id;
    run.progress.changed(call.at, true);
  }

  // testResult runs for every test: each event's data is built in one object (no spreads); most runs never
  // get this optimized, so every allocation and copy shows.
  private testResult(run: RunState, call: CallOf<'testResult'>): void {
    this.resultsApplied++;
    const { outcome, at } = call;
    const identity = this.identities.of(call.test);
    const id = identity.id;
    run.running.delete(id);
    const attempt = positiveInt(outcome.attempt) ?? 1;
    const duration = nonNegative(outcome.duration);
    const timedOut = outcome.timedOut === true;
    // An adapter's table maps every runner status; anything else is a bug that must not pass as green.
    const status: TestStatus = (!timedOut && TEST_STATUSES.get(outcome.status)) || 'failed';
    const errors: TestError[] =
      outcome.errors && outcome.errors.length > 0
        ? outcome.errors.slice(0, MAX_ERRORS)
        : timedOut || status === 'failed'
          ? []
          : NO_ERRORS; // never added to: only a failed or timed-out test gets one
    if (timedOut) markTimeout(errors, duration);
    if (status === 'failed' && errors.length === 0) {
      errors.push({ message: `Test failed (${outcome.rawStatus || 'no error reported by the runner'})` });
    }
    const willRetry = (status === 'failed' || status === 'skipped') && outcome.willRetry === true;
    // The runner's verdict when it gives one; else only a test this run saw fail can pass now after a failed
    // attempt (no lookup until one failed).
    const flaky =
      status === 'passed' &&
      (outcome.flaky ??
        (attempt > 1 || (run.failedSeen && this.store.test(run.runId, id)?.status === 'failed')));
    if (status === 'failed') {
      run.failedSeen = true;
      // A runner correcting the result of an attempt it already ended (jest 30 pins an error thrown after a
      // test ended on it, in the file's result: a passed test fails, a failed one gets one more error): the
      // attempt's duration counts once. Only failures look.
      const previous = willRetry ? undefined : this.store.test(run.runId, id);
      if (
        previous?.attempt === attempt &&
        (previous.status === 'passed' || previous.status === 'failed') &&
        !previous.willRetry
      )
        run.totalDuration -= previous.duration ?? 0;
    }
    if (!willRetry && (status === 'passed' || status === 'failed')) run.totalDuration += duration;

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
    if (typeof outcome.worker === 'string') data.worker = outcome.worker;
    if (run.baseline && !willRetry) {
      const compared = run.baseline.record(
        {
          id,
          test: identity.testName,
          titlePath: identity.titlePath,
          file: identity.file,
          ...(identity.project !== undefined ? { project: identity.project } : {}),
          status,
          duration,
        },
        status,
        duration,
      );
      if (compared) data.baseline = compared;
    }
    if (outcome.attachments && outcome.attachments.length > 0)
      data.attachments = attachmentsData(outcome.attachments, this.paths);
    if (outcome.annotations && outcome.annotations.length > 0)
      data.annotations = annotationsData(outcome.annotations, this.paths);
    if (outcome.benchmark) data.benchmark = outcome.benchmark;
    this.send('test.result', data, at, run.runId);
    // Its last attempt: nothing asks for its identity often any more (see Identities.forget).
    if (!willRetry) this.identities.forget(call.test);

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
      this.send('test.failed', failed, at, run.runId);
    }
    const threshold = this.options.slowTestThreshold;
    if (threshold > 0 && duration > threshold && status !== 'skipped' && status !== 'todo') {
      this.emit(
        'performance.bottleneck',
        {
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
        },
        at,
        run.runId,
      );
    }
    run.progress.changed(at);
  }

  /** `data` of an event about one test: framework, the test's identity, its project (the runner's, else the package's). */
  private testData(identity: TestIdentity): Record<string, unknown> {
    // One literal for the fields every such event has: one allocation, not one growth per field added.
    const data: Record<string, unknown> = {
      framework: this.options.framework,
      id: identity.id,
      titlePath: identity.titlePath,
      testName: identity.testName,
      suite: identity.suite,
      file: identity.file,
      location: identity.location,
    };
    if (identity.line !== undefined) data.line = identity.line;
    // The runner's project (playwright project, jest displayName) wins over the package's, as before.
    const project = identity.project ?? (this.project || undefined);
    if (project !== undefined) data.project = project;
    if (identity.repeatIndex !== undefined) data.repeatIndex = identity.repeatIndex;
    return data;
  }

  private output(call: CallOf<'output'>): void {
    const clean = truncate(stripAnsi(call.text), MAX_OUTPUT_PER_WRITE);
    if (clean.length <= MAX_OUTPUT) {
      if (clean.length > 0) this.outputEvent(call, clean);
      return;
    }
    for (let start = 0; start < clean.length; ) {
      let end = Math.min(clean.length, start + MAX_OUTPUT);
      if (end < clean.length) {
        const line = clean.lastIndexOf('\n', end - 1);
        if (line > start) end = line + 1;
        // Never between the two halves of a surrogate pair.
        else if (/[\uD800-\uDBFF]/.test(clean[end - 1])) end--;
      }
      this.outputEvent(call, clean.slice(start, end));
      start = end;
    }
  }

  private outputEvent(call: CallOf<'output'>, text: string): void {
    const outputType = call.stream === 'stderr' ? 'stderr' : 'stdout';
    const base = { output: text, outputType, stream: call.via || outputType } as const;
    const { test, at, runId } = call;
    if (test && test.titlePath.length > 0) {
      this.emit('test.output', { ...this.identities.of(test), ...base }, at, runId);
    } else if (test) {
      this.emit('test.output', { ...base, file: this.paths.file(test.file) }, at, runId);
    } else {
      this.emit('test.output', base, at, runId);
    }
  }

  private fileFailed(run: RunState, call: CallOf<'fileFailed'>): void {
    const relative = this.paths.file(call.file);
    run.errors.push(call.error);
    this.emit(
      'test.failed',
      {
        testName: relative,
        suite: '',
        status: 'failed',
        duration: 0,
        error: call.error,
        file: relative,
        scope: 'file',
      },
      call.at,
      run.runId,
    );
    this.frameworkError(run, 'file', call.error, call.at, call.info, relative);
  }

  private hookFailed(run: RunState, call: CallOf<'hookFailed'>): void {
    const { test, error, at } = call;
    const name = call.hook ? `"${call.hook}" hook` : 'hook';
    if (test && test.titlePath.length > 0) {
      const identity = this.identities.of(test);
      // A beforeAll/afterAll is outside its tests: the runner's own error, named after the test it stopped.
      if (call.hook && /all/i.test(call.hook))
        this.frameworkError(run, 'hook', error, at, undefined, identity.file);
      this.emit(
        'test.failed',
        {
          ...identity,
          testName: `${name} for "${identity.testName}"`,
          status: 'failed',
          duration: 0,
          error,
          scope: 'hook',
        },
        at,
        run.runId,
      );
      return;
    }
    run.errors.push(error);
    this.frameworkError(run, 'hook', error, at, undefined, test ? this.paths.file(test.file) : undefined);
    this.emit(
      'test.failed',
      {
        testName: name,
        suite: '',
        status: 'failed',
        duration: 0,
        error,
        file: test ? this.paths.file(test.file) : '',
        scope: 'hook',
      },
      at,
      run.runId,
    );
  }

  private runError(run: RunState, call: CallOf<'runError'>): void {
    run.errors.push(call.error);
    const { title, file } = call.info ?? {};
    this.emit(
      'test.failed',
      {
        testName: title || 'unhandled error',
        suite: '',
        status: 'failed',
        duration: 0,
        error: call.error,
        file: file ? this.paths.file(file) : '',
        scope: 'run',
      },
      call.at,
      run.runId,
    );
    this.frameworkError(run, 'run', call.error, call.at, call.info);
  }

  private coverage(run: RunState, call: CallOf<'coverage'>): void {
    const cleaned = cleanCoverageReport(call.report);
    const threshold = checkThresholds(cleaned, (file) => this.paths.file(file));
    if (threshold) this.emit('coverage.threshold', threshold, call.at, run.runId);
    const completed = coverageCompleted(cleaned, threshold);
    run.coverage = completed.summary;
    this.emit('coverage.completed', completed, call.at, run.runId);
  }

  private runCompleted(run: RunState, call: CallOf<'runCompleted'>): void {
    const { result, at } = call;
    // The bound runs from the call on the runner's thread: this core may apply it later than that.
    const deadline = at + this.options.flushTimeoutMs;
    // The last sample carries the final counts, before test.completed.
    run.progress.flush(at);
    run.progress.stop();
    this.health.stop();
    run.hung.stop();
    // Interrupted by a signal: the tests running then; by the runner alone: those still running now.
    const interrupted = result.interrupted === true || run.interruption !== undefined;
    const interruption = interrupted
      ? (run.interruption ?? { by: result.interruptedBy, tests: this.runningTests(run, at) })
      : undefined;
    for (const error of result.errors ?? []) {
      run.errors.push(error);
      this.frameworkError(run, 'adapter', error, at);
    }
    const counts = this.counts(run);
    const duration = result.duration ?? at - run.startedAt;
    const runBaseline = run.baseline;
    if (runBaseline)
      this.guard('baseline', () => {
        const summary = {
          total: counts.passed + counts.failed + counts.skipped + counts.todo,
          passed: counts.passed,
          failed: counts.failed,
          skipped: counts.skipped,
          todo: counts.todo,
          duration,
        };
        // Both before test.completed: they belong to the run, whose last event that stays.
        for (const event of runBaseline.finish(run.runId, at, summary, run.coverage))
          this.emit(event.type, event.data, at, run.runId);
      });
    this.emit(
      'test.completed',
      {
        summary: summaryOfCounts(counts, duration, result.success === true),
        ...(run.coverage ? { coverage: run.coverage } : {}),
        ...(result.rawStatus ? { rawStatus: result.rawStatus } : {}),
        ...(run.errors.length > 0 ? { errors: run.errors.slice(0, MAX_ERRORS) } : {}),
        ...(interruption ? interruptedData(interruption) : {}),
      },
      at,
      run.runId,
    );
    this.run = undefined;
    // The broadcaster stays open: a watch-mode rerun reuses it, and it never keeps the process alive.
    const flushed = this.deliverRun(run.runId, deadline).catch((error) =>
      this.internalError('runCompleted', error),
    );
    this.completing.add(flushed);
    void flushed.finally(() => this.completing.delete(flushed));
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
    if (this.hooks.onLoss) this.hooks.onLoss(loss);
    else process.stderr.write(lossLine(loss));
    this.emit('system.error', lossEventData(loss), Date.now(), '');
    // Only drops to tell: the connection works, so the notice can still go out within the bound.
    if (report.delivered) await this.delivery.flush(Math.max(0, deadline - Date.now()));
  }

  /** performance.bottleneck `hung_test` for a test still running past its threshold. */
  private reportHung(run: RunState, entry: RunningEntry, elapsed: number, threshold: number): void {
    const identity = this.identities.of(entry.ref);
    this.emit(
      'performance.bottleneck',
      {
        type: 'hung_test',
        testName: identity.testName,
        duration: elapsed,
        threshold,
        severity: 'high',
        suggestions: [
          'The test has not ended: look for an await that never settles, an endless loop or a missing done()',
          'Give the test a timeout so the runner ends it',
        ],
        id: identity.id,
        file: identity.file,
        elapsed,
        ...(identity.location ? { location: identity.location } : {}),
        titlePath: identity.titlePath,
        attempt: entry.attempt,
        ...(identity.project !== undefined ? { project: identity.project } : {}),
      },
      Date.now(),
      run.runId,
    );
  }

  /**
   * What the hung detector judges (hung.ts): each running test with the time until which it is known to run
   * — the last call applied, or now when the beacon counts no result that this core has not applied (one
   * waiting in a batch may be that test's: it ended, maybe long before now) — and the test the runner's thread
   * started last, until now, when this core has not applied its start and no result came after it.
   */
  private watched(run: RunState, now: number): Watched[] {
    const beacon = this.hooks.beacon;
    const counts = beacon ? readBeaconCounts(beacon) : undefined;
    // A read torn by a write counts as behind (the next scan reads again).
    const until = !beacon || (counts && counts.results <= this.resultsApplied) ? now : this.lastCallAt;
    const watched: Watched[] = [];
    for (const entry of run.running.values()) watched.push({ entry, until });
    const blocked = counts && this.unseenStart(counts);
    if (blocked) watched.push({ entry: blocked, until: now });
    return watched;
  }

  /**
   * The test start the runner's thread wrote in the beacon last, when this core has not applied it and no
   * result was written after it: the test running there now, whose calls wait (the thread may be blocked).
   */
  private unseenStart(
    counts: BeaconCounts | undefined = this.hooks.beacon && readBeaconCounts(this.hooks.beacon),
  ): RunningEntry | undefined {
    const beacon = this.hooks.beacon;
    if (!beacon || !counts || counts.starts <= this.startsApplied || counts.lastEnded) return undefined;
    if (this.beaconStart?.count !== counts.starts) {
      const read = readBeacon(beacon);
      // Another start written meanwhile: read again on the next scan.
      if (read?.count !== counts.starts) return undefined;
      this.beaconStart = read;
    }
    return this.beaconStart.entry;
  }

  /** The running tests at `at`, as test.completed lists them. */
  private runningTests(run: RunState, at: number): Record<string, unknown>[] {
    const tests: Record<string, unknown>[] = [];
    const entries = [...run.running.values()];
    const blocked = this.unseenStart();
    if (blocked) entries.push(blocked);
    for (const entry of entries) {
      const identity = this.identities.of(entry.ref);
      tests.push({
        id: identity.id,
        testName: identity.testName,
        titlePath: identity.titlePath,
        file: identity.file,
        ...(identity.location ? { location: identity.location } : {}),
        ...(identity.project !== undefined ? { project: identity.project } : {}),
        attempt: entry.attempt,
        elapsed: Math.max(0, at - entry.at),
      });
    }
    return tests;
  }

  private performanceSample(run: RunState, sample: PerformanceSample, at: number): void {
    this.lastHeap = { used: sample.memory.heapUsed, total: sample.memory.heapTotal };
    const counts = this.counts(run);
    const finished = counts.passed + counts.failed;
    this.emit(
      'performance.metrics',
      {
        ...sample,
        tests: {
          running: run.running.size,
          completed: counts.completed,
          averageDuration: finished > 0 ? Math.round(run.totalDuration / finished) : 0,
        },
      },
      at,
      run.runId,
    );
  }

  /** Sends a progress sample: naming the test started last if it still runs, else any running one. */
  private sendProgress(run: RunState, at: number): { running: boolean } {
    let current = run.current !== undefined ? run.running.get(run.current) : undefined;
    if (!current) {
      const first = run.running.values().next();
      current = first.done ? undefined : first.value;
    }
    const counts = this.counts(run);
    const total = Math.max(run.knownTotal, this.seenTests(run));
    const data: Record<string, unknown> = {
      framework: this.options.framework,
      ...(this.project ? { project: this.project } : {}),
      status: current ? 'running' : 'idle',
      // Below 1 while the total may still grow (vitest finds files as it goes): never "done" before it is.
      progress: total > 0 ? Math.min(run.totalKnown ? 1 : 0.99, counts.completed / total) : 0,
      completed: counts.completed,
      total,
      duration: at - run.startedAt,
      passed: counts.passed,
      failed: counts.failed,
      skipped: counts.skipped,
      todo: counts.todo,
      totalKnown: run.totalKnown,
    };
    if (current) {
      const identity = this.identities.of(current.ref);
      data.id = identity.id;
      data.titlePath = identity.titlePath;
      data.location = identity.location;
      data.testName = identity.testName;
      data.suite = identity.suite;
      data.file = identity.file;
      if (identity.project) data.project = identity.project;
    }
    this.send('test.progress', data, at, run.runId);
    return { running: current !== undefined };
  }

  private counts(run: RunState) {
    return this.store.counts(run.runId) ?? emptyCounts();
  }

  /**
   * Tests seen so far: finished plus running, where a retry of a test whose failed attempt already counts
   * as finished (jest without a known retry count) is not counted twice.
   */
  private seenTests(run: RunState): number {
    let running = 0;
    for (const id of run.running.keys()) {
      const state = this.store.test(run.runId, id);
      if (!state || state.status === 'running' || state.willRetry) running++;
    }
    return this.counts(run).completed + running;
  }

  private connect(): void {
    if (this.options.sink) return;
    const { port, host, url, apiKey } = this.options;
    const connectOptions: ConnectOptions = {};
    if (port !== undefined) connectOptions.port = port;
    if (host !== undefined) connectOptions.host = host;
    if (url !== undefined) connectOptions.url = url;
    if (apiKey !== undefined) connectOptions.apiKey = apiKey;
    // A shard of a CI run on many machines: its events go to the group's Redis stream instead.
    const shard = this.options.redisUrl ? redisTarget(this.options) : undefined;
    if (shard) {
      this.delivery.connect(async () => {
        this.hooks.onBroadcaster?.(shard);
        return shard;
      });
      return;
    }
    // async: a module that cannot be loaded becomes a rejection (events dropped, run unaffected).
    this.delivery.connect(async () => {
      const broadcaster = await loadBroadcaster().getBroadcaster(connectOptions);
      this.hooks.onBroadcaster?.(broadcaster);
      return broadcaster;
    });
  }

  /** Adds framework/project to `data` (every event carries them, so {project} filters work) and sends it. */
  private emit<T extends EventType>(
    type: T,
    data: Omit<EventDataMap[T], 'framework'> & { framework?: string },
    at: number,
    runId: string,
  ): void {
    const payload = {
      framework: this.options.framework,
      ...(this.project ? { project: this.project } : {}),
      ...data,
    };
    this.send(type, payload, at, runId);
  }

  /** The envelope, built once, here: queued for delivery, and counted when it changes the run's state. */
  private send(type: EventType, data: object, at: number, runId: string): void {
    if (at !== this.lastStampMs) {
      this.lastStampMs = at;
      this.lastStamp = new Date(at).toISOString();
    }
    const event = { type, runId, timestamp: this.lastStamp, data } as PublishedEvent;
    // The store reads an envelope; seq is the hub's to give (the store does not need it here).
    if (type === 'test.started' || type === 'test.result' || type === 'test.completed')
      this.store.update(event as EventEnvelope);
    this.delivery.push(event);
  }

  private guard(where: string, body: () => void): void {
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

function attachmentsData(
  attachments: readonly { name: string; contentType: string; path?: string; size?: number }[],
  paths: PathRelativizer,
): Record<string, unknown>[] {
  return attachments.map(({ name, contentType, path, size }) => {
    const item: Record<string, unknown> = { name: String(name), contentType: String(contentType) };
    // Relative to the root (`../test-results/…` beside a test dir); an absolute path never goes on the wire.
    const relative = path ? paths.file(path) : undefined;
    if (relative && !relative.startsWith('/') && !/^[A-Za-z]:/.test(relative)) item.path = relative;
    if (typeof size === 'number' && size >= 0) item.size = Math.floor(size);
    return item;
  });
}

function annotationsData(
  annotations: readonly { type: string; message: string; file?: string; line?: number; column?: number }[],
  paths: PathRelativizer,
): Record<string, unknown>[] {
  return annotations.map(({ type, message, file, line, column }) => {
    const item: Record<string, unknown> = { type: String(type), message: String(message) };
    if (file) {
      const location: Record<string, unknown> = { file: paths.file(file) };
      if (typeof line === 'number') location.line = line;
      if (typeof column === 'number') location.column = column;
      item.location = location;
    }
    return item;
  });
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

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
