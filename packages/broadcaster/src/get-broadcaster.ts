/**
 * `startBroadcaster` (always the owner) and `getBroadcaster` (one per process, start on first use).
 *
 *   getBroadcaster()
 *     ├─ url / TESTWIRE_URL ───────────────> publisher of that endpoint
 *     ├─ bind host:port ───────────────────> owner
 *     ├─ EADDRINUSE, /status is testwire ──> publisher of that owner (secret file of the same OS user)
 *     └─ held by something else ───────────> warn once, owner of an ephemeral port
 */
import { redactCredentials } from '@testwire/protocol';
import { claimPort, ownEphemeral } from './join/claim.js';
import { JoinedBroadcaster, targetFor, targetFromUrl } from './join/publisher.js';
import { type BroadcasterOptions, resolveOptions } from './options.js';
import { Owner } from './owner.js';
import type { Broadcaster } from './types.js';

/**
 * Starts a broadcaster that owns `host:port`. Rejects when the options are invalid (OptionsError, with a
 * message naming the option) or the port cannot be bound (the listen error, e.g. code EADDRINUSE).
 */
export async function startBroadcaster(options: BroadcasterOptions = {}): Promise<Broadcaster> {
  const resolved = resolveOptions(options);
  return Owner.start(resolved);
}

interface Slot {
  promise?: Promise<Broadcaster>;
}

// Shared by every copy of this package loaded in the process (ESM and CJS builds, several versions).
const SLOT_KEY = Symbol.for('@testwire/broadcaster.instance');

function slot(): Slot {
  const g = globalThis as unknown as Record<symbol, Slot | undefined>;
  g[SLOT_KEY] ??= {};
  return g[SLOT_KEY] as Slot;
}

/**
 * The process's broadcaster, started on first use: it owns the port, or joins the testwire broadcaster
 * that does as a publisher, or (the port is held by something else) warns once and owns an ephemeral
 * port. Later calls return the same instance (their options are ignored) until it is closed.
 */
export function getBroadcaster(options: BroadcasterOptions = {}): Promise<Broadcaster> {
  const s = slot();
  if (s.promise) return s.promise;
  const promise = acquire(options).then(
    (broadcaster) => {
      broadcaster.onClose(() => {
        if (s.promise === promise) s.promise = undefined;
      });
      return broadcaster;
    },
    (error) => {
      if (s.promise === promise) s.promise = undefined;
      throw error;
    },
  );
  s.promise = promise;
  return promise;
}

async function acquire(options: BroadcasterOptions): Promise<Owner | JoinedBroadcaster> {
  const resolved = resolveOptions(options);
  if (resolved.url) {
    const joined = new JoinedBroadcaster(resolved, targetFromUrl(resolved.url));
    if (!(await joined.connect())) {
      resolved.logger.warn(
        `testwire: cannot reach ${redactCredentials(resolved.url)} yet${joined.lastRefusal ? ` (${joined.lastRefusal})` : ''}; events are queued and sent once it answers`,
      );
      void joined.recover();
    }
    return joined;
  }
  if (resolved.port === 0) return Owner.start(resolved);
  let refusal: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const claim = await claimPort(resolved);
    if (claim.kind === 'owner') return claim.owner;
    if (claim.kind === 'foreign') return ownEphemeral(resolved, claim.reason);
    const joined = new JoinedBroadcaster(resolved, targetFor(resolved.host, resolved.port));
    if (await joined.connect()) return joined;
    refusal = joined.lastRefusal;
    // The owner went away between the probe and the connect, or does not accept us: look again.
  }
  return ownEphemeral(
    resolved,
    `a server that answers like testwire holds the port but this process could not join it as a publisher: ${refusal ?? 'it did not answer in time'}`,
  );
}

/** For tests: forget the process's broadcaster without closing it. */
export function resetBroadcasterSingleton(): void {
  slot().promise = undefined;
}
