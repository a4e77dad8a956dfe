import { defineConfig } from 'tsup';

// Two builds: the library (ESM + CJS + types) and the executable (ESM only, keeps its shebang, chmod +x).
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
  },
  {
    entry: ['src/cli.ts'],
    format: ['esm'],
    target: 'node20',
  },
]);
