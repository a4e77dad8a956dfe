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
    // The worker thread (thread.ts starts it): CommonJS, one file with the core, the protocol and the
    // broadcaster. A thread that has just started has no module resolver warmed up: resolving the packages'
    // "exports" there cost it ~13 ms of CPU at every start, on the way to a short run's final hook (bench/
    // README.md, "B2 in a short run"). `ws` stays a package of its own, loaded at the first WebSocket peer.
    entry: ['src/core-worker.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
    noExternal: ['@testwire/protocol', '@testwire/broadcaster'],
  },
  {
    // What the runner's thread loads only on first use (in-thread.ts): the core in-thread.
    entry: ['src/in-thread.ts'],
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
  {
    // What only some callers need, loaded on first use: an adapter's coverage helpers (coverage-loader.ts),
    // the CLI's framework detection (frameworks-loader.ts). Not in the entry the runner's thread compiles.
    entry: ['src/coverage.ts', 'src/frameworks.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
  },
]);
