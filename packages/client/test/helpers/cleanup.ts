/** What a test started, undone after it (last first), and a broadcaster that is closed that way. */
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { afterEach } from 'vitest';

const undo: (() => Promise<unknown> | unknown)[] = [];

/** Registers the afterEach hook of the calling test file; returns the function that adds to the list. */
export function useCleanup(): (fn: () => Promise<unknown> | unknown) => void {
  afterEach(async () => {
    for (const fn of undo.splice(0).reverse()) await fn();
  });
  return (fn) => undo.push(fn);
}

/** A broadcaster on an ephemeral port, quiet, closed after the test by `later`. */
export async function quietBroadcaster(
  later: (fn: () => Promise<unknown>) => void,
  options: Parameters<typeof startBroadcaster>[0] = {},
): Promise<Broadcaster> {
  const b = await startBroadcaster({ port: 0, logger: { warn() {} }, ...options });
  later(() => b.close({ timeoutMs: 500 }));
  return b;
}
