/**
 * `--bail`, end to end (real mocha CLI of each major, a real broadcaster and subscriber): mocha stops at the
 * first failure and never runs the rest, which none of its counts include. The stream's summary has mocha's
 * counts (its json reporter's stats), and test.completed says the run stopped early and why:
 * `interrupted: true, interruptedBy: 'bail'`. A --bail run that reaches its end (its failure the last test,
 * a retried test passing first) is not interrupted, nor is a run without --bail; --parallel --bail is as the
 * README says (its main process has no suites to count).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, type Major, mochaDir, ofType, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

function project(major: Major): string {
  const name = `mocha-bail-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-bail-fixture", "private": true }\n',
    'test/a.test.cjs': [
      "describe('a', () => {",
      "  it('passes', () => {});",
      "  it('fails', () => { throw new Error('a fails'); });",
      "  it('third', () => {});",
      '});',
      '',
    ].join('\n'),
    'test/b.test.cjs': "describe('b', () => { it('in b', () => {}); });\n",
    // its failure is the run's last test: nothing is left to skip
    'test/last.test.cjs': [
      'let tries = 0;',
      "describe('last', () => {",
      "  it('passes on its second try', () => { if (++tries < 2) throw new Error('first try'); });",
      "  it('fails last', () => { throw new Error('the last fails'); });",
      '});',
      '',
    ].join('\n'),
  });
}

interface Stats {
  tests: number;
  passes: number;
  failures: number;
  pending: number;
}

describe.each(MAJORS)('mocha %i: --bail', (major) => {
  it.each([
    ['--bail, a failure before the end', ['--bail'], ['test/a.test.cjs', 'test/b.test.cjs'], true],
    ['--bail, the failure last', ['--bail', '--retries', '1'], ['test/last.test.cjs'], false],
    ['no --bail', [], ['test/a.test.cjs', 'test/b.test.cjs'], false],
    [
      '--parallel --bail',
      ['--parallel', '--jobs', '2', '--bail'],
      ['test/a.test.cjs', 'test/b.test.cjs'],
      false,
    ],
  ])(
    '%s: mocha counts as the stream does; interrupted by bail: %s',
    async (_case, flags, files, interrupted) => {
      const dir = project(major);
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
            ...files,
          ],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        expect(result.exitCode, result.stderr).toBe(1);
        const events = await stream.runOf(basename(dir));
        const completed = ofType(events, 'test.completed')[0]?.data;
        expect(completed?.summary.success).toBe(false);
        expect(completed?.rawStatus).toBe('failed');
        if (interrupted) expect(completed).toMatchObject({ interrupted: true, interruptedBy: 'bail' });
        else {
          expect(completed?.interrupted).toBeUndefined();
          expect(completed?.interruptedBy).toBeUndefined();
        }
        if (flags.includes('--parallel')) return; // README: the stream can hold more tests than mocha's report
        const stats = (JSON.parse(readFileSync(json, 'utf8')) as { stats: Stats }).stats;
        expect(completed?.summary).toMatchObject({
          total: stats.tests,
          passed: stats.passes,
          failed: stats.failures,
          skipped: stats.pending,
        });
        // the tests mocha skipped are not results
        if (interrupted)
          expect(ofType(events, 'test.result').map((e) => e.data.titlePath.at(-1))).toEqual([
            'passes',
            'fails',
          ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
