/**
 * Loads dist/in-thread.cjs (in-thread.ts) and dist/errors.cjs (errors.ts) on first use, typed as the real
 * modules, from both builds (through `require`: a hook needs them synchronously). Loading the reporter costs
 * the runner's thread only the recorder, its options and the thread that applies the calls; a run's first
 * failure adds error normalization alone (not the core).
 */
import type { TestError } from '@testwire/protocol';
import { requireBuilt } from './built-file.js';
import type { PathRelativizer } from './ids.js';

type InThread = typeof import('./in-thread.js');
type Errors = typeof import('./errors.js');

let loaded: InThread | undefined;
let errors: Errors | undefined;

export function loadInThread(): InThread {
  loaded ??= requireBuilt<InThread>('in-thread.cjs');
  return loaded;
}

/**
 * A runner's error -> plain TestError: message, stack trimmed to user frames with paths relative to the
 * root, expected/actual, summary, diff (errors.ts, loaded on first use).
 */
export function normalizeError(error: unknown, paths: PathRelativizer): TestError {
  errors ??= requireBuilt<Errors>('errors.cjs');
  return errors.normalizeError(error, paths);
}
