import type { Broadcaster, BroadcasterOptions, FlushResult } from '@testwire/broadcaster';
import { FLUSH_MARGIN_MS } from '@testwire/broadcaster/budget';
import { TIMED_OUT, untilDeadline } from '@testwire/broadcaster/timers';
import {
  addCounts,
  countEvents,
  type EventCounts,
  EventTally,
  type PublishedEvent,
} from '@testwire/protocol';

/** What the core uses of a broadcaster: the real interface's members (a test can fake just these). */
export type BroadcasterLike = Pick<Broadcaster, 'url' | 'role' | 'publish' | 'flush' | 'close'>;

/** What {@link Delivery.flush} achieved. */
export interface DeliveryReport {
  /** Every event pushed so far reached its target (the owner's history, or the sink). */
  delivered: boolean;
  /** Events not confirmed when the flush returned, by run and type; undefined when nobody could tell. */
  unconfirmed: EventCounts | undefined;
  /** Events dropped since delivery began, here or in the broadcaster, by run and type. */
  dropped: EventCounts;
  /** Why this side dropped events, when it did (the broadcaster warns of its own drops itself). */
  dropReason?: string;
  /**
   * The unconfirmed events are in this process's own history but no subscriber was given them: it took the
   * endpoint over during the flush and no subscriber came back in time (the broadcaster's handover).
   */
  notHandedOver?: boolean;
  /** Why events are unconfirmed, when the target said (a Redis shard publisher: Redis' last error). */
  pendingReason?: string;
}

/**
 * Samples, output and steps: when the buffer is full, these make room for a test's result first. A later progress
 * sample or metrics sample supersedes the one dropped; a lost line of output is a smaller gap than a lost result.
 */
const YIELDS = new Set<string>([
  'test.progress',
  'performance.metrics',
  'system.health',
  'test.output',
  'test.step',
]);

/** Connection options handed to getBroadcaster(); undefined fields fall back to its env defaults. */
export type ConnectOptions = Pick<BroadcasterOptions, 'port' | 'host' | 'url' | 'apiKey'>;

/**
 * Delivery from the core to its target (a sink function, or the process's broadcaster).
 *
 *   hook ─> push() ─┬─ target known ──> target.publish()   (the broadcaster queues; never blocks)
 *                   └─ still connecting ─> pending[] (bounded: beyond the bound, a sample or output line
 *                                          makes room for a result, else drop; everything dropped is counted
 *                                          by run and type, and flush() reports it)
 *
 * Obtaining the broadcaster is asynchronous (binding a port, or joining another process's owner); the
 * runner's hooks must not wait for it, so events wait here until it resolves.
 */
export class Delivery {
  private pending: PublishedEvent[] = [];
  /** Every pending event before this index is one that does not yield (see YIELDS): where to look for room. */
  private yieldFrom = 0;
  private target?: (event: PublishedEvent) => void;
  private broadcaster?: BroadcasterLike;
  private connecting?: Promise<BroadcasterLike | undefined>;
  private failed = false;
  /** Events dropped: buffer full while connecting, or no broadcaster could be obtained. */
  dropped = 0;
  private readonly droppedEvents = new EventTally();
  private dropReason?: string;

  constructor(
    private readonly maxPending: number,
    private readonly onError: (where: string, error: unknown) => void,
  ) {}

  /** Deliver to a function synchronously (the `sink` option). */
  useSink(sink: (event: PublishedEvent) => void): void {
    this.target = (event) => {
      try {
        sink(event);
      } catch (error) {
        this.onError('sink', error);
      }
    };
    this.drain();
  }

  /** Start obtaining the broadcaster (once); events are buffered until it resolves. */
  connect(obtain: () => Promise<BroadcasterLike>): void {
    if (this.connecting || this.target || this.failed) return;
    this.connecting = obtain().then(
      (broadcaster) => {
        this.broadcaster = broadcaster;
        this.target = (event) => broadcaster.publish(event);
        this.drain();
        return broadcaster;
      },
      (error: unknown) => {
        this.failed = true;
        const pending = this.pending;
        this.pending = [];
        this.yieldFrom = 0;
        this.dropReason = `no broadcaster: ${(error as Error)?.message ?? String(error)}`;
        for (const event of pending) this.drop(event, this.dropReason);
        this.onError('broadcaster', error);
        return undefined;
      },
    );
  }

