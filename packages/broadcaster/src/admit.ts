/**
 * An event's JSON, made once, and the one gate into the stream.
 *
 *   {"type":"test.result","timestamp":"2026-…Z",│"runId":"r_…","data":{…}}
 *                                                └ seqAt: the hub writes `"seq":N,` there as it frames the event
 *   (an event from a joined publisher ends with `,"origin":"<publisherId>:<n>"}`: see @testwire/protocol origin.ts)
 *
 * admit() is the owner's gate: every event it stores, published in its own process or received from a joined
 * publisher, is validated there by the same check (`validatePublishedEvent`). A received event whose text
 * already has the form above (a testwire publisher sends it so, made by serialize()) keeps that text: parsed
 * once, never stringified again. serialize() is the publisher's half: it makes the JSON and leaves validating
 * to the owner that receives it.
 */
import {
  type EventEnvelope,
  isEventType,
  MAX_EVENT_BYTES,
  type PublishedEvent,
  validatePublishedEvent,
} from '@testwire/protocol';

/** An event with its envelope built and its JSON made. */
export interface SerializedEvent {
  /** What subscriptions match and the run state reads. `seq` is 0 until the hub gives it one. */
  readonly envelope: EventEnvelope;
  /** The envelope's JSON without `seq`, in the envelope's field order. */
  readonly json: string;
  /** Where `"seq":N,` goes in `json`: after the timestamp. */
  readonly seqAt: number;
}

/** A serialized event, or why there is none. */
export type EventResult = { ok: true; event: SerializedEvent } | { ok: false; error: string };

/**
 * The owner's gate: validates `value` and serializes it. `received` is the text `value` was parsed from, if it
 * came as text: it is kept when it already is the envelope's JSON (type and timestamp first, and nothing but
 * the envelope's fields). An event whose JSON is over MAX_EVENT_BYTES is refused. Never throws.
 */
export function admit(value: unknown, received?: string): EventResult {
  try {
    const result = validatePublishedEvent(value);
    if (!result.ok) return result;
    const event = result.value;
    if (received !== undefined && typeof event.timestamp === 'string' && onlyEnvelopeFields(event)) {
      const head = headOf(event.type, event.timestamp);
      if (received.startsWith(head)) {
        // The parsed object is ours alone: it becomes the envelope.
        const envelope = event as EventEnvelope;
        envelope.seq = 0;
        return withinSize({ ok: true, event: { envelope, json: received, seqAt: head.length } });
      }
    }
    return withinSize(serialize(event));
  } catch (error) {
    return { ok: false, error: `event: cannot be read (${(error as Error)?.message})` };
  }
}

/**
 * Refuses an event over MAX_EVENT_BYTES: one larger than a subscriber's queue bound would make every live
 * subscriber lag. A string's UTF-8 bytes are at most three times its length: most events are not counted.
 */
function withinSize(result: EventResult): EventResult {
  if (!result.ok || result.event.json.length * 3 <= MAX_EVENT_BYTES) return result;
  const bytes = Buffer.byteLength(result.event.json);
  if (bytes <= MAX_EVENT_BYTES) return result;
  const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return {
    ok: false,
    error: `${result.event.envelope.type}: the event is ${mib(bytes)} of JSON, over the ${mib(MAX_EVENT_BYTES)} one event may be (MAX_EVENT_BYTES): cut its largest fields`,
  };
}

/**
 * Serializes an event without validating its data (the owner that receives it does): what a publisher sends.
 * A missing timestamp is now. `origin` (a joined publisher's `<publisherId>:<n>`) is added, or the event's own
 * kept. Fails only for what could not be sent as JSON at all. Never throws.
 */
export function serialize(event: PublishedEvent, origin?: string): EventResult {
  const e = event as Partial<PublishedEvent> | null;
  try {
    if (typeof e !== 'object' || e === null || !isEventType(e.type) || typeof e.runId !== 'string') {
      return {
        ok: false,
        error: `expected {type: <event type>, runId: string, data}, got type ${JSON.stringify(e?.type)}`,
      };
    }
    const timestamp = typeof e.timestamp === 'string' ? e.timestamp : new Date().toISOString();
    const payload = e.data ?? {};
    const data = JSON.stringify(payload);
    if (typeof data !== 'string') return { ok: false, error: `${e.type}: data is not JSON-serializable` };
    const head = headOf(e.type, timestamp);
    const from = origin ?? (typeof e.origin === 'string' ? e.origin : undefined);
    const envelope = { type: e.type, timestamp, seq: 0, runId: e.runId, data: payload } as EventEnvelope;
    if (from !== undefined) envelope.origin = from;
    const tail = from === undefined ? '' : `,"origin":${JSON.stringify(from)}`;
    return {
      ok: true,
      event: {
        envelope,
        json: `${head}"runId":${runIdJson(e.runId)},"data":${data}${tail}}`,
        seqAt: head.length,
      },
    };
  } catch (error) {
    // JSON.stringify: a cycle, a BigInt; or a getter that throws.
    return { ok: false, error: `${e?.type}: data is not JSON-serializable (${(error as Error)?.message})` };
  }
}

/** `{"type":…,"timestamp":…,`: the JSON before the seq. */
function headOf(type: string, timestamp: string): string {
  // Events come in bursts of one type and one millisecond: the last head made is usually the one.
  if (type === last.type && timestamp === last.timestamp) return last.head;
  last.type = type;
  last.timestamp = timestamp;
  last.head = `{"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(timestamp)},`;
  return last.head;
}
const last = { type: '', timestamp: '', head: '', runId: '', runIdJson: '""' };

/** `"runId":…,"data":`, the run's id as JSON (the last one's remembered). */
function runIdJson(runId: string): string {
  if (runId !== last.runId) {
    last.runId = runId;
    last.runIdJson = JSON.stringify(runId);
  }
  return last.runIdJson;
}

/** True when `event` has no field but the envelope's (no `seq` of its own, nothing a subscriber should not get). */
function onlyEnvelopeFields(event: PublishedEvent): boolean {
  for (const key in event)
    if (key !== 'type' && key !== 'timestamp' && key !== 'runId' && key !== 'data' && key !== 'origin')
      return false;
  return true;
}
