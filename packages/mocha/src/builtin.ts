import { createRequire } from 'node:module';

/**
 * A Node built-in loaded on first use rather than with the reporter, typed by the caller as the real module
 * (`builtin<typeof import('node:crypto')>('node:crypto')`). Loading a reporter costs the runner's thread
 * whatever its modules require at the top: node:crypto alone takes ~3 ms there, and only `--parallel`'s
 * relay needs it. From both builds (tsup shims `import.meta.url` in the CommonJS one).
 */
export function builtin<T>(id: `node:${string}`): T {
  return createRequire(import.meta.url)(id) as T;
}
