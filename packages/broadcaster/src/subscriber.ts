/**
 * One consumer of the event stream (a WebSocket or an SSE response) and its outbound queue.
 *
 *   hub.ingest ──> deliver(entry) ──> queue (bytes counted) ──end of ingest──> transport.write(runs) (one writev)
 *                      │
 *                      ├─ queue + transport buffer > maxBytes ──> SUBSCRIBER_LAGGING {gap}, then close 4008 / end
 *                      └─ all subscribers together > totalMaxBytes ──> the ones holding the most, the same way
 *                                                                       (queued-total.ts)
 *
 * Frames are the shared Buffers of the history entries: an event is serialized once for all subscribers.
 * Protocol replies go through the same bound: a client that asks and never reads is told it lags and closed.
 * While a snapshot streams (`holding`), nothing else is written: a WebSocket message in fragments admits
 * no other data frame in between, an SSE `data:` line no other line.
 */
import { type EventEnvelope, Subscription } from '@testwire/protocol';
import type { HistoryEntry } from './history.js';
import type { QueuedTotal, QueueHolder } from './queued-total.js';
import type { StreamPart } from './snapshots.js';
import { frameRuns } from './ws-frame.js';

/** Where a subscriber's frames go. */
export interface Transport {
  readonly kind: 'ws' | 'sse';
  /** Writes the frames queued in one tick, in one write (WebSocket: corked around them, one writev). */
  write(frames: Buffer[]): void;
  /** Bytes handed to the transport and not yet sent to the kernel. */
  bufferedAmount(): number;
  /** False once the peer is going (a WebSocket close frame received or sent, the SSE response ended). */
  isOpen(): boolean;
  /** True when the transport asked writers to wait for 'drain'. */
  needsDrain(): boolean;
  onDrain(callback: () => void): void;
  /** Encodes one event for this transport (the shared frame, or its SSE framing). */
  eventFrame(entry: HistoryEntry): Buffer;
  /** Encodes a protocol message (or a system event envelope) for this transport. */
  messageFrame(message: object, id?: string): Buffer;
  /** The start of a message streamed in parts: `json` is its first bytes (WS: a first fragment). */
  streamHead(json: string, type: string, id?: string): Buffer;
  /** One part of a streamed message (shared by every subscriber). */
  streamPart(part: StreamPart): Buffer;
  /** Closes after the queued frames: WS close 4008, SSE end. */
  endLagging(): void;
  /** Closes now, dropping what is still buffered (a peer told it lags that still holds bytes here). */
  terminate(): void;
}

/**
 * live: gets events as they are ingested; replay: catching up from the history (Hub.pump); snapshot: a
 * snapshot is being streamed, then a replay from its seq; closed: gone.
 */
export type SubscriberMode = 'live' | 'replay' | 'snapshot' | 'closed';

/** What the owner of the subscribers does when one is over its bound. */
export type Overflow = (subscriber: Subscriber, gap: { fromSeq: number; toSeq: number }) => void;

export class Subscriber implements QueueHolder {
  readonly subscription = new Subscription();
  mode: SubscriberMode = 'live';
  /** Replay: seq of the last history entry considered. */
  cursor = 0;
  /** Highest event seq queued to this subscriber (replay skips what live delivery already sent). */
  lastSeq = 0;
  /**
   * Every event after this seq that matches the current subscription has been queued to this subscriber
   * (or will be, by the replay under way). Set to the latest seq when the subscription grows (`subscribe`);
   * lowered to the start of a replay that ran to its end with the subscription unchanged. A resume from
   * `since` may skip the events up to `lastSeq` only if none of `(since, min(coveredFrom, lastSeq)]` match.
   */
  coveredFrom = 0;
  /**
   * The stream after this seq has been given to this subscriber: like `coveredFrom`, and also lowered to 0 by
   * a snapshot sent after `resume.failed` (it holds the state of every event before its seq) once the replay
   * behind it has run to its end. Only the handover after a takeover reads it (`Hub.sentRanges`); a resume
   * never does (events a snapshot stood for were not sent, so a resume may not skip them).
   */
  givenFrom = Number.POSITIVE_INFINITY;
  /** Bumped by every subscribe: a replay that saw it change cannot vouch for the earlier events. */
  subscriptionVersion = 0;
  replayed = 0;
  replayId?: string | number;
  replaySince = 0;
  replayVersion = 0;
  /** `givenFrom` once the replay under way has run to its end (its `since`, or 0 behind a snapshot after resume.failed). */
  replayGives = 0;
  /** Send `resumed` when the replay under way ends (false: the replay that follows a snapshot). */
  announceReplay = true;
  /** Requests that wait for the snapshot or replay under way to end (bounded by the caller). */
  readonly deferred: (() => void)[] = [];
  /** A streamed message is being written: flush() waits. */
  holding = false;

