/**
 * The publisher's batch frame, both ends: publisher.ts writes it, ingress.ts reads it.
 *
 *   {"type":"publish","id":12,"events":[
 *   {"type":"test.result","timestamp":"…","runId":"r_…","data":{…}},      one event a line: the JSON that
 *   {"type":"test.result","timestamp":"…","runId":"r_…","data":{…}}       serialize() made (no raw line break)
 *   ]}
 *
 * The line breaks are JSON whitespace: the frame is the protocol's `publish` message, and any owner parses it
 * whole. This owner parses each line on its own instead and keeps the line as the event's text (admit()), so
 * an event crosses from publisher to history serialized once and parsed once. A frame in any other layout (an
 * older testwire, another implementation) is parsed whole, and its events re-serialized.
 */
import type { SerializedEvent } from '../admit.js';

/** One event of a received batch: the parsed value, and the text it was parsed from when it stood on a line of its own. */
export interface ReceivedEvent {
  value: unknown;
  text?: string;
}

/** A message from a publisher, as parsed; `events` is set when the message has an array of them. */
export interface PublisherFrame {
  type?: unknown;
  id?: unknown;
  runs?: unknown;
  events?: ReceivedEvent[];
}

/** The `publish` frame of a batch. */
export function publishFrame(id: number, events: readonly SerializedEvent[]): string {
  return `{"type":"publish","id":${id},"events":[\n${events.map((e) => e.json).join(',\n')}\n]}`;
}

const FIRST_LINE = /^\{"type":"publish","id":(0|[1-9]\d{0,15}),"events":\[$/;
const LAST_LINE = ']}';

/** Parses a publisher's text frame; undefined when it is not JSON. */
export function readPublisherFrame(text: string): PublisherFrame | undefined {
  const lined = readLined(text);
  if (lined) return lined;
  let message: { type?: unknown; id?: unknown; runs?: unknown; events?: unknown };
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return {};
  const { type, id, runs, events } = message;
  return { type, id, runs, events: Array.isArray(events) ? events.map((value) => ({ value })) : undefined };
}

/** A `publish` frame laid out one event a line (publishFrame); undefined for any other layout. */
function readLined(text: string): PublisherFrame | undefined {
  if (!text.endsWith(`\n${LAST_LINE}`)) return undefined;
  const lines = text.split('\n');
  const first = FIRST_LINE.exec(lines[0] as string);
  if (!first) return undefined;
  const events: ReceivedEvent[] = [];
  const last = lines.length - 2;
  for (let i = 1; i <= last; i++) {
    let line = lines[i] as string;
    if (i < last) {
      if (!line.endsWith(',')) return undefined;
      line = line.slice(0, -1);
    }
    // Every line must be a whole object: then the lines are exactly the elements of the events array.
    if (!line.startsWith('{')) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return undefined;
    }
    events.push({ value, text: line });
  }
  return { type: 'publish', id: Number(first[1]), events };
}
