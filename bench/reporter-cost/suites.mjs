/**
 * The generated suites of the cost bench: per runner (jest 30, vitest 4, playwright, mocha 11 from compat/*)
 * and size, 20 files of fast unit tests (each sorts a small array: a runner's own per-test cost dominates,
 * the worst case for a reporter), the same tests as bench/reporter-overhead. A suite lives in
 * compat/<runner>/work/cost-<pid>-<tests>/ (git-ignored) beside one runner config per reporter setting:
 *
 *   baseline   the runner's default terminal reporter only
 *   <build>    the same + the testwire reporter of that build (old, current), loaded through a stub that
 *              hands the build's adapter entry to timed-reporter.cjs
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const FILES = 20;

const body = (assert) => `const input = Array.from({ length: 50 }, (_, k) => (k * 7919 + i) % 101);
      const sorted = [...input].sort((a, b) => a - b);
      const text = sorted.slice(0, 5).join(',');
      ${assert}`;

/** `perFile` tests of file `fileIndex`, in describe blocks of 10. */
function blocksOf(fileIndex, perFile, make) {
  const blocks = [];
  for (let b = 0; b * 10 < perFile; b++) {
    const cases = [];
    for (let t = b * 10; t < Math.min(perFile, (b + 1) * 10); t++)
      cases.push(make(`computes case ${fileIndex}.${t}`, fileIndex * 100_000 + t));
    blocks.push({ name: `block ${b}`, cases });
  }
  return blocks;
}

const EXTERNAL = ['**/packages/*/dist/**', '**/bench/reporter-cost/**', '**/testwire-*.cjs'];

const nested = (blocks, describe) =>
  blocks.map((b) => `${describe}('${b.name}', () => {\n${b.cases.join('\n')}\n});`).join('\n');

/**
 * Per runner: its compat install, binary, test file, config (reporter = absolute path of the testwire stub,
 * or undefined for the baseline) and argv.
 */
