/**
 * The reporter's worker thread, seen from the runner's thread. A runner calls its reporter's hooks on the
 * thread that runs its tests (jest in band, mocha, the vitest/playwright main process between worker
 * messages): every microsecond spent there is added to the run. So the recorder only records calls, and this
 * target batches them to a worker thread that applies them (core-worker.ts: the same Core as in-thread) and
 * runs the broadcaster (owning the port and serving subscribers, or joined to another process's owner).
 *
 *   runner thread                                   worker thread (dist/core-worker.cjs)
 *   Recorder ─take(call)─> ThreadTarget             Core per reporter: apply(call) for each call
 *     batched: BATCH_MS, or BATCH_CALLS ─(post)─> └─> getBroadcaster(): own or join
 *   runCompleted ─> settle(): {await} ─────────────> after the run's bounded flush ─> {done, losses}
 *                   <───────────────────────────── {ready, url}
 *
 * One worker per process, a Core on it per reporter; the Worker is unref'd (like the broadcaster's sockets it
 * never keeps the process alive) and ref'd only while a settle waits for its answer, bounded.
 *
 * A thread that cannot load its file (it fails before its `up` message) is no reason to stream nothing: the
 * calls each target posted meanwhile are kept until then, and on such a failure they, and every later call,
 * are applied in this thread instead, as with TESTWIRE_THREAD=off (ThreadTarget.fallBack), said once on stderr.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { builtFile } from './built-file.js';
import { CallEncoder, decodeCalls, type EncodedCalls } from './call-codec.js';
import type { CoreCall } from './calls.js';
import { BeaconWriter, createBeacon } from './hung.js';
import { lossLine, type RunLoss, silentThreadLine } from './loss.js';
import type { CallTarget } from './recorder.js';
import { threadEnv } from './thread-env.js';
import {
  createSignal,
  type FromCoreThread,
  type ThreadOptions,
  type ToCoreThread,
  waitForSignal,
} from './thread-wire.js';

/**
 * Calls wait up to this long for company before they are posted: a post per call would cost more than the
 * call, and every post wakes the reporter's thread. The broadcaster batches again before the network
 * (15 ms); a live view cannot tell. One timer per batch, started by its first call: none while no call waits.
 */
const BATCH_MS = 20;
/**
 * After a batch of fewer than SPARSE_CALLS calls (tests that take a while, or a performance sample alone), the
 * next waits up to this long: each post then carried a call or two, and the wakeups of both threads (a timer
 * here, a message there) cost more than the calls — on a virtual machine, hundreds of µs each.
 */
const SPARSE_BATCH_MS = 100;
const SPARSE_CALLS = 32;
const BATCH_CALLS = 500;
/** The reporter's thread's young generation, at most (see the Worker's resourceLimits below). */
const YOUNG_GENERATION_MB = 8;
/**
 * Values of the batches a target keeps while its thread starts (to apply them here if it cannot: fallBack), at
 * most; past it they are no longer kept. A start takes tens of ms, a few seconds on a loaded machine.
 */
const MAX_KEPT_VALUES = 2_000_000;

/**
 * Said once per process: the thread could not start, and the calls are applied in the runner's thread. Straight
 * to file descriptor 2, as the thread's own lines (worker-output.ts): it comes during the run, and what taps
 * the runner's process.stderr (mocha's output capture) would take it for a test's output.
 */
let toldUnstartable = false;
function tellUnstartable(why: string): void {
  if (toldUnstartable) return;
  toldUnstartable = true;
  // One line: the first of the error's message ("Cannot find module …", without Node's require stack).
  const line = `testwire: the reporter's thread could not start (${why.split('\n')[0]}); its work runs on the runner's thread instead, as with TESTWIRE_THREAD=off\n`;
  try {
    writeSync(2, line);
  } catch {
    try {
      process.stderr.write(line);
    } catch {}
  }
}

/**
 * The process's worker thread: started by the first ThreadTarget, shared by the next ones, each a Core of its
 * own on it (`open` … `close`). Ref'd only while some settle waits for it.
 */
class CoreThread {
  private static current: CoreThread | undefined;

  /** The running thread, if one was started. */
  static get started(): CoreThread | undefined {
    return CoreThread.current && !CoreThread.current.dead ? CoreThread.current : undefined;
  }

  /** Why the process's thread could not start (it failed before loading its file): no other is started. */
  static unstartable: string | undefined;

