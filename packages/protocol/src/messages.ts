/**
 * Messages other than events: client -> server, server -> client, and publisher -> owner.
 *
 *   client                                  server
 *     |  (HTTP upgrade, auth, Origin check)   |
 *     | <------------ connection.established |  first frame: protocol, version, epoch, seq, runs
 *     | subscribe {events,patterns,filters} ->|
 *     | <-------------------------- subscribed|
 *     | <-------------------- event envelopes |  {type, timestamp, seq, runId, data}
 *     | resume {epoch, since} --------------->|  after a reconnect
 *     | <---- replayed envelopes, then resumed|  or resume.failed + snapshot
 *     | ping / "ping" -----------------------> | <- pong
 *     | garbage ----------------------------->| <- error {code, message}; the connection stays open
 */

import type { PublishedEvent } from './envelope.js';
import { runSnapshotSchema } from './run-state.js';
import * as t from './schema-builder.js';
import { filtersSchema } from './subscription.js';

// The messages are written once, as schemas; their types are derived (`Static`). The records of schemas
// below are the lists of message types: a message added there is in the unions and the JSON Schema.

const int = t.integer({ minimum: 0 });
const str = t.string();
const strs = t.array(str);

export type MessageId = t.Static<typeof messageId>;
const messageId = t.union(t.string(), t.number());

// ---------------------------------------------------------------------------------------------------------
// client -> server

/** Schemas of client -> server messages. */
export const clientMessageSchemas = {
  subscribe: t.object({
    type: t.literal('subscribe'),
    id: t.optional(messageId),
    events: t.optional(strs),
    patterns: t.optional(strs),
    filters: t.optional(filtersSchema),
    /**
     * Subscribe and resume in one step (a reconnecting client): the missed events matching the new
     * subscription are replayed before any live event, exactly as a `resume` message would, with no window
     * in which a live event could overtake the replay.
     */
    resume: t.optional(t.object({ epoch: str, since: int })),
  }),
  unsubscribe: t.object({
    type: t.literal('unsubscribe'),
    id: t.optional(messageId),
    events: t.optional(strs),
    patterns: t.optional(strs),
  }),
  resume: t.object({
    type: t.literal('resume'),
    id: t.optional(messageId),
    /** The epoch of the broadcaster the client last heard from. */
    epoch: str,
    /** The last seq the client received (0 = from the beginning of the history). */
    since: int,
  }),
  snapshot: t.object({ type: t.literal('snapshot'), id: t.optional(messageId) }),
  ping: t.object({ type: t.literal('ping'), id: t.optional(messageId) }),
};

export interface SubscribeMessage extends t.Static<typeof clientMessageSchemas.subscribe> {}
export interface UnsubscribeMessage extends t.Static<typeof clientMessageSchemas.unsubscribe> {}
export interface ResumeMessage extends t.Static<typeof clientMessageSchemas.resume> {}
export interface SnapshotRequestMessage extends t.Static<typeof clientMessageSchemas.snapshot> {}
export interface PingMessage extends t.Static<typeof clientMessageSchemas.ping> {}

export type ClientMessage = StaticOf<typeof clientMessageSchemas>;

// ---------------------------------------------------------------------------------------------------------
// publisher -> owner

/** Schema of the message a joining publisher sends to the owner. */
export const publishMessageSchema = t.object({
  type: t.literal('publish'),
  /** Batch id; the owner acknowledges with `published` carrying the same id. */
  id: int,
  /** Each event's `data` is checked against its type's schema on arrival (`validatePublishedEvent`). */
  events: t.array(
    t.object({
      type: str,
      runId: str,
      timestamp: t.optional(str),
      data: t.record(),
    }),
  ),
});

/** Sent by a joining broadcaster (another test process) to the owner over an authenticated `/ws`. */
export interface PublishMessage extends Omit<t.Static<typeof publishMessageSchema>, 'events'> {
  events: PublishedEvent[];
}

/** Schema of the message a publisher sends to re-seed its open runs after the owner changed. */
export const runsMessageSchema = t.object({
  type: t.literal('runs'),
  id: int,
  runs: t.array(runSnapshotSchema),
});

/**
 * Sent by a publisher after the owner changed (takeover, or joining a new owner): the state of its open
 * runs, merged into the owner's run state so `snapshot` stays complete. Acknowledged with `published`.
 */
export interface RunsMessage extends t.Static<typeof runsMessageSchema> {}
export type PublisherMessage = PublishMessage | RunsMessage;

// ---------------------------------------------------------------------------------------------------------
// server -> client

export interface RunBrief extends t.Static<typeof runBrief> {}
const runBrief = t.object({
  runId: str,
  framework: str,
  project: t.optional(str),
  status: t.enumOf(['running', 'completed']),
  /** A completed run that ended interrupted, and what interrupted it (as in `RunSnapshot`). */
  interrupted: t.optional(t.boolean()),
  interruptedBy: t.optional(str),
});

