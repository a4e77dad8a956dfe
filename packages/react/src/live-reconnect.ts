/**
 * A component showing a live run stays up for hours, through `testwire serve` restarts and takeovers of the
 * endpoint. The client's own default gives up after 10 failed attempts (about half a minute of backoff),
 * which suits a script, not a view left open: the hook asks for no limit unless told otherwise.
 */
import type { TestwireClientOptions } from '@testwire/client';

type Reconnect = TestwireClientOptions['reconnect'];

/**
 * The reconnect option the hook gives the client: `false` as given; otherwise the given policy with
 * `attempts: Infinity` where it sets none (delays and an explicit `attempts` / `initialAttempts` are kept).
 */
export function liveReconnect(reconnect: Reconnect): Reconnect {
  if (reconnect === false) return false;
  const given = reconnect === true || reconnect === undefined ? {} : reconnect;
  return { attempts: Number.POSITIVE_INFINITY, ...given };
}
