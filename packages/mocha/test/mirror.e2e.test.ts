/**
 * The stream against mocha's own report of the same run: real mocha CLI of each major, serial and
 * `--parallel`, `--reporter @testwire/mocha` with `reporter=json` as the terminal reporter (its file is mocha's
 * report), streaming into a real broadcaster seen by a real WebSocket subscriber.
 * - done() called twice: mocha fails the test that already ended ("done() called multiple times"): after a
 *   pass the test is in its report's passes and failures, after a failure twice in failures. The stream gives
 *   the test a second, failed result: its final status is mocha's, each of mocha's failure entries is a
 *   test.failed of the test saying what failed, each pass a passed result; nothing stays running.
 * - `it.only` on the later of two twins (tests with identical titles): the stream has the one test mocha ran,
 *   with the id that twin has when both run — not the first twin's.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AnyEventEnvelope, RunStateStore } from '@testwire/protocol';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, type Major, ofType, runMochaCli, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

interface JsonTest {
  fullTitle: string;
  err: { message?: string; code?: string; multiple?: { code?: string }[] };
}
/** mocha's json report (lib/reporters/json.js): `passes` and `failures` list one entry per event. */
interface JsonReport {
  stats: { tests: number; passes: number; failures: number; pending: number };
  tests: JsonTest[];
  passes: JsonTest[];
  failures: JsonTest[];
  pending: JsonTest[];
}

interface Mirrored {
  /** The work copy the run was in (removed): paths in mocha's messages start with it. */
  dir: string;
  exitCode: number | null;
  stderr: string;
  json: JsonReport;
  events: AnyEventEnvelope[];
}

/** `mocha [--parallel] --reporter @testwire/mocha` (json report) on one file of fixtures/mirror. */
async function runBoth(
  major: Major,
  file: string,
  parallel: boolean,
  edit?: (source: string) => string,
): Promise<Mirrored> {
  const dir = workCopy(major, `mocha-mirror-${parallel ? 'parallel' : 'serial'}`, ['mirror']);
  const report = join(dir, 'report.json');
  try {
    if (edit) writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
    const result = await runMochaCli(
      major,
      [
        ...(parallel ? ['--parallel', '--jobs', '2'] : []),
        '--reporter',
        '@testwire/mocha',
        '--reporter-option',
        `reporter=json,output=${report}`,
        file,
      ],
      dir,
      { TESTWIRE_URL: stream.url, TESTWIRE_PROGRESS_INTERVAL: '0' },
    );
    const json = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
    return { ...result, dir, json, events: await stream.runOf(basename(dir)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The run's tests as a subscriber's store has them at the end. */
function finalTests(events: AnyEventEnvelope[]) {
  const store = new RunStateStore();
  let run: ReturnType<RunStateStore['apply']>;
  for (const event of events) run = store.apply(event) ?? run;
  return run?.tests ?? [];
}

const fullTitle = (data: { titlePath?: string[] }) => (data.titlePath ?? []).join(' ');

describe.each(MAJORS)('mocha %i: the stream mirrors mocha’s report', (major) => {
  describe.each([false, true])('parallel: %s', (parallel) => {
    it('done() called twice: the test fails as mocha says, each failure a test.failed saying so', async () => {
      const { dir, exitCode, stderr, json, events } = await runBoth(major, 'done-twice.test.cjs', parallel);
      // mocha: the test that passed, then called done() again, is in passes and in failures; the one that
      // failed, then called it again, twice in failures; its exit code counts failure entries
      const multiple = /done\(\) called multiple times in test <done twice passes, then calls done again>/;
      expect(json.passes.map((t) => t.fullTitle)).toEqual([
        'done twice passes, then calls done again',
        'done twice passes',
      ]);
      expect(json.failures.map((t) => t.fullTitle)).toEqual([
        'done twice passes, then calls done again',
        'done twice fails, then calls done again',
        'done twice fails, then calls done again',
      ]);
      expect(json.failures[0].err.message).toMatch(multiple);
      expect(json.failures[1].err).toMatchObject({
        message: 'first failure',
        multiple: [{ code: 'ERR_MOCHA_MULTIPLE_DONE' }],
      });
      expect(exitCode, stderr).toBe(json.stats.failures);

      // the stream: every test mocha lists, its final status mocha's, nothing running
      const tests = finalTests(events);
      const failing = new Set(json.failures.map((t) => t.fullTitle));
      expect(tests.map((t) => [fullTitle(t), t.status]).sort()).toEqual(
        json.tests.map((t) => [t.fullTitle, failing.has(t.fullTitle) ? 'failed' : 'passed']).sort(),
      );
      // each of mocha's failure entries is a test.failed of its test, each pass a passed result
      const failed = ofType(events, 'test.failed');
      expect(failed.map((e) => [e.data.scope, fullTitle(e.data)])).toEqual(
        json.failures.map((t) => ['test', t.fullTitle]),
      );
      const passed = ofType(events, 'test.result').filter((e) => e.data.status === 'passed');
      expect(passed.map((e) => fullTitle(e.data))).toEqual(json.passes.map((t) => t.fullTitle));
      // what failed: mocha's error (the file in it relative to the root, as every path in the stream), under
      // the test it names
      expect(failed[0].data.error?.message).toBe(json.failures[0].err.message?.replace(`${dir}/`, ''));
      expect(failed[0].data.error).toMatchObject({ code: 'ERR_MOCHA_MULTIPLE_DONE' });
      expect(failed[1].data.error?.message).toBe('first failure');
      expect(failed[2].data.error?.message).toMatch(
        /done\(\) called multiple times in test <done twice fails, then calls done again>/,
      );
      expect(failed[2].data.errors?.map((e) => e.message)).toContain('first failure');
      const completed = ofType(events, 'test.completed')[0]?.data;
      expect(completed?.summary).toMatchObject({
        total: json.stats.tests,
        failed: failing.size,
        passed: json.stats.tests - failing.size - json.stats.pending,
        success: false,
      });
      // the errors are the tests', not the run's
      expect(completed?.errors ?? []).toEqual([]);
    }, 90_000);
  });

  // serial only: `.only` is not supported in parallel mode (mocha fails the file while it loads)
  it('it.only on the later twin: the one test mocha ran, with that twin’s id', async () => {
    // the same file with both twins running (no .only): the ids the twins have
    const both = await runBoth(major, 'only-twin.test.cjs', false, (source) =>
      source.replace('it.only(', 'it('),
    );
    const twins = ofType(both.events, 'test.result').filter((e) => fullTitle(e.data) === 'twins same');
    expect(twins.map((e) => e.data.status)).toEqual(['failed', 'passed']);
    const [first, later] = twins.map((e) => e.data.id);
    expect(first).not.toBe(later);

    const focused = await runBoth(major, 'only-twin.test.cjs', false);
    expect(focused.exitCode, focused.stderr).toBe(0);
    expect(focused.json.tests.map((t) => t.fullTitle)).toEqual(['twins same']);
    const results = ofType(focused.events, 'test.result');
    expect(results.map((e) => [fullTitle(e.data), e.data.status, e.data.id])).toEqual([
      ['twins same', 'passed', later],
    ]);
    expect(finalTests(focused.events).map((t) => t.id)).toEqual([later]);
  }, 90_000);
});
