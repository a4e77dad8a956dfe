/**
 * Runs that Playwright ends or counts in its own ways (real runner, compat/playwright, test/fixtures/cases):
 * the stream says what Playwright's own report says — flaky only where Playwright says so, tests that never
 * ran or were cut off by the run's end (the global timeout, maxFailures, a serial group's failure, a setup
 * project's), projects told apart without names, a file that fails to load, `test.fail()` that passed.
 * Playwright's JSON report of the same run (report.json) is the oracle of the counts.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EventDataMap, EventType } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { type FixtureRun, runFixture } from './run-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function run(name: string, install = 'playwright', args: string[] = []) {
  const fixture: FixtureRun = await runFixture('cases', { CASE: name }, install, 50_000, args);
  dirs.push(fixture.dir);
  const of = <T extends EventType>(type: T) =>
    fixture.events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);
  const finals = () =>
    of('test.result')
      .filter((r) => !r.willRetry)
      .map((r) => [r.titlePath.join(' › '), r.status, r.rawStatus, r.flaky ?? false]);
  return { fixture, of, finals, report: () => jsonReport(fixture) };
}

/** Playwright's JSON report of the run: its counts, as the stream's summary names them, and its errors. */
async function jsonReport(fixture: FixtureRun) {
  const text = await readFile(path.join(fixture.dir, 'report.json'), 'utf8');
  const report = JSON.parse(text) as {
    stats: { expected: number; unexpected: number; skipped: number; flaky: number };
    errors: { message: string }[];
  };
  const { expected, unexpected, skipped, flaky } = report.stats;
  return {
    // The stream's `passed` counts a flaky test too (it passed in the end).
    counts: { passed: expected + flaky, failed: unexpected, skipped, flaky },
    errors: report.errors.map((error) => error.message),
  };
}

describe('@testwire/playwright: runs Playwright ends or counts its own way', () => {
  it("a serial group's retry: only the test that failed is flaky", async () => {
    const { fixture, of, finals } = await run('serial');
    expect(fixture.exitCode, fixture.stderr).toBe(0);
    // The retry runs the whole group again: `last`, skipped after `middle` failed, now passes too. Its
    // skipped attempt says it will be retried, as `middle`'s failed one does (`first` passed before anything
    // failed: nothing could tell then).
    expect(finals()).toEqual([
      ['serial › first', 'passed', 'passed', false],
      ['serial › first', 'passed', 'passed', false],
      ['serial › middle', 'passed', 'passed', true],
      ['serial › last', 'passed', 'passed', false],
    ]);
    expect(
      of('test.result')
        .filter((r) => r.willRetry)
        .map((r) => [r.titlePath.join(' › '), r.attempt, r.status]),
    ).toEqual([
      ['serial › middle', 1, 'failed'],
      ['serial › last', 1, 'skipped'],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 3, passed: 3, flaky: 1 });
  }, 60_000);

  it('two projects without names: each its own tests (ids), the failure not hidden as flaky', async () => {
    const { fixture, of } = await run('projects');
    expect(fixture.exitCode).toBe(1);
    const results = of('test.result').map((r) => [r.project, r.status, r.flaky ?? false]);
    expect(results.sort()).toEqual([
      ['#1', 'failed', false],
      ['#2', 'passed', false],
    ]);
    expect(new Set(of('test.result').map((r) => r.id)).size).toBe(2);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 2, passed: 1, failed: 1, flaky: 0 });
  }, 60_000);

  it("a file that throws while it loads is that file's failure, not an unhandled error", async () => {
    const { fixture, of } = await run('loaderror');
    expect(fixture.exitCode).toBe(1);
    expect(of('test.failed')).toMatchObject([
      {
        scope: 'file',
        file: 'broken.spec.mjs',
        error: { message: expect.stringContaining('broken at load') },
      },
    ]);
    expect(of('framework.error')).toMatchObject([
      { error: { code: 'COLLECTION_ERROR' }, file: 'broken.spec.mjs' },
    ]);
  }, 60_000);
});

describe.each(['playwright', 'playwright-1.40'])('%s: the global timeout', (install) => {
  it('the test it cut off is interrupted, the one after it skipped; its late end opens no second run', async () => {
    const { fixture, of, finals } = await run('globaltimeout', install);
    expect(fixture.exitCode).toBe(1);
    // Playwright ends the interrupted test after onEnd (late-witness.mjs holds the process until it does)
    expect(fixture.stdout).toContain('late onTestEnd: long interrupted');
    expect(finals()).toEqual([
      ['one', 'passed', 'passed', false],
      ['long', 'skipped', 'interrupted', false],
      ['three', 'skipped', 'skipped', false],
    ]);
    // One run, ended once: nothing after its test.completed
    expect(new Set(fixture.events.map((e) => e.runId)).size).toBe(1);
    expect(of('test.started')).toHaveLength(1);
    expect(of('test.completed')).toHaveLength(1);
    expect(fixture.events.at(-1)?.type).toBe('test.completed');
    expect(of('test.completed')[0].summary).toMatchObject({ total: 3, passed: 1, skipped: 2 });
    // The run's timeout, then its teardown's: neither an unhandled error
    expect(of('framework.error').map((e) => e.error.code)).toEqual(['RUN_ERROR', 'PROCESS_TIMEOUT']);
  }, 90_000);
});

