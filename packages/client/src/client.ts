/**
 * The testwire client: one logical subscription that survives dropped connections.
 *
 *   connect() ─> transport open ─> connection.established {epoch, seq}
 *                               ─> [snapshot], subscribe {…, resume: {epoch, since}}  (WS; SSE: in the URL)
 *                                  one message: the replay comes before any live event (see syncMessage)
 *                 the same epoch's replay is delivered as it arrives (replayStreams); otherwise held back ─┐
 *                               <─ replayed events, resumed  ─> held events sorted by seq, delivered once
 *                               <─ resume.failed + snapshot  ─> state replaced, 'resync' notice, go on
 *   a NEW epoch in connection.established (broadcaster restarted / taken over while we were away):
 *                               ─> snapshot, subscribe {…, resume: {new epoch, since: 0}}
 *                               <─ snapshot, its whole history, resumed ─> state from the snapshot, 'resync'
 *                                  notice (replayed), then every event of the new epoch, in order
 *                               (SSE learns the epoch too late for that request: on resume.failed EPOCH_CHANGED
 *                                it reopens at once with Last-Event-ID `<new epoch>:0`)
 *                               runs running here that the new snapshot does not list died with the old owner:
 *                               completed as interrupted `owner_lost` (ResyncInfo.interruptedRuns)
 *   live: event seq <= last seq of this epoch -> duplicate, dropped; else delivered + applied to run state
 *   drop / 4008 lagging / heartbeat (WS) or keep-alive (SSE) silence ─> backoff (full jitter) ─> reconnect
 *                                                                        ─> resume from last seq
 *   connectTimeoutMs bounds the handshake; the catch-up after it, progress (no frame that long: RESYNC_STALLED)
 *   a re-published event after a takeover (its `origin` not above the last delivered from that publisher): dropped
 *   401/403 ─> TestwireAuthError, no retry
 *
 * Transports are injected (`Runtime`): `index.ts` (Node: ws + fetch) and `browser.ts` (globals).
 */
import {
  type AnyEventEnvelope,
  type ConnectionEstablishedMessage,
  type EventDataMap,
  type EventEnvelope,
  type EventType,
  type Filters,
  isServerMessage,
  OriginFilter,
  OWNER_LOST,
  type ResumeFailedMessage,
  type RunSnapshot,
  type RunStateOptions,
  RunStateStore,
  type ServerMessage,
  type SnapshotMessage,
  type SubscribeRequest,
  Subscription,
  type SubscriptionDescription,
  type SubscriptionError,
  selectorMatches,
  validateRunSnapshot,
} from '@testwire/protocol';
import { backoffDelay, type ReconnectOptions, type ReconnectPolicy, reconnectPolicy } from './backoff.js';
import { TestwireAuthError, TestwireError } from './errors.js';
import { EventQueue } from './event-queue.js';
import type { CloseInfo, Runtime, TransportConnection } from './transports/types.js';
import { endpointUrl, redact, withAuth, withSubscription } from './url.js';

export type TransportKind = 'ws' | 'sse';

export interface TestwireClientOptions {
  /**
   * Broadcaster base URL (`http://127.0.0.1:7357`, `ws://host:port`) or endpoint (`ws://host:port/ws`,
   * `http://host:port/events`). Default `http://127.0.0.1:7357`.
   */
  url?: string;
  /** API key: an `Authorization: Bearer` header in Node, `?apiKey=` in browsers (which cannot send headers). */
  apiKey?: string;
  /** JWT: an `Authorization: Bearer` header in Node (`?token=` when an apiKey takes the header), `?token=` in browsers. */
  token?: string;
  /** Event types or selectors to receive (`'test.result'`, `'test.*'`, `'*'`). Default: everything. */
  events?: string[];
  patterns?: string[];
  /** Field filters (`{status: 'failed'}`, `{project: ['a', 'b']}`, `{runId}`), as in the protocol. */
  filters?: Filters;
  /** `'ws'` (default: full protocol) or `'sse'` (receive only: no runtime subscribe, no snapshot request). */
  transport?: TransportKind;
  /** Reconnect policy; `false` disables reconnecting. Default `{attempts: 10, baseDelayMs: 250, maxDelayMs: 10000}`. */
  reconnect?: boolean | ReconnectOptions;
  /** Bound on one connection attempt, from dialing to the subscription being in place. Default 10_000 ms. */
  connectTimeoutMs?: number;
  /** Bound on `subscribe()`/`snapshot()`/`ping()` answers. Default 10_000 ms. */
  requestTimeoutMs?: number;
  /**
   * SSE: how often the broadcaster sends its `: keep-alive` comment (the broadcaster's `sseKeepAliveMs`;
   * default 15_000 ms, the protocol's). A stream that brings no byte for 2.5× this is taken for dead (a
   * half-open TCP connection) and resumed elsewhere, as a WebSocket without heartbeat is. Node only: a
   * browser's EventSource does not show comments.
   */
  sseKeepAliveMs?: number;
  /** On the first connection, replay the broadcaster's whole history before live events. Default false. */
  replay?: boolean;
  /** Keep a run-state model (`client.state`). Default true. */
  runState?: boolean | RunStateOptions;
  /**
   * On a resync, keep the runs of `client.state` that the broadcaster's snapshot does not list (runs of a
   * broadcaster that went away), instead of dropping them. A monitor that keeps earlier runs on screen wants
   * this. Default false: the state is exactly the broadcaster's.
   */
  keepStaleRuns?: boolean;
  /** Events an async iterator holds for a slow consumer before it fails with BUFFER_OVERFLOW. Default 10_000. */
  bufferSize?: number;
  /** A WHATWG WebSocket constructor (browser build only; Node uses `ws`). */
  WebSocket?: new (
    url: string,
  ) => WebSocket;
  /** An EventSource constructor (browser build only). */
  EventSource?: new (
    url: string,
  ) => EventSource;
  /** fetch implementation (SSE in Node, auth probing in browsers). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Connection lifecycle. `open` means subscribed and in sync: every later event will be delivered. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateInfo {
  /** Reconnect attempt number (1-based) for `reconnecting`. */
  attempt?: number;
  /** Delay before that attempt. */
  delayMs?: number;
  /** Why the previous connection ended, or why the client closed for good. */
  error?: Error;
  /** The broadcaster epoch in force. */
  epoch?: string;
}

