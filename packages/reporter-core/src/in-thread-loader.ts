/**
 * Loads dist/in-thread.cjs (in-thread.ts) on first use, typed as the real module, from both builds (through
 * `require`: a hook needs it synchronously). Loading the reporter costs the runner's thread only the
 * recorder, its options and the thread that applies the calls.
 */
import type { TestError } from '@testwire/protocol';
import { builtFile } from './built-file.js';
import type { PathRelativizer } from './ids.js';
import { localRequire } from './local-require.js';

type InThread = typeof import('./in-thread.js');

let loaded: InThread | undefined;

export function loadInThread(): InThread {
  if (loaded) return loaded;
  const file = builtFile('in-thread.cjs');
  if (!file) throw new Error('@testwire/reporter-core: dist/in-thread.cjs is missing (build the package)');
  loaded = localRequire(file) as InThread;
  return loaded;
}

/**
 * A runner's error -> plain TestError: message, stack trimmed to user frames with paths relative to the
 * root, expected/actual, summary, diff (errors.ts, loaded on first use).
 */
export function normalizeError(error: unknown, paths: PathRelativizer): TestError {
  return loadInThread().normalizeError(error, paths);
}