  /** What this subscriber has counted in the total of all subscribers (at least what it holds). */
  counted = 0;

  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** The transport is gone: nothing is counted any more. */
  private left = false;
  /** Seq of the oldest event frame in the queue, 0 when none: the start of the gap if we drop the queue. */
  private firstQueuedSeq = 0;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    readonly maxBytes: number,
    private readonly schedule: (subscriber: Subscriber) => void,
    private readonly overflow: Overflow,
    private readonly total: QueuedTotal<Subscriber>,
  ) {
    total.join(this);
  }

  /**
   * The seq through which what this subscriber was given has left this process (written to the kernel: an
   * exit no longer loses it), or undefined when that is not known (a snapshot or replay under way, or bytes of
   * an earlier write still in the transport's buffer). `latestSeq`: the hub's latest seq.
   */
  sentThrough(latestSeq: number): number | undefined {
    if (this.mode !== 'live' || this.holding || this.transport.bufferedAmount() > 0) return undefined;
    // Live: every event it matches was queued as it was ingested; the queue holds the newest of them.
    return this.firstQueuedSeq > 0 ? this.firstQueuedSeq - 1 : latestSeq;
  }

  /** Bytes waiting: our queue plus what the transport still buffers. */
  pendingBytes(): number {
    return this.queuedBytes + this.transport.bufferedAmount();
  }

  /**
   * Live delivery from the hub, matched on the envelope being ingested (the entry does not keep its data).
   * Returns the gap when this subscriber is over its bound: the caller then sends SUBSCRIBER_LAGGING and
   * closes it.
   */
  deliver(entry: HistoryEntry, envelope: EventEnvelope): { fromSeq: number; toSeq: number } | undefined {
    if (this.mode !== 'live' || !this.subscription.matches(envelope)) return undefined;
    const frame = this.transport.eventFrame(entry);
    if (this.pendingBytes() + frame.length > this.maxBytes) {
      const gap = { fromSeq: this.firstQueuedSeq || entry.seq, toSeq: entry.seq };
      this.dropQueue();
      return gap;
    }
    // Made to lag for the total (by the hub, told of its gap): nothing more to do here.
    if (!this.roomFor(frame.length)) return undefined;
    this.pushEvent(entry.seq, frame);
    return undefined;
  }

  /**
   * True when `bytes` more fit in the total of all subscribers, after making room if they did not (the
   * subscribers holding the most are made to lag); false when this one was made to lag for it.
   */
  roomFor(bytes: number): boolean {
    if (this.total.fits(bytes)) return true;
    this.total.makeRoom(bytes);
    return this.mode !== 'closed';
  }

  /**
   * Queues an event frame without its own bound check (replay paces itself on pendingBytes, and asks
   * `roomFor` first).
   */
  pushEvent(seq: number, frame: Buffer): void {
    if (this.firstQueuedSeq === 0) this.firstQueuedSeq = seq;
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.push(frame);
  }

  /**
   * Queues a protocol message under the same bound as events: over it, the subscriber is handed to
   * `overflow` (told it lags, closed) and false is returned.
   */
  send<T extends { type: string }>(message: T, sseId?: string): boolean {
    if (this.mode === 'closed') return false;
    const frame = this.transport.messageFrame(message, sseId);
    if (this.pendingBytes() + frame.length > this.maxBytes) {
      const gap = this.gapIfDropped();
      this.dropQueue();
      this.overflow(this, gap);
      return false;
    }
    if (!this.roomFor(frame.length)) return false;
    this.push(frame);
    return true;
  }

  /**
   * The gap a lag notice names when the queue is dropped now: the events queued (if any), and those after
   * the last one queued will not be sent; empty (fromSeq > toSeq) when none was queued.
   */
  gapIfDropped(): { fromSeq: number; toSeq: number } {
    return { fromSeq: this.firstQueuedSeq || this.lastSeq + 1, toSeq: this.lastSeq };
  }

  /**
   * Queues the last message a subscriber gets (the lag notice), or a notice to every subscriber (a gap in
   * the source): past its own bound, it is one small frame; the total makes room for it.
   */
  notice<T extends { type: string }>(message: T): void {
    if (this.mode === 'closed' || this.holding) return;
    const frame = this.transport.messageFrame(message);
    // Room is made by shedding others: a subscriber is not shed for its own last notice.
    if (!this.total.fits(frame.length)) this.total.makeRoom(frame.length, this);
    this.push(frame);
  }

  /**
   * Writes `frame` to the transport now, past the queue (a streamed snapshot's parts, an SSE keep-alive),
   * counted in the total; false (nothing written) when this subscriber was made to lag to make room.
   */
  writeNow(frame: Buffer): boolean {
    if (!this.roomFor(frame.length)) return false;
    this.count(frame.length);
    try {
      this.transport.write([frame]);
    } catch {
      // A transport that died mid-write is closed by its own 'close' handler.
    }
    this.settle(true);
    return true;
  }

  /**
   * Recounts what this subscriber holds (its queue plus its transport's buffer) in the total. `downOnly`
   * (after a write: the cheap path) takes off what the transport sent and leaves framing the transport added
   * for the next full recount, which the total makes before it picks whom to shed.
   */
  settle(downOnly = false): void {
    if (this.left) return;
    const now = this.pendingBytes();
    if (downOnly && now >= this.counted) return;
    this.total.adjust(now - this.counted);
    this.counted = now;
  }

  /** The transport is gone (or going): this subscriber no longer holds anything. */
  leaveTotal(): void {
    if (this.left) return;
    this.left = true;
    this.total.leave(this, this.counted);
    this.counted = 0;
  }

  /** Closes the transport now, letting go of what it still buffers (a peer told it lags that holds the most). */
  terminate(): void {
    this.leaveTotal();
    this.transport.terminate();
  }

  private count(bytes: number): void {
    if (this.left) return;
    this.counted += bytes;
    this.total.add(bytes);
  }

  private push(frame: Buffer): void {
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.count(frame.length);
    // Large bursts go to the socket now so the kernel absorbs them while we keep ingesting.
    if (this.queuedBytes >= 256 * 1024) this.flush();
    // A non-empty queue is already scheduled (the hub flushes every queue it was told about).
    else if (this.queue.length === 1) this.schedule(this);
  }

  /**
   * Writes the queue to the transport, as one Buffer. `joiner` (the hub's, for one flush of every
   * subscriber) lets subscribers with the same frames share one concatenation.
   */
  flush(joiner?: FrameJoiner): void {
    if (this.queue.length === 0 || this.holding) return;
    const frames = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.firstQueuedSeq = 0;
    try {
      if (frames.length === 1) this.transport.write(frames);
      else this.transport.write(joiner ? joiner.join(frames, bytes) : frameRuns(frames, bytes));
    } catch {
      // A transport that died mid-write is closed by its own 'close' handler.
    }
    // What the kernel took at once is no longer held.
    this.settle(true);
  }

  dropQueue(): void {
    this.count(-this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    this.firstQueuedSeq = 0;
  }
}

/**
 * Joins queued frames, once per distinct list. In one flush, the subscribers of the same events (the usual
 * case: every dashboard follows everything) hold the same shared frame Buffers in the same order, so they
 * can share one join: the same Buffers for all of them instead of a copy per subscriber, and no copy at all
 * when the frames lie back to back in the hub's slabs (`frameRuns`: a view per slab). Lists are compared by
 * identity of their frames, which is exact (a frame is one event's, or one message's). Holds its Buffers
 * only for the flush it was made for.
 */
export class FrameJoiner {
  /** Joined lists by their last frame. */
  private readonly joined = new Map<Buffer, { frames: Buffer[]; bytes: number; data: Buffer[] }[]>();

  join(frames: Buffer[], bytes: number): Buffer[] {
    const last = frames[frames.length - 1] as Buffer;
    let candidates = this.joined.get(last);
    if (candidates) {
      for (const candidate of candidates)
        if (candidate.bytes === bytes && sameFrames(candidate.frames, frames)) return candidate.data;
    } else {
      candidates = [];
      this.joined.set(last, candidates);
    }
    const data = frameRuns(frames, bytes);
    candidates.push({ frames, bytes, data });
    return data;
  }
}

function sameFrames(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