export interface SubscriptionDescription extends t.StaticProps<typeof subscriptionDescription> {}
const subscriptionDescription = {
  events: strs,
  patterns: strs,
  excluded: strs,
  entries: t.array(
    t.object({
      events: strs,
      patterns: strs,
      filters: t.optional(filtersSchema),
      excluded: t.optional(strs),
    }),
  ),
};

/** Schemas of server -> client messages (and `published`, the owner's answer to a publisher). */
export const serverMessageSchemas = {
  'connection.established': t.object({
    type: t.literal('connection.established'),
    server: t.literal('testwire'),
    protocol: int,
    version: str,
    epoch: str,
    /** Latest seq of this epoch (0 before the first event). */
    seq: int,
    connectionId: str,
    runs: t.array(runBrief),
    /** The subscription taken from the URL query, if any. */
    subscription: t.optional(t.object(subscriptionDescription)),
    heartbeatMs: t.optional(int),
  }),
  subscribed: t.object({
    type: t.literal('subscribed'),
    id: t.optional(messageId),
    ...subscriptionDescription,
  }),
  unsubscribed: t.object({
    type: t.literal('unsubscribed'),
    id: t.optional(messageId),
    ...subscriptionDescription,
  }),
  pong: t.object({ type: t.literal('pong'), id: t.optional(messageId), timestamp: str }),
  error: t.object({
    type: t.literal('error'),
    code: t.string<ErrorCode>(),
    message: str,
    id: t.optional(messageId),
  }),
  resumed: t.object({
    type: t.literal('resumed'),
    id: t.optional(messageId),
    epoch: str,
    since: int,
    /** How many events were replayed before this message. */
    replayed: int,
    seq: int,
  }),
  'resume.failed': t.object({
    type: t.literal('resume.failed'),
    id: t.optional(messageId),
    /**
     * `ALREADY_LIVE`: a standalone `resume` arrived after live events past `since` were sent on this
     * connection, so the missed events before them can no longer come in order (resume inside `subscribe`,
     * or in the `/ws` URL, to avoid this).
     */
    reason: t.enumOf(['EPOCH_CHANGED', 'HISTORY_EVICTED', 'FUTURE_SEQ', 'ALREADY_LIVE']),
    message: str,
    /** The broadcaster's current epoch; a `snapshot` of it follows. */
    epoch: str,
    since: int,
    oldestSeq: int,
  }),
  snapshot: t.object({
    type: t.literal('snapshot'),
    id: t.optional(messageId),
    epoch: str,
    /** Every event up to and including this seq is reflected in `runs`. */
    seq: int,
    runs: t.array(runSnapshotSchema),
  }),
  published: t.object({
    type: t.literal('published'),
    id: int,
    /** seq given to the last event of the batch. */
    seq: int,
    /** Events of the batch the owner refused (with why), if any. */
    rejected: t.optional(t.array(t.object({ index: int, error: str }))),
  }),
};

export interface ConnectionEstablishedMessage
  extends t.Static<(typeof serverMessageSchemas)['connection.established']> {}
export interface SubscribedMessage extends t.Static<typeof serverMessageSchemas.subscribed> {}
export interface UnsubscribedMessage extends t.Static<typeof serverMessageSchemas.unsubscribed> {}
export interface PongMessage extends t.Static<typeof serverMessageSchemas.pong> {}
export interface ErrorMessage extends t.Static<typeof serverMessageSchemas.error> {}
export interface ResumedMessage extends t.Static<typeof serverMessageSchemas.resumed> {}
export interface ResumeFailedMessage extends t.Static<(typeof serverMessageSchemas)['resume.failed']> {}
export interface SnapshotMessage extends t.Static<typeof serverMessageSchemas.snapshot> {}
export interface PublishedMessage extends t.Static<typeof serverMessageSchemas.published> {}

export type ServerMessage = StaticOf<typeof serverMessageSchemas>;

export type ServerMessageType = ServerMessage['type'];

/** The union of the types of a record of schemas. */
type StaticOf<R extends Record<string, t.TSchema>> = { [K in keyof R]: t.Static<R[K]> }[keyof R];

/** Stable error codes of `error` messages. */
export type ErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_MESSAGE'
  | 'UNKNOWN_MESSAGE_TYPE'
  | 'INVALID_SUBSCRIPTION'
  | 'INVALID_EVENT'
  | 'RATE_LIMITED'
  | 'FORBIDDEN';

/**
 * Stable `error` codes of HTTP refusals (JSON body `{error, message}`): before a WebSocket upgrade (the
 * status line carries the status) and on `/events`, `/status`.
 */
