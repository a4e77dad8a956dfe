/**
 * The one retry delay of testwire: exponential backoff with full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"). The client's reconnects and a joined publisher's search for the owner both use it, so
 * that many peers that lost the same broadcaster (an eviction, a takeover) come back spread out instead of in
 * lockstep.
 */

/** The two numbers of a backoff: the first delay's ceiling and the ceiling it doubles up to. */
export interface Backoff {
  /** Ceiling of the first delay, in ms. */
  baseDelayMs: number;
  /** Largest ceiling, in ms. */
  maxDelayMs: number;
}

/**
 * Delay before retry `attempt` (1-based): uniformly random in [0, min(max, base * 2^(attempt-1))).
 * `random` is injectable for tests.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
