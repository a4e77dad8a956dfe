/**
 * One subscription as a React external store: a @testwire/client connection, the events buffer and the
 * client's run state, read through `useSyncExternalStore`.
 *
 *   subscribe(listener) ─> retain: first reference creates the client and connects
 *   unsubscribe         ─> release: the last reference closes the client one macrotask later, unless
 *                          someone retains again first (StrictMode's mount, unmount, mount: one connection)
 *   client events/state ─> buffered, coalesced: one new immutable snapshot per `renderIntervalMs`
 *
 * Nothing here runs at import or construction: a store made during a server render never opens anything.
 */
import {
  type AnyEventEnvelope,
  type ConnectionState,
  createClient,
  type RunSnapshot,
  type TestwireClient,
  TestwireError,
} from '@testwire/client';
import { type Filters, filtersMatch } from '@testwire/protocol';
import { EventBuffer } from './event-buffer.js';
import { liveReconnect } from './live-reconnect.js';
import type {
  TestwireAnswers,
  TestwireConnectionOptions,
  TestwireRequest,
  TestwireSend,
  UseTestwireResult,
} from './types.js';

export const DEFAULT_MAX_EVENTS = 500;
export const DEFAULT_RENDER_INTERVAL_MS = 50;

/** The result before anything connected: server renders, `enabled: false`, the first client render. */
export type TestwireState = Omit<UseTestwireResult, 'send' | 'eventKey'>;

export const IDLE_STATE: TestwireState = Object.freeze({
  isConnected: false,
  connectionState: 'idle',
  events: Object.freeze([]) as readonly AnyEventEnvelope[],
  droppedEvents: 0,
  runs: Object.freeze([]) as readonly RunSnapshot[],
  error: null,
});

type Timer = ReturnType<typeof setTimeout>;

function asTestwireError(error: unknown): TestwireError {
  if (error instanceof TestwireError) return error;
  return new TestwireError('INVALID_ARGUMENT', String((error as Error)?.message ?? error), { cause: error });
}

/** The error of a `send` with no connection to send on. */
export function notConnected(request: TestwireRequest | undefined): TestwireError {
  return new TestwireError(
    'CONNECTION_FAILED',
    `send(${JSON.stringify(request?.type)}): not connected (server render, enabled: false, or unmounted)`,
  );
}

/** `${epoch}:${seq}`: unique across the broadcaster epochs a subscription lives through. */
export function eventKeyOf(epoch: string | undefined, event: Pick<AnyEventEnvelope, 'seq'>): string {
  return `${epoch ?? ''}:${event.seq}`;
}

export class TestwireStore {
  private client: TestwireClient | undefined;
  private unbind: (() => void)[] = [];
  private refs = 0;
  private listeners = new Set<() => void>();
  private closeTimer: Timer | undefined;
  private flushTimer: Timer | undefined;
  private flushQueued = false;

  private readonly buffer: EventBuffer<AnyEventEnvelope>;
  private connectionState: ConnectionState = 'idle';
  private error: TestwireError | null = null;
  /** Runs whose state changed since the last snapshot; `all` after a snapshot/resync replaced the state. */
  private changedRuns = new Set<string>();
  private allRunsChanged = false;
  private runs: readonly RunSnapshot[] = IDLE_STATE.runs;
  private state: TestwireState = IDLE_STATE;
  /**
   * Each held event's key, `${epoch}:${seq}`: seq starts over with every broadcaster epoch (a restart, a
   * takeover), so seq alone repeats in `events`. Weak: an event that left the buffer takes its key along.
   */
  private readonly keys = new WeakMap<AnyEventEnvelope, string>();
  /** Events without a seq (seq 0: not part of the replayable stream) get a counter of their own. */
  private unsequenced = 0;

  constructor(
    private readonly options: TestwireConnectionOptions,
    maxEvents = DEFAULT_MAX_EVENTS,
    private renderIntervalMs = DEFAULT_RENDER_INTERVAL_MS,
  ) {
    this.buffer = new EventBuffer(maxEvents);
  }

  /** For useSyncExternalStore: registers a listener and holds the connection open while it is registered. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    this.retain();
    return () => {
      this.listeners.delete(listener);
      this.release();
    };
  };

  /** The current immutable state (the same object until something changed). */
  readonly getSnapshot = (): TestwireState => this.state;

  readonly send: TestwireSend = (request) => this.request(request) as never;

  /** The unique key of an event of `events` (see `UseTestwireResult.eventKey`). */
  readonly eventKey = (event: AnyEventEnvelope): string =>
    this.keys.get(event) ?? eventKeyOf(undefined, event);

  /** `maxEvents` and `renderIntervalMs` change in place: no new connection. */
  configure(maxEvents: number, renderIntervalMs: number): void {
    this.renderIntervalMs = renderIntervalMs;
    const dropped = this.buffer.dropped;
    this.buffer.resize(maxEvents);
    if (this.buffer.dropped !== dropped) this.changed();
  }

