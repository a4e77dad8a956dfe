/**
 * The events a broadcaster could not keep (invalid, a bounded queue full, published after close): counted, by
 * run and type for flush() (a reporter names what its run lost), and told once per cause — a warning per
 * event would flood the runner's output.
 */
import { type EventCounts, EventTally, type PublishedEvent } from '@testwire/protocol';
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