/**
 * The client could not simply resume where it left off and rebuilt `client.state` from a snapshot:
 * - `EPOCH_CHANGED` with `replayed: true` — the broadcaster changed (restart, takeover) and its history still
 *   starts at its first event: after this notice every event of the new epoch is delivered, from seq 1, in
 *   order. Nothing of the new broadcaster is lost.
 * - otherwise (`replayed: false`) — events inside the gap no longer exist (`HISTORY_EVICTED`, or a new
 *   broadcaster whose history lost its start): their effect is in the state, delivery goes on after `seq`.
 */
export interface ResyncInfo {
  reason: ResumeFailedMessage['reason'];
  message: string;
  previousEpoch?: string;
  /** The epoch now followed; `client.state` reflects every event of it up to `seq`. */
  epoch: string;
  seq: number;
  /**
   * True when the events of this epoch up to `seq` are delivered after this notice anyway (replayed from
   * its start; `client.state` already reflects them, so they are not applied a second time).
   */
  replayed: boolean;
  /** The snapshot the state was rebuilt from. */
  runs: RunSnapshot[];
  /** Runs kept in `client.state` that the snapshot does not list (`keepStaleRuns`); empty otherwise. */
  staleRuns: string[];
  /**
   * `EPOCH_CHANGED` only: runs that were running in `client.state` and that the new broadcaster's snapshot
   * does not list. The process that owned the endpoint died with them (SIGKILL, a crash): nobody will send
   * their test.completed, and the new owner cannot know them. The client completed them as interrupted
   * (`interrupted: true`, `interruptedBy: 'owner_lost'`, counts as last seen, `summary.success: false`);
   * here as they are now. They stay in `client.state` with `keepStaleRuns` (and are in `staleRuns`), and
   * are dropped from it otherwise. Empty when there were none (and always without a run state:
   * `runState: false`). Should one of them send an event after all (a process still running it re-seeded
   * it to the new owner after the snapshot was taken), it is running again in `client.state`.
   */
  interruptedRuns: RunSnapshot[];
}

export interface RunStateUpdate {
  reason: 'event' | 'snapshot' | 'resync';
  /** The run an event touched (reason `event`). */
  run?: RunSnapshot;
  event?: AnyEventEnvelope;
}

export type EventHandler<T extends EventType = EventType> = (
  data: EventDataMap[T],
  envelope: EventEnvelope<T>,
) => void;
type Unbind = () => void;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Subscription changes are replayed on reconnect: they wait for the next sync instead of failing. */
  replayable: boolean;
}

type Op =
  | { kind: 'subscribe'; request: SubscribeRequest }
  | { kind: 'unsubscribe'; request: Pick<SubscribeRequest, 'events' | 'patterns'> };

type Phase = 'handshake' | 'syncing' | 'awaiting-snapshot' | 'live';

/** A new broadcaster epoch being caught up with from its first event (see `onEstablished`). */
interface EpochChange {
  /** The epoch `client.state` reflected before. */
  previousEpoch: string | undefined;
  /** WS: id of our `snapshot` request on the new epoch. */
  snapshotId?: number;
  snapshot?: SnapshotMessage;
  /** SSE: the resume.failed that told us, reported in the resync notice. */
  failure?: ResumeFailedMessage;
}

const DEFAULT_URL = 'http://127.0.0.1:7357';

export class TestwireClient implements AsyncIterable<AnyEventEnvelope> {
  /** Run state built from the stream and snapshots (null when `runState: false`). */
  readonly state: RunStateStore;

  private readonly options: Required<
    Pick<
      TestwireClientOptions,
      'transport' | 'connectTimeoutMs' | 'requestTimeoutMs' | 'bufferSize' | 'replay' | 'sseKeepAliveMs'
    >
  > &
    TestwireClientOptions;
  private readonly policy: ReconnectPolicy;
  private readonly runtime: Runtime;
  private readonly keepState: boolean;

  private status: ConnectionState = 'idle';
  private epochValue: string | undefined;
  private seqValue = 0;
  /** The state reflects every event up to this seq (of `epochValue`). */
  private stateSeq = 0;
  private established: ConnectionEstablishedMessage | undefined;

  private conn: TransportConnection | undefined;
  /** Bumped for each connection: callbacks of older connections are ignored. */
  private generation = 0;
  private phase: Phase = 'handshake';
  private held = new Map<number, AnyEventEnvelope>();
  /** Per publisher, the last event delivered (its `origin`): a repeat re-published after a takeover is dropped. */
  private readonly origins = new OriginFilter();
  private resumeFailure: ResumeFailedMessage | undefined;
  private epochChange: EpochChange | undefined;
  /** Has been in sync at least once (reconnect policy: `attempts` instead of `initialAttempts`). */
  private everInSync = false;
  /**
   * The first connection failed and the client waited for the endpoint: everything the endpoint has was
   * published after the client began waiting, so its first connection replays it from the start, as a
   * `replay: true` client does (a run that started its own broadcaster and published before we got in).
   */
  private waitedForEndpoint = false;
  private attempt = 0;
  private lastError: Error | undefined;

  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastActivity = 0;
  /** When the current connection last sent a frame (pings aside): the sync watch measures progress by it. */
  private lastFrameAt = 0;
  /**
   * When the last connection that got into the epoch whose runs the state holds was lost: its owner served us
   * until then, live or replaying its history (undefined once a new epoch's runs were settled with it).
   */
  private lostAt: Date | undefined;
  /** The position when the current connection was opened: a connection that moved it made progress. */
  private openedAt: { epoch: string | undefined; seq: number } = { epoch: undefined, seq: 0 };

  private connectWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private readyWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private ops: Op[] = [];
  /**
   * Set while the server's subscription is wider than `ops` ask for (they could not be folded into the one
   * subscribe message that resumes): events it does not match are dropped here instead.
   */
  private narrow: Subscription | undefined;
  private initialSnapshotId: number | undefined;
  /** The current SSE request carries a Last-Event-ID: wait for `resumed` before going live. */
  private sseResuming = false;

  private handlers: { selector: string; fn: EventHandler }[] = [];
  private stateListeners = new Set<(state: ConnectionState, info: StateInfo) => void>();
  private resyncListeners = new Set<(info: ResyncInfo) => void>();
  private errorListeners = new Set<(error: TestwireError) => void>();
  private runListeners = new Set<(update: RunStateUpdate) => void>();
  private queues = new Set<EventQueue>();

