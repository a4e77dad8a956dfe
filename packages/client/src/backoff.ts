/** Reconnect policy: how many attempts, and the backoff (full jitter) between them. */

export interface ReconnectOptions {
  /** Attempts after a lost or failed connection before giving up; `Infinity` never gives up. Default 10. */
  attempts?: number;
  /**
   * Attempts after the FIRST connection fails, before the client has ever been in sync. Default: `attempts`.
   * `0` fails `connect()` at once when nothing listens (a script), yet keeps reconnecting through restarts
   * once connected (with `attempts: Infinity`); `Infinity` waits for an endpoint that is not up yet.
   */
  initialAttempts?: number;
  /** First delay ceiling in ms. Default 250. */
  baseDelayMs?: number;
  /** Delay ceiling in ms. Default 10_000. */
  maxDelayMs?: number;
}

export interface ReconnectPolicy {
  attempts: number;
  initialAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function reconnectPolicy(option: boolean | ReconnectOptions | undefined): ReconnectPolicy {
  if (option === false) return { attempts: 0, initialAttempts: 0, baseDelayMs: 0, maxDelayMs: 0 };
  const o = option === true || option === undefined ? {} : option;
  const attempts = o.attempts ?? 10;
  const policy = {
    attempts,
    initialAttempts: o.initialAttempts ?? attempts,
    baseDelayMs: o.baseDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 10_000,
  };
  for (const [key, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new TypeError(`reconnect.${key}: expected a number >= 0, got ${String(value)}`);
    }
  }
  return policy;
}

/** The delay itself is the protocol package's (shared with the broadcaster's publishers). */
export { backoffDelay } from '@testwire/protocol';
