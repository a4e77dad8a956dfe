/**
 * Loads @testwire/broadcaster on first use (a disabled reporter, or one with a `sink`, never loads it).
 *
 * Always through `require`, from both builds: the CommonJS graph (broadcaster + `ws`) loads in about half
 * the time of the ES module graph (`import('ws')` goes through the CJS-to-ESM wrapper and the module
 * lexer), and the reporter loads it inside the test process, on the runner's own thread. Both builds
 * share one broadcaster per process anyway (getBroadcaster keeps it on a global symbol).
 */
import type { GetBroadcaster } from '@testwire/broadcaster';
import { localRequire } from './local-require.js';

/** The broadcaster's entry, typed as the real module: loaded on first use, never with this module. */
export function loadBroadcaster(): { getBroadcaster: GetBroadcaster } {
  return localRequire('@testwire/broadcaster') as typeof import('@testwire/broadcaster');
}
