/**
 * The events a broadcaster could not keep (invalid, a bounded queue full, published after close): counted, by
 * run and type for flush() (a reporter names what its run lost), and told once per cause — a warning per
 * event would flood the runner's output.
 */
import { type EventCounts, EventTally, type PublishedEvent } from '@testwire/protocol';
import type { EventResult, SerializedEvent } from './admit.js';
import type { Logger } from './options.js';

export class Drops {
  /** Events dropped so far. */
  count = 0;
  private readonly tally = new EventTally();
  private readonly warned = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Counts `n` events of `event`'s run and type (either may be missing: the event was not valid). */
  add(event: Partial<PublishedEvent> | null | undefined, n = 1): void {
    this.count += n;
    this.tally.add(event?.runId, event?.type, n);
  }

  /**
   * A published event made ready by `prepare` (admit, or a publisher's serialize), or undefined when it is
   * dropped: published after close (counted), or it cannot be sent (counted, and told the first time).
   */
  screen(
    event: PublishedEvent,
    closed: boolean,
    prepare: (event: PublishedEvent) => EventResult,
  ): SerializedEvent | undefined {
    if (closed) {
      this.add(event);
      return undefined;
    }
    const result = prepare(event);
    if (result.ok) return result.event;
    this.add(event);
    this.warnOnce(
      'invalid',
      `testwire: dropped an event that cannot be sent (${result.error}); further ones are dropped silently`,
    );
    return undefined;
  }

  /** Warns the first time a drop has this `cause`; later ones are only counted. */
  warnOnce(cause: string, message: string): void {
    if (this.warned.has(cause)) return;
    this.warned.add(cause);
    this.logger.warn(message);
  }

  /** Every event dropped so far, by run id then type. */
  counts(): EventCounts {
    return this.tally.toJSON();
  }
}