export type HttpErrorCode =
  | 'UNAUTHORIZED' // 401: missing or wrong apiKey / token / Bearer / publisher secret
  | 'FORBIDDEN_HOST' // 403: Host not a loopback name, an IP address or allowed (DNS rebinding)
  | 'FORBIDDEN_ORIGIN' // 403: browser Origin not allowed
  | 'FORBIDDEN' // 403: a read credential on /ws?role=publisher
  | 'RATE_LIMITED' // 429: too many requests from this address
  | 'LOCKED_OUT' // 429: too many wrong credentials from this address
  | 'INVALID_SUBSCRIPTION' // 400: bad events/patterns/filters in the query
  | 'INVALID_LAST_EVENT_ID' // 400: Last-Event-ID is not `<epoch>:<seq>`
  | 'INVALID_MESSAGE' // 400: bad `since` on /ws
  | 'BAD_REQUEST' // 400: malformed URL
  | 'NOT_FOUND' // 404
  | 'METHOD_NOT_ALLOWED' // 405
  | 'UPGRADE_REQUIRED' // 426: plain GET on /ws
  | 'SHUTTING_DOWN'; // 503

/** WebSocket close codes used by the broadcaster. */
export const CloseCodes = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** Binary frame: the protocol is JSON text only. */
  UNSUPPORTED_DATA: 1003,
  /** Repeated abuse (too many malformed messages or rate-limit violations). */
  POLICY_VIOLATION: 1008,
  /** Frame over the size limit. */
  MESSAGE_TOO_BIG: 1009,
  /** The subscriber fell too far behind; reconnect and `resume`. */
  LAGGING: 4008,
} as const;

/** True for protocol messages (as opposed to event envelopes): their types never collide with event types. */
export function isServerMessage(value: unknown): value is ServerMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && Object.hasOwn(serverMessageSchemas, type);
}

export type ParseResult =
  | { ok: true; message: ClientMessage | PublishMessage }
  | { ok: false; code: ErrorCode; message: string; id?: MessageId };

const isId = (v: unknown): v is MessageId => typeof v === 'string' || typeof v === 'number';

/**
 * Parses one text frame from a client. Never throws. The bare text `ping` is accepted as `{type:'ping'}`.
 * Subscription contents (selectors, filters) are checked by `Subscription.subscribe`.
 */
export function parseClientMessage(text: string): ParseResult {
  if (text === 'ping') return { ok: true, message: { type: 'ping' } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      code: 'INVALID_JSON',
      message: `Message is not valid JSON: ${(error as Error).message}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: 'Message must be a JSON object with a "type" field',
    };
  }
  const msg = value as Record<string, unknown>;
  const id = isId(msg.id) ? msg.id : undefined;
  const fail = (code: ErrorCode, message: string): ParseResult => ({
    ok: false,
    code,
    message,
    ...(id !== undefined ? { id } : {}),
  });
  if (msg.id !== undefined && !isId(msg.id))
    return fail('INVALID_MESSAGE', 'id: expected a string or number');
  switch (msg.type) {
    case 'subscribe': {
      const resume = msg.resume as { epoch?: unknown; since?: unknown } | undefined;
      if (resume !== undefined) {
        if (typeof resume !== 'object' || resume === null || typeof resume.epoch !== 'string') {
          return fail(
            'INVALID_MESSAGE',
            'subscribe.resume: expected {epoch, since} from connection.established',
          );
        }
        if (typeof resume.since !== 'number' || !Number.isInteger(resume.since) || resume.since < 0) {
          return fail(
            'INVALID_MESSAGE',
            'subscribe.resume.since: expected the last seq received (integer >= 0)',
          );
        }
      }
      return { ok: true, message: msg as unknown as ClientMessage };
    }
    case 'unsubscribe':
    case 'snapshot':
    case 'ping':
      return { ok: true, message: msg as unknown as ClientMessage };
    case 'resume':
      if (typeof msg.epoch !== 'string')
        return fail('INVALID_MESSAGE', 'resume.epoch: expected the epoch string from connection.established');
      if (typeof msg.since !== 'number' || !Number.isInteger(msg.since) || msg.since < 0) {
        return fail('INVALID_MESSAGE', 'resume.since: expected the last seq received (integer >= 0)');
      }
      return { ok: true, message: msg as unknown as ResumeMessage };
    case 'publish':
      if (typeof msg.id !== 'number' || !Array.isArray(msg.events)) {
        return fail('INVALID_MESSAGE', 'publish: expected {type:"publish", id:number, events:[…]}');
      }
      return { ok: true, message: msg as unknown as PublishMessage };
    case undefined:
      return fail('INVALID_MESSAGE', 'Message has no "type" field');
    default:
      return fail(
        'UNKNOWN_MESSAGE_TYPE',
        `Unknown message type ${JSON.stringify(msg.type)}; expected subscribe, unsubscribe, resume, snapshot or ping`,
      );
  }
}
