/**
 * The reporter core on a thread of its own. A runner calls its reporter's hooks on the thread that runs
 * its tests (jest in band, mocha, and the vitest/playwright main process between worker messages): every
 * microsecond a hook spends there is added to the run. So the hooks only record the call; a worker thread
 * runs the core (ids, run state, progress, events) and the broadcaster (owning the port and serving the
 * subscribers, or joined to another process's owner).
 *
 *   runner thread (ThreadedCore)                    core thread (dist/core-worker.cjs)
 *   hook ─> core.testResult(ref, outcome)           Core (the same class as in-thread), sink-less:
 *     records [method, time, runId, ...args] ─(post)─> replays each call at its recorded time
 *     posted every BATCH_MS or BATCH_CALLS            └─> getBroadcaster(): own or join, unchanged
 *   runCompleted() ─> post + {await} ──────────────> runCompleted() (flush, bounded) ─> {done}
 *   PerformanceSampler (this thread's heap/CPU) ───> performanceSample()
 *                   <────────────────────────────── {ready, url}
 *   (every message names its core: {open}, {calls}, {await}, {close} carry `instance`)
 *
 * What must happen on the runner thread happens here: run ids (so `runId` is known at once), error
 * normalization (the runner's error objects do not cross threads), process sampling. One thread per
 * process, a Core on it per reporter core (a mocha --watch rerun makes a new reporter; its predecessor's
 * Core is closed once that reporter is garbage); the Worker is unref'd (like the broadcaster's sockets it
 * never keeps the process alive) and ref'd only while a runCompleted waits for its answer, bounded by
 * flushTimeoutMs.
 *
 * What a run lost on the way (loss.ts) comes back with the answer ({done, losses}), and this thread writes the
 * line on stderr: a worker's stderr is forwarded through this thread asynchronously and would be cut off by
 * the process's exit. No answer within the bound is said on stderr too.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TestError } from '@testwire/protocol';
import {
  type ReporterCore,
  type RunResultInfo,
  type RunStartInfo,
  type TestOutcome,
  type TestRef,
  toPlainOptions,
} from './core.js';
import { type CoverageReport, cleanCoverageReport } from './coverage.js';
import { internalErrorReporter, normalizeError } from './errors.js';
import { createRunId, PathRelativizer } from './ids.js';
import { lossLine, type RunLoss, silentThreadLine } from './loss.js';
import { type ReporterCoreOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { PerformanceSampler } from './performance.js';

/** A recorded call: method, epoch ms of the call, run id it belongs to, then the method's arguments. */
export type Call = [method: CallMethod, at: number, runId: string, ...args: unknown[]];
export type CallMethod =
  | 'runStarted'
  | 'testsDiscovered'
  | 'fileStarted'
  | 'testStarted'
  | 'testResult'
  | 'output'
  | 'fileFailed'
  | 'hookFailed'
  | 'runError'
  | 'coverage'
  | 'runCompleted'
  | 'performanceSample';

/**
 * Runner thread -> core thread. One thread per process serves every reporter core in it (`instance`): a
 * mocha --watch rerun constructs a new reporter, and must not leave a thread behind per run.
 */
export type ToCoreThread =
  | { type: 'open'; instance: number; options: ReporterCoreOptions }
  | { type: 'calls'; instance: number; calls: Call[] }
  | { type: 'await'; instance: number; id: number; signal?: SharedArrayBuffer }
  | { type: 'close'; instance: number };
export type FromCoreThread =
  | { type: 'ready'; instance: number; url: string | undefined }
  | { type: 'done'; instance: number; id: number; losses: RunLoss[] };

/**
 * The shared buffer of completeBeforeExit, whose thread cannot take messages while it waits:
 *   Int32 [0] flag (0 waiting, 1 done), Int32 [1] byte length of the JSON of the losses, then those bytes.
 */
export const SIGNAL_BYTES = 64 * 1024;
export const SIGNAL_HEADER = 8;

/**
 * Calls wait up to this long for company before they are posted: a post per call would cost more than the
 * call. The broadcaster batches again before the network (15 ms); a live view cannot tell.
 */
