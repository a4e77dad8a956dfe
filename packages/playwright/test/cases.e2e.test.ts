/**
 * Runs that Playwright ends or counts in its own ways (real runner, compat/playwright, test/fixtures/cases):
 * the stream says what Playwright's own report says — flaky only where Playwright says so, tests that never
 * ran or were cut off by the run's end, projects told apart without names, a file that fails to load.
 */
import { rm } from 'node:fs/promises';
import type { EventDataMap, EventType } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { type FixtureRun, runFixture } from './run-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function run(name: string, install = 'playwright') {
  const fixture: FixtureRun = await runFixture('cases', { CASE: name }, install);
  dirs.push(fixture.dir);
  const of = <T extends EventType>(type: T) =>
    fixture.events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);
  const finals = () =>
    of('test.result')
      .filter((r) => !r.willRetry)
      .map((r) => [r.titlePath.join(' › '), r.status, r.rawStatus, r.flaky ?? false]);
  return { fixture, of, finals };
}

describe('@testwire/playwright: runs Playwright ends or counts its own way', () => {
  it("a serial group's retry: only the test that failed is flaky", async () => {
    const { fixture, of, finals } = await run('serial');
    expect(fixture.exitCode, fixture.stderr).toBe(0);
    // The retry runs the whole group again: `last`, skipped after `middle` failed, now passes too.
    expect(finals()).toEqual([
      ['serial › first', 'passed', 'passed', false],
      ['serial › last', 'skipped', 'skipped', false],
      ['serial › first', 'passed', 'passed', false],
      ['serial › middle', 'passed', 'passed', true],
      ['serial › last', 'passed', 'passed', false],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 3, passed: 3, flaky: 1 });
  }, 60_000);

  it('--max-failures: the tests that never ran are skipped, and the stop is no unhandled error', async () => {
    const { fixture, of, finals } = await run('stops');
    expect(fixture.exitCode).toBe(1);
    expect(finals()).toEqual([
      ['one', 'passed', 'passed', false],
      ['two fails', 'failed', 'failed', false],
      ['three', 'skipped', 'skipped', false],
      ['four', 'skipped', 'skipped', false],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 4, passed: 1, failed: 1, skipped: 2 });
    expect(of('framework.error').map((e) => e.error.code)).not.toContain('UNHANDLED_ERROR');
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