  constructor(options: TestwireClientOptions = {}, runtime: Runtime) {
    if (options.transport !== undefined && options.transport !== 'ws' && options.transport !== 'sse') {
      throw new TestwireError(
        'INVALID_ARGUMENT',
        `transport: expected 'ws' or 'sse', got ${JSON.stringify(options.transport)}`,
      );
    }
    this.options = {
      transport: 'ws',
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      bufferSize: 10_000,
      replay: false,
      sseKeepAliveMs: 15_000,
      ...options,
    };
    for (const key of ['connectTimeoutMs', 'requestTimeoutMs', 'bufferSize', 'sseKeepAliveMs'] as const) {
      const value = this.options[key];
      if (typeof value !== 'number' || !(value > 0)) {
        throw new TestwireError('INVALID_ARGUMENT', `${key}: expected a number > 0, got ${String(value)}`);
      }
    }
    this.policy = reconnectPolicy(options.reconnect);
    this.runtime = runtime;
    this.keepState = options.runState !== false;
    this.state = new RunStateStore(typeof options.runState === 'object' ? options.runState : undefined);
    // Validate the URL and the initial subscription now: a programmer error throws here, not on a timer.
    endpointUrl(this.options.url ?? DEFAULT_URL, 'ws');
    const initial = this.initialRequest();
    try {
      new Subscription().subscribe(initial);
    } catch (error) {
      throw new TestwireError('INVALID_ARGUMENT', (error as Error).message);
    }
    this.ops.push({ kind: 'subscribe', request: initial });
  }

  // -------------------------------------------------------------------------------------------------------
  // Public API

  /** Current connection state. */
  get connectionState(): ConnectionState {
    return this.status;
  }

  /** The broadcaster epoch the client is in sync with. */
  get epoch(): string | undefined {
    return this.epochValue;
  }

  /** Last seq received in `epoch` (the resume position). */
  get seq(): number {
    return this.seqValue;
  }

  /** The `connection.established` message of the current connection. */
  get server(): ConnectionEstablishedMessage | undefined {
    return this.established;
  }