const BATCH_MS = 20;
const BATCH_CALLS = 500;
/** Ticks without a call before the batching interval stops (it restarts with the next call). */
const IDLE_TICKS = 50;
/**
 * How much longer than flushTimeoutMs runCompleted waits for the thread. The thread bounds its flush by the
 * time of the call, then answers; on a starved machine the answer itself takes a while to be scheduled.
 */
const ANSWER_MARGIN_MS = 1000;

/**
 * A core on its own thread for these options, or undefined: disabled (nothing to run), a `sink` (a function
 * cannot cross threads; the caller runs the core in-thread), TESTWIRE_THREAD=off, or no thread could start.
 */
export function createThreadedCore(
  input: ReporterCoreOptions,
  inThread: (options: ReporterCoreOptions) => ReporterCore,
): ReporterCore | undefined {
  const { options, problems } = resolveOptions(input);
  if (!options.enabled || options.sink) return undefined;
  const env = (input.env ?? process.env) as Record<string, string | undefined>;
  if (/^(0|false|off|no)$/i.test(env.TESTWIRE_THREAD ?? '')) return undefined;
  try {
    const thread = CoreThread.shared();
    if (!thread) return undefined;
    const core = new ThreadedCore(thread, input, options, inThread);
    if (problems.length > 0)
      process.stderr.write(`testwire: invalid reporter options: ${problems.join('; ')}\n`);
    return core;
  } catch {
    return undefined;
  }
}

/** dist/core-worker.cjs beside this module; from the sources (this package's own tests), the built one. */
function workerFile(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'core-worker.cjs'), join(here, '..', 'dist', 'core-worker.cjs')])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * The process's core thread: started by the first ThreadedCore, shared by the next ones, each a Core of its
 * own on it (`open` … `close`). Ref'd only while some runCompleted waits for it.
 */
class CoreThread {
  private static current: CoreThread | undefined;

  /** The running thread, or a new one; undefined when there is no built worker file. */
  static shared(): CoreThread | undefined {
    if (CoreThread.current && !CoreThread.current.dead) return CoreThread.current;
    const file = workerFile();
    if (!file) return undefined;
    CoreThread.current = new CoreThread(file);
    return CoreThread.current;
  }

  readonly worker: Worker;
  private nextInstance = 1;
  /** Weakly: a reporter the runner dropped (the last watch run's) is closed here once collected. */
  private readonly cores = new Map<number, WeakRef<ThreadedCore>>();
  private waiters = 0;
  dead = false;
  /** Closes a core on the thread once its ThreadedCore is garbage: nothing can call it any more. */
  private readonly closer = new FinalizationRegistry<number>((instance) => this.close(instance));

