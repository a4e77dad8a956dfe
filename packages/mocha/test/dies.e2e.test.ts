/**
 * A test during which its process dies (process.exit, a SIGKILL), end to end: real mocha CLI of each major, a
 * real broadcaster and WebSocket subscriber.
 * - `--parallel`, the process is a worker: mocha drops the dead file's results and reports the death as
 *   "Uncaught error outside test suite"; the stream gives the test that was running a failed result that says
 *   its worker died, leaves nothing running, and counts what mocha's own JSON report of the same run counts.
 * - `--parallel`, a worker that dies outside a test (while its file loads, in a root or before-all hook) or a
 *   file that fails to load: mocha drops the file and reports it outside the run; the stream has that error as
 *   the file's (test.failed scope 'file', framework.error naming the file), nothing running, mocha's counts.
 * - serial mode, the process is mocha's: the run is cut; the stream ends it as interrupted by the exit, names
 *   the test that was running, and claims no result mocha did not print.
 */
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AnyEventEnvelope, RunStateStore } from '@testwire/protocol';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, runMochaCli, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** mocha's JSON report: `failures` counts the phony "Uncaught error outside test suite" as well. */
interface JsonReport {
  stats: { tests: number; passes: number; failures: number; pending: number };
  failures: { fullTitle: string; err: { message?: string } }[];
}