  /**
   * Connects. Resolves once the subscription is in place and in sync (every later event will arrive).
   * Rejects with TestwireAuthError (bad key/token, no retry) or TestwireError CONNECTION_FAILED (after the
   * reconnect policy's attempts).
   */
  connect(): Promise<void> {
    if (this.status === 'closed') {
      return Promise.reject(
        new TestwireError('CLIENT_CLOSED', 'connect(): this client was closed; create a new one'),
      );
    }
    if (this.status === 'open') return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.status === 'idle') {
      this.setState('connecting', {});
      this.open();
    }
    return promise;
  }

  /** Closes the connection for good. Pending requests reject with CLIENT_CLOSED; iterators end. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    const conn = this.conn;
    this.shutdown(new TestwireError('CLIENT_CLOSED', 'The client was closed'), false);
    await conn?.close(1000, 'client closed');
  }

  /**
   * Calls `handler(data, envelope)` for events whose type matches `selector` (`'test.result'`, `'test.*'`, `'*'`).
   * Returns the function that removes the handler.
   */
  on<T extends EventType>(type: T, handler: EventHandler<T>): Unbind;
  on(selector: string, handler: (data: unknown, envelope: AnyEventEnvelope) => void): Unbind;
  on(selector: string, handler: (data: any, envelope: any) => void): Unbind {
    if (typeof handler !== 'function')
      throw new TestwireError('INVALID_ARGUMENT', 'on(): handler must be a function');
    const entry = { selector, fn: handler as EventHandler };
    this.handlers.push(entry);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== entry);
    };
  }

  /** Connection state changes. Returns the unbind function. */
  onState(listener: (state: ConnectionState, info: StateInfo) => void): Unbind {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * The client replaced its run state from a snapshot: the broadcaster changed (`EPOCH_CHANGED`; with
   * `replayed: true` its events follow from its first one, nothing lost), or events were lost from its
   * history (`replayed: false`). See `ResyncInfo`.
   */
  onResync(listener: (info: ResyncInfo) => void): Unbind {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Errors that are not an answer to a call: fatal connection errors, server `error`s, throwing handlers. */
  onError(listener: (error: TestwireError) => void): Unbind {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** `client.state` changed: an event was applied, or it was replaced from a snapshot. */
  onRunState(listener: (update: RunStateUpdate) => void): Unbind {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  /** Adds a subscription (kept across reconnects). WS only. Resolves with the server's description. */
  subscribe(request: SubscribeRequest): Promise<SubscriptionDescription | undefined> {
    try {
      new Subscription().subscribe(request);
    } catch (error) {
      return Promise.reject(new TestwireError('INVALID_ARGUMENT', (error as SubscriptionError).message));
    }
    return this.changeSubscription({ kind: 'subscribe', request });
  }

  /** Removes event types or patterns (kept across reconnects). WS only. */
  unsubscribe(
    request: Pick<SubscribeRequest, 'events' | 'patterns'>,
  ): Promise<SubscriptionDescription | undefined> {
    return this.changeSubscription({ kind: 'unsubscribe', request });
  }

  /** Asks the broadcaster for the full state of every run. WS only. Does not change `client.state`. */
  snapshot(): Promise<SnapshotMessage> {
    return this.request({ type: 'snapshot' }, false) as Promise<SnapshotMessage>;
  }

  /** Round trip to the broadcaster; resolves with the latency in ms. WS only. */
  async ping(): Promise<number> {
    const start = Date.now();
    await this.request({ type: 'ping' }, false);
    return Date.now() - start;
  }

  /**
   * An async iterable of events matching `selector`, from now on. It buffers up to `bufferSize` events for a
   * slow consumer, then fails with BUFFER_OVERFLOW rather than dropping silently. Ends when the client closes.
   */
  events(selector = '*', options: { bufferSize?: number } = {}): AsyncIterable<AnyEventEnvelope> {
    return {
      [Symbol.asyncIterator]: () => {
        const queue = new EventQueue(selector, options.bufferSize ?? this.options.bufferSize, (q) =>
          this.queues.delete(q),
        );
        if (this.status === 'closed') queue.end();
        else this.queues.add(queue);
        return queue;
      },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<AnyEventEnvelope> {
    return this.events()[Symbol.asyncIterator]();
  }

  // -------------------------------------------------------------------------------------------------------
  // Connection lifecycle

  /**
   * Where the credentials go: an `Authorization: Bearer` header where the runtime sends headers (the key
   * stays out of URLs, which logs and proxies keep), the query otherwise. One header: with both an apiKey
   * and a token, the token stays in the query.
   */
  private credentials(): { query: { apiKey?: string; token?: string }; headers?: Record<string, string> } {
    const { apiKey, token } = this.options;
    if (!this.runtime.sendsHeaders || (!apiKey && !token)) return { query: { apiKey, token } };
    return {
      query: apiKey && token ? { token } : {},
      headers: { authorization: `Bearer ${apiKey || token}` },
    };
  }

  /**
   * Credentials go to a loopback endpoint only when the process listening there runs as this OS user: once the
   * endpoint's owner has gone (a test run ended, serve stopped), any local user may bind its port next, and a
   * reconnect would hand that process the key (`runtime.listenerOfAnotherUser`, Node on Linux).
   */
  private untrustedListener(): string | undefined {
    if (!this.options.apiKey && !this.options.token) return undefined;
    const url = endpointUrl(
      this.options.url ?? DEFAULT_URL,
      this.options.transport === 'ws' ? 'ws' : 'events',
    );
    return this.runtime.listenerOfAnotherUser?.(url);
  }

  private initialRequest(): SubscribeRequest {
    const { events, patterns, filters } = this.options;
    if (!events?.length && !patterns?.length) return { events: ['*'], ...(filters ? { filters } : {}) };
    return { events, patterns, ...(filters ? { filters } : {}) };
  }

  private open(): void {
    const generation = ++this.generation;
    this.phase = 'handshake';
    this.openedAt = { epoch: this.epochValue, seq: this.seqValue };
    this.held.clear();
    this.resumeFailure = undefined;
    this.established = undefined;
    const ignoreStale =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        if (generation === this.generation) fn(...args);
      };
    const handlers = {
      onOpen: ignoreStale(() => this.onTransportOpen()),
      onMessage: ignoreStale((text: string) => this.onFrame(text)),
      onClose: ignoreStale((info: CloseInfo) => this.onTransportClose(info)),
      onActivity: ignoreStale(() => {
        this.lastActivity = Date.now();
      }),
    };
    this.connectTimer = setTimeout(
      ignoreStale(() =>
        this.abandon(
          new TestwireError(
            'CONNECTION_FAILED',
            `No answer within connectTimeoutMs (${this.options.connectTimeoutMs}ms)`,
          ),
        ),
      ),
      this.options.connectTimeoutMs,
    );
    unref(this.connectTimer);
    const untrusted = this.untrustedListener();
    if (untrusted) {
      // Not dialled: waited out like a refused connection (the squatter may go, our endpoint come back).
      queueMicrotask(ignoreStale(() => this.abandon(new TestwireError('CONNECTION_FAILED', untrusted))));
      return;
    }
    const { query, headers } = this.credentials();
    const connector = { handshakeTimeoutMs: this.options.connectTimeoutMs, ...(headers ? { headers } : {}) };
    try {
      if (this.options.transport === 'ws') {
        const url = withAuth(endpointUrl(this.options.url ?? DEFAULT_URL, 'ws'), query);
        this.conn = this.runtime.webSocket(connector)(url.toString(), handlers);
      } else {
        const url = withSubscription(
          withAuth(endpointUrl(this.options.url ?? DEFAULT_URL, 'events'), query),
          this.initialRequest(),
        );
        let lastEventId: string | undefined;
        if (this.epochValue) lastEventId = `${this.epochValue}:${this.seqValue}`;
        else if (this.fromStart()) lastEventId = '0'; // a bare seq: the broadcaster's current epoch
        this.sseResuming = lastEventId !== undefined;
        this.conn = this.runtime.eventStream(connector)(url.toString(), lastEventId, handlers);
      }
    } catch (error) {
      this.shutdown(new TestwireError('INVALID_ARGUMENT', (error as Error).message, { cause: error }), true);
    }
  }

  /**
   * `connectTimeoutMs` bounds the handshake (dial to `connection.established`). From there the catch-up is
   * bounded by progress instead: a replay that takes minutes over a slow link goes on while frames keep coming,
   * and one with no frame for `connectTimeoutMs` is reported (onError RESYNC_STALLED) and retried.
   */
  private watchSync(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    const limit = this.options.connectTimeoutMs;
    const generation = this.generation;
    let due = Date.now() + limit;
    const check = (): void => {
      this.connectTimer = undefined;
      if (generation !== this.generation || this.phase === 'live' || this.status === 'closed') return;
      const now = Date.now();
      const idle = now - this.lastFrameAt;
      // A timer that fires far too late means this process was starved of CPU: the frames may be waiting in
      // our own socket, unread. That is not the broadcaster's silence: give it a whole window again.
      const starved = now - due > limit / 2;
      if (idle < limit || starved) {
        const wait = starved ? limit : limit - idle;
        due = now + wait;
        this.connectTimer = setTimeout(check, wait);
        unref(this.connectTimer);
        return;
      }
      const error = new TestwireError(
        'RESYNC_STALLED',
        `The broadcaster sent nothing for ${limit}ms while this client was catching up (position ${this.epochValue}:${this.seqValue}); reconnecting`,
      );
      this.emitError(error);
      this.abandon(error);
    };
    this.connectTimer = setTimeout(check, limit);
    unref(this.connectTimer);
  }

  /** Replaces the current connection at once, without backoff (SSE: resume from another position). */
  private reopen(): void {
    const conn = this.conn;
    this.conn = undefined;
    this.clearConnectionTimers();
    this.open(); // bumps the generation: the old connection's callbacks are ignored from here on
    void conn?.close(1000, 'resuming elsewhere');
  }

  /** Gives up on the current connection (timeout, lag) and lets the close path schedule the next. */
  private abandon(error: Error): void {
    this.lastError = error;
    const conn = this.conn;
    const generation = ++this.generation;
    this.conn = undefined;
    void conn?.close(4000, error.message);
    this.onTransportClose({ code: 4000, reason: error.message, wasOpen: true, error }, generation);
  }

  private onTransportOpen(): void {
    this.lastActivity = Date.now();
  }

  private onTransportClose(info: CloseInfo, generation = this.generation): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.conn = undefined;
    this.clearConnectionTimers();
    if (this.status === 'closed') return;
    const wasLive = this.phase === 'live';
    // When the endpoint was last known to serve us: the runs a new owner does not carry ended then. A
    // connection past its handshake was served, in sync or not (a replay cut short, a page never live); one
    // to a new owner whose epoch change is still pending says nothing of the old owner's runs.
    if (wasLive || (this.phase !== 'handshake' && this.epochChange === undefined)) this.lostAt = new Date();
    this.phase = 'handshake';
    this.held.clear();
    for (const [id, pending] of this.pending) {
      if (pending.replayable) continue;
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(
        new TestwireError(
          'CONNECTION_FAILED',
          'The connection was lost before the broadcaster answered; retry after reconnect',
        ),
      );
    }
    // Auth failures: the same credentials will fail again; retrying would only hammer the server.
    if (info.status === 401 || info.status === 403) {
      const where = redact(
        endpointUrl(this.options.url ?? DEFAULT_URL, this.options.transport === 'ws' ? 'ws' : 'events'),
      );
      const detail = info.body ? `: ${info.body.trim().slice(0, 200)}` : '';
      const error = new TestwireAuthError(
        `The broadcaster at ${where} refused the credentials (HTTP ${info.status})${detail}. ` +
          'Check apiKey/token (TESTWIRE_API_KEY of the test process).',
        info.status,
      );
      this.shutdown(error, true);
      return;
    }
    // A wrong URL fails at once. Once we have been in sync, the URL was right: whatever answers there now
    // (another process on the port while the test run restarts) is waited out like a refused connection.
    if (
      !this.everInSync &&
      info.status !== undefined &&
      info.status >= 400 &&
      info.status < 500 &&
      info.status !== 408 &&
      info.status !== 429
    ) {
      const where = redact(
        endpointUrl(this.options.url ?? DEFAULT_URL, this.options.transport === 'ws' ? 'ws' : 'events'),
      );
      this.shutdown(
        new TestwireError(
          'PROTOCOL_ERROR',
          `${where} answered HTTP ${info.status}: is this the URL of a testwire broadcaster?`,
          { status: info.status },
        ),
        true,
      );
      return;
    }
    const cause =
      info.error ??
      this.lastError ??
      new Error(
        info.status !== undefined
          ? `HTTP ${info.status}`
          : `connection closed (code ${info.code}${info.reason ? `, ${info.reason}` : ''})`,
      );
    this.lastError = undefined;
    // Progress (live, or part of a long replay delivered) earns a fresh set of attempts: only failing to
    // get anywhere counts towards giving up.
    const progressed = this.epochValue === this.openedAt.epoch && this.seqValue > this.openedAt.seq;
    if (wasLive || progressed) this.attempt = 0;
    this.attempt++;
    if (this.epochValue === undefined) this.waitedForEndpoint = true;
    const allowed = this.everInSync ? this.policy.attempts : this.policy.initialAttempts;
    if (this.attempt > allowed) {
      const where = redact(
        endpointUrl(this.options.url ?? DEFAULT_URL, this.options.transport === 'ws' ? 'ws' : 'events'),
      );
      const tries = this.attempt;
      this.shutdown(
        new TestwireError(
          'CONNECTION_FAILED',
          `Could not connect to ${where} after ${tries} attempt${tries === 1 ? '' : 's'}: ${cause.message}. ` +
            'Is the test run (or `testwire serve`) running?',
          { cause },
        ),
        true,
      );
      return;
    }
    const delayMs = backoffDelay(this.policy, this.attempt);
    this.setState('reconnecting', { attempt: this.attempt, delayMs, error: cause, epoch: this.epochValue });
    // Not unref'd: a client that has not been closed is meant to keep listening through a broadcaster restart.
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.status !== 'closed') this.open();
    }, delayMs);
  }

  private onFrame(text: string): void {
    this.lastActivity = Date.now();
    this.lastFrameAt = this.lastActivity;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.emitError(
        new TestwireError('PROTOCOL_ERROR', `Ignored a frame that is not JSON: ${text.slice(0, 80)}`),
      );
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    if (isServerMessage(message)) {
      this.onServerMessage(message);
      return;
    }
    const envelope = message as AnyEventEnvelope;
    if (typeof envelope.type !== 'string' || typeof envelope.seq !== 'number') {
      this.emitError(
        new TestwireError('PROTOCOL_ERROR', `Ignored a message without type/seq: ${text.slice(0, 80)}`),
      );
      return;
    }
    this.onEvent(envelope);
  }

  private onServerMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'connection.established':
        this.onEstablished(message);
        return;
      case 'subscribed':
      case 'unsubscribed':
      case 'pong':
        this.settle(message.id, message);
        return;
      case 'error': {
        const error = new TestwireError(
          'SERVER_ERROR',
          `Broadcaster error ${message.code}: ${message.message}`,
          { serverCode: message.code },
        );
        if (typeof message.id === 'number' && this.pending.has(message.id)) this.settle(message.id, error);
        else this.emitError(error);
        return;
      }
      case 'resumed':
        if (this.phase !== 'syncing') return;
        if (this.epochChange) this.finishEpochChange();
        this.flushHeld(this.seqValue);
        return;
      case 'resume.failed':
        this.resumeFailure = message;
        this.phase = 'awaiting-snapshot';
        return;
      case 'snapshot':
        this.onSnapshot(message);
        return;
      default:
        return;
    }
  }

  private onEstablished(message: ConnectionEstablishedMessage): void {
    this.established = message;
    this.watchSync();
    if (message.server !== 'testwire') {
      this.shutdown(
        new TestwireError(
          'PROTOCOL_ERROR',
          `${redact(endpointUrl(this.options.url ?? DEFAULT_URL, 'ws'))} is not a testwire broadcaster (server: ${JSON.stringify(message.server)})`,
        ),
        true,
      );
      return;
    }
    if (this.options.transport === 'sse') {
      // SSE: the request carried subscription and resume position (Last-Event-ID); the server follows
      // with the replay and `resumed`, or `resume.failed` + `snapshot`, exactly as over WS.
      if (!this.epochValue) {
        this.epochValue = message.epoch;
        this.seqValue = this.fromStart() ? 0 : message.seq;
      }
      // A stream is never silent for long: keep-alive comments, if nothing else. One that is went dead
      // without a FIN or RST (a blackholed link) and would look open forever.
      if (this.runtime.reportsKeepAlives) this.startWatchdog(this.options.sseKeepAliveMs, 'keep-alive');
      if (this.sseResuming) {
        this.phase = 'syncing';
        return;
      }
      this.phase = 'live';
      this.ready();
      return;
    }
    const first = this.epochValue === undefined;
    if (first) {
      this.epochValue = message.epoch;
      // Resuming from the seq the server had when we arrived closes the gap between "connected" and
      // "subscribed": nothing published in between is missed.
      this.seqValue = this.fromStart() ? 0 : message.seq;
    } else if (message.epoch !== this.epochValue) {
      // A different broadcaster (the test process that owned the port exited and another run started its
      // own, or a publisher took the port over). Everything it has is news to us, since we lost the previous
      // one: ask for its state, and replay its history from the start instead of resuming an epoch it never
      // had. (Asking to resume the old epoch would cost a resume.failed and a snapshot, after which the
      // broadcaster no longer replays what that snapshot covers.)
      this.epochChange = {
        previousEpoch: this.epochChange?.previousEpoch ?? this.epochValue,
        snapshotId: this.nextId++,
      };
      this.epochValue = message.epoch;
      this.seqValue = 0;
    }
    this.phase = 'syncing';
    // Snapshots first: taken before the replay starts, so the replayed events after their seq are news to
    // the state and the ones before are not applied twice.
    if (first && this.keepState && !this.fromStart()) {
      this.initialSnapshotId = this.nextId++;
      this.send({ type: 'snapshot', id: this.initialSnapshotId });
    }
    if (this.epochChange?.snapshotId !== undefined && !this.epochChange.snapshot)
      this.send({ type: 'snapshot', id: this.epochChange.snapshotId });
    this.send(this.syncMessage({ epoch: this.epochValue as string, since: this.seqValue }));
    if (message.heartbeatMs && this.runtime.reportsPings)
      this.startWatchdog(message.heartbeatMs, 'heartbeat');
  }

  /**
   * The subscription and the resume in ONE message. Sent apart (subscribe, then resume), a live event could
   * be sent between the two, and the broadcaster could then no longer replay the missed events before it.
   *
   * `ops` (every subscribe/unsubscribe so far, replayed on each connection) fold into one subscribe request
   * when they amount to one entry (one set of filters, no exclusions). Otherwise the request is a superset
   * (every selector, the filters only if all entries share them) and `narrow` drops what `ops` exclude. With
   * nothing subscribed, no live event can come at all: a plain `resume` is enough.
   */
  private syncMessage(resume: { epoch: string; since: number }): object {
    const wanted = new Subscription();
    for (const op of this.ops) {
      try {
        if (op.kind === 'subscribe') wanted.subscribe(op.request);
        else wanted.unsubscribe(op.request);
      } catch {
        // Refused by the broadcaster too (SERVER_ERROR removes it from ops); it changes nothing.
      }
    }
    const { entries } = wanted.describe();
    this.narrow = undefined;
    if (entries.length === 0) return { type: 'resume', ...resume };
    let request: SubscribeRequest;
    const only = entries[0];
    if (entries.length === 1 && only && !only.excluded?.length) {
      request = { events: only.events, patterns: only.patterns, filters: only.filters };
    } else {
      const key = (filters: Filters | undefined) => JSON.stringify(Object.entries(filters ?? {}).sort());
      const shared = entries.every((e) => key(e.filters) === key(only?.filters));
      request = {
        events: [...new Set(entries.flatMap((e) => e.events))],
        patterns: [...new Set(entries.flatMap((e) => e.patterns))],
        filters: shared ? only?.filters : undefined,
      };
      this.narrow = wanted;
    }
    if (!request.filters) delete request.filters;
    return { type: 'subscribe', id: this.nextId++, ...request, resume };
  }

  private onSnapshot(received: SnapshotMessage): void {
    const runs = this.checkedRuns(received.runs);
    const message = runs === received.runs ? received : { ...received, runs };
    if (message.id !== undefined && message.id === this.initialSnapshotId) {
      this.initialSnapshotId = undefined;
      if (message.epoch === this.epochValue) {
        this.state.restore(message.runs);
        this.stateSeq = message.seq;
        this.emitRunState({ reason: 'snapshot' });
      }
      return;
    }
    if (typeof message.id === 'number' && this.pending.has(message.id)) {
      this.settle(message.id, message);
      return;
    }
    if (message.id !== undefined && message.id === this.epochChange?.snapshotId) {
      if (message.epoch === this.epochValue) this.epochChange.snapshot = message;
      return;
    }
    if (this.phase === 'awaiting-snapshot') this.resync(this.resumeFailure, message);
  }

  /**
   * The runs of a snapshot the run state can take: one that is not a run snapshot (a broadcaster's bug, or
   * not a broadcaster) is left out and said as an error, rather than thrown from the state's rebuild.
   */
  private checkedRuns(runs: unknown): RunSnapshot[] {
    if (!Array.isArray(runs)) return [];
    const valid: RunSnapshot[] = [];
    for (const run of runs) {
      const checked = validateRunSnapshot(run);
      if (checked.ok) valid.push(checked.value);
      else
        this.emitError(new TestwireError('PROTOCOL_ERROR', `Ignored a run of a snapshot: ${checked.error}`));
    }
    // Every run valid (the usual case): the snapshot's own list.
    return valid.length === runs.length ? runs : valid;
  }

  /**
   * The replay of a new epoch from its start succeeded (`resumed`): the state becomes the snapshot (which
   * covers every event up to its seq, runs re-published by a takeover included), and the replayed events are
   * delivered after the notice without being applied twice.
   */
  private finishEpochChange(): void {
    const change = this.epochChange!;
    this.epochChange = undefined;
    const epoch = this.epochValue ?? '';
    const snapshot = change.snapshot;
    const seq = snapshot?.seq ?? 0;
    const runs = snapshot?.runs ?? [];
    const { staleRuns, interruptedRuns } = this.replaceState(runs, true);
    this.stateSeq = seq;
    this.notifyResync({
      reason: 'EPOCH_CHANGED',
      message:
        change.failure?.message ??
        `The broadcaster changed (epoch ${change.previousEpoch} is gone, now ${epoch}); its events are replayed from the start`,
      previousEpoch: change.previousEpoch,
      epoch,
      seq,
      replayed: true,
      runs,
      staleRuns,
      interruptedRuns,
    });
  }

  /** Replaces state from a snapshot after resume.failed, tells listeners, then delivers held newer events. */
  private resync(failure: ResumeFailedMessage | undefined, snapshot: SnapshotMessage | undefined): void {
    const change = this.epochChange;
    const previousEpoch = change ? change.previousEpoch : this.epochValue;
    const epoch = snapshot?.epoch ?? failure?.epoch ?? this.epochValue ?? '';
    const seq = snapshot?.seq ?? 0;
    const runs = snapshot?.runs ?? [];
    this.resumeFailure = undefined;
    if (
      this.options.transport === 'sse' &&
      failure?.reason === 'EPOCH_CHANGED' &&
      snapshot &&
      seq > 0 &&
      failure.oldestSeq === 1
    ) {
      // SSE sent the old epoch in Last-Event-ID before it could know of the new one. The new broadcaster
      // still holds its whole history: ask again, from its first event.
      this.epochChange = { previousEpoch, snapshot, failure };
      this.epochValue = epoch;
      this.seqValue = 0;
      this.reopen();
      return;
    }
    this.epochChange = undefined;
    // A new epoch with no event yet (seq 0) is caught up with from its start as well.
    const replayed = failure?.reason === 'EPOCH_CHANGED' && seq === 0;
    this.epochValue = epoch;
    this.seqValue = seq;
    this.stateSeq = seq;
    const epochChanged = previousEpoch !== undefined && previousEpoch !== epoch;
    const { staleRuns, interruptedRuns } = this.replaceState(runs, epochChanged);
    const reason = change ? 'EPOCH_CHANGED' : (failure?.reason ?? 'EPOCH_CHANGED');
    this.notifyResync({
      reason,
      message:
        change && failure?.reason !== 'EPOCH_CHANGED'
          ? `The broadcaster changed (epoch ${previousEpoch} is gone, now ${epoch}) and its history no longer holds its first events: ${failure?.message ?? ''}`
          : (failure?.message ?? 'The broadcaster could not resume this stream'),
      previousEpoch,
      epoch,
      seq,
      replayed,
      runs,
      staleRuns,
      interruptedRuns,
    });
    if (snapshot) this.flushHeld(seq);
  }

  /**
   * `client.state` becomes the snapshot's runs (plus, with keepStaleRuns, the runs it does not list). On a new
   * epoch, the runs still running that the new broadcaster does not list are completed first, as interrupted
   * by `owner_lost` (see `ResyncInfo.interruptedRuns`).
   */
  private replaceState(
    runs: RunSnapshot[],
    epochChanged: boolean,
  ): { staleRuns: string[]; interruptedRuns: RunSnapshot[] } {
    const listed = new Set(runs.map((run) => run.runId));
    const interruptedRuns: RunSnapshot[] = [];
    if (epochChanged) {
      // They ended when the endpoint stopped serving us, not when the new one answered (a reconnect can
      // take a while): their duration is what the old owner could have run them for.
      const at = this.lostAt ?? new Date();
      this.lostAt = undefined;
      for (const run of this.state.briefs()) {
        if (run.status !== 'running' || listed.has(run.runId)) continue;
        const interrupted = this.state.interrupt(run.runId, OWNER_LOST, at);
        if (interrupted) interruptedRuns.push(interrupted);
      }
    }
    if (!this.options.keepStaleRuns) {
      this.state.restore(runs);
      return { staleRuns: [], interruptedRuns };
    }
    const staleRuns = this.state
      .briefs()
      .map((run) => run.runId)
      .filter((id) => !listed.has(id));
    for (const run of runs) this.state.merge(run);
    return { staleRuns, interruptedRuns };
  }

  private notifyResync(info: ResyncInfo): void {
    for (const listener of this.resyncListeners) this.guard(() => listener(info));
    this.emitRunState({ reason: 'resync' });
  }

  private onEvent(envelope: AnyEventEnvelope): void {
    if (
      envelope.type === 'system.error' &&
      (envelope.data as { error?: { code?: string } }).error?.code === 'SUBSCRIBER_LAGGING'
    ) {
      // The server dropped events for us. Stop reading this connection right here (later events would
      // move our position past the gap) and resume from the last event we did get.
      this.emitError(
        new TestwireError('SERVER_ERROR', 'The broadcaster reported this subscriber as lagging; resuming', {
          serverCode: 'SUBSCRIBER_LAGGING',
        }),
      );
      this.abandon(new TestwireError('CONNECTION_FAILED', 'subscriber lagging'));
      return;
    }
    if (envelope.seq > 0 && this.narrow && !this.narrow.matches(envelope)) return;
    if (this.phase !== 'live' && !this.replayStreams()) {
      if (envelope.seq > 0) this.held.set(envelope.seq, envelope);
      else this.deliver(envelope);
      return;
    }
    this.deliver(envelope);
  }

  /**
   * While resuming the same epoch, with the state already in place (no snapshot awaited), the replay is
   * delivered as it arrives: the broadcaster sends it in seq order and before any live event, so it needs no
   * holding, and what arrived stays delivered if this connection is lost before `resumed` (the next attempt
   * resumes after it). Over a slow link a long replay then makes progress on every attempt.
   */
  private replayStreams(): boolean {
    return (
      this.phase === 'syncing' &&
      this.epochChange === undefined &&
      this.initialSnapshotId === undefined &&
      this.resumeFailure === undefined &&
      this.held.size === 0 &&
      !this.sseResuming
    );
  }

  private flushHeld(after: number): void {
    const held = [...this.held.values()].sort((a, b) => a.seq - b.seq);
    this.held.clear();
    this.phase = 'live';
    for (const envelope of held) if (envelope.seq > after) this.deliver(envelope);
    this.ready();
  }

  private deliver(envelope: AnyEventEnvelope): void {
    // A handler may close the client while a batch of held events is being delivered.
    if (this.status === 'closed') return;
    if (envelope.seq > 0) {
      if (envelope.seq <= this.seqValue) return; // replayed twice or seen before the reconnect
      this.seqValue = envelope.seq;
    }
    // The same event again under a new epoch: a publisher re-sent it to the owner that took over (origin).
    const repeated = this.origins.repeated(envelope.origin);
    if (this.keepState && envelope.seq > this.stateSeq) {
      this.stateSeq = envelope.seq;
      const run = this.state.apply(envelope);
      if (run && !repeated && this.runListeners.size)
        this.emitRunState({ reason: 'event', run, event: envelope });
    }
    if (repeated) return;
    for (const handler of this.handlers) {
      if (selectorMatches(handler.selector, envelope.type))
        this.guard(() => handler.fn(envelope.data as never, envelope as never));
    }
    for (const queue of this.queues) {
      if (selectorMatches(queue.selector, envelope.type)) queue.push(envelope);
    }
  }

  /** In sync: resolve connect(), release subscription waiters, reset the attempt counter. */
  /** The first connection replays the endpoint's history from its start (see waitedForEndpoint). */
  private fromStart(): boolean {
    return this.options.replay === true || this.waitedForEndpoint;
  }

  private ready(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.attempt = 0;
    this.everInSync = true;
    this.setState('open', { epoch: this.epochValue });
    for (const waiter of this.connectWaiters.splice(0)) waiter.resolve();
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
  }

  private shutdown(error: TestwireError, fatal: boolean): void {
    this.status = 'closed';
    this.generation++;
    this.clearConnectionTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (fatal) void this.conn?.close(1000, 'client closed');
    this.conn = undefined;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    const waiters = [...this.connectWaiters.splice(0), ...this.readyWaiters.splice(0)];
    for (const waiter of waiters) waiter.reject(error);
    for (const queue of this.queues) fatal ? queue.fail(error) : queue.end();
    this.queues.clear();
    this.emitState('closed', fatal ? { error } : {});
    // Nobody awaiting connect() to hear about it: tell the error listeners.
    if (fatal && waiters.length === 0) this.emitError(error);
  }

  private clearConnectionTimers(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.connectTimer = undefined;
    this.watchdog = undefined;
  }

  /**
   * A half-open TCP connection looks alive forever. The broadcaster pings a WebSocket every heartbeatMs and
   * writes an SSE keep-alive comment every sseKeepAliveMs, so silence for 2.5 of those means dead: the
   * connection is dropped and the client resumes on a new one.
   */
  private startWatchdog(intervalMs: number, what: 'heartbeat' | 'keep-alive'): void {
    if (this.watchdog) clearInterval(this.watchdog);
    const limit = intervalMs * 2.5;
    let due = Date.now() + intervalMs;
    this.watchdog = setInterval(() => {
      const now = Date.now();
      // A tick far too late means this process was starved of CPU (timers run before pending reads): what
      // the broadcaster sent may be waiting in our socket. Look again at the next tick.
      const starved = now - due > limit / 2;
      due = now + intervalMs;
      if (!starved && now - this.lastActivity > limit) {
        this.abandon(
          new TestwireError('CONNECTION_FAILED', `No ${what} from the broadcaster for ${limit}ms`),
        );
      }
    }, intervalMs);
    unref(this.watchdog);
  }

  // -------------------------------------------------------------------------------------------------------
  // Requests

  private send(message: object): void {
    this.conn?.send(JSON.stringify(message));
  }

  private sendOp(op: Op): number {
    const id = this.nextId++;
    this.send({ type: op.kind, id, ...op.request });
    return id;
  }

  private async changeSubscription(op: Op): Promise<SubscriptionDescription | undefined> {
    if (this.options.transport === 'sse') {
      throw new TestwireError(
        'UNSUPPORTED',
        `${op.kind}(): the SSE transport takes its subscription from the URL; use transport 'ws' to change it at runtime`,
      );
    }
    if (this.status === 'closed')
      throw new TestwireError('CLIENT_CLOSED', `${op.kind}(): the client is closed`);
    if (
      op.kind === 'unsubscribe' &&
      [...(op.request.events ?? []), ...(op.request.patterns ?? [])].includes('*')
    ) {
      this.ops = [];
    }
    this.ops.push(op);
    if (this.narrow) {
      try {
        if (op.kind === 'subscribe') this.narrow.subscribe(op.request);
        else this.narrow.unsubscribe(op.request);
      } catch {
        // A malformed unsubscribe: the broadcaster refuses it as well.
      }
    }
    if (this.phase !== 'live') {
      // Not connected (or mid-handshake): the op is sent with the others when the next connection syncs.
      if (this.phase === 'syncing' || this.phase === 'awaiting-snapshot') this.sendOp(op);
      await new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
      return undefined;
    }
    const id = this.sendOp(op);
    try {
      const answer = await this.awaitAnswer(id, true);
      return answer as SubscriptionDescription;
    } catch (error) {
      if ((error as TestwireError).code === 'SERVER_ERROR') this.ops = this.ops.filter((o) => o !== op);
      throw error;
    }
  }

  private request(message: { type: string }, replayable: boolean): Promise<unknown> {
    if (this.options.transport === 'sse') {
      return Promise.reject(
        new TestwireError('UNSUPPORTED', `${message.type}(): not available over SSE; use transport 'ws'`),
      );
    }
    if (this.status !== 'open' || !this.conn) {
      return Promise.reject(
        new TestwireError(
          'CONNECTION_FAILED',
          `${message.type}(): not connected; await client.connect() first`,
        ),
      );
    }
    const id = this.nextId++;
    this.send({ ...message, id });
    return this.awaitAnswer(id, replayable);
  }

  private awaitAnswer(id: number, replayable: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new TestwireError(
            'REQUEST_TIMEOUT',
            `No answer from the broadcaster within ${this.options.requestTimeoutMs}ms`,
          ),
        );
      }, this.options.requestTimeoutMs);
      unref(timer);
      this.pending.set(id, { resolve, reject, timer, replayable });
    });
  }

  private settle(id: unknown, value: unknown): void {
    if (typeof id !== 'number') return;
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (value instanceof Error) pending.reject(value);
    else pending.resolve(value);
  }

  // -------------------------------------------------------------------------------------------------------
  // Notifications

  private setState(state: ConnectionState, info: StateInfo): void {
    if (this.status === 'closed') return;
    if (state === this.status && state !== 'reconnecting') return;
    this.emitState(state, info);
  }

  private emitState(state: ConnectionState, info: StateInfo): void {
    this.status = state;
    for (const listener of this.stateListeners) this.guard(() => listener(state, info));
  }

  private emitRunState(update: RunStateUpdate): void {
    for (const listener of this.runListeners) this.guard(() => listener(update));
  }

  private emitError(error: TestwireError): void {
    if (this.errorListeners.size === 0) {
      if (error.code !== 'SERVER_ERROR' || error.serverCode !== 'SUBSCRIBER_LAGGING')
        console.error(`[testwire] ${error.message}`);
      return;
    }
    for (const listener of this.errorListeners) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  /** A throwing user callback must not break the stream for everyone else. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.emitError(
        new TestwireError(
          'HANDLER_ERROR',
          `A testwire handler threw: ${(error as Error)?.message ?? String(error)}`,
          { cause: error },
        ),
      );
    }
  }
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