export const RUNNERS = {
  jest: {
    label: 'jest 30',
    compat: 'jest-30',
    bin: 'jest',
    ext: '.test.js',
    file: (i, perFile) =>
      nested(
        blocksOf(
          i,
          perFile,
          (name, n) =>
            `    test('${name}', () => {\n      const i = ${n};\n      ${body('expect(text.length).toBeGreaterThan(0);')}\n    });`,
        ),
        'describe',
      ),
    config: (dir, reporter) => ({
      name: 'jest.config.cjs',
      text: `module.exports = ${JSON.stringify(
        {
          rootDir: dir,
          testMatch: ['**/*.test.js'],
          cacheDirectory: join(dir, '.jest-cache'),
          // Plain CommonJS tests need no babel-jest: without a transform there is no per-config transform
          // cache to warm (Jest keys it by the config, so each reporter setting would transform the suite
          // once, ~30 s at 20,000 tests, inside a measured run)
          transform: {},
          reporters: reporter ? ['default', reporter] : ['default'],
        },
        null,
        2,
      )};\n`,
    }),
    argv: (dir, config) => ['--ci', '--config', join(dir, config)],
  },
  vitest: {
    label: 'vitest 4',
    compat: 'vitest-4',
    bin: 'vitest',
    ext: '.test.mjs',
    file: (i, perFile) =>
      `import { describe, expect, test } from 'vitest';\n${nested(
        blocksOf(
          i,
          perFile,
          (name, n) =>
            `  test('${name}', () => {\n    const i = ${n};\n    ${body('expect(text.length).toBeGreaterThan(0);')}\n  });`,
        ),
        'describe',
      )}`,
    // isolate: false — the 20 files share one module graph per worker instead of setting one up per file
    // (~0.4 s of CPU each): a 2,000-test run takes ~3 s instead of ~10, so more repetitions fit; the main
    // process, where the reporter runs, gets the same hooks either way.
    config: (_dir, reporter) => ({
      name: 'vitest.config.mjs',
      text: `export default { test: { include: ['**/*.test.mjs'], isolate: false, reporters: ${JSON.stringify(
        reporter ? ['default', reporter] : ['default'],
      )} } };\n`,
    }),
    argv: (dir, config) => ['run', '--root', dir, '--config', join(dir, config)],
  },
  playwright: {
    label: 'playwright',
    compat: 'playwright',
    // ~13 ms of worker CPU per test here (steps with stack traces through source-map-support): a 2,000-test
    // run takes ~27 s, 20,000 would take ~5 min. The slope is taken between 200 and 2,000 tests.
    sizes: [200, 2000],
    quickSizes: [100, 400],
    bin: 'playwright',
    ext: '.spec.mjs',
    file: (i, perFile) =>
      `import { expect, test } from '@playwright/test';\n${nested(
        blocksOf(
          i,
          perFile,
          (name, n) =>
            `  test('${name}', () => {\n    const i = ${n};\n    ${body('expect(text.length).toBeGreaterThan(0);')}\n  });`,
        ),
        'test.describe',
      )}`,
    // build.external: Playwright babel-transforms every file it loads outside node_modules, and the builds'
    // dist files are not in one (a user's reporter is): excluded, as they would be.
    config: (_dir, reporter) => ({
      name: 'playwright.config.mjs',
      text: `export default { testMatch: '**/*.spec.mjs', build: { external: ${JSON.stringify(EXTERNAL)} }, reporter: ${JSON.stringify(
        reporter ? [['list'], [reporter]] : [['list']],
      )} };\n`,
    }),
    argv: (dir, config) => ['test', '--config', join(dir, config)],
  },
  mocha: {
    label: 'mocha 11',
    compat: 'mocha-11',
    bin: 'mocha',
    ext: '.test.cjs',
    // 200 tests end before 10 subscribers have connected to the reporter's broadcaster
    quickSizes: [1000, 4000],
    file: (i, perFile) =>
      `const assert = require('node:assert');\n${nested(
        blocksOf(
          i,
          perFile,
          (name, n) =>
            `  it('${name}', () => {\n    const i = ${n};\n    ${body('assert.ok(text.length > 0);')}\n  });`,
        ),
        'describe',
      )}`,
    // mocha takes one --reporter: @testwire/mocha wraps `spec` (the default), so the terminal output is the same
    config: () => undefined,
    argv: (dir, _config, reporter) => [
      ...(reporter ? ['--reporter', reporter] : []),
      join(dir, '*.test.cjs'),
    ],
  },
};

/**
 * Writes the suite of `tests` tests for `name` and a config per reporter setting; `builds` maps a build
 * label to its adapter entry. Returns what runs need: the binary, and per setting the argv.
 */
export function generateSuite(name, tests, builds) {
  const runner = RUNNERS[name];
  const compatDir = join(root, 'compat', runner.compat);
  const bin = join(compatDir, 'node_modules', '.bin', runner.bin);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm install at the repository root`);
  const perFile = Math.ceil(tests / FILES);
  const dir = join(compatDir, 'work', `cost-${process.pid}-${tests}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++)
    writeFileSync(
      join(dir, `suite-${String(i).padStart(2, '0')}${runner.ext}`),
      `${runner.file(i, perFile)}\n`,
    );
  const timed = JSON.stringify(join(here, 'timed-reporter.cjs'));
  const argv = {};
  for (const [label, entry] of [['baseline', undefined], ...Object.entries(builds)]) {
    let reporter;
    if (entry) {
      reporter = join(dir, `testwire-${label}.cjs`);
      writeFileSync(
        reporter,
        `module.exports = require(${timed}).timed(${JSON.stringify(name)}, ${JSON.stringify(entry)});\n`,
      );
    }
    const config = runner.config(dir, reporter);
    let configName;
    if (config) {
      configName = config.name.replace(/(\.[a-z]+)$/, `.${label}$1`);
      writeFileSync(join(dir, configName), config.text);
    }
    argv[label] = runner.argv(dir, configName, reporter);
  }
  return { name, tests: perFile * FILES, dir, bin, argv };
}
