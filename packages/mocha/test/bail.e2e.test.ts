/**
 * `--bail`, end to end (real mocha CLI of each major, a real broadcaster and subscriber): mocha stops at the
 * first failure and never runs the rest, which none of its counts include. The stream's summary has mocha's
 * counts (its json reporter's stats), and test.completed says the run stopped early and why:
 * `interrupted: true, interruptedBy: 'bail'`. A --bail run that reaches its end (its failure the last test,
 * a retried test passing first) is not interrupted, nor is a run without --bail. `--parallel --bail`: mocha
 * drops the bursts of the files still running when one bails; the stream has exactly the tests mocha's report
 * has (whichever files' bursts came first), and is interrupted when mocha left tests out.
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
    // --parallel: pa bails (its third test never runs); pb and pc run beside it or after, mocha reports them
    // only if their burst came before pa's
    'test/pa.test.cjs': [
      "describe('pa', () => {",
      "  it('passes', () => {});",
      "  it('fails', () => { throw new Error('pa fails'); });",
      "  it('third', () => {});",
      '});',
      '',
    ].join('\n'),
    'test/pb.test.cjs': [
      "describe('pb', () => {",
      "  it('pb one', (done) => { setTimeout(done, 300); });",
      "  it('pb two', () => {});",
      '});',
      '',
    ].join('\n'),
    'test/pc.test.cjs': "describe('pc', () => { it('in pc', () => {}); });\n",
    // its worker dies: mocha drops the file for that, not for a bail
    'test/pdies.test.cjs': [
      "describe('pdies', () => {",
      "  it('ends its worker', () => { process.exit(3); });",
      "  it('never runs', () => {});",
      '});',
      '',
    ].join('\n'),
    // its failure is its file's last test, which most likely ends after pc's: then nothing is left out
    'test/plast.test.cjs': [
      "describe('plast', () => {",
      "  it('passes', () => {});",
      "  it('fails last', (done) => { setTimeout(() => done(new Error('plast fails')), 500); });",
      '});',
      '',
    ].join('\n'),
  });
}

interface JsonReport {
  stats: Stats;
  tests: Array<{ fullTitle: string }>;
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
        const stats = (JSON.parse(readFileSync(json, 'utf8')) as { stats: Stats }).stats;
        expect(completed?.summary).toMatchObject({
          total: stats.tests,
          passed: stats.passes,
          failed: stats.failures,
          skipped: stats.pending,
        });
        // the last progress says what mocha's summary says: all of the tests that ran, none left to come
        expect(ofType(events, 'test.progress').at(-1)?.data).toMatchObject({
          completed: stats.tests,
          total: stats.tests,
          totalKnown: true,
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

describe.each(MAJORS)('mocha %i: --parallel --bail', (major) => {
  it.each([
    // pa's third test never runs, whatever the order of the files: always interrupted
    ['a failure before its file ends', ['test/pa.test.cjs', 'test/pb.test.cjs', 'test/pc.test.cjs'], 4],
    // interrupted only when pc's burst came after plast's (mocha dropped it)
    ['the failure last in its file', ['test/pc.test.cjs', 'test/plast.test.cjs'], 3],
  ])(
    '%s: the stream has the tests mocha reports, interrupted by bail when mocha left some out',
    async (_case, files, declared) => {
      const dir = project(major);
      try {
        const json = join(dir, 'report.json');
        const result = await runMochaCli(
          major,
          [
            '--parallel',
            '--jobs',
            '2',
            '--bail',
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
        const report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
        const completed = ofType(events, 'test.completed')[0]?.data;
        expect(completed?.summary).toMatchObject({
          total: report.stats.tests,
          passed: report.stats.passes,
          failed: report.stats.failures,
          skipped: report.stats.pending,
          success: false,
        });
        expect(completed?.rawStatus).toBe('failed');
        // the same tests: mocha's fullTitle is the title path joined with spaces
        const streamed = ofType(events, 'test.result').map((e) => e.data.titlePath.join(' '));
        expect(streamed.sort()).toEqual(report.tests.map((t) => t.fullTitle).sort());
        // nothing left running: every test that started has its result
        const started = new Set(
          ofType(events, 'test.progress').flatMap((e) => (e.data.id ? [e.data.id] : [])),
        );
        const ended = new Set(ofType(events, 'test.result').map((e) => e.data.id));
        expect([...started].filter((id) => !ended.has(id))).toEqual([]);
        expect(completed?.runningTests ?? []).toEqual([]);
        // the last progress counts what mocha reports (a --parallel main process learns the total as files end)
        expect(ofType(events, 'test.progress').at(-1)?.data).toMatchObject({
          completed: report.stats.tests,
          total: report.stats.tests,
        });
        if (report.stats.tests < declared)
          expect(completed).toMatchObject({ interrupted: true, interruptedBy: 'bail' });
        else {
          expect(completed?.interrupted).toBeUndefined();
          expect(completed?.interruptedBy).toBeUndefined();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

describe.each(MAJORS)('mocha %i: --parallel --bail, a worker that dies', (major) => {
  it('no bail: the test it was running fails saying so, as without --bail; not interrupted', async () => {
    const dir = project(major);
    try {
      const json = join(dir, 'report.json');
      const result = await runMochaCli(
        major,
        [
          '--parallel',
          '--jobs',
          '2',
          '--bail',
          '--reporter',
          '@testwire/mocha',
          '--reporter-option',
          `reporter=json,output=${json}`,
          'test/pdies.test.cjs',
          'test/pc.test.cjs',
        ],
        dir,
        { TESTWIRE_URL: stream.url },
      );
      const report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
      expect(result.exitCode, result.stderr).toBe(report.stats.failures);
      const events = await stream.runOf(basename(dir));
      const results = ofType(events, 'test.result').map((e) => e.data);
      // held for --bail, handed over when mocha reported the death: the test it was running ends, failed
      expect(results.find((r) => r.titlePath.join(' ') === 'pdies ends its worker')).toMatchObject({
        status: 'failed',
        rawStatus: 'worker died',
      });
      expect(results.map((r) => r.titlePath.join(' ')).sort()).toEqual(['pc in pc', 'pdies ends its worker']);
      const completed = ofType(events, 'test.completed')[0]?.data;
      // mocha's failures: the death, which the stream gives the test that was running
      expect(completed?.summary).toMatchObject({
        passed: report.stats.passes,
        failed: report.stats.failures,
      });
      expect(completed?.interrupted).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
