import { type EventDataMap, type EventType, eventDataSchemas, isEventType } from './events.js';
import { ORIGIN_PATTERN } from './origin.js';
import * as t from './schema-builder.js';
import { validateSchema } from './validate.js';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 7357;
export const DEFAULT_HOST = '127.0.0.1';
/**
 * The largest event a broadcaster takes: its envelope's JSON, in UTF-8 bytes. A quarter of a subscriber's
 * default queue bound (8 MiB), so one event never makes a healthy subscriber lag by itself. testwire's
 * reporters bound their fields (an output at 64 KB, an error at ~50 KB of JSON): their events are a few KB,
 * and reach this only with dozens of errors at their bounds in one event.
 */
export const MAX_EVENT_BYTES = 2 * 1024 * 1024;

/** Schema of the envelope every subscriber receives (`data` is checked against `eventDataSchemas[type]`). */
export const envelopeSchema = t.object({
  type: t.string<EventType>(),
  /** ISO 8601, when the event happened (set by the publisher). */
  timestamp: t.string(),
  seq: t.integer({ minimum: 0 }),
  /** The run this event belongs to; `''` for events outside any run (system.*). */
  runId: t.string(),
  data: t.record(),
  /**
   * `<publisherId>:<n>`, set by a joined publisher (see origin.ts): the same event keeps it across a takeover,
   * so a subscriber can drop a repeat. Absent on events published in the owner's own process.
   */
  origin: t.optional(t.string()),
});

/**
 * What every subscriber receives:
 * `{"type":"test.result","timestamp":"…","seq":1042,"runId":"r_…","data":{…}}`.
 * `seq` is strictly increasing within one broadcaster epoch.
 */
export interface EventEnvelope<T extends EventType = EventType>
  extends Omit<t.Static<typeof envelopeSchema>, 'type' | 'data'> {
  type: T;
  data: EventDataMap[T];
}

/** Any envelope, discriminated by `type`. */
export type AnyEventEnvelope = { [K in EventType]: EventEnvelope<K> }[EventType];

/** What a publisher hands to the broadcaster: an envelope before the broadcaster gives it a `seq`. */
export type PublishedEvent<T extends EventType = EventType> = Omit<EventEnvelope<T>, 'seq' | 'timestamp'> & {
  timestamp?: string;
};

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates an event at the broadcaster's ingress. The message says which field was wrong and why. */
export function validatePublishedEvent(value: unknown): ValidationResult<PublishedEvent> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'event: expected an object {type, runId, data}' };
  }
  const event = value as Record<string, unknown>;
  if (!isEventType(event.type)) {
    return { ok: false, error: `type: unknown event type ${JSON.stringify(event.type)}` };
  }
  if (typeof event.runId !== 'string') {
    return { ok: false, error: "runId: expected a string (the run's id, '' for events outside any run)" };
  }
  if (
    event.timestamp !== undefined &&
    event.timestamp !== lastValidTimestamp &&
    !validTimestamp(event.timestamp)
  ) {
    return {
      ok: false,
      error: `timestamp: expected an ISO 8601 string, got ${JSON.stringify(event.timestamp)}`,
    };
  }
  if (
    event.origin !== undefined &&
    (typeof event.origin !== 'string' || !ORIGIN_PATTERN.test(event.origin))
  ) {
    return {
      ok: false,
      error: `origin: expected "<publisherId>:<n>" (8-64 of [A-Za-z0-9_-], then an integer >= 1), got ${JSON.stringify(event.origin)}`,
    };
  }
  const problem = validateSchema(eventDataSchemas[event.type], event.data, 'data');
  if (problem) return { ok: false, error: `${event.type}: ${problem}` };
  return { ok: true, value: event as unknown as PublishedEvent };
}

/** The timestamp validated last: a burst of events shares its millisecond, hence its timestamp. */
let lastValidTimestamp: string | undefined;

function validTimestamp(timestamp: unknown): boolean {
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) return false;
  lastValidTimestamp = timestamp;
  return true;
}

/** Runtime guard for a received envelope (any type of the catalog, data conforming to its schema). */
export function isEventEnvelope(value: unknown): value is AnyEventEnvelope {
  if (validateSchema(envelopeSchema, value)) return false;
  const envelope = value as EventEnvelope;
  return (
    isEventType(envelope.type) && validateSchema(eventDataSchemas[envelope.type], envelope.data) === undefined
  );
}

/** Narrowing guard: `if (isEvent(msg, 'test.result')) msg.data.status`. */
export function isEvent<T extends EventType>(value: unknown, type: T): value is EventEnvelope<T> {
  return (value as { type?: unknown } | null)?.type === type && isEventEnvelope(value);
}
