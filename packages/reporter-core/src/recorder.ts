/**
 * The runner's side of the core: every ReporterCore hook becomes one CoreCall (calls.ts), handed to a
 * target — the core in this thread, or the reporter's worker thread (thread.ts). What must happen on the
 * runner's thread happens here and nowhere else: the run's phases and ids (so `runId` is known at once),
 * the time of each call, error normalization (the runner's error objects do not cross threads), options
 * and coverage reduced to plain data, and sampling this process's heap and CPU. Each hook costs a few
 * property reads and one push; everything else happens where the target runs.
 */
import { FLUSH_MARGIN_MS } from '@testwire/broadcaster/budget';
import type { TestError } from '@testwire/protocol';
import type {
  CoverageStartInfo,
  FrameworkErrorInfo,
  HeapSample,
  LeakInfo,
  ReporterCore,
  RunResultInfo,
  RunStartInfo,
  StepInfo,
  TestOutcome,
  TestRef,
} from './api.js';
import type { CoreCall, RecordedResult } from './calls.js';
import { type CoverageReport, cleanCoverageReport } from './coverage.js';
import { internalErrorReporter } from './internal-error.js';
import type { ResolvedOptions } from './options.js';
import { PerformanceSampler } from './performance.js';
import { type CallKind, RunPhases } from './run-phases.js';
import { INTERRUPTED, type Interruptible, unwatchSignals, watchSignals } from './signals.js';

/** Where recorded calls go. */
export interface CallTarget {
  /** Takes one call; calls are taken in the order they were made. */
  take(call: CoreCall): void;
  /**
   * Resolves once every call taken so far has been applied and every run they completed has been flushed,
   * or after `timeoutMs`. Never rejects.
   */
  settle(timeoutMs: number): Promise<void>;
  /** The same, blocking the calling thread (only a target on another thread can have it). */
  settleBlocking?(timeoutMs: number): void;
  /** The broadcaster's URL once known. */
  readonly url: string | undefined;
  /** The worker's thread id, when the calls are applied on one (one per process, shared by its reporters). */
  readonly threadId?: number;
}

