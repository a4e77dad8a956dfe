import type { PublishedEvent } from '@testwire/protocol';

/** What the core needs of a broadcaster (see @testwire/broadcaster). */
export interface BroadcasterLike {
  readonly url: string;
  readonly role: 'owner' | 'publisher';
  publish(event: PublishedEvent): void;
  flush(timeoutMs?: number): Promise<void>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Connection options handed to getBroadcaster(); undefined fields fall back to its env defaults. */
export interface ConnectOptions {
  port?: number;
  host?: string;
  url?: string;
  apiKey?: string;
}

/**
 * Delivery from the core to its target (a sink function, or the process's broadcaster).
 *
 *   hook ─> push() ─┬─ target known ──> target.publish()   (the broadcaster queues; never blocks)
 *                   └─ still connecting ─> pending[] (bounded: beyond the bound, drop and count)
 *
 * Obtaining the broadcaster is asynchronous (binding a port, or joining another process's owner); the
 * runner's hooks must not wait for it, so events wait here until it resolves.
 */
export class Delivery {
  private pending: PublishedEvent[] = [];
  private target?: (event: PublishedEvent) => void;
  private broadcaster?: BroadcasterLike;
  private connecting?: Promise<BroadcasterLike | undefined>;
  private failed = false;
  /** Events dropped: buffer full while connecting, or no broadcaster could be obtained. */
  dropped = 0;

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
        this.dropped += this.pending.length;
        this.pending = [];
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
      this.dropped++;
      return;
    }
    // Run boundaries are admitted beyond the bound: a consumer can live with a gap, not with a run that
    // never starts or never ends.
    if (
      this.pending.length >= this.maxPending &&
      event.type !== 'test.started' &&
      event.type !== 'test.completed'
    ) {
      this.dropped++;
      return;
    }
    this.pending.push(event);
  }

  private drain(): void {
    const pending = this.pending;
    this.pending = [];
    for (const event of pending) this.push(event);
  }

  get buffered(): number {
    return this.pending.length;
  }

  /** The broadcaster, once obtained. */
  get current(): BroadcasterLike | undefined {
    return this.broadcaster;
  }

  /**
   * Waits until what was pushed so far is delivered (in the owner's history), or `timeoutMs` passed.
   * Never rejects; the timer does not keep the process alive.
   */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.connecting) return;
    const deadline = Date.now() + timeoutMs;
    const work = (async () => {
      const broadcaster = await this.connecting;
      if (!broadcaster) return;
      await broadcaster.flush(Math.max(0, deadline - Date.now()));
    })().catch((error: unknown) => this.onError('flush', error));
    await withTimeout(work, timeoutMs);
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; the timer is unref'd. */
export function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