  /** The running thread, or a new one; undefined when there is no built worker file, or it cannot start. */
  static shared(): CoreThread | undefined {
    if (CoreThread.started) return CoreThread.started;
    if (CoreThread.unstartable !== undefined) return undefined;
    const file = builtFile('core-worker.cjs');
    if (!file) return undefined;
    CoreThread.current = new CoreThread(file);
    return CoreThread.current;
  }

  readonly worker: Worker;
  private nextInstance = 1;
  /** Weakly: a reporter the runner dropped (the last watch run's) is closed here once collected. */
  private readonly targets = new Map<number, WeakRef<ThreadTarget>>();
  private waiters = 0;
  dead = false;
  /** The thread loaded its file and takes messages (its `up` message): a failure now is a thread that stopped. */
  up = false;
  /** Closes a core on the thread once its target is garbage: nothing can call it any more. */
  private readonly closer = new FinalizationRegistry<number>((instance) => this.close(instance));

  private constructor(file: string) {
    // None of the runner's own flags (`--import tsx`, `--require ts-node/register`, loaders, an APM agent):
    // the thread runs built CommonJS and needs none of them. execArgv covers the command line; NODE_OPTIONS
    // Node parses again from the env of every Worker it starts, so the thread's env is the runner's without it
    // — but for Yarn PnP's runtime, without which it cannot read its own file (thread-env.ts).
    const env = threadEnv(process.env, process.execArgv, process.versions.pnp !== undefined);
    // Its output goes straight to the process's descriptors (worker-output.ts): no stream is set up here for it.
    // Unless something runs on the thread before its file (Yarn PnP's runtime): what that or Node says as it
    // starts goes through the streams Node pipes into the process's own. Asked for instead (`true`), a stream
    // that Node has read once refs the Worker until it exits, unref'd or not: the process would never exit.
    const preloaded = env.NODE_OPTIONS !== undefined;
    this.worker = new Worker(file, {
      execArgv: [],
      env,
      stdout: !preloaded,
      stderr: !preloaded,
      // A young generation far smaller than V8's default (tens of MB): in a run, beside the runner's thread,
      // more and smaller scavenges cost the thread less than fewer, larger ones (mocha, 20,000 tests, paired:
      // 8 MB took 2.0–3.2 µs per test less of the thread's CPU than 64 MB without subscribers and 1.9 with 10;
      // 3, 4, 6, 12, 16 and 24 MB in between; bench/README.md "B3 in a run: the young generation…"). 64 MB had
      // looked better in the hooks bench, which runs the thread alone.
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (message: FromCoreThread) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(error.message));
    this.worker.on('exit', (code) => this.fail(`it exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  open(target: ThreadTarget, options: ThreadOptions, beacon: SharedArrayBuffer): number {
    const instance = this.nextInstance++;
    this.targets.set(instance, new WeakRef(target));
    this.closer.register(target, instance);
    this.post({ type: 'open', instance, options, beacon });
    return instance;
  }

  /** Whether no reporter ever opened a core on this thread (one started ahead of its reporter, unused). */
  get unused(): boolean {
    return this.nextInstance === 1;
  }

  /** Ends the thread: one started ahead that no reporter will use (testwire turned off by its options). */
  stop(): void {
    if (this.dead) return;
    this.dead = true;
    void this.worker.terminate();
  }

  post(message: ToCoreThread): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /** While a settle waits: the runner awaits the answer, and nothing else may keep its loop alive. */
  hold(): void {
    if (this.waiters++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.waiters === 0) this.worker.unref();
  }

  private close(instance: number): void {
    this.targets.delete(instance);
    try {
      this.post({ type: 'close', instance });
    } catch {}
  }

  private onMessage(message: FromCoreThread): void {
    if (message.type === 'up') {
      this.up = true;
      for (const target of this.targets.values()) target.deref()?.threadUp();
    } else this.targets.get(message.instance)?.deref()?.onMessage(message);
  }

  /** The thread is gone: stopped, or (not up yet) it could not start, and its targets apply their calls here. */
  private fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.up) CoreThread.unstartable = why;
    for (const ref of this.targets.values()) {
      const target = ref.deref();
      if (this.up) target?.fail(why);
      else target?.fallBack(why);
    }
    this.targets.clear();
  }
}

/**
 * Starts the process's reporter thread ahead of its first reporter. A runner that makes its reporter just
 * before a short run (mocha: ~35 ms after loading it, and a run of a few files is over ~25 ms later) had its
 * final hook wait for the whole start of the thread (~40 ms of Node's own here, then its modules); started when
 * the reporter loads, the thread comes up while the runner is still starting. The first reporter then opens
 * its core on it, as on any running thread.
 */
export function startThreadAhead(): void {
  CoreThread.shared();
}

/** Ends a thread started ahead that no reporter used, when the reporter turned out not to need it. */
export function stopUnusedThread(): void {
  const thread = CoreThread.started;
  if (thread?.unused) thread.stop();
}

/**
 * A CallTarget on the process's worker thread; undefined when no thread can run (no built worker file, or the
 * process's thread could not start: said once). `inThread` makes the target its calls go to if the thread
 * turns out not to start (see ThreadTarget.fallBack).
 */
export function threadTarget(options: ThreadOptions, inThread?: () => CallTarget): ThreadTarget | undefined {
  const thread = CoreThread.shared();
  if (!thread && CoreThread.unstartable !== undefined) tellUnstartable(CoreThread.unstartable);
  return thread ? new ThreadTarget(thread, options, inThread) : undefined;
}

export class ThreadTarget implements CallTarget {
  private readonly instance: number;
  /** The calls taken since the last post, encoded for the wire (call-codec.ts). */
  private readonly calls = new CallEncoder();
  /** The pending batch's timer, started by its first call. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The last batch posted was sparse: the next waits SPARSE_BATCH_MS (a full one sets it back). */
  private sparse = false;
  private broadcasterUrl: string | undefined;
  private nextAwait = 1;
  private readonly waiting = new Map<number, (losses?: RunLoss[]) => void>();
  private dead = false;
  /** The run of the calls taken last, and its test results: what a silent thread may have left unsent. */
  private runId = '';
  private results = 0;
  /** Each test start and result, also in shared memory: what the core's hung detector reads (hung.ts). */
  private readonly beacon: BeaconWriter | undefined;
  /** Runs completed since the last settle: what to tell about if the thread does not answer. */
  private completed: { runId: string; results: number }[] = [];
  /** Runs whose loss was said on stderr (once per run, whichever way it became known). */
  private readonly told = new Set<string>();
  /**
   * Copies of the batches posted while the thread is not up yet: what it never got if it cannot start
   * (fallBack). Dropped once it is up, or past MAX_KEPT_VALUES.
   */
  private kept: EncodedCalls[] | undefined;
  private keptValues = 0;
  /** Where the calls go once the thread could not start: a core in this thread. */
  private local: CallTarget | undefined;

  constructor(
    private readonly thread: CoreThread,
    private readonly options: ThreadOptions,
    /** Makes the core in this thread for a thread that cannot start; without it, that is the thread's failure. */
    private readonly inThread?: () => CallTarget,
  ) {
    const beacon = createBeacon();
    this.beacon =
      options.hungTestThreshold > 0 && !options.testsOffThread ? new BeaconWriter(beacon) : undefined;
    if (inThread && !thread.up) this.kept = [];
    this.instance = thread.open(this, options, beacon);
  }

  get url(): string | undefined {
    return this.local ? this.local.url : this.broadcasterUrl;
  }

  /**
   * The worker's thread id (`worker.threadId`): one per process, shared by its reporter cores; undefined once
   * the calls are applied in this thread (the thread could not start).
   */
  get threadId(): number | undefined {
    return this.local ? undefined : this.thread.worker.threadId;
  }

  /**
   * Runs in every hook: a few pushes; the structured clone at post time copies. A run's start is posted at
   * once (once per run): a test that blocks this thread right after it would otherwise hold it back, and with
   * it every event of the run and the hung detector, which watches a run only once the core has it.
   */
  take(call: CoreCall): void {
    if (this.local) {
      this.local.take(call);
      return;
    }
    if (this.dead) return;
    if (call.runId !== this.runId) {
      this.runId = call.runId;
      this.results = 0;
    }
    let now = false;
    if (call.method === 'testResult') {
      this.results++;
      this.beacon?.ended();
    } else if (call.method === 'testStarted')
      this.beacon?.write(call.test, call.attempt, call.at, call.timeout);
    else if (call.method === 'runStarted') now = true;
    else if (call.method === 'runCompleted')
      this.completed.push({ runId: call.runId, results: this.results });
    this.calls.push(call);
    if (this.calls.count >= BATCH_CALLS) {
      this.sparse = false;
      this.post();
    } else if (now) this.post();
    else if (!this.timer) {
      this.timer = setTimeout(this.onTimer, this.sparse ? SPARSE_BATCH_MS : BATCH_MS);
      this.timer.unref();
    }
  }

  async settle(timeoutMs: number): Promise<void> {
    if (this.local) return this.local.settle(timeoutMs);
    const completed = this.completed.splice(0);
    const losses = await this.answer(timeoutMs);
    this.tell(completed, losses, timeoutMs);
  }

  /**
   * While the calls go to the thread only: a core in this thread (the thread could not start) cannot flush
   * while this thread sleeps, so the reporter then has no completeBeforeExit, as in-thread.
   */
  get settleBlocking(): ((timeoutMs: number) => void) | undefined {
    return this.local ? undefined : this.blockUntilSettled;
  }

  private readonly blockUntilSettled = (timeoutMs: number): void => {
    const completed = this.completed.splice(0);
    if (!this.postAll()) return;
    // The thread runs on while this one sleeps: it applies, flushes, writes its losses, then wakes us.
    const signal = createSignal();
    this.thread.post({ type: 'await', instance: this.instance, id: this.nextAwait++, signal });
    this.tell(completed, waitForSignal(signal, timeoutMs), timeoutMs);
  };

  onMessage(message: Exclude<FromCoreThread, { type: 'up' }>): void {
    if (message.type === 'ready') this.broadcasterUrl = message.url;
    else if (message.type === 'done') this.waiting.get(message.id)?.(message.losses ?? []);
  }

  /** The thread is gone: nothing more is sent; a waiting settle returns at once. */
  fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.calls.clear();
    this.stopTimer();
    try {
      process.stderr.write(
        `testwire: the reporter's thread stopped (${why}); run ${this.runId} streams no more events\n`,
      );
    } catch {}
    for (const done of [...this.waiting.values()]) done();
  }

  /** The thread loaded its file: it gets every batch posted to it, and none needs keeping any more. */
  threadUp(): void {
    this.kept = undefined;
  }

  /**
   * The thread could not start (it failed before loading its file: Yarn PnP's zip archives unreadable there, a
   * file that fails to load). Rather than streaming nothing, the calls are applied in this thread, as with
   * TESTWIRE_THREAD=off: those posted to the thread (kept until it is up), those not posted yet, then every
   * later call; a settle waiting for the thread's answer waits for this core instead. Said once on stderr.
   * What in-thread mode cannot do is not done: no completeBeforeExit from now on (settleBlocking), and the
   * hung detector runs on this thread. Without every call kept, or without a core here, it is the thread's
   * failure (fail).
   */
  fallBack(why: string): void {
    if (this.dead || this.local) return;
    const kept = this.kept;
    this.kept = undefined;
    if (!kept || !this.inThread) {
      this.fail(why);
      return;
    }
    let local: CallTarget;
    try {
      local = this.inThread();
    } catch (error) {
      this.fail(
        `${why}; nor could its calls be applied on the runner's thread: ${(error as Error)?.message}`,
      );
      return;
    }
    tellUnstartable(why);
    this.stopTimer();
    this.local = local;
    for (const batch of kept) for (const call of decodeCalls(batch)) local.take(call);
    this.calls.flush((batch) => {
      for (const call of decodeCalls(batch)) local.take(call);
    });
    for (const done of [...this.waiting.values()]) void local.settle(0).then(() => done([]));
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * Says on stderr what the runs lost (losses from the thread's answer), or that the thread did not answer in
   * time (undefined): its flush bound was reached, or it never got to the end of the run. Here, on the
   * runner's thread: a worker's stderr can be cut off when the process exits.
   */
  private tell(
    completed: { runId: string; results: number }[],
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
    // A thread that died said so already (fail); a core in this thread says its own losses.
    if (losses !== undefined || this.dead || this.local) return;
    for (const run of completed)
      say(
        run.runId,
        silentThreadLine(run.runId, this.broadcasterUrl ?? this.options.url, waitedMs, run.results),
      );
  }

  private onTimer = (): void => {
    this.timer = undefined;
    this.sparse = this.calls.count < SPARSE_CALLS;
    this.post();
  };

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private post(): void {
    this.stopTimer();
    if (this.dead) return;
    this.calls.flush((calls) => {
      if (this.kept) this.keep(calls);
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
    });
  }

  /** A copy of a batch posted before the thread is up (the batch is lent: written again after the post). */
  private keep(calls: EncodedCalls): void {
    this.keptValues += calls.length;
    if (this.keptValues > MAX_KEPT_VALUES) this.kept = undefined;
    else this.kept?.push(calls.slice());
  }

  /** Posts everything taken; false when the thread is gone. */
  private postAll(): boolean {
    this.post();
    return !this.dead;
  }

  /**
   * Posts what is taken, then waits until the thread applied it and finished every run it completed: resolves
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
}