  private retain(): void {
    this.refs++;
    if (this.closeTimer !== undefined) {
      clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    if (!this.client) this.start();
  }

  private release(): void {
    this.refs--;
    if (this.refs > 0 || this.closeTimer !== undefined) return;
    // Deferred: StrictMode (and a parent re-keying within one commit) unsubscribes and subscribes again at
    // once; the connection should survive that, not be torn down and dialed again.
    this.closeTimer = setTimeout(() => {
      this.closeTimer = undefined;
      if (this.refs === 0) this.stop();
    }, 0);
  }

  private start(): void {
    let client: TestwireClient;
    try {
      client = createClient({
        ...this.options,
        reconnect: liveReconnect(this.options.reconnect),
        runState: this.options.runState ?? true,
      });
    } catch (error) {
      // Bad options (a URL that is not one, a bad filter): the component shows the error, nothing connects.
      this.connectionState = 'closed';
      this.error = asTestwireError(error);
      this.changed();
      return;
    }
    this.client = client;
    this.unbind = [
      client.on('*', (_data, envelope) => {
        // The epoch in force when an event is delivered is its own: a new broadcaster's events come after
        // the client has taken its epoch.
        const key =
          envelope.seq > 0
            ? eventKeyOf(client.epoch, envelope)
            : `${client.epoch ?? ''}:0.${++this.unsequenced}`;
        this.keys.set(envelope, key);
        this.buffer.push(envelope);
        this.changed();
      }),
      client.onRunState((update) => {
        if (update.reason === 'event' && update.run) this.changedRuns.add(update.run.runId);
        else this.allRunsChanged = true;
        this.changed();
      }),
      client.onState((state, info) => {
        this.connectionState = state;
        if (state === 'open') this.error = null;
        else if (info.error instanceof TestwireError && state === 'closed') this.error = info.error;
        // While it retries too: a live view retries for ever, and a wrong URL must still say what is wrong.
        else if (info.error && state === 'reconnecting')
          this.error =
            info.error instanceof TestwireError
              ? info.error
              : new TestwireError('CONNECTION_FAILED', `Reconnecting: ${info.error.message}`, {
                  cause: info.error,
                });
        this.changed();
      }),
      client.onError((error) => {
        this.error = error;
        this.changed();
      }),
    ];
    client.connect().catch((error: unknown) => {
      if (this.client !== client) return;
      this.error = asTestwireError(error);
      this.changed();
    });
  }

  private stop(): void {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    for (const unbind of this.unbind.splice(0)) unbind();
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushQueued = false;
    // Nobody renders this store any more; its state starts from idle if it is ever retained again.
    this.connectionState = 'idle';
    this.state = { ...this.state, isConnected: false, connectionState: 'idle' };
    client.close().catch(() => {
      // Closing an already failed client: nothing left to report to.
    });
  }

  /** Coalesces changes: one new state per `renderIntervalMs` (at the end of the current task when 0). */
  private changed(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    const flush = () => {
      this.flushTimer = undefined;
      this.flushQueued = false;
      this.flush();
    };
    if (this.renderIntervalMs > 0) this.flushTimer = setTimeout(flush, this.renderIntervalMs);
    else queueMicrotask(flush);
  }

  private flush(): void {
    const client = this.client;
    if (!client && this.listeners.size === 0) return;
    this.state = {
      isConnected: this.connectionState === 'open',
      connectionState: this.connectionState,
      events: this.buffer.toArray(),
      droppedEvents: this.buffer.dropped,
      runs: client ? this.currentRuns(client) : this.runs,
      error: this.error,
    };
    for (const listener of [...this.listeners]) listener();
  }

  /** The client's run state, rebuilding only the runs that changed (the others keep their identity). */
  private currentRuns(client: TestwireClient): readonly RunSnapshot[] {
    if (!this.allRunsChanged && this.changedRuns.size === 0) return this.runs;
    const previous = new Map(this.runs.map((run) => [run.runId, run]));
    const next: RunSnapshot[] = [];
    for (const { runId, project } of client.state.briefs()) {
      if (!this.follows(runId, project)) continue;
      const kept = this.allRunsChanged || this.changedRuns.has(runId) ? undefined : previous.get(runId);
      const run = kept ?? client.state.get(runId);
      if (run) next.push(run);
    }
    this.allRunsChanged = false;
    this.changedRuns.clear();
    this.runs = next;
    return next;
  }

  /**
   * A subscription filtered by `runId` or `project` receives the events of those runs only; the snapshot that
   * seeds the run state lists every run. The others would sit in `runs` frozen: leave them out.
   */
  private follows(runId: string, project: string | undefined): boolean {
    const { runId: runFilter, project: projectFilter } = this.options.filters ?? {};
    if (runFilter === undefined && projectFilter === undefined) return true;
    const selecting: Filters = {};
    if (runFilter !== undefined) selecting.runId = runFilter;
    if (projectFilter !== undefined) selecting.project = projectFilter;
    // The broadcaster's own matching, as if the run's test.started were filtered.
    return filtersMatch(selecting, { type: 'test.started', runId, data: { project } });
  }

  private async request(request: TestwireRequest): Promise<TestwireAnswers[keyof TestwireAnswers]> {
    const client = this.client;
    if (!client) throw notConnected(request);
    switch (request?.type) {
      case 'subscribe': {
        const { type, ...rest } = request;
        return client.subscribe(rest);
      }
      case 'unsubscribe': {
        const { type, ...rest } = request;
        return client.unsubscribe(rest);
      }
      case 'snapshot':
        return client.snapshot();
      case 'ping':
        return client.ping();
      default:
        throw new TestwireError(
          'INVALID_ARGUMENT',
          `send(): unknown request type ${JSON.stringify((request as { type?: unknown })?.type)}; expected subscribe, unsubscribe, snapshot or ping (the client resumes by itself)`,
        );
    }
  }
}
