import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/baseline/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    shims: true,
  },
  {
    // The worker thread (thread.ts starts it): CommonJS, one file with the core, loads the broadcaster.
    entry: ['src/core-worker.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
  },
]);