  private constructor(file: string) {
    // None of the runner's own flags (`--import tsx`, `--require ts-node/register`, loaders, an APM agent):
    // the thread runs built CommonJS and needs none of them. execArgv covers the command line; NODE_OPTIONS
    // Node parses again from the env of every Worker it starts, so the thread's env is the runner's without it.
    const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
    this.worker = new Worker(file, { execArgv: [], env });
    this.worker.on('message', (message: FromCoreThread) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(error.message));
    this.worker.on('exit', (code) => this.fail(`it exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  open(core: ThreadedCore, options: ReporterCoreOptions): number {
    const instance = this.nextInstance++;
    this.cores.set(instance, new WeakRef(core));
    this.closer.register(core, instance);
    this.post({ type: 'open', instance, options });
    return instance;
  }

  post(message: ToCoreThread): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /** While a runCompleted waits: the runner awaits the answer, and nothing else may keep its loop alive. */
  hold(): void {
    if (this.waiters++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.waiters === 0) this.worker.unref();
  }

  private close(instance: number): void {
    this.cores.delete(instance);
    try {
      this.post({ type: 'close', instance });
    } catch {}
  }

  private onMessage(message: FromCoreThread): void {
    this.cores.get(message.instance)?.deref()?.onMessage(message);
  }

  private fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    for (const core of this.cores.values()) core.deref()?.fail(why);
    this.cores.clear();
  }
}

class ThreadedCore implements ReporterCore {
  readonly enabled = true;
  /** Which of the thread's cores this is. */
  private readonly instance: number;
  private readonly paths: PathRelativizer;
  private readonly sampler: PerformanceSampler;
  private calls: Call[] = [];
  /** One unref'd interval while calls come (not a timer per batch: runners call hooks ms apart). */
  private ticker: ReturnType<typeof setInterval> | undefined;
  private idleTicks = 0;
  private currentRunId = createRunId();
  /** Mirrors the core's run phases (see Core.ensureRun): run ids are decided here. */
  private phase: 'idle' | 'running' | 'completed' = 'idle';
  /** testResult calls of the current run: what a silent thread may have left undelivered. */
  private results = 0;
  /** Runs whose loss was said on stderr (once per run, whichever way it became known). */
  private readonly told = new Set<string>();
  private broadcasterUrl: string | undefined;
  private nextAwait = 1;
  private readonly waiting = new Map<number, (losses?: RunLoss[]) => void>();
  private dead = false;
  /** As in the in-thread core: never into the runner; once per kind on stderr with TESTWIRE_DEBUG. */
  private readonly internalError: (where: string, error: unknown) => void;
  /** For idFor(): a core that only computes ids, made on first use. */
  private local?: ReporterCore;

  constructor(
    private readonly thread: CoreThread,
    private readonly input: ReporterCoreOptions,
    private readonly options: ResolvedOptions,
    private readonly inThread: (options: ReporterCoreOptions) => ReporterCore,
  ) {
    this.paths = PathRelativizer.forRoot(options.rootDir);
    this.internalError = internalErrorReporter(options.debug);
    const { sink: _sink, ...cloneable } = input;
    this.instance = thread.open(this, cloneable);
    this.sampler = new PerformanceSampler(options.performanceIntervalMs, (sample) =>
      this.record('performanceSample', sample),
    );
  }

  get runId(): string {
    return this.currentRunId;
  }

  get url(): string | undefined {
    return this.broadcasterUrl;
  }

  get flushTimeoutMs(): number {
    return this.options.flushTimeoutMs;
  }

  /** The core thread's id (`worker.threadId`): one per process, shared by its reporter cores. */
  get threadId(): number {
    return this.thread.worker.threadId;
  }

  idFor(test: TestRef): string {
    // The same id as the thread's core computes: the project as resolved here (env included).
    const { env: _env, ...rest } = this.input;
    this.local ??= this.inThread({ ...rest, project: this.options.project, env: {}, sink: () => {} });
    return this.local.idFor(test);
  }

  runStarted(info: RunStartInfo = {}): void {
    try {
      // What goes to the thread first: if reading `info` throws, no run was opened on either side.
      const plain: RunStartInfo = {};
      if (info.totalTests !== undefined) plain.totalTests = info.totalTests;
      if (Array.isArray(info.testFiles)) plain.testFiles = info.testFiles.map(String);
      if (info.options) plain.options = toPlainOptions(info.options);
      if (info.watch !== undefined) plain.watch = info.watch;
      if (info.shard) plain.shard = { current: info.shard.current, total: info.shard.total };
      this.openRun(true, true);
      this.record('runStarted', plain);
    } catch (error) {
      this.internalError('runStarted', error);
    }
  }

  testsDiscovered(count: number, options?: { final?: boolean }): void {
    try {
      this.openRun(true);
      this.record('testsDiscovered', count, options?.final === true ? { final: true } : undefined);
    } catch (error) {
      this.internalError('testsDiscovered', error);
    }
  }

  fileStarted(file: string): void {
    try {
      this.openRun(true);
      this.record('fileStarted', file);
    } catch (error) {
      this.internalError('fileStarted', error);
    }
  }

  testStarted(test: TestRef, attempt?: number): void {
    try {
      this.openRun(true);
      this.record('testStarted', test, attempt);
    } catch (error) {
      this.internalError('testStarted', error);
    }
  }

  testResult(test: TestRef, outcome: TestOutcome): void {
    try {
      this.openRun(true);
      this.results++;
      const errors = outcome?.errors;
      this.record(
        'testResult',
        test,
        errors && errors.length > 0 ? { ...outcome, errors: this.normalizeAll(errors) } : outcome,
      );
    } catch (error) {
      this.internalError('testResult', error);
    }
  }

  output(test: TestRef | undefined, text: string, stream: 'stdout' | 'stderr', method?: string): void {
    try {
      if (!this.options.captureOutput || !this.openRun(false)) return;
      this.record('output', test, typeof text === 'string' ? text : String(text), stream, method);
    } catch (error) {
      this.internalError('output', error);
    }
  }

  fileFailed(file: string, error: unknown): void {
    try {
      this.openRun(true);
      this.record('fileFailed', file, this.normalize(error));
    } catch (error) {
      this.internalError('fileFailed', error);
    }
  }

  hookFailed(test: TestRef | undefined, error: unknown, hook?: string): void {
    try {
      if (!this.openRun(false)) return;
      this.record('hookFailed', test, this.normalize(error), hook);
    } catch (error) {
      this.internalError('hookFailed', error);
    }
  }

  runError(error: unknown): void {
    try {
      if (!this.openRun(false)) return;
      this.record('runError', this.normalize(error));
    } catch (error) {
      this.internalError('runError', error);
    }
  }

  coverage(report: CoverageReport): void {
    try {
      if (!this.openRun(false)) return;
      // Plain data only: an adapter's report may hold getters of a runner object.
      this.record('coverage', cleanCoverageReport(report));
    } catch (error) {
      this.internalError('coverage', error);
    }
  }

  async runCompleted(result: RunResultInfo): Promise<void> {
    try {
      const completes = this.recordCompletion(result);
      const waitMs = this.options.flushTimeoutMs + ANSWER_MARGIN_MS;
      const losses = await this.answer(waitMs);
      if (completes !== undefined) this.tell(completes, losses, waitMs);
    } catch {
      // never into the runner
    }
  }

  completeBeforeExit(result: RunResultInfo): void {
    try {
      const completes = this.recordCompletion(result);
      if (!this.postAll()) return;
      // The thread runs on while this one sleeps: it replays, flushes, writes its losses, then flips the flag
      // and wakes us.
      const signal = new SharedArrayBuffer(SIGNAL_BYTES);
      const header = new Int32Array(signal, 0, 2);
      this.thread.post({ type: 'await', instance: this.instance, id: this.nextAwait++, signal });
      const waitMs = this.options.flushTimeoutMs + ANSWER_MARGIN_MS;
      Atomics.wait(header, 0, 0, waitMs);
      let losses: RunLoss[] | undefined;
      if (Atomics.load(header, 0) === 1) {
        const bytes = new Uint8Array(signal, SIGNAL_HEADER, Math.max(0, Atomics.load(header, 1)));
        // A copy: TextDecoder does not read shared memory.
        losses = bytes.length > 0 ? (JSON.parse(new TextDecoder().decode(bytes.slice())) as RunLoss[]) : [];
      }
      if (completes !== undefined) this.tell(completes, losses, waitMs);
    } catch {
      // never into the runner
    }
  }

  /**
   * Says on stderr what the run lost (losses from the thread's answer), or that the thread did not answer in
   * time (undefined): the thread's flush bound was reached, or the thread never got to the end of the run.
   */
  private tell(
    completed: { runId: string; results: number },
    losses: RunLoss[] | undefined,
    waitedMs: number,
  ): void {
    const say = (runId: string, line: string) => {
      if (this.told.has(runId)) return;
      if (this.told.size >= 100) this.told.clear();
      this.told.add(runId);
      process.stderr.write(line);
    };
    for (const loss of losses ?? []) say(loss.runId, lossLine(loss));
    // A thread that died said so already (fail).
    if (losses === undefined && !this.dead)
      say(
        completed.runId,
        silentThreadLine(
          completed.runId,
          this.broadcasterUrl ?? this.options.url,
          waitedMs,
          completed.results,
        ),
      );
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * The core's run phases, mirrored: a starting call opens a run when none is active (a new id after a
   * completed one: watch mode), a late non-starting call after the end is dropped (Core.ensureRun).
   */
  private openRun(starting: boolean, restart = false): boolean {
    if (this.phase === 'running' && !restart) return true;
    if (this.phase === 'completed' && !starting) return false;
    if (this.phase !== 'idle') this.currentRunId = createRunId();
    this.phase = 'running';
    this.results = 0;
    this.sampler.start();
    return true;
  }

  /**
   * The run's end, recorded once: its id and result count; undefined for a second call (it only waits for the
   * flush again).
   */
  private recordCompletion(result: RunResultInfo): { runId: string; results: number } | undefined {
    if (this.phase === 'completed') return undefined;
    this.openRun(true);
    this.phase = 'completed';
    this.sampler.stop();
    const plain: RunResultInfo = { success: result?.success === true };
    if (result?.rawStatus) plain.rawStatus = String(result.rawStatus);
    if (result?.interrupted) plain.interrupted = true;
    if (result?.errors?.length) plain.errors = this.normalizeAll(result.errors);
    this.record('runCompleted', plain);
    return { runId: this.currentRunId, results: this.results };
  }

  /** Runs in every hook: one array, no copies (the structured clone at post time copies). */
  private record(method: CallMethod, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    if (this.dead) return;
    this.calls.push([method, Date.now(), this.currentRunId, a, b, c, d]);
    if (this.calls.length >= BATCH_CALLS) this.post();
    else if (!this.ticker) {
      this.ticker = setInterval(this.tick, BATCH_MS);
      this.ticker.unref();
    }
  }

  private tick = (): void => {
    if (this.calls.length > 0) {
      this.idleTicks = 0;
      this.post();
    } else if (++this.idleTicks >= IDLE_TICKS) {
      this.stopTicker();
    }
  };

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.idleTicks = 0;
  }

  private post(): void {
    if (this.calls.length === 0 || this.dead) return;
    const calls = this.calls;
    this.calls = [];
    const instance = this.instance;
    try {
      this.thread.post({ type: 'calls', instance, calls });
    } catch {
      // Something an adapter passed cannot be cloned (a function in a ref): send what JSON keeps of it.
      try {
        this.thread.post({ type: 'calls', instance, calls: JSON.parse(JSON.stringify(calls)) });
      } catch (error) {
        this.fail(`a call could not be sent to it: ${(error as Error).message}`);
      }
    }
  }

  /** Posts everything recorded and stops the batching interval; false when the thread is gone. */
  private postAll(): boolean {
    this.post();
    this.stopTicker();
    return !this.dead;
  }

  /**
   * Posts what is recorded, then waits until the thread replayed it and finished every runCompleted: resolves
   * with what those runs lost, or undefined when the thread did not answer within `timeoutMs` (or is gone).
   */
  private answer(timeoutMs: number): Promise<RunLoss[] | undefined> {
    if (!this.postAll()) return Promise.resolve(undefined);
    const id = this.nextAwait++;
    this.thread.hold();
    return new Promise<RunLoss[] | undefined>((resolve) => {
      const done = (losses?: RunLoss[]): void => {
        clearTimeout(timer);
        if (this.waiting.delete(id)) this.thread.release();
        resolve(losses);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiting.set(id, done);
      this.thread.post({ type: 'await', instance: this.instance, id });
    });
  }

  onMessage(message: FromCoreThread): void {
    if (message.type === 'ready') this.broadcasterUrl = message.url;
    else if (message.type === 'done') this.waiting.get(message.id)?.(message.losses ?? []);
  }

  /** The thread is gone: nothing more is sent; a waiting runCompleted returns at once. */
  fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.calls = [];
    this.stopTicker();
    this.sampler.stop();
    try {
      process.stderr.write(
        `testwire: the reporter's thread stopped (${why}); run ${this.currentRunId} streams no more events\n`,
      );
    } catch {}
    for (const done of [...this.waiting.values()]) done();
  }

  private normalize(error: unknown): TestError {
    return normalizeError(error, this.paths);
  }

  private normalizeAll(errors: readonly unknown[]): TestError[] {
    return errors.map((error) => this.normalize(error));
  }
}
