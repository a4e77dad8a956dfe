/**
 * @testwire/broadcaster for the core: on the reporter's thread, the copy built into dist/core-worker.cjs
 * (`provideBroadcaster`: nothing to resolve on a thread that has just started); in the runner's thread, loaded
 * on first use (a disabled reporter, or one with a `sink`, never loads it).
 *
 * Always through `require`, from both builds: the CommonJS graph (broadcaster + `ws`) loads in about half
 * the time of the ES module graph (`import('ws')` goes through the CJS-to-ESM wrapper and the module
 * lexer), and the reporter loads it inside the test process, on the runner's own thread. Both builds
 * share one broadcaster per process anyway (getBroadcaster keeps it on a global symbol).
 */
import type { GetBroadcaster } from '@testwire/broadcaster';
import { localRequire } from './local-require.js';

type BroadcasterModule = { getBroadcaster: GetBroadcaster };

let provided: BroadcasterModule | undefined;

/** The module to use instead of loading one: the worker's entry hands over the copy built into it. */
export function provideBroadcaster(module: BroadcasterModule): void {
  provided = module;
}

/** The broadcaster's entry, typed as the real module: the one provided, else loaded on first use. */
export function loadBroadcaster(): BroadcasterModule {
  return provided ?? (localRequire('@testwire/broadcaster') as typeof import('@testwire/broadcaster'));
}
