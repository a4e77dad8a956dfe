/**
 * The reporter of a `mocha --parallel` worker when @testwire/mocha runs the main process (built as
 * dist/worker-reporter.cjs; the main process names it with `runner.workerReporter(path)`). It is mocha's own
 * ParallelBuffered — the file's burst reaches the main process exactly as without testwire — and it also
 * streams each event as it happens, and the tests' console output, to the main process (relay-wire.ts).
 *
 * Mocha builds one per test file, in a worker process that runs many files one after the other.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { bailed } from './bail.js';
import { LoadOutput, writtenFrom } from './load-output.js';
import type { MochaRunner } from './mocha-types.js';
import {
  FINISH_TIMEOUT_MS,
  MAX_UNSENT_BYTES,
  RELAY_MARKER,
  type RelayConfig,
  type RelayMarkerData,
  type RelayMessage,
  readRelayConfig,
  UNRUN_EVENT,
} from './relay-wire.js';
import { serializeEvent } from './serialize-event.js';
import { UnrunTests } from './unrun.js';

/** What the worker reporter uses of mocha's ParallelBuffered. */
interface ParallelBufferedInstance {
  events: unknown[];
  listeners: Map<string, (runnable?: unknown, error?: unknown) => void>;
  createListener(eventName: string): (runnable?: unknown, error?: unknown) => void;
  done(failures: number, callback: (result: unknown) => void): void;
}
type ParallelBufferedClass = new (runner: MochaRunner, options?: unknown) => ParallelBufferedInstance;

/**
 * One file's stream: a connection to the main process that carries lines in order, or stops for good (a
 * failed connection, a line that cannot be built, too much unsent). What it did not carry, the burst does.
 */
class RelayLink {
  readonly stream = randomBytes(8).toString('hex');
  private socket: Socket | undefined;

  constructor(config: RelayConfig) {
    try {
      const socket = connect(config.socket);
      socket.on('error', () => this.stop());
      // Ref'd while the file runs (the worker is busy anyway), unref'd from its end on.
      this.socket = socket;
      this.send({ t: 'hello', token: config.token, stream: this.stream });
    } catch {
      this.stop();
    }
  }

  get open(): boolean {
    return this.socket !== undefined;
  }