export class Recorder implements ReporterCore, Interruptible {
  readonly enabled = true;
  private readonly stepCategories: Set<string>;
  private readonly phases = new RunPhases();
  private readonly sampler: PerformanceSampler;
  /** Never into the runner; once per kind on stderr with TESTWIRE_DEBUG. */
  private readonly internalError: (where: string, error: unknown) => void;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly target: CallTarget,
    /** A runner's error -> plain TestError (paths relative to the root, stack trimmed). */
    private readonly normalize: (error: unknown) => TestError,
    /** Stable ids on this thread (idFor), computed as the core computes them. */
    private readonly ids: (test: TestRef) => string,
  ) {
    this.internalError = internalErrorReporter(options.debug);
    this.stepCategories = new Set(options.stepCategories);
    this.sampler = new PerformanceSampler(options.performanceIntervalMs, (sample) => {
      if (this.phases.ended) return;
      this.target.take({ method: 'performanceSample', at: Date.now(), runId: this.phases.runId, sample });
    });
  }

  get runId(): string {
    return this.phases.runId;
  }

  get url(): string | undefined {
    return this.target.url;
  }

  /** The flush bound (signals.ts bounds a signal's flush by it). */
  get flushTimeoutMs(): number {
    return this.options.flushTimeoutMs;
  }

  get captureOutput(): boolean {
    return this.options.captureOutput;
  }

  get holdBoundMs(): number {
    return this.options.flushTimeoutMs + FLUSH_MARGIN_MS.adapter;
  }

  /** The worker thread applying this reporter's calls; undefined when they are applied in this thread. */
  get threadId(): number | undefined {
    return this.target.threadId;
  }

  idFor(test: TestRef): string {
    try {
      return this.ids(test);
    } catch (error) {
      this.internalError('idFor', error);
      return 't_0000000000000000';
    }
  }

  runStarted(info: RunStartInfo = {}): void {
    try {
      // Read first: if reading `info` throws, no run was opened.
      const plain: RunStartInfo = {};
      if (info.totalTests !== undefined) plain.totalTests = info.totalTests;
      if (Array.isArray(info.testFiles)) plain.testFiles = info.testFiles.map(String);
      if (info.options) plain.options = toPlainOptions(info.options);
      if (info.watch !== undefined) plain.watch = info.watch;
      if (info.shard) plain.shard = { current: info.shard.current, total: info.shard.total };
      if (Array.isArray(info.testPatterns)) plain.testPatterns = info.testPatterns.map(String);
      if (typeof info.configPath === 'string') plain.configPath = info.configPath;
      this.open('restart', plain);
    } catch (error) {
      this.internalError('runStarted', error);
    }
  }

  testsDiscovered(count: number, options?: { final?: boolean; total?: number }): void {
    try {
      if (!this.open('starting')) return;
      const total = Number(options?.total);
      this.take(
        Number.isFinite(total)
          ? { method: 'testsDiscovered', count, final: options?.final === true, total }
          : { method: 'testsDiscovered', count, final: options?.final === true },
      );
    } catch (error) {
      this.internalError('testsDiscovered', error);
    }
  }

  fileStarted(file: string): void {
    try {
      if (this.open('starting')) this.take({ method: 'fileStarted', file: String(file) });
    } catch (error) {
      this.internalError('fileStarted', error);
    }
  }

  testStarted(test: TestRef, attempt = 1, timeoutMs?: number): void {
    try {
      if (!this.open('starting')) return;
      // Stamped in the literal (see take): this and testResult run for every test.
      const at = Date.now();
      const runId = this.phases.runId;
      if (timeoutMs !== undefined && timeoutMs > 0)
        this.target.take({ method: 'testStarted', at, runId, test, attempt, timeout: timeoutMs });
      else this.target.take({ method: 'testStarted', at, runId, test, attempt });
    } catch (error) {
      this.internalError('testStarted', error);
    }
  }

  wantsStep(category: string): boolean {
    return this.stepCategories.has(category);
  }

  testStep(test: TestRef, step: StepInfo): void {
    try {
      if (!this.stepCategories.has(step.category) || !this.open('late')) return;
      const { error, ...plain } = step;
      this.take({
        method: 'testStep',
        test,
        step: error === undefined ? plain : { ...plain, error: this.normalize(error) },
      });
    } catch (error) {
      this.internalError('testStep', error);
    }
  }

  /** The process got `signal`, or exits (signals.ts): the core notes the running tests of the open run. */
  interrupt(signal: string): void {
    try {
      if (!this.phases.ended) this.take({ method: 'interrupt', signal });
    } catch (error) {
      this.internalError('interrupt', error);
    }
  }

  finishInterrupted(timeoutMs: number): Promise<void> {
    try {
      this.complete(INTERRUPTED);
      return this.target.settle(timeoutMs);
    } catch {
      return Promise.resolve();
    }
  }

  get finishInterruptedBlocking(): ((timeoutMs: number, result?: RunResultInfo) => void) | undefined {
    const blocking = this.completeBlocking();
    // Completed already (the runner ended the run on the signal): its flush may still be under way.
    return blocking && ((timeoutMs, result = INTERRUPTED) => blocking(result, timeoutMs));
  }

  testResult(test: TestRef, outcome: TestOutcome): void {
    try {
      if (!this.open('starting')) return;
      const errors = outcome?.errors;
      this.target.take({
        method: 'testResult',
        at: Date.now(),
        runId: this.phases.runId,
        test,
        outcome:
          errors && errors.length > 0
            ? { ...outcome, errors: this.normalizeAll(errors) }
            : (outcome as Omit<TestOutcome, 'errors'>),
      });
    } catch (error) {
      this.internalError('testResult', error);
    }
  }

  output(test: TestRef | undefined, text: string, stream: 'stdout' | 'stderr', method?: string): void {
    try {
      if (!this.options.captureOutput || !this.open('late')) return;
      this.take({
        method: 'output',
        test,
        text: typeof text === 'string' ? text : String(text),
        stream,
        ...(method ? { via: method } : {}),
      });
    } catch (error) {
      this.internalError('output', error);
    }
  }

  fileFailed(file: string, error: unknown, info?: FrameworkErrorInfo): void {
    try {
      if (!this.open('starting')) return;
      const normalized = this.normalize(error);
      this.take(
        info
          ? { method: 'fileFailed', file: String(file), error: normalized, info: plainInfo(info) }
          : { method: 'fileFailed', file: String(file), error: normalized },
      );
    } catch (error) {
      this.internalError('fileFailed', error);
    }
  }

  hookFailed(test: TestRef | undefined, error: unknown, hook?: string): void {
    try {
      if (!this.open('late')) return;
      this.take({ method: 'hookFailed', test, error: this.normalize(error), ...(hook ? { hook } : {}) });
    } catch (error) {
      this.internalError('hookFailed', error);
    }
  }

  runError(error: unknown, info?: FrameworkErrorInfo): void {
    try {
      if (!this.open('late')) return;
      const normalized = this.normalize(error);
      this.take(
        info
          ? { method: 'runError', error: normalized, info: plainInfo(info) }
          : { method: 'runError', error: normalized },
      );
    } catch (error) {
      this.internalError('runError', error);
    }
  }

  coverage(report: CoverageReport): void {
    try {
      // Plain data only: an adapter's report may hold getters of a runner object.
      if (this.open('late')) this.take({ method: 'coverage', report: cleanCoverageReport(report) });
    } catch (error) {
      this.internalError('coverage', error);
    }
  }

  frameworkError(error: unknown, info: FrameworkErrorInfo = {}): void {
    try {
      if (!this.open('late')) return;
      this.take({ method: 'frameworkError', error: this.normalize(error), info: plainInfo(info) });
    } catch (error) {
      this.internalError('frameworkError', error);
    }
  }

  coverageStarted(info: CoverageStartInfo): void {
    try {
      const plain: CoverageStartInfo = { provider: String(info?.provider ?? 'unknown') };
      if (typeof info?.totalFiles === 'number') plain.totalFiles = info.totalFiles;
      if (Array.isArray(info?.patterns)) plain.patterns = info.patterns.map(String);
      if (this.open('late')) this.take({ method: 'coverageStarted', info: plain });
    } catch (error) {
      this.internalError('coverageStarted', error);
    }
  }

  coverageProgress(testFile: string, coverage: unknown, totalTestFiles = 0): void {
    try {
      // Plain data already (istanbul's JSON form); it is summarized on the core's thread.
      if (coverage && typeof coverage === 'object' && this.open('late'))
        this.take({
          method: 'coverageProgress',
          testFile: String(testFile),
          coverage,
          totalTestFiles: Number(totalTestFiles) || 0,
        });
    } catch (error) {
      this.internalError('coverageProgress', error);
    }
  }

  heapSample(sample: HeapSample): void {
    try {
      if (this.options.leakThresholdMb <= 0 || !this.open('late')) return;
      const plain: HeapSample = { file: String(sample.file), heapUsed: Number(sample.heapUsed) };
      if (sample.worker !== undefined) plain.worker = String(sample.worker);
      if (sample.gcForced) plain.gcForced = true;
      this.take({ method: 'heapSample', sample: plain });
    } catch (error) {
      this.internalError('heapSample', error);
    }
  }

  leak(info: LeakInfo): void {
    try {
      if (!this.open('late')) return;
      // Plain strings and numbers only: the call may cross to the core's thread.
      const strings = (list: unknown) => (Array.isArray(list) ? list.map(String) : undefined);
      const plain: LeakInfo = {
        type: String(info.type),
        leakType: String(info.leakType),
        testName: String(info.testName),
        size: Number(info.size) || 0,
      };
      if (info.location !== undefined) plain.location = String(info.location);
      const stackTrace = strings(info.stackTrace);
      if (stackTrace) plain.stackTrace = stackTrace;
      const suggestions = strings(info.suggestions);
      if (suggestions) plain.suggestions = suggestions;
      if (info.file !== undefined) plain.file = String(info.file);
      this.take({ method: 'leak', leak: plain });
    } catch (error) {
      this.internalError('leak', error);
    }
  }

  adapterError(where: string, error: unknown): void {
    this.internalError(`the ${this.options.framework} adapter (${where})`, error);
  }

  async runCompleted(result: RunResultInfo): Promise<void> {
    try {
      this.complete(result);
      await this.target.settle(this.options.flushTimeoutMs + FLUSH_MARGIN_MS.settle);
    } catch {
      // never into the runner
    }
  }

  /**
   * For a runner that calls process.exit right after a hook (jest --forceExit): blocks this thread until the
   * target has flushed, bounded. Present only when the target runs on another thread.
   */
  get completeBeforeExit(): ((result: RunResultInfo) => void) | undefined {
    const blocking = this.completeBlocking();
    return (
      blocking &&
      ((result: RunResultInfo) => blocking(result, this.options.flushTimeoutMs + FLUSH_MARGIN_MS.settle))
    );
  }

  /** Completes the run (once) and blocks this thread until it is flushed; only a target on another thread can. */
  private completeBlocking(): ((result: RunResultInfo, timeoutMs: number) => void) | undefined {
    const settleBlocking = this.target.settleBlocking?.bind(this.target);
    if (!settleBlocking) return undefined;
    return (result, timeoutMs) => {
      try {
        this.complete(result);
        settleBlocking(timeoutMs);
      } catch {
        // never into the runner
      }
    };
  }

  // -------------------------------------------------------------------------------------------------------

  /** The run's end, recorded once (a second call only waits for the flush again). */
  private complete(result: RunResultInfo): void {
    if (this.phases.ended) return;
    this.open('starting');
    this.phases.complete();
    this.sampler.stop();
    if (this.options.handleSignals) unwatchSignals(this);
    const plain: RecordedResult = { success: result?.success === true };
    if (result?.rawStatus) plain.rawStatus = String(result.rawStatus);
    if (result?.interrupted) plain.interrupted = true;
    if (result?.interrupted && typeof result.interruptedBy === 'string' && result.interruptedBy)
      plain.interruptedBy = result.interruptedBy;
    const duration = result?.duration;
    if (typeof duration === 'number' && Number.isFinite(duration) && duration >= 0)
      plain.duration = Math.round(duration);
    if (result?.errors?.length) plain.errors = this.normalizeAll(result.errors);
    this.take({ method: 'runCompleted', result: plain });
  }

  /**
   * Places a call in a run (RunPhases); when it opens one, the target first gets its runStarted (with
   * `info` for runStarted itself, empty for a run a test or a file opened). False: the call is dropped.
   */
  private open(kind: CallKind, info: RunStartInfo = {}): boolean {
    const placed = this.phases.enter(kind);
    if (placed === 'opened') {
      this.take({ method: 'runStarted', info });
      this.sampler.start();
      if (this.options.handleSignals) watchSignals(this);
    }
    return placed !== undefined;
  }

  /**
   * Stamps a call with its time and run: one object, no copies. (testStarted and testResult stamp theirs in
   * the literal: two fields added to an object literal move its fields to a second allocation.)
   */
  private take(call: DistributiveOmit<CoreCall, 'at' | 'runId'>): void {
    const stamped = call as CoreCall;
    stamped.at = Date.now();
    stamped.runId = this.phases.runId;
    this.target.take(stamped);
  }

  private normalizeAll(errors: readonly unknown[]): TestError[] {
    return errors.map((error) => this.normalize(error));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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

/** What an adapter said of an error outside the tests, as plain data that crosses to the core's thread. */
function plainInfo(info: FrameworkErrorInfo): FrameworkErrorInfo {
  const plain: FrameworkErrorInfo = {};
  if (typeof info.code === 'string') plain.code = info.code;
  if (info.severity === 'warning' || info.severity === 'error') plain.severity = info.severity;
  if (typeof info.suggestion === 'string') plain.suggestion = info.suggestion;
  if (typeof info.file === 'string') plain.file = info.file;
  if (typeof info.title === 'string') plain.title = info.title;
  if (info.details) plain.details = toPlainOptions(info.details);
  return plain;
}
