/**
 * The SSE framing of the hub's events, built once per event and shared by every SSE subscriber, the way the
 * WebSocket frames are (ws-frame.ts's SlabFramer):
 *
 *   id: <epoch>:<seq>\nevent: <type>\ndata: <the event's JSON, as the history holds it>\n\n
 *
 * Nothing in it depends on the subscriber: the id is the event's (one epoch per hub), and a subscription
 * only decides whether the event is sent, never how. So the frame is made the first time any SSE subscriber
 * needs it (live delivery, or a replay), kept on the history entry, and every later subscriber queues the same
 * bytes.
 *
 * Frames are written one after another into shared slabs (slab.ts), so the frames of consecutive events lie back to
 * back: a subscriber's queue of them is written as a few views of the slabs (`frameRuns`), never joined into a
 * Buffer of its own. Joined per subscriber, N streams that do not read each held a private copy of what was
 * queued for them (up to the total bound, `subscriberQueue.totalMaxBytes`); as views, they hold the same
 * bytes. A slab is only appended to, never reused: a frame handed to a socket, or kept in the history, stays
 * as it was.
 */
import type { HistoryEntry } from './history.js';
import { SLAB_MAX_FRAME, Slabs } from './slab.js';
import { formatSseEvent } from './sse.js';

const LF = 0x0a;
const CR = 0x0d;

export class SseFramer {
  private readonly slabs = new Slabs();

  constructor(private readonly epoch: string) {}

  /** The entry's SSE frame: made on first use, the same Buffer for every subscriber after. */
  frameOf(entry: HistoryEntry): Buffer {
    entry.sse ??= this.frame(entry);
    return entry.sse;
  }

  /**
   * `id:`/`event:`/`data:` around the event's JSON bytes, without decoding them. JSON from JSON.stringify
   * has no raw line breaks, so it is one `data:` line; anything else goes through the general formatter.
   */
  private frame(entry: HistoryEntry): Buffer {
    const id = `${this.epoch}:${entry.seq}`;
    const json = entry.frame;
    if (json.includes(LF) || json.includes(CR))
      return Buffer.from(formatSseEvent({ id, event: entry.type, data: json.toString('utf8') }));
    // The head's fields are single-line (formatSseEvent strips line breaks from them).
    const head = formatSseEvent({ id, event: entry.type, data: '' }).slice(0, -2);
    // The head is ASCII but for the type (3 UTF-8 bytes per UTF-16 unit at most), then the JSON and "\n\n".
    const room = head.length * 3 + json.length + 2;
    if (room > SLAB_MAX_FRAME) {
      const out = Buffer.allocUnsafe(Buffer.byteLength(head) + json.length + 2);
      const at = out.write(head, 0, 'utf8');
      json.copy(out, at);
      out[at + json.length] = LF;
      out[at + json.length + 1] = LF;
      return out;
    }
    const slab = this.slabs.reserve(room);
    const start = this.slabs.used;
    let at = start + slab.write(head, start, 'utf8');
    at += json.copy(slab, at);
    slab[at++] = LF;
    slab[at++] = LF;
    this.slabs.used = at;
    return slab.subarray(start, at);
  }
}
