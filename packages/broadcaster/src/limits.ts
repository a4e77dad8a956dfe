/**
 * Per client address bounds of the HTTP server: requests per second, and a lockout after repeated wrong
 * credentials (open connections: connections.ts). No timers: each bound reads the clock when asked, so nothing keeps the process
 * alive. Tables are bounded (oldest entries forgotten first).
 *
 *   request / upgrade ─ bucket empty ─> 429 RATE_LIMITED (Retry-After)
 *   wrong credentials ─ badCredentials a minute ─> locked out: its wrong ones get 429 LOCKED_OUT (auth.ts;
 *                                                 right ones still get in)
 */
import type { ResolvedOptions } from './options.js';
import { TokenBucket } from './rate-limit.js';

/** Addresses tracked per table; beyond, the least recently seen are forgotten. */
const MAX_ADDRESSES = 10_000;
/** Window in which wrong credentials are counted toward a lockout. */
const FAILURE_WINDOW_MS = 60_000;

/** Puts `key` last in the map's order (most recent) and bounds the map's size. */
function touch<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_ADDRESSES) map.delete(map.keys().next().value as string);
  return value;
}

export type LimitsOptions = Pick<
  ResolvedOptions,
  'requestsPerSecond' | 'requestBurst' | 'badCredentials' | 'lockoutMs'
>;

export class AddressLimits {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly failures = new Map<string, { times: number[]; lockedUntil: number }>();

  constructor(
    private readonly options: LimitsOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a request token for `address`; false when it must be refused (429). */
  takeRequest(address: string): boolean {
    const bucket =
      this.buckets.get(address) ??
      new TokenBucket(this.options.requestsPerSecond, this.options.requestBurst, this.now);
    touch(this.buckets, address, bucket);
    return bucket.take();
  }

  /** Milliseconds `address` stays locked out (0: not locked). */
  lockedFor(address: string): number {
    const entry = this.failures.get(address);
    return entry ? Math.max(0, entry.lockedUntil - this.now()) : 0;
  }

  /** Counts wrong credentials from `address`; the badCredentials-th within a minute locks it out. */
  failed(address: string): void {
    const now = this.now();
    const entry = touch(this.failures, address, this.failures.get(address) ?? { times: [], lockedUntil: 0 });
    entry.times.push(now);
    while (entry.times.length > 0 && (entry.times[0] as number) <= now - FAILURE_WINDOW_MS)
      entry.times.shift();
    if (entry.times.length >= this.options.badCredentials) {
      entry.lockedUntil = now + this.options.lockoutMs;
      entry.times = [];
    }
  }
}