describe.each(['playwright', 'playwright-1.40'])(
  '%s: runs stopped early, tests that did not run',
  (install) => {
    it.each([
      ['maxFailures in the config', 'stops', []],
      ['--max-failures=1', 'stopscli', ['--max-failures=1']],
    ])(
      '%s: the tests left are skipped, and test.completed says the run stopped at maxFailures',
      async (_, name, args) => {
        const { fixture, of, finals, report } = await run(name, install, args);
        expect(fixture.exitCode, fixture.stderr).toBe(1);
        expect(fixture.stdout).toContain('2 did not run');
        expect(finals()).toEqual([
          ['one', 'passed', 'passed', false],
          ['two fails', 'failed', 'failed', false],
          ['three', 'skipped', 'skipped', false],
          ['four', 'skipped', 'skipped', false],
        ]);
        const [completed] = of('test.completed');
        expect(completed.summary).toMatchObject({ total: 4, ...(await report()).counts, success: false });
        expect(completed).toMatchObject({
          rawStatus: 'failed',
          interrupted: true,
          interruptedBy: 'maxFailures',
        });
        // 1.65 says why it stopped as an error outside the tests (1.40 prints it only): a RUN_ERROR saying so.
        expect(of('framework.error').map((e) => [e.error.code, e.error.details?.phase])).toEqual(
          install === 'playwright' ? [['RUN_ERROR', 'maxFailures']] : [],
        );
      },
      90_000,
    );

    it('maxFailures reached by the last test: nothing was left out, the run is not interrupted', async () => {
      const { fixture, of, finals, report } = await run('stopslast', install);
      expect(fixture.exitCode, fixture.stderr).toBe(1);
      expect(finals()).toEqual([
        ['one', 'passed', 'passed', false],
        ['two fails', 'failed', 'failed', false],
      ]);
      const [completed] = of('test.completed');
      expect(completed.summary).toMatchObject({ total: 2, ...(await report()).counts });
      expect(completed.interrupted).toBeUndefined();
      expect(completed.interruptedBy).toBeUndefined();
    }, 90_000);

    it('a serial group that fails in its middle: the tests after it did not run (skipped), as Playwright counts them', async () => {
      const { fixture, of, finals, report } = await run('serialstop', install);
      expect(fixture.exitCode, fixture.stderr).toBe(1);
      // 1.40's summary counts them as skipped
      expect(fixture.stdout).toContain(install === 'playwright' ? '2 did not run' : '2 skipped');
      expect(finals()).toEqual([
        ['serial › first', 'passed', 'passed', false],
        ['serial › middle', 'failed', 'failed', false],
        ['serial › last', 'skipped', 'skipped', false],
        ['serial › after last', 'skipped', 'skipped', false],
      ]);
      expect(of('test.completed')[0].summary).toMatchObject({ total: 4, ...(await report()).counts });
      expect(of('test.completed')[0].interrupted).toBeUndefined();
    }, 90_000);

    it("a setup project's failure: the project depending on it did not run (skipped)", async () => {
      const { fixture, of, report } = await run('setupdeps', install);
      expect(fixture.exitCode, fixture.stderr).toBe(1);
      expect(fixture.stdout).toContain('2 did not run');
      const finals = of('test.result').map((r) => [r.project, r.titlePath.join(' › '), r.status]);
      expect(finals).toEqual([
        ['setup', 'setup fails', 'failed'],
        ['main', 'passes one', 'skipped'],
        ['main', 'passes two', 'skipped'],
      ]);
      expect(of('test.completed')[0].summary).toMatchObject({ total: 3, ...(await report()).counts });
    }, 90_000);

    it('--repeat-each=2 with test.fail(), test.fixme(), test.slow(): an id per repeat, statuses and failures as Playwright says', async () => {
      const { fixture, of, report } = await run('marks', install, ['--repeat-each=2']);
      expect(fixture.exitCode, fixture.stderr).toBe(1);
      const results = of('test.result');
      expect(results.map((r) => [r.titlePath.join(' › '), r.repeatIndex, r.status, r.rawStatus])).toEqual(
        [0, 1].flatMap((repeat) => [
          ['fails as marked', repeat, 'passed', 'failed'],
          ['passes though marked to fail', repeat, 'failed', 'passed'],
          ['fixme', repeat, 'skipped', 'skipped'],
          ['slow with an annotation', repeat, 'passed', 'passed'],
        ]),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(8);
      // Playwright's words for a test.fail() that passed, not a made-up `Test failed (passed)`, at its test.fail()
      const failed = of('test.failed');
      expect(failed).toHaveLength(2);
      for (const failure of failed) {
        expect(failure.testName).toBe('passes though marked to fail');
        expect(failure.error.message).toBe('Expected to fail, but passed.');
        // 1.65 locates the test.fail() call (its annotation's location), 1.40 only the test
        expect(failure.error.stack).toMatch(
          install === 'playwright' ? /at marks\.spec\.mjs:8:\d+/ : /at marks\.spec\.mjs:7:1/,
        );
      }
      expect(fixture.stdout).toContain('Expected to fail, but passed.');
      const slow = results.find((r) => r.titlePath[0] === 'slow with an annotation');
      expect(slow?.annotations?.map((a) => [a.type, a.message])).toEqual([
        ['slow', ''],
        ['issue', 'TW-1'],
      ]);
      expect(of('test.completed')[0].summary).toMatchObject({ total: 8, ...(await report()).counts });
    }, 90_000);
  },
);
