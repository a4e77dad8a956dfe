/**
 * The replay history: a ring of the latest events, bounded by count and by serialized bytes.
 * Seqs are contiguous (every ingested event gets the next one), so lookup by seq is O(1).
 */
import type { EventEnvelope, Matchable } from '@testwire/protocol';

/**
 * One ingested event in the history: what replay matching reads (`seq`, `type`, `runId`, and `data` for a
 * subscription with filters) and its JSON, serialized once and shared by every subscriber, along with its
 * wire framings (also built once, whatever the number of subscribers).
 */
export interface HistoryEntry extends Matchable {
  readonly seq: number;
  readonly type: string;
  readonly runId: string;
  /** The event's data, for filters (a FramedEntry reads it back from `frame`). */
  readonly data: unknown;
  /** UTF-8 JSON of the envelope: the WebSocket text frame payload. */
  readonly frame: Buffer;
  /** The complete WebSocket text frame (header + `frame`); `frame` is a view into it when the hub built it. */
  ws?: Buffer;
  /** SSE framing of the same event, built on first use. */
  sse?: Buffer;
  /** `frame.length`, when the entry knows it without making `frame` (a view made on first use). */
  readonly size?: number;
}

/** The entry whose data was read back last, and that data. */
let parsedFor: FramedEntry | undefined;
let parsedData: unknown;

/**
 * An event the hub ingested: where its complete WebSocket frame lies, made once. Views of it are made only
 * if something reads them: the frame (`ws`) for WebSocket subscribers and replays, the payload (`frame`: the
 * JSON) for SSE and a frame of another kind; the history's byte count needs neither. A run with no
 * subscriber makes no view.
 *
 * The envelope object is not kept: live delivery matched it as the event was ingested, and the frame holds
 * the same data, so a history of 50,000 events would keep every event twice (its objects for the heap to
 * carry and its bytes). A replay whose subscription filters on data reads it back from the frame, which only
 * such a replay pays.
 */
export class FramedEntry implements HistoryEntry {
  readonly seq: number;
  readonly type: string;
  readonly runId: string;
  private view: Buffer | undefined;
  private payload: Buffer | undefined;
  sse?: Buffer;

  constructor(
    envelope: EventEnvelope,
    /** The Buffer the frame lies in, from `start` to `end` (a slab the hub shares among many frames). */
    private readonly slab: Buffer,
    private readonly start: number,
    private readonly end: number,
    /** Where the payload starts in the frame (after its header). */
    private readonly offset: number,
  ) {
    this.seq = envelope.seq;
    this.type = envelope.type;
    this.runId = envelope.runId;
  }

  get data(): unknown {
    // A subscription reads data once per filter: the entry matched last keeps its parse (one entry at most).
    if (parsedFor !== this) {
      parsedData = (JSON.parse(this.frame.toString('utf8')) as EventEnvelope).data;
      parsedFor = this;
    }
    return parsedData;
  }

  /** The complete frame: a view made on first use (with no subscriber, never). */
  get ws(): Buffer {
    this.view ??=
      this.start === 0 && this.end === this.slab.length
        ? this.slab
        : this.slab.subarray(this.start, this.end);
    return this.view;
  }

  get frame(): Buffer {
    this.payload ??= this.slab.subarray(this.start + this.offset, this.end);
    return this.payload;
  }

  get size(): number {
    return this.end - this.start - this.offset;
  }
}

export class History {
  private ring: (HistoryEntry | undefined)[];
  private head = 0; // index of the oldest entry
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {
    // Grow lazily: most runs never come close to the bound.
    this.ring = new Array(Math.min(maxEvents, 1024));
  }

  get size(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Seq of the oldest event still held, or 0 when empty. */
  get oldestSeq(): number {
    return this.count === 0 ? 0 : (this.ring[this.head] as HistoryEntry).seq;
  }

  /** Seq of the newest event held, or 0 when empty. */
  get newestSeq(): number {
    return this.count === 0 ? 0 : this.at(this.count - 1).seq;
  }

  push(entry: HistoryEntry): void {
    if (this.count === this.ring.length) {
      if (this.count < this.maxEvents) this.grow();
      else this.shift();
    }
    this.ring[(this.head + this.count) % this.ring.length] = entry;
    this.count++;
    this.bytes += entry.size ?? entry.frame.length;
    // Always keep the newest event, even if it alone is over the byte bound.
    while (this.bytes > this.maxBytes && this.count > 1) this.shift();
  }

  /** The entry with this seq, or undefined when it was evicted or does not exist yet. */
  get(seq: number): HistoryEntry | undefined {
    if (this.count === 0) return undefined;
    const index = seq - this.oldestSeq;
    if (index < 0 || index >= this.count) return undefined;
    return this.at(index);
  }

  /**
   * True when every event after `since` is still held, given the latest seq handed out
   * (so a replay from `since` misses nothing).
   */
  covers(since: number, latestSeq: number): boolean {
    if (since >= latestSeq) return true;
    return this.count > 0 && this.oldestSeq <= since + 1;
  }

  clear(): void {
    this.ring = new Array(Math.min(this.maxEvents, 1024));
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }

  private at(index: number): HistoryEntry {
    return this.ring[(this.head + index) % this.ring.length] as HistoryEntry;
  }

  private shift(): void {
    const entry = this.ring[this.head] as HistoryEntry;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    this.bytes -= entry.size ?? entry.frame.length;
  }

  private grow(): void {
    const next = new Array(Math.min(this.maxEvents, this.ring.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.ring = next;
    this.head = 0;
  }
}
