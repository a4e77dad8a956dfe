import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The runner's thread compiles all that the built entry holds when it loads a reporter (budget B2 of issue 13):
// what only a run with coverage (an adapter's coverage helpers) or the CLI (framework detection) calls is a
// build file of its own, dist/coverage.cjs and dist/frameworks.cjs, loaded on first use, from both builds.
const dist = join(__dirname, '..', 'dist');
const project = mkdtempSync(join(tmpdir(), 'testwire-lazy-parts-'));
writeFileSync(join(project, 'package.json'), JSON.stringify({ devDependencies: { mocha: '^11.0.0' } }));
afterAll(() => rmSync(project, { recursive: true, force: true }));

async function run(args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
  return JSON.parse(stdout);
}

// what each call gives, and which of the two parts are loaded before and after it
const calls = `
  const totals = { statements: { covered: 1, total: 2 }, branches: { covered: 1, total: 1 },
    functions: { covered: 1, total: 1 }, lines: { covered: 1, total: 2 } };
  const map = { getCoverageSummary: () => ({ data: totals }), files: () => ['a.js'] };
  const out = { before: parts() };
  out.pct = m.coveragePct(1, 4);
  out.totals = m.coverageTotals(totals).lines;
  out.report = m.istanbulReport(map, 'nyc', ['text']);
  out.thresholds = m.metricThresholds({ lines: 90, 'check-coverage': true });
  out.check = m.checkThresholds({ totals, thresholds: { lines: 90 } })?.passed;
  out.afterCoverage = parts();
  out.frameworks = m.detectFrameworks(${JSON.stringify(project)}).map((f) => f.name);
  out.after = parts();
  process.stdout.write(JSON.stringify(out));
`;

const expected = {
  before: [],
  pct: 25,
  totals: 50,
  report: {
    report: { provider: 'nyc', files: 1, reports: ['text'], totals: { lines: { covered: 1, total: 2 } } },
  },
  check: false,
  afterCoverage: ['coverage.cjs'],
  frameworks: ['mocha'],
  after: ['coverage.cjs', 'frameworks.cjs'],
};

describe('what only some callers need loads on first use', () => {
  it('the CommonJS entry holds neither the coverage helpers nor framework detection, and gives both', async () => {
    const entry = readFileSync(join(dist, 'index.cjs'), 'utf8');
    expect(entry).not.toMatch(
      /function (istanbulReport|metricThresholds|checkThresholds|detectFrameworks)\(/,
    );
    const out = await run([
      '-e',
      `const m = require(${JSON.stringify(join(dist, 'index.cjs'))});
       const parts = () => Object.keys(require.cache).map((f) => f.split(/[\\\\/]/).pop())
         .filter((f) => f === 'coverage.cjs' || f === 'frameworks.cjs');
       ${calls}`,
    ]);
    expect(out).toMatchObject(expected);
    expect(out.thresholds).toEqual({ lines: 90 });
  });

  it('the ES module entry loads them as the CommonJS one does', async () => {
    const entry = readFileSync(join(dist, 'index.js'), 'utf8');
    expect(entry).not.toMatch(
      /function (istanbulReport|metricThresholds|checkThresholds|detectFrameworks)\(/,
    );
    const out = await run([
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(join(dist, 'index.js'))});
       const { createRequire } = await import('node:module');
       const cache = createRequire(import.meta.url).cache;
       const parts = () => Object.keys(cache).map((f) => f.split(/[\\\\/]/).pop())
         .filter((f) => f === 'coverage.cjs' || f === 'frameworks.cjs');
       ${calls}`,
    ]);
    expect(out).toMatchObject(expected);
  });
});
