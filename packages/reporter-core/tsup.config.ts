import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/baseline/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    shims: true,
    // Small modules: inlined rather than a package resolved and loaded on the runner's thread.
    noExternal: ['@testwire/broadcaster/budget', '@testwire/broadcaster/timers', '@testwire/protocol/redact'],
  },
  {
    // The worker thread (thread.ts starts it): CommonJS, one file with the core, loads the broadcaster. And
    // what the runner's thread loads only on first use (in-thread.ts): the core in-thread, error normalization.
    entry: ['src/core-worker.ts', 'src/in-thread.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
  },
  {
    // Error normalization, loaded by the runner's thread at a run's first failure (in-thread-loader.ts): one
    // small file with the protocol's failure summaries inlined, not the core and the whole protocol.
    entry: ['src/errors.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
    noExternal: ['@testwire/protocol/failure-summary'],
  },
]);
