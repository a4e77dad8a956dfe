import { defineConfig } from 'tsup';

// Two builds: the Node entry (ESM + CJS + types: exports `dashboardDir`) and the page script, a single
// browser ES module with @testwire/client's browser build bundled in (no network at build or run time).
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    // `import.meta.url` in the CJS build.
    shims: true,
  },
  {
    entry: { app: 'src/app/main.ts' },
    outDir: 'dist/public',
    format: ['esm'],
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    // Dev dependencies are bundled by default; say it anyway: the page loads nothing else.
    noExternal: [/.*/],
    minify: true,
    sourcemap: true,
    splitting: false,
    // index.html, style.css, favicon.svg
    publicDir: 'src/public',
  },
]);