  send(message: RelayMessage): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.write(`${JSON.stringify(message)}\n`);
      if (socket.writableLength > MAX_UNSENT_BYTES) this.stop();
    } catch {
      this.stop();
    }
  }

  /** Sends what is queued, then closes. */
  end(): void {
    this.socket?.end();
    this.socket?.unref();
    this.socket = undefined;
  }

  /**
   * The file ended: `then` once the main process has read the whole stream (it closes the connection), or at
   * once when there is no stream, or after FINISH_TIMEOUT_MS. The burst sent after that finds its events
   * delivered, and the tests' output with them.
   */
  finish(then: () => void): void {
    const socket = this.socket;
    if (!socket) {
      then();
      return;
    }
    let done = false;
    const go = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      then();
    };
    const timer = setTimeout(go, FINISH_TIMEOUT_MS);
    socket.once('close', go);
    this.send({ t: 'end' });
    this.end();
  }

  private stop(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/** The running mocha's ParallelBuffered: the one the main process named, else the one beside this worker. */
function loadBase(config: RelayConfig | undefined): ParallelBufferedClass {
  const req = createRequire(join(process.cwd(), 'noop.js'));
  const path = config?.base ?? mochaFileInCache('nodejs/reporters/parallel-buffered');
  const loaded = req(path ?? 'mocha/lib/nodejs/reporters/parallel-buffered') as
    | ParallelBufferedClass
    | { default?: ParallelBufferedClass; ParallelBuffered?: ParallelBufferedClass };
  const base = typeof loaded === 'function' ? loaded : (loaded.ParallelBuffered ?? loaded.default);
  if (typeof base !== 'function') throw new Error(`${path} does not export mocha's ParallelBuffered`);
  return base;
}

/** A file of the mocha this worker runs (mocha's worker.js is loaded), without its extension. */
function mochaFileInCache(name: string): string | undefined {
  const req = createRequire(join(process.cwd(), 'noop.js'));
  for (const file of Object.keys(req.cache)) {
    const match = /^(.*[\\/]lib[\\/])nodejs[\\/]worker\.c?js$/.exec(file);
    if (match) return `${match[1]}${name}`;
  }
  return undefined;
}

/**
 * An event testwire adds to the burst, already in its serialized shape: mocha calls `serialize()` on each event
 * of the result, then sends the result (own properties only: JSON or structured clone alike).
 */
class AddedEvent {
  constructor(
    readonly eventName: string,
    readonly data: unknown,
    readonly error?: unknown,
  ) {}
  serialize(): this {
    return this;
  }
}

function createWorkerReporter(): ParallelBufferedClass {
  const config = readRelayConfig(process.env);
  const base = loadBase(config);
  // The main process's decision (its options, else TESTWIRE_CAPTURE_OUTPUT, read as the core reads it): the
  // workers inherit its environment, and have no options of their own to read.
  const captureOutput = config?.output === true;
  // One capture per worker, from when mocha loads this reporter (before the worker's first file loads: only a
  // worker of a run the main process relays loads it) on: a file's stream gets what its tests print while it
  // runs; between files, what the next file prints while it loads is held (load-output.ts) until that file's
  // reporter sends it first.
  const output = captureOutput ? new LoadOutput().start() : undefined;

  return class TestwireWorkerReporter extends base {
    /** Set after mocha's constructor has made its listeners (they only use it once events flow). */
    private link: RelayLink | undefined;
    private unrun: UnrunTests | undefined;
    private worker: MochaRunner | undefined;
    private added = 0;
    /** The file's tests that got their final result, and those a failed hook kept from running (bail.ts). */
    private ended = 0;

    constructor(runner: MochaRunner, options?: unknown) {
      super(runner, options);
      if (!config) return;
      this.worker = runner;
      this.unrun = new UnrunTests();
      this.link = new RelayLink(config);
      if (output) this.streamOutput(output, options);
    }

    /**
     * What the file printed while it loaded, as its file-level output (what it did not write — a previous
     * file's timer — is no one's), then its tests' output as they run.
     */
    private streamOutput(output: LoadOutput, options: unknown): void {
      const files = (options as { files?: unknown } | undefined)?.files;
      const file = Array.isArray(files) && typeof files[0] === 'string' ? resolve(files[0]) : undefined;
      const own = new Set(file ? [file] : []);
      for (const held of output.take()) {
        const from = writtenFrom(held, own);
        if (from)
          this.link?.send({ t: 'output', text: held.text, std: held.stream, via: held.method, file: from });
      }
      output.route((text, std, via) =>
        this.link?.send(via ? { t: 'output', text, std, via } : { t: 'output', text, std }),
      );
    }

    /** mocha's listener (it buffers the event for the burst), then the same event streamed, in that order. */
    override createListener(eventName: string) {
      const buffer = super.createListener(eventName);
      const listener = (runnable?: unknown, error?: unknown) => {
        // the tests a failed hook kept from ending are reported as the suite ends, as serial mode does
        if (eventName === 'suite end') this.settle(runnable);
        else if (eventName === 'test end') this.ended++;
        buffer(runnable, error);
        this.stream(eventName, runnable, error);
        this.unrun?.note(eventName, runnable, error);
      };
      this.listeners.set(eventName, listener);
      return listener;
    }

    private stream(eventName: string, runnable: unknown, error: unknown): void {
      const link = this.link;
      if (!link?.open) return;
      let event: ReturnType<typeof serializeEvent> | undefined;
      try {
        event = serializeEvent(runnable, error);
      } catch {
        event = undefined;
      }
      // An event the stream cannot carry ends the stream: it must stay a prefix of the burst.
      if (event) link.send({ t: 'event', name: eventName, event });
      else link.end();
    }

    /** UNRUN_EVENT, in the burst and the stream alike (the stream stays a prefix of the burst). */
    private settle(suite: unknown): void {
      const worker = this.worker;
      const unrun = worker && this.unrun?.settle(suite, worker);
      if (!unrun) return;
      this.ended += unrun.tests.length;
      try {
        const data = {
          __mocha_id__: `testwire-unrun-${this.link?.stream ?? ''}-${this.added++}`,
          hook: unrun.hook,
          tests: unrun.tests.map(({ test, began }) =>
            Object.assign(serializeEvent(test, undefined).data as object, { began }),
          ),
        };
        const event = serializeEvent(data, unrun.error);
        this.events.push(new AddedEvent(UNRUN_EVENT, event.data, event.error));
        this.link?.send({ t: 'event', name: UNRUN_EVENT, event });
      } catch {
        // nothing added: the main process reports these tests as the burst and stream tell them (not at all)
      }
    }

    /** The burst, led by the marker that tells the main process which stream it completes. */
    override done(failures: number, callback: (result: unknown) => void): void {
      // what is printed from now on is held for the next file
      output?.route(undefined);
      const link = this.link;
      if (!link) {
        super.done(failures, callback);
        return;
      }
      const marker: RelayMarkerData = { __mocha_id__: `testwire-${link.stream}`, stream: link.stream };
      // the main process's --bail: whether this file's own run stopped short (its other files it can tell)
      if (this.worker && bailedSafely(this.worker, this.ended)) marker.bailed = true;
      this.events.unshift(new AddedEvent(RELAY_MARKER, marker));
      link.finish(() => super.done(failures, callback));
    }
  };
}

/** bail.ts `bailed`, never throwing into mocha's worker. */
function bailedSafely(runner: MochaRunner, ended: number): boolean {
  try {
    return bailed(runner, ended);
  } catch {
    return false;
  }
}

export default createWorkerReporter();
