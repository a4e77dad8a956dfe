import { defineConfig } from 'tsup';

// mocha `require`s a reporter and uses what it gets as the constructor (no `.default` unwrapping), so the
// CommonJS build ends by making module.exports the class itself, with every named export attached to it.
const CJS_FOOTER = [
  'const __testwireExports = module.exports;',
  'module.exports = Object.assign(__testwireExports.default, __testwireExports);',
].join('\n');

export default defineConfig([
  {
    // worker-reporter: what `mocha --parallel` workers load as their reporter (parallel-relay.ts names its .cjs).
    entry: ['src/index.ts', 'src/worker-reporter.ts'],
    format: ['esm', 'cjs'],
    dts: { entry: 'src/index.ts' },
    target: 'node20',
    // import.meta.url in the CommonJS build (builtin.ts loads Node built-ins on first use)
    shims: true,
    clean: true,
    keepNames: true,
    footer: ({ format }) => (format === 'cjs' ? { js: CJS_FOOTER } : {}),
  },
  {
    // What the reporter loads on first use (parts.ts), from both builds: the `--parallel` relay, the files a
    // parallel run dropped, c8's coverage.
    entry: ['src/parallel-relay.ts', 'src/dropped-files.ts', 'src/c8.ts'],
    format: ['cjs'],
    target: 'node20',
    shims: true,
    keepNames: true,
  },
]);
