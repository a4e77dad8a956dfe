import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localRequire } from './local-require.js';

/**
 * A file of a package's build (`dist/<name>`), found beside the module at `from` (its `import.meta.url`) once
 * built, or in `dist` when that module runs from the sources (a package's own tests run `src`, against a
 * prior `pnpm build`). By default this package's.
 */
export function builtFile(name: string, from?: string): string | undefined {
  // this package's own: its directory as CommonJS has it (parsing a URL costs the thread's start ~0.1 ms)
  const here =
    from === undefined && typeof __dirname === 'string'
      ? __dirname
      : dirname(fileURLToPath(from ?? import.meta.url));
  for (const candidate of [join(here, name), join(here, '..', 'dist', name)])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * A part of a package's build loaded on first use rather than with the package (what the runner's thread
 * does not need to start a run), typed by the caller as the real module: `requireBuilt<typeof
 * import('./c8.js')>('c8.cjs', import.meta.url, '@testwire/mocha')`. Through `require`: hooks need it
 * synchronously.
 */
export function requireBuilt<T>(name: string, from?: string, owner = '@testwire/reporter-core'): T {
  const file = builtFile(name, from);
  if (!file) throw new Error(`${owner}: dist/${name} is missing (build the package)`);
  return localRequire(file) as T;
}