  push(event: PublishedEvent): void {
    if (this.target) {
      try {
        this.target(event);
      } catch (error) {
        this.onError('publish', error);
      }
      return;
    }
    if (this.failed) {
      this.drop(event, this.dropReason);
      return;
    }
    // Run boundaries are admitted beyond the bound: a consumer can live with a gap, not with a run that
    // never starts or never ends.
    if (
      this.pending.length >= this.maxPending &&
      event.type !== 'test.started' &&
      event.type !== 'test.completed' &&
      !this.makeRoom(event)
    ) {
      this.drop(event, `more than ${this.maxPending} events came before the broadcaster was up`);
      return;
    }
    this.pending.push(event);
  }

  /** Drops the oldest pending sample or output line for `event`, if `event` is worth more. */
  private makeRoom(event: PublishedEvent): boolean {
    if (YIELDS.has(event.type)) return false;
    for (let i = this.yieldFrom; i < this.pending.length; i++) {
      const candidate = this.pending[i] as PublishedEvent;
      if (!YIELDS.has(candidate.type)) continue;
      this.pending.splice(i, 1);
      this.yieldFrom = i;
      this.drop(candidate, `more than ${this.maxPending} events came before the broadcaster was up`);
      return true;
    }
    this.yieldFrom = this.pending.length;
    return false;
  }

  private drop(event: PublishedEvent, reason: string | undefined): void {
    this.dropped++;
    this.droppedEvents.add(event.runId, event.type);
    this.dropReason ??= reason;
  }

  private drain(): void {
    const pending = this.pending;
    this.pending = [];
    this.yieldFrom = 0;
    for (const event of pending) this.push(event);
  }

  get buffered(): number {
    return this.pending.length;
  }

  /** The broadcaster, once obtained. */
  /** The broadcaster is being obtained (or not asked for yet): events wait for it, nothing has failed. */
  get starting(): boolean {
    return this.target === undefined && !this.failed;
  }

  get current(): BroadcasterLike | undefined {
    return this.broadcaster;
  }

  /**
   * Waits until what was pushed so far is delivered (in the owner's history), or `timeoutMs` passed, and says
   * what could not be confirmed or was dropped. Never rejects; the timers do not keep the process alive.
   */
  async flush(timeoutMs: number): Promise<DeliveryReport> {
    const deadline = Date.now() + timeoutMs;
    const report = (
      delivered: boolean,
      unconfirmed: EventCounts | undefined,
      result?: Pick<FlushResult, 'dropped' | 'notHandedOver' | 'dropReason' | 'pendingReason'>,
    ): DeliveryReport => {
      const own = this.droppedEvents.toJSON();
      const dropReason = this.dropReason ?? result?.dropReason;
      return {
        delivered,
        unconfirmed,
        dropped: result ? addCounts(own, result.dropped) : own,
        ...(dropReason ? { dropReason } : {}),
        ...(result?.notHandedOver ? { notHandedOver: true } : {}),
        ...(result?.pendingReason ? { pendingReason: result.pendingReason } : {}),
      };
    };
    // No broadcaster could be obtained: nothing is pending, everything was dropped (and is counted so).
    if (!this.connecting || this.failed) return report(!this.failed, {});
    const broadcaster = await untilDeadline(this.connecting, deadline);
    if (broadcaster === TIMED_OUT) return report(false, countEvents(this.pending));
    if (!broadcaster) return report(false, {});
    try {
      // The broadcaster bounds its flush itself; the margin only guards against one that does not.
      const result = await untilDeadline(
        broadcaster.flush(Math.max(0, deadline - Date.now())),
        deadline + FLUSH_MARGIN_MS.delivery,
      );
      if (result === TIMED_OUT) return report(false, undefined);
      // An older broadcaster says nothing: it was done (or timed out) and we cannot tell which.
      return report(result.delivered, result.pending, result);
    } catch (error) {
      this.onError('flush', error);
      return report(false, undefined);
    }
  }
}
