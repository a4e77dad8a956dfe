/**
 * The main process's end of the parallel relay (relay-wire.ts): a local socket the `--parallel` workers
 * stream their files' events to as they happen, handed to the reporter live; and, when a file's burst
 * arrives through mocha, the count of its events the stream already delivered, which the reporter skips.
 *
 *   worker stream:  e0 e1 e2 ─╴(cut, or not yet read)
 *   mocha's burst:  MARKER e0 e1 e2 e3 e4      -> testwire handles e0..e2 live, e3 e4 from the burst: each once
 *
 * mocha's own reporters (the wrapped terminal reporter, its exit code) see the whole burst, as without testwire.
 *
 * Held (`--bail`): mocha drops the bursts of the files still running when one bails, so what a stream says is
 * only the run's once its burst comes. Each stream's lines are then read and kept, handed over when its burst
 * begins (before mocha emits the burst, which skips them as above), and never when it does not come — unless
 * released (no bail happened: the files whose burst never came were dropped for another reason, which the
 * reporter tells from what their streams say).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtFile, type TestRef, untilDeadline } from '@testwire/reporter-core';
import { builtin } from './builtin.js';
import type { MochaRunnable, MochaRunner } from './mocha-types.js';
import {
  MAX_LINE_CHARS,
  RELAY_ENV,
  RELAY_MARKER,
  type RelayConfig,
  type RelayMarkerData,
  type RelayMessage,
} from './relay-wire.js';
import { deserializeEvent } from './serialize-event.js';

/** One file's stream, as the reporter sees it. */
export interface RelayStream {
  readonly id: string;
  /** Where the stream's console output goes now (the reporter keeps it, as it does its own in serial mode). */
  target: TestRef | undefined;
  /** The test that began and has not ended, and when its begin arrived here (the reporter keeps it). */
  running: { test: MochaRunnable; since: number } | undefined;
  /** The test file the stream's events are about, once one of them named it (the reporter keeps it). */
  file: string | undefined;
  /** When its connection closed (epoch ms): everything the worker sent has been read. */
  readonly closedAt: number | undefined;
}

/** What the relay hands the reporter, live. */
export interface RelayHandlers {
  /** A runner event of a worker, deserialized as mocha deserializes a burst. */
  event(stream: RelayStream, name: string, data: unknown, error: unknown): void;
  /** `file`: printed by the file while it loaded, before its stream's events (file-level output). */
  output(
    stream: RelayStream,
    text: string,
    std: 'stdout' | 'stderr',
    via: string | undefined,
    file: string | undefined,
  ): void;
}

interface StreamState extends RelayStream {
  /** Events handed to the reporter: the burst's first `delivered` events are skipped. */
  delivered: number;
  /** Held mode: the lines read and not yet handed over, in order. */
  held: DeliveredMessage[];
  /** Its worker said the file ended (`end`): a stream closed without it was cut off. */
  finished: boolean;
  /** The burst arrived, or the relay closed: anything the stream still sends is late and dropped. */
  ended: boolean;
  /** The file's burst arrived (mocha's own reporters have the file). */
  burst: boolean;
  closedAt: number | undefined;
}

/** What the relay uses of mocha's ParallelBufferedRunner (mocha 10, 11, 12). */
interface ParallelRunner extends MochaRunner {
  workerReporter?(path: string): unknown;
  /** The worker reporter's path: mocha's ParallelBuffered unless someone chose another. */
  _workerReporter?: unknown;
}

/** The lines of a stream that carry something for the reporter. */
type DeliveredMessage = Extract<RelayMessage, { t: 'event' | 'output' }>;

export class ParallelRelay {
  /** A burst's marker said its worker stopped the file at a failure, under bail (worker-reporter.ts). */
  bailedInFile = false;
  /**
   * True while the runner emits a burst event the stream already delivered: the reporter ignores it. Set
   * for each event the runner emits, before any listener runs.
   */
  skipping = false;
  private remaining = 0;
  private readonly streams = new Map<string, StreamState>();
  private readonly sockets = new Set<Socket>();
  private readonly token = nodeCrypto().randomBytes(32);
  private closed = false;
  private envValue: string | undefined;
  /** Called when a stream's connection closes (see dropped()). */
  private onStreamClosed: (() => void) | undefined;

  private constructor(
    private readonly handlers: RelayHandlers,
    private readonly server: Server,
    private readonly dir: string | undefined,
    /** Lines are kept until their stream's burst begins (see the file's comment). */
    private holding: boolean,
  ) {}

