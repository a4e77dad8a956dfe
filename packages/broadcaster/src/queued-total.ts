/**
 * The bound on the bytes queued for all the subscribers of one broadcaster (`subscriberQueue.totalMaxBytes`).
 * Each subscriber has its own bound (`subscriberQueue.maxBytes`); without one on the sum, N readers that never
 * read (a hung or hostile process on this machine: loopback has no owner) would cost N times it inside the test
 * process.
 *
 *   subscriber queues a frame ── total + frame ≤ bound ──> counted (one comparison: the hot path)
 *                              └─ over ──> every holder recounted (the socket buffers drained meanwhile), and
 *                                          while over ⅞ of the bound, the one holding the most is made to lag
 *
 * A running total, never a scan per event: a subscriber adds what it queues or writes, and takes off what its
 * transport has sent when it writes again (Subscriber.settle), so the total is at least what is held. Only a
 * frame that would go over the bound recounts every holder and picks whom to shed; shedding down to ⅞ of the
 * bound leaves room for many more events before the next recount.
 *
 * Holders are the subscribers whose transport is open, the ones already told they lag too (what they hold is
 * still here until their socket goes): a subscriber made to lag for the total is told as one over its own
 * bound is (queue dropped, SUBSCRIBER_LAGGING after what it was sent, close 4008), and if its transport still
 * holds bytes after that — bytes handed to a socket are let go only with the socket — it is terminated at
 * once, as the heartbeat would at its next beat. Either way it resumes from the last seq it read.
 */
/**
 * What the total needs of a subscriber (subscriber.ts implements it; the hub's total is of Subscribers): its
 * count, bringing the count down to what it still holds, and ending its socket.
 */
export interface QueueHolder {
  /** Bytes it has counted in the total (at least what it holds). */
  readonly counted: number;
  /** `closed` once it was made to lag or its transport went. */
  readonly mode: string;
  /** Takes off the total what its transport sent since it was counted. */
  settle(): void;
  terminate(): void;
}

/** What the total asks of the hub: make `holder` lag (the same path as one over its own bound). */
export type Shed<H extends QueueHolder> = (holder: H) => void;

export class QueuedTotal<H extends QueueHolder = QueueHolder> {
  /** Bytes counted for every holder: at least what they hold (what their sockets sent is taken off late). */
  bytes = 0;
  /** The most `bytes` has been after a frame was counted or room was made: what the bound had to hold. */
  peakBytes = 0;
  /** Subscribers made to lag, or terminated, to keep the total. */
  shed = 0;
  private readonly holders = new Set<H>();
  /** True while room is being made: the notices of the subscribers shed are counted without a check. */
  private shedding = false;

  constructor(
    readonly maxBytes: number,
    private readonly lag: Shed<H>,
  ) {}

  join(subscriber: H): void {
    this.holders.add(subscriber);
  }

  /** A holder's transport is gone: what it had counted is no longer held. */
  leave(subscriber: H, counted: number): void {
    if (this.holders.delete(subscriber)) this.bytes -= counted;
  }

  /** Bytes queued or written for a holder. */
  add(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.peakBytes && !this.shedding) this.peakBytes = this.bytes;
  }

  /** What a holder's transport sent since it was counted (negative), or framing it did not count up front. */
  adjust(delta: number): void {
    this.bytes += delta;
  }

  /** True when `bytes` more fit (or room is being made: a shed subscriber's last notice). */
  fits(bytes: number): boolean {
    return this.shedding || this.bytes + bytes <= this.maxBytes;
  }

  /**
   * Makes room for `bytes` more: every holder is recounted, then while the total is over ⅞ of the bound the
   * one holding the most is made to lag (and terminated if that did not free what it held); never `except`.
   */
  makeRoom(bytes: number, except?: H): void {
    if (this.shedding) return;
    this.shedding = true;
    try {
      for (const holder of this.holders) holder.settle();
      const target = this.maxBytes - Math.floor(this.maxBytes / 8);
      if (this.bytes + bytes > target) {
        const byCounted = [...this.holders].sort((a, b) => b.counted - a.counted);
        for (const holder of byCounted) {
          if (this.bytes + bytes <= target || holder.counted === 0) break;
          if (holder === except) continue;
          this.shed++;
          if (holder.mode !== 'closed') this.lag(holder);
          holder.settle();
          if (holder.counted > 0) holder.terminate();
        }
      }
    } finally {
      this.shedding = false;
    }
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }
}