describe.each(MAJORS)('mocha %i --parallel, a worker that dies during a test', (major) => {
  it.each([
    ['exit', /worker process died during this test \(exit code 3\)/],
    ['kill', /worker process died during this test \(signal SIGKILL\)/],
  ])(
    'DIE=%s: the test fails saying so, nothing stays running, counts as mocha’s JSON report',
    async (die, said) => {
      const dir = workCopy(major, `mocha-worker-death-${die}`, ['parallel']);
      const report = join(dir, 'report.json');
      try {
        const result = await runMochaCli(
          major,
          [
            '--parallel',
            '--jobs',
            '2',
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            `reporter=json,output=${report}`,
            'dies.test.cjs',
            'twins.test.cjs',
          ],
          dir,
          { TESTWIRE_URL: stream.url, TESTWIRE_PROGRESS_INTERVAL: '0', DIE: die },
        );
        const json = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
        // what mocha itself says: the file's results dropped, one failure outside the tests
        expect(json.failures.map((f) => f.fullTitle)).toContain('Uncaught error outside test suite');
        expect(result.exitCode, result.stderr).toBe(json.stats.failures);

        const events = await stream.runOf(basename(dir));
        const store = new RunStateStore();
        let run: ReturnType<RunStateStore['apply']>;
        for (const event of events) run = store.apply(event) ?? run;
        expect(run?.tests.filter((test) => test.status === 'running')).toEqual([]);

        const died = results(events).filter(
          (e) => e.data.titlePath.join(' > ') === 'dies > ends its process',
        );
        expect(died).toHaveLength(1);
        expect(died[0].data).toMatchObject({ status: 'failed' });
        expect(died[0].data.error?.message).toMatch(said);
        // the test after it never ran: mocha does not report it, nor does the stream
        expect(results(events).some((e) => e.data.titlePath.join(' > ') === 'dies > never runs')).toBe(false);

        // mocha's failures: its tests' and the death (which the stream gives the test that was running)
        const completed = events.find((e) => e.type === 'test.completed');
        const summary = completed?.type === 'test.completed' ? completed.data.summary : undefined;
        expect(summary).toMatchObject({
          passed: json.stats.passes,
          failed: json.stats.failures,
          success: false,
        });
        expect((summary?.skipped ?? 0) + (summary?.todo ?? 0)).toBe(json.stats.pending);
        expect(JSON.stringify(completed?.type === 'test.completed' ? completed.data.errors : [])).toMatch(
          /terminated unexpectedly/i,
        );
        expect(completed?.type === 'test.completed' && completed.data.interrupted).toBeFalsy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe.each(MAJORS)('mocha %i --parallel, a file that dies outside its tests', (major) => {
  it.each([
    [
      'load',
      /^The worker process running this file died outside its tests .*\(exit code 3\)/,
      'WORKER_CRASHED',
    ],
    [
      'root',
      /^The worker process running this file died outside its tests .*\(exit code 3\)/,
      'WORKER_CRASHED',
    ],
    [
      'before',
      /^The worker process running this file died outside its tests .*\(exit code 3\)/,
      'WORKER_CRASHED',
    ],
    ['throws', /^the file fails to load$/, 'COLLECTION_ERROR'],
  ])(
    'DIE_AT=%s: the file fails (scope file) saying so, nothing stays running, counts as mocha’s JSON report',
    async (at, said, code) => {
      const dir = workCopy(major, `mocha-file-death-${at}`, ['parallel']);
      const report = join(dir, 'report.json');
      try {
        const result = await runMochaCli(
          major,
          [
            '--parallel',
            '--jobs',
            '2',
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            `reporter=json,output=${report}`,
            'dies-outside.test.cjs',
            'twins.test.cjs',
          ],
          dir,
          { TESTWIRE_URL: stream.url, TESTWIRE_PROGRESS_INTERVAL: '0', DIE_AT: at },
        );
        const json = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
        // what mocha itself says: nothing of the file, one failure outside the tests
        expect(json.failures.filter((f) => f.fullTitle === 'Uncaught error outside test suite')).toHaveLength(
          1,
        );
        expect(result.exitCode, result.stderr).toBe(json.stats.failures);

        const events = await stream.runOf(basename(dir));
        const store = new RunStateStore();
        let run: ReturnType<RunStateStore['apply']>;
        for (const event of events) run = store.apply(event) ?? run;
        expect(run?.tests.filter((test) => test.status === 'running')).toEqual([]);
        // no test of the file ran: none is reported
        expect(results(events).filter((e) => e.data.file === 'dies-outside.test.cjs')).toEqual([]);

        // mocha's failure outside the tests is the file's, saying what happened
        const failed = events.filter(
          (e): e is Extract<AnyEventEnvelope, { type: 'test.failed' }> =>
            e.type === 'test.failed' && e.data.scope !== 'test',
        );
        expect(failed.map((e) => [e.data.scope, e.data.file])).toEqual([['file', 'dies-outside.test.cjs']]);
        expect(failed[0].data.error?.message).toMatch(said);
        const errors = events.filter((e) => e.type === 'framework.error');
        expect(errors.map((e) => e.type === 'framework.error' && [e.data.error.code, e.data.file])).toEqual([
          [code, 'dies-outside.test.cjs'],
        ]);

        // mocha's failures: its tests' and the file's
        const completed = events.find((e) => e.type === 'test.completed');
        const summary = completed?.type === 'test.completed' ? completed.data.summary : undefined;
        expect(summary).toMatchObject({ passed: json.stats.passes, success: false });
        expect((summary?.failed ?? 0) + failed.length).toBe(json.stats.failures);
        expect((summary?.skipped ?? 0) + (summary?.todo ?? 0)).toBe(json.stats.pending);
        expect(completed?.type === 'test.completed' && completed.data.interrupted).toBeFalsy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe.each(MAJORS)('mocha %i, serial: a test ends mocha’s process', (major) => {
  it('the run ends interrupted by the exit, the test that was running named, nothing claimed', async () => {
    const dir = workCopy(major, 'mocha-serial-exit', ['parallel']);
    try {
      const result = await runMochaCli(
        major,
        ['--reporter', '@testwire/mocha', 'twins.test.cjs', 'dies.test.cjs'],
        dir,
        { TESTWIRE_URL: stream.url, DIE: 'exit' },
      );
      expect(result.exitCode, result.stderr).toBe(3);
      const events = await stream.runOf(basename(dir));
      const completed = events.find((e) => e.type === 'test.completed');
      const data = completed?.type === 'test.completed' ? completed.data : undefined;
      expect(data).toMatchObject({ interrupted: true, interruptedBy: 'exit', summary: { success: false } });
      expect(data?.runningTests?.map((test) => test.testName)).toEqual(['ends its process']);
      // every result streamed is one mocha printed (spec's ✓ / numbered lines), and nothing of the dead file
      const printed = results(events).filter((e) => !e.data.willRetry);
      expect(printed.length).toBeGreaterThan(0);
      expect(printed.some((e) => e.data.file.endsWith('dies.test.cjs'))).toBe(false);
      for (const e of printed) expect(result.stdout).toContain(e.data.titlePath.at(-1));
      expect(data?.summary.total).toBe(printed.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function results(events: AnyEventEnvelope[]) {
  return events.filter(
    (e): e is Extract<AnyEventEnvelope, { type: 'test.result' }> => e.type === 'test.result',
  );
}