  /**
   * Opens the relay and makes mocha's workers use the streaming worker reporter; undefined (burst mode, as
   * without the relay) when the runner is not mocha's parallel runner, another worker reporter is set, or
   * no socket can be opened.
   */
  static start(
    runner: MochaRunner,
    handlers: RelayHandlers,
    options: { output: boolean; hold?: boolean },
  ): ParallelRelay | undefined {
    const parallel = runner as ParallelRunner;
    const base = parallel._workerReporter;
    if (typeof parallel.workerReporter !== 'function' || typeof base !== 'string') return undefined;
    if (!/[\\/]parallel-buffered\.c?js$/.test(base)) return undefined;
    // dist/worker-reporter.cjs
    const reporter = builtFile('worker-reporter.cjs', import.meta.url);
    if (!reporter) return undefined;
    let dir: string | undefined;
    try {
      // A private directory (0700) holds the socket; Windows has named pipes instead.
      dir = process.platform === 'win32' ? undefined : mkdtempSync(join(tmpdir(), 'testwire-mocha-'));
      const socket = dir
        ? join(dir, 'relay.sock')
        : `\\\\.\\pipe\\testwire-mocha-${process.pid}-${nodeCrypto().randomBytes(8).toString('hex')}`;
      const server = builtin<typeof import('node:net')>('node:net').createServer();
      const relay = new ParallelRelay(handlers, server, dir, options.hold === true);
      server.on('connection', (connection) => relay.accept(connection));
      // A socket that cannot listen leaves the workers unconnected: the bursts deliver everything.
      server.on('error', () => relay.close());
      server.listen(socket);
      server.unref();
      const config: RelayConfig = {
        socket,
        token: relay.token.toString('hex'),
        base,
        output: options.output,
      };
      // Workers are forked after this (when mocha's run begins) and inherit it.
      relay.envValue = JSON.stringify(config);
      process.env[RELAY_ENV] = relay.envValue;
      relay.watchBursts(runner);
      parallel.workerReporter(reporter);
      return relay;
    } catch {
      if (dir) rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  /**
   * The streams whose burst never came: mocha dropped their file, whose run rejected — its worker died
   * (process.exit, a signal, out of memory) or its run failed — and reports that as an error outside the run.
   * Resolves once each of them has been read to its end (a dead worker's connection closes at once, but its
   * last lines, the test it was running among them, may still wait to be read), or at `deadline` (epoch ms).
   */
  async dropped(deadline: number): Promise<RelayStream[]> {
    const streams = [...this.streams.values()].filter((stream) => !stream.burst);
    const open = () => streams.some((stream) => stream.closedAt === undefined);
    if (!this.closed && open()) {
      const allClosed = new Promise<void>((resolve) => {
        this.onStreamClosed = () => {
          if (!open()) resolve();
        };
      });
      // ref'd: mocha is waiting for the reporter's done() to set its exit code
      await untilDeadline(allClosed, deadline, { ref: true });
      this.onStreamClosed = undefined;
    }
    return streams;
  }

  /**
   * Held mode ends: what the streams whose burst never came hold is handed over now — all of them (no bail
   * happened: their files were dropped for another reason), or those cut off before their file's end (their
   * worker died: mocha reports that, the bail it had already dropped the others for) — and what any stream
   * sends from now on, as it comes.
   */
  release(which: 'all' | 'cut off'): void {
    if (!this.holding || this.closed) return;
    this.holding = false;
    for (const stream of this.streams.values())
      if (!stream.burst && (which === 'all' || !stream.finished)) this.handOver(stream);
  }

  /** Stops listening and drops what open streams still send; bursts still skip what streams delivered. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.ended = true;
    for (const socket of this.sockets) socket.destroy();
    this.server.close(() => undefined);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    if (process.env[RELAY_ENV] === this.envValue) delete process.env[RELAY_ENV];
  }

  /**
   * Every event the runner emits passes here first. A burst is emitted in one synchronous loop, led by its
   * marker: the events after the marker that the stream delivered are marked skipped, one by one.
   */
  private watchBursts(runner: MochaRunner): void {
    const emit = runner.emit;
    const relay = this;
    runner.emit = function (this: MochaRunner, name: string, ...args: unknown[]) {
      if (name === RELAY_MARKER) relay.burstBegins(args[0]);
      else if (relay.remaining > 0) {
        relay.remaining--;
        relay.skipping = true;
      } else relay.skipping = false;
      return emit.call(this, name, ...args);
    };
  }

  private burstBegins(data: unknown): void {
    const marker = data as Partial<RelayMarkerData> | undefined;
    const id = marker?.stream;
    if (typeof id !== 'string') return;
    if (marker?.bailed === true) this.bailedInFile = true;
    const stream = this.streams.get(id);
    // A fast file's burst can come before its connection is even read: the burst then has it all, and the
    // stream, when it connects, is refused.
    if (stream) {
      stream.ended = true;
      stream.burst = true;
      // mocha takes this file: what its stream holds goes first, and the burst skips it
      this.handOver(stream);
    } else this.streams.set(id, newStream(id, { ended: true, burst: true }));
    this.remaining = stream?.delivered ?? 0;
    this.skipping = false;
    // The burst's loop is synchronous: whatever it did not use up must not skip anything after it.
    queueMicrotask(() => {
      this.remaining = 0;
    });
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.unref();
    socket.setEncoding('utf8');
    this.sockets.add(socket);
    let pending = '';
    let stream: StreamState | undefined;
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let start = 0;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
        const line = pending.slice(start, end);
        start = end + 1;
        stream = this.line(socket, stream, line);
        if (socket.destroyed) return;
      }
      pending = pending.slice(start);
      if (pending.length > MAX_LINE_CHARS) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (stream) stream.closedAt ??= Date.now();
      this.onStreamClosed?.();
    });
  }

  /** One line of a connection: its hello first, then the stream's events and output, in order. */
  private line(socket: Socket, stream: StreamState | undefined, line: string): StreamState | undefined {
    let message: RelayMessage;
    try {
      message = JSON.parse(line) as RelayMessage;
    } catch {
      socket.destroy();
      return stream;
    }
    if (!stream) {
      if (message?.t !== 'hello' || !this.tokenMatches(message.token) || typeof message.stream !== 'string') {
        socket.destroy();
        return undefined;
      }
      if (this.streams.has(message.stream)) {
        // its burst came first (or a second hello): the burst has the file
        socket.destroy();
        return undefined;
      }
      const created = newStream(message.stream, { ended: false, burst: false });
      this.streams.set(created.id, created);
      return created;
    }
    if (stream.ended) {
      socket.destroy();
      return stream;
    }
    if (message?.t === 'end') {
      // all of the file is read: the worker sends its burst when this connection closes
      stream.finished = true;
      socket.end();
      return stream;
    }
    if (message?.t !== 'event' && message?.t !== 'output') {
      socket.destroy();
      return stream;
    }
    if (this.holding) stream.held.push(message);
    else if (!this.deliver(stream, message)) socket.destroy();
    return stream;
  }

  /** Hands over what `stream` holds, in order, up to a line that cannot be read (the burst has the rest). */
  private handOver(stream: StreamState): void {
    const held = stream.held;
    stream.held = [];
    for (const message of held)
      if (!this.deliver(stream, message)) {
        stream.ended = true;
        return;
      }
  }

  /** One event or output line to the reporter; false when it cannot be read (the stream ends there). */
  private deliver(stream: StreamState, message: DeliveredMessage): boolean {
    try {
      if (message.t === 'event' && typeof message.name === 'string' && message.event) {
        const { data, error } = deserializeEvent(message.event);
        stream.delivered++;
        this.handlers.event(stream, message.name, data, error);
        return true;
      }
      if (message.t === 'output' && typeof message.text === 'string') {
        const via = typeof message.via === 'string' ? message.via : undefined;
        const file = typeof message.file === 'string' ? message.file : undefined;
        this.handlers.output(stream, message.text, message.std === 'stderr' ? 'stderr' : 'stdout', via, file);
        return true;
      }
      return false;
    } catch {
      return false;
    }
  }

  private tokenMatches(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const given = Buffer.from(token, 'hex');
    return given.length === this.token.length && nodeCrypto().timingSafeEqual(given, this.token);
  }
}

function newStream(id: string, state: { ended: boolean; burst: boolean }): StreamState {
  return {
    id,
    target: undefined,
    running: undefined,
    file: undefined,
    delivered: 0,
    held: [],
    finished: false,
    closedAt: undefined,
    ...state,
  };
}

/** node:crypto, loaded when a relay starts (parallel mode only). */
const nodeCrypto = () => builtin<typeof import('node:crypto')>('node:crypto');
