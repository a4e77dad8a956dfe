import { defineConfig } from 'tsup';

// ESM from src/index.ts; CJS from src/cjs-entry.ts so that `module.exports` is the reporter class.
// The build script then copies index.d.ts to index.d.cts (the class is also reachable as `.default`).
export default defineConfig([
  { entry: { index: 'src/index.ts' }, format: ['esm'], dts: true, target: 'node20' },
  { entry: { index: 'src/cjs-entry.ts' }, format: ['cjs'], target: 'node20' },
]);
