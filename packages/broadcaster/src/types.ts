/**
 * The public types of a broadcaster, as a reporter uses it. A package that loads this one lazily (reporter-core
 * requires it on first use) imports them with `import type`, which loads nothing.
 */
import type { EventCounts, PublishedEvent } from '@testwire/protocol';
import type { BroadcasterOptions } from './options.js';

/** A running broadcaster: the owner of the port, or a publisher joined to the owner. */
export interface Broadcaster {
  /** `http://127.0.0.1:7357`: the owner's URL (also for a publisher). */
  readonly url: string;
  /** `ws://127.0.0.1:7357/ws` */
  readonly wsUrl: string;
  readonly host: string;
  readonly port: number;
  /** `owner` binds the port and serves subscribers; `publisher` forwards its events to the owner. May change from publisher to owner after a takeover. */
  readonly role: 'owner' | 'publisher';
  /** Epoch of the owner this broadcaster publishes to (changes when the owner changes). */
  readonly epoch: string | undefined;
  /** Queues an event. Never throws, never blocks; events that cannot be kept are dropped and counted. */
  publish(event: PublishedEvent): void;
  /**
   * Resolves when every event published so far is in the owner's history, or once `timeoutMs` passed (default
   * `FLUSH_BUDGET_MS`, 10 s), saying which events it could not confirm and which were dropped. Never rejects.
   * A publisher that took the port over also waits until a subscriber has been sent its events (the
   * handover, README): those no subscriber has when it stops are `pending`.
   */
  flush(timeoutMs?: number): Promise<FlushResult>;
  /** Flushes (bounded), closes every socket and timer. Afterwards nothing of the broadcaster keeps the process alive. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Events dropped so far (unserializable, queue full while the owner was unreachable, published after close). */
  readonly dropped: number;
}

/** What a {@link Broadcaster.flush} achieved. */
export interface FlushResult {
  /** Every event published so far is in the owner's history. */
  delivered: boolean;
  /**
   * Events published and not in the owner's history when flush() returned: still queued, or sent and not
   * acknowledged. They are still sent (and re-sent after a reconnect) while the process lives. After a
   * takeover, also the events in our history that no subscriber has been sent yet (the handover).
   */
  pending: EventCounts;
  /**
   * True when `pending` holds the events of a handover that no subscriber was given: this process took the
   * port over from an owner that went away, the events are in its own history, and no subscriber came back
   * (or none had them) before the flush stopped. They are lost once the process exits.
   */
  notHandedOver?: boolean;
  /** Why events were dropped, when one cause says it (a Redis shard publisher that gave up: its error). */
  dropReason?: string;
  /** Why events are still pending, when the target said (a Redis shard publisher: Redis' last error). */
  pendingReason?: string;
  /** Every event this broadcaster dropped since it started (a bounded queue was full, refused, after close). */
  dropped: EventCounts;
}

/** The type of `getBroadcaster`: the one entry point a reporter calls. */
export type GetBroadcaster = (options?: BroadcasterOptions) => Promise<Broadcaster>;
