/**
 * Pending tests as mocha counts them, against its json report of the same run (real mocha CLI of each major,
 * a real broadcaster and subscriber):
 * - `this.skip()` in a `beforeEach` skips that test, in a `before` every test of its suite (nested ones too):
 *   mocha reports each as pending; the stream has each skipped (rawStatus pending), the others as they ran.
 * - `--forbid-pending`: mocha fails each pending test (`it.skip`, `it('title')`, `this.skip()`) with "Pending
 *   test forbidden"; the stream has each failed with that error.
 * `--forbid-only` fails the load of the file with `.only` (load-failure.e2e covers a file that fails to load).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, mochaDir, ofType, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

interface JsonTest {
  fullTitle: string;
  err: { message?: string };
}
interface JsonReport {
  stats: { tests: number; passes: number; failures: number; pending: number };
  passes: JsonTest[];
  failures: JsonTest[];
  pending: JsonTest[];
}

const FILES = {
  'package.json': '{ "name": "mocha-skip-forbid-fixture", "private": true }\n',
  'test/hooks.test.cjs': [
    "describe('each', () => {",
    '  beforeEach(function () {',
    "    if (this.currentTest.title === 'skipped by beforeEach') this.skip();",
    '  });',
    "  it('runs', () => {});",
    "  it('skipped by beforeEach', () => {});",
    "  it('after it', () => {});",
    '});',
    "describe('all', () => {",
    '  before(function () {',
    '    this.skip();',
    '  });',
    "  it('one', () => {});",
    "  describe('inner', () => {",
    "    it('two', () => {});",
    '  });',
    '});',
    '',
  ].join('\n'),
  'test/pending.test.cjs': [
    "describe('pending', () => {",
    "  it('passes', () => {});",
    "  it.skip('skipped', () => {});",
    "  it('todo');",
    "  it('skips itself', function () { this.skip(); });",
    '});',
    '',
  ].join('\n'),
};

describe.each(MAJORS)('mocha %i: pending tests', (major) => {
  it.each([
    ['this.skip() in hooks', [], 0],
    ['--forbid-pending', ['--forbid-pending'], 6],
  ])(
    '%s: each test as mocha reports it',
    async (_case, flags, failures) => {
      const name = `mocha-skip-forbid-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = writeProject(join(mochaDir(major), 'work', name), FILES);
      try {
        const json = join(dir, 'report.json');
        const result = await runMochaCli(
          major,
          [
            ...flags,
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            `reporter=json,output=${json}`,
            'test/hooks.test.cjs',
            'test/pending.test.cjs',
          ],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        const report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
        expect(result.exitCode, result.stderr).toBe(failures);
        expect(report.stats.failures).toBe(failures);
        const events = await stream.runOf(basename(dir));
        const results = ofType(events, 'test.result').map((e) => e.data);
        const titled = (status: string) =>
          results
            .filter((r) => r.status === status)
            .map((r) => r.titlePath.join(' '))
            .sort();
        const titles = (list: JsonTest[]) => list.map((t) => t.fullTitle).sort();
        expect(titled('passed')).toEqual(titles(report.passes));
        expect(titled('failed')).toEqual(titles(report.failures));
        expect([...titled('skipped'), ...titled('todo')].sort()).toEqual(titles(report.pending));
        for (const failed of results.filter((r) => r.status === 'failed'))
          expect(failed.errors?.[0]?.message).toBe('Pending test forbidden');
        const completed = ofType(events, 'test.completed')[0]?.data;
        expect(completed?.summary).toMatchObject({
          total: report.stats.tests,
          passed: report.stats.passes,
          failed: report.stats.failures,
          success: failures === 0,
        });
        expect((completed?.summary.skipped ?? 0) + (completed?.summary.todo ?? 0)).toBe(report.stats.pending);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
