/** What crosses the hook's boundary: its options, its result, and the messages `send` takes. */
import type {
  AnyEventEnvelope,
  ConnectionState,
  TestwireClientOptions,
  TestwireError,
} from '@testwire/client';
import type {
  RunSnapshot,
  SnapshotMessage,
  SubscribeRequest,
  SubscriptionDescription,
} from '@testwire/protocol';

/** The options that decide the connection: a change of any of them (by value) makes one new subscription. */
export type TestwireConnectionOptions = Pick<
  TestwireClientOptions,
  | 'url'
  | 'apiKey'
  | 'token'
  | 'events'
  | 'patterns'
  | 'filters'
  | 'transport'
  | 'replay'
  | 'reconnect'
  | 'keepStaleRuns'
  | 'connectTimeoutMs'
  | 'requestTimeoutMs'
  | 'sseKeepAliveMs'
> & {
  /** Bounds of the run-state model (`maxCompletedRuns`, `maxTestsPerRun`); it is always kept. */
  runState?: Exclude<TestwireClientOptions['runState'], boolean>;
};

export interface UseTestwireOptions extends TestwireConnectionOptions {
  /**
   * Events kept in `events`, newest last; older ones are dropped (and counted in `droppedEvents`) so a long
   * run does not grow memory without bound. `0` keeps none (use `runs`). Default 500. Changing it keeps the
   * connection.
   */
  maxEvents?: number;
  /**
   * Changes are handed to React at most once per this many ms (events often arrive in bursts of
   * hundreds, one WebSocket message each); `0` hands each message over at once. Default 50. Changing it
   * keeps the connection.
   */
  renderIntervalMs?: number;
  /** `false`: no connection (e.g. until the URL is known). Default true. */
  enabled?: boolean;
}

/** A request to the broadcaster over the hook's connection (WebSocket transport). */
export type TestwireRequest =
  | ({ type: 'subscribe' } & SubscribeRequest)
  | ({ type: 'unsubscribe' } & Pick<SubscribeRequest, 'events' | 'patterns'>)
  | { type: 'snapshot' }
  | { type: 'ping' };

/** What `send` resolves with, per request type. */
export interface TestwireAnswers {
  /** The server's description of the subscription (undefined when sent while reconnecting). */
  subscribe: SubscriptionDescription | undefined;
  unsubscribe: SubscriptionDescription | undefined;
  /** The full state of every run (it does not change `runs`). */
  snapshot: SnapshotMessage;
  /** Round-trip time in ms. */
  ping: number;
}

/**
 * Sends a request and resolves with the broadcaster's answer. Subscription changes are kept across
 * reconnects (until the hook's own options change, which starts a new subscription). Rejects with a
 * TestwireError: `CONNECTION_FAILED` when not connected, `INVALID_ARGUMENT` for an unknown request.
 */
export type TestwireSend = <R extends TestwireRequest>(request: R) => Promise<TestwireAnswers[R['type']]>;

export interface UseTestwireResult {
  /** Subscribed and in sync with the broadcaster (`connectionState === 'open'`). */
  isConnected: boolean;
  /** `idle` (not started: server render, `enabled: false`), `connecting`, `open`, `reconnecting`, `closed`. */
  connectionState: ConnectionState;
  /** The latest events received (at most `maxEvents`), oldest first. */
  events: readonly AnyEventEnvelope[];
  /** Events received that are no longer in `events`. */
  droppedEvents: number;
  /**
   * Every known run, oldest first: counts, each test's latest state, failures, coverage — @testwire/client's
   * run state (seeded from the broadcaster's snapshot, so a page opened mid-run counts from the start). A run
   * that did not change keeps its object identity.
   */
  runs: readonly RunSnapshot[];
  /** The last error: refused credentials, connection given up, server error. Cleared when (re)connected. */
  error: TestwireError | null;
  /** Stable while the options are unchanged. */
  send: TestwireSend;
  /**
   * A key unique among the events of `events` (and stable for each), `${epoch}:${seq}`, for React lists:
   * `events.map((e) => <li key={eventKey(e)}>…)`. `seq` alone repeats: it starts over in every broadcaster
   * epoch (the endpoint restarted or changed hands), and envelopes do not carry the epoch. Stable while the
   * options are unchanged.
   */
  eventKey: (event: AnyEventEnvelope) => string;
}
