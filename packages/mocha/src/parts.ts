/**
 * The parts of the mocha reporter a run may not need, each its own file of the build, loaded when first
 * needed rather than with the reporter: loading the reporter is on the runner's critical path (budget B2 of
 * issue 13), and most runs are neither `--parallel` (parallel-relay.ts, and dropped-files.ts when a parallel
 * run drops a file) nor under c8 (c8.ts). From both builds, and from the sources (the package's tests)
 * against a prior `pnpm build`.
 */
import { requireBuilt } from '@testwire/reporter-core';

type Relay = typeof import('./parallel-relay.js');
type DroppedFiles = typeof import('./dropped-files.js');
type C8 = typeof import('./c8.js');

let relay: Relay | undefined;
let dropped: DroppedFiles | undefined;
let c8: C8 | undefined;

/** dist/parallel-relay.cjs: the main process's end of `--parallel`'s live streams. */
export function loadRelay(): Relay {
  relay ??= requireBuilt<Relay>('parallel-relay.cjs', import.meta.url, '@testwire/mocha');
  return relay;
}

/** dist/dropped-files.cjs: what a `--parallel` run's dropped files were (only a run that dropped some). */
export function loadDroppedFiles(): DroppedFiles {
  dropped ??= requireBuilt<DroppedFiles>('dropped-files.cjs', import.meta.url, '@testwire/mocha');
  return dropped;
}

/** dist/c8.cjs: coverage of a run under c8. */
export function loadC8(): C8 {
  c8 ??= requireBuilt<C8>('c8.cjs', import.meta.url, '@testwire/mocha');
  return c8;
}
