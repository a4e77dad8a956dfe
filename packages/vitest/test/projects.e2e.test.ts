/**
 * A config with `test.projects` where two projects run the same file, end to end on Vitest 3 and 4
 * (compat/vitest-<major>), into a real broadcaster and WebSocket subscriber, against Vitest's own json
 * reporter of the same run: Vitest runs (and counts) the shared file once per project, so test.started's
 * `testFiles` lists it once per project (Vitest's `Test Files` count, its json's `testResults`), with the
 * projects in `options.projects` and their `include` globs as framework.detected's `testPatterns`; each
 * project's run of the file gives tests of their own (ids, statuses, counts as Vitest's). A `test.fails` that
 * failed as expected is `passed` with `rawStatus: 'expected fail'`, which Vitest 4.1's `Tests` line counts apart.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const CONFIG = [
  "import { defineConfig } from 'vitest/config';",
  'export default defineConfig({ test: { projects: [',
  "  { test: { name: 'alpha', include: ['shared.test.js', 'only-alpha.test.js'], env: { WHICH: 'alpha' } } },",
  "  { test: { name: 'beta', include: ['shared.test.js'], env: { WHICH: 'beta' } } },",
  '] } });',
  '',
].join('\n');

const SHARED = [
  "import { describe, expect, test } from 'vitest';",
  "test('works', () => { expect(1).toBe(1); });",
  "test.fails('fails as expected', () => { expect(1).toBe(2); });",
  "describe('env', () => {",
  "  test('is alpha', () => { expect(process.env.WHICH).toBe('alpha'); });",
  "  test.skip('skipped', () => {});",
  '});',
  '',
].join('\n');

const ONLY_ALPHA = "import { test } from 'vitest';\ntest('alpha only', () => {});\n";

interface Result {
  id: string;
  project?: string;
  file: string;
  titlePath: string[];
  status: string;
  rawStatus?: string;
}

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

/** Vitest's json status -> the stream's (json `pending` is a skipped test). */
const JSON_STATUS: Record<string, string> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  skipped: 'skipped',
};

describe.each([3, 4])('vitest %i: two projects that run the same file', (major) => {
  let events: AnyEventEnvelope[] = [];
  let report: JsonReport;
  let output = '';
  let dir = '';

  beforeAll(async () => {
    const name = `vitest-projects-${process.pid}-${randomBytes(4).toString('hex')}`;
    dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
      'package.json': '{ "name": "vitest-projects-fixture", "private": true, "type": "module" }\n',
      'vitest.config.js': CONFIG,
      'shared.test.js': SHARED,
      'only-alpha.test.js': ONLY_ALPHA,
    });
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--reporter=default', '--reporter=@testwire/vitest', '--reporter=json'];
      const run = await runWithOutput(
        process.execPath,
        [...args, '--outputFile.json=report.json'],
        dir,
        runnerEnv(stream.url),
      );
      output = run.output;
      // beta's 'is alpha' fails.
      expect(run.code, output).toBe(1);
      // No report: Vitest did not get to run (what it printed says why).
      expect(existsSync(join(dir, 'report.json')), output).toBe(true);
      report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as JsonReport;
      events = await stream.runOf(basename(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  const results = (): Result[] => events.filter((e) => e.type === 'test.result').map((e) => e.data as Result);

  it("lists a file once per project that runs it, as Vitest counts and reports the run's files", () => {
    const started = events.find((e) => e.type === 'test.started')?.data as {
      testFiles: string[];
      options?: { projects?: string[] };
    };
    const reported = report.testResults.map((file) => relative(dir, file.name).split('\\').join('/'));
    expect(output).toMatch(/Test Files\s+1 failed \| 2 passed \(3\)/);
    expect([...started.testFiles].sort()).toEqual(reported.sort());
    expect([...started.testFiles].sort()).toEqual(['only-alpha.test.js', 'shared.test.js', 'shared.test.js']);
    expect(started.options?.projects).toEqual(['alpha', 'beta']);
    const detected = events.find((e) => e.type === 'framework.detected')?.data as {
      frameworks: { name: string; testPatterns?: string[] }[];
    };
    const vitest = detected.frameworks.find((framework) => framework.name === 'vitest');
    expect([...(vitest?.testPatterns ?? [])].sort()).toEqual(['only-alpha.test.js', 'shared.test.js']);
  });

  it("gives each project's run of the file tests of their own, with Vitest's statuses and counts", () => {
    const all = results();
    // One result per test (no retries here), a distinct id per project's test.
    expect(new Set(all.map((result) => result.id)).size).toBe(all.length);
    expect(all.length).toBe(report.numTotalTests);
    const key = (file: string, fullName: string, status: string) => `${file} | ${fullName} | ${status}`;
    const streamed = all.map((r) => key(r.file, r.titlePath.join(' '), r.status)).sort();
    const vitests = report.testResults
      .flatMap((file) =>
        file.assertionResults.map((test) =>
          key(relative(dir, file.name), test.fullName, JSON_STATUS[test.status] ?? test.status),
        ),
      )
      .sort();
    expect(streamed).toEqual(vitests);
    const byProject = (project: string) =>
      all
        .filter((r) => r.project === project && r.file === 'shared.test.js')
        .map((r) => `${r.titlePath.join(' > ')}: ${r.status}`)
        .sort();
    expect(byProject('alpha')).toEqual([
      'env > is alpha: passed',
      'env > skipped: skipped',
      'fails as expected: passed',
      'works: passed',
    ]);
    expect(byProject('beta')).toEqual([
      'env > is alpha: failed',
      'env > skipped: skipped',
      'fails as expected: passed',
      'works: passed',
    ]);
    const completed = events.find((e) => e.type === 'test.completed')?.data as { summary: object };
    expect(completed.summary).toMatchObject({
      total: report.numTotalTests,
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests,
      success: false,
    });
  });

  it("says an expected failure is one (rawStatus 'expected fail'), which Vitest 4.1 counts apart", () => {
    const expectedFails = results().filter((r) => r.rawStatus === 'expected fail');
    expect(expectedFails.map((r) => `${r.project} ${r.titlePath.join(' > ')} ${r.status}`).sort()).toEqual([
      'alpha fails as expected passed',
      'beta fails as expected passed',
    ]);
    // The other passed tests keep Vitest's own word.
    for (const r of results().filter((result) => result.titlePath.at(-1) !== 'fails as expected'))
      expect(r.rawStatus, r.titlePath.join(' > ')).toBe(r.status === 'skipped' ? 'skipped' : r.status);
    if (major >= 4) {
      // `Tests  1 failed | 4 passed | 2 expected fail | 2 skipped (9)`: passed there = the rest of `passed`.
      const line = output.match(/Tests\s+1 failed \| (\d+) passed \| (\d+) expected fail/);
      expect(line, output).not.toBeNull();
      const passed = results().filter((r) => r.status === 'passed').length;
      expect(Number(line?.[2])).toBe(expectedFails.length);
      expect(Number(line?.[1])).toBe(passed - expectedFails.length);
    }
  });
});
