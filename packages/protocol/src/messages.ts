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
import type { RunSnapshot } from './run-state.js';
import type { Filters } from './subscription.js';

export type MessageId = string | number;

export interface SubscribeMessage {
  type: 'subscribe';
  id?: MessageId;
  events?: string[];
  patterns?: string[];
  filters?: Filters;
  /**
   * Subscribe and resume in one step (a reconnecting client): the missed events matching the new
   * subscription are replayed before any live event, exactly as a `resume` message would, with no window
   * in which a live event could overtake the replay.
   */
  resume?: { epoch: string; since: number };
}
export interface UnsubscribeMessage {
  type: 'unsubscribe';
  id?: MessageId;
  events?: string[];
  patterns?: string[];
}
export interface ResumeMessage {
  type: 'resume';
  id?: MessageId;
  /** The epoch of the broadcaster the client last heard from. */
  epoch: string;
  /** The last seq the client received (0 = from the beginning of the history). */
  since: number;
}
export interface SnapshotRequestMessage {
  type: 'snapshot';
  id?: MessageId;
}
export interface PingMessage {
  type: 'ping';
  id?: MessageId;
}

export type ClientMessage =
  | SubscribeMessage
  | UnsubscribeMessage
  | ResumeMessage
  | SnapshotRequestMessage
  | PingMessage;

/** Sent by a joining broadcaster (another test process) to the owner over an authenticated `/ws`. */
export interface PublishMessage {
  type: 'publish';
  /** Batch id; the owner acknowledges with `published` carrying the same id. */
  id: number;
  events: PublishedEvent[];
}
/**
 * Sent by a publisher after the owner changed (takeover, or joining a new owner): the state of its open
 * runs, merged into the owner's run state so `snapshot` stays complete. Acknowledged with `published`.
 */
export interface RunsMessage {
  type: 'runs';
  id: number;
  runs: RunSnapshot[];
}
export type PublisherMessage = PublishMessage | RunsMessage;

export interface RunBrief {
  runId: string;
  framework: string;
  project?: string;
  status: 'running' | 'completed';
}

export interface ConnectionEstablishedMessage {
  type: 'connection.established';
  server: 'testwire';
  protocol: number;
  version: string;
  epoch: string;
  /** Latest seq of this epoch (0 before the first event). */
  seq: number;
  connectionId: string;
  runs: RunBrief[];
  /** The subscription taken from the URL query, if any. */
  subscription?: SubscriptionDescription;
  heartbeatMs?: number;
}
export interface SubscriptionDescription {
  events: string[];
  patterns: string[];
  excluded: string[];
  entries: { events: string[]; patterns: string[]; filters?: Filters }[];
}
export interface SubscribedMessage extends SubscriptionDescription {
  type: 'subscribed';
  id?: MessageId;
}
export interface UnsubscribedMessage extends SubscriptionDescription {
  type: 'unsubscribed';
  id?: MessageId;
}
export interface PongMessage {
  type: 'pong';
  id?: MessageId;
  timestamp: string;
}
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  id?: MessageId;
}
export interface ResumedMessage {
  type: 'resumed';
  id?: MessageId;
  epoch: string;
  since: number;
  /** How many events were replayed before this message. */
  replayed: number;
  seq: number;
}
export interface ResumeFailedMessage {
  type: 'resume.failed';
  id?: MessageId;
  /**
   * `ALREADY_LIVE`: a standalone `resume` arrived after live events past `since` were sent on this
   * connection, so the missed events before them can no longer come in order (resume inside `subscribe`,
   * or in the `/ws` URL, to avoid this).
   */
  reason: 'EPOCH_CHANGED' | 'HISTORY_EVICTED' | 'FUTURE_SEQ' | 'ALREADY_LIVE';
  message: string;
  /** The broadcaster's current epoch; a `snapshot` of it follows. */
  epoch: string;
  since: number;
  oldestSeq: number;
}
export interface SnapshotMessage {
  type: 'snapshot';
  id?: MessageId;
  epoch: string;
  /** Every event up to and including this seq is reflected in `runs`. */
  seq: number;
  runs: RunSnapshot[];
}
export interface PublishedMessage {
  type: 'published';
  id: number;
  /** seq given to the last event of the batch. */
  seq: number;
  /** Events of the batch the owner refused (with why), if any. */
  rejected?: { index: number; error: string }[];
}

export type ServerMessage =
  | ConnectionEstablishedMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | PongMessage
  | ErrorMessage
  | ResumedMessage
  | ResumeFailedMessage
  | SnapshotMessage
  | PublishedMessage;

export type ServerMessageType = ServerMessage['type'];

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
  | 'FORBIDDEN_ORIGIN' // 403: browser Origin not allowed
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

const SERVER_MESSAGE_TYPES: Record<ServerMessageType, true> = {
  'connection.established': true,
  subscribed: true,
  unsubscribed: true,
  pong: true,
  error: true,
  resumed: true,
  'resume.failed': true,
  snapshot: true,
  published: true,
};

/** True for protocol messages (as opposed to event envelopes): their types never collide with event types. */
export function isServerMessage(value: unknown): value is ServerMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && Object.hasOwn(SERVER_MESSAGE_TYPES, type);
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
