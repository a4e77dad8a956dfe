import { createRequire } from 'node:module';

/**
 * `require` for what loads on first use rather than with the module, from both builds. Always made with
 * createRequire: a bare `require` in the source is rewritten by the bundler, in the ESM build, into a shim
 * that throws "Dynamic require … is not supported"; tsup shims `import.meta.url` in the CommonJS build.
 */
export function localRequire(id: string): unknown {
  return createRequire(import.meta.url)(id);
}
