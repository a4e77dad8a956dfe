/**
 * The reporter inside real mocha 10, 11 and 12 (child processes, programmatic API), with a sink recording
 * every event the core emits: statuses, retries, timeouts, hooks, output attribution, the final flush,
 * and a terminal output identical to plain `spec`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, ofType, runMocha, type SinkRun } from './helpers/run.js';

const FILES = ['outcomes.test.cjs', 'hooks.test.cjs', 'output.test.cjs'];

/** Spec output without what differs between two runs: durations. */
const normalize = (text: string) => text.replace(/ \(\d+(?:ms|s|m)\)/g, '');

describe.each(MAJORS)('mocha %i', (major) => {
  let run: SinkRun;
  let plain: SinkRun;

  beforeAll(async () => {
    // progressIntervalMs 0: one progress per test start, so each attempt's start can be checked.
    run = await runMocha(major, FILES, {
      reporterOptions: { reporter: 'spec' },
      defaults: { progressIntervalMs: 0 },
    });
    plain = await runMocha(major, FILES, { plain: 'spec' });
  });

  const results = () => ofType(run.events, 'test.result');
  const final = (...titlePath: string[]) => {
    const all = results().filter((e) => e.data.titlePath.join(' / ') === titlePath.join(' / '));
    return all[all.length - 1]?.data;
  };

  it('prints exactly what plain spec prints, and exits the same way', () => {
    expect(normalize(run.stdout)).toBe(normalize(plain.stdout));
    expect(run.stderr).toBe(plain.stderr);
    expect(run.stdout).toContain('log line\n');
    expect(run.stdout).toMatch(/6 passing/);
    expect(run.exitCode).toBe(1);
    expect(run.failures).toBe(6);
    expect(plain.failures).toBe(6);
  });

  it('starts with the total mocha knows and its version', () => {
    const started = ofType(run.events, 'test.started');
    expect(started).toHaveLength(1);
    expect(started[0].data.totalTests).toBe(17);
    expect(started[0].data.totalKnown).toBe(true);
    expect(started[0].data.framework).toBe('mocha');
    expect(started[0].data.run?.frameworkVersion).toMatch(new RegExp(`^${major}\\.`));
    expect(started[0].data.testFiles).toEqual(FILES);
    expect(run.events[0].type).toBe('test.started');
  });

  it('maps passed, failed, skipped (it.skip, this.skip()) and todo (it without a function)', () => {
    expect(final('outcomes', 'passes')?.status).toBe('passed');
    expect(final('outcomes', 'fails')).toMatchObject({
      status: 'failed',
      rawStatus: 'failed',
      file: 'outcomes.test.cjs',
      error: { type: 'AssertionError', expected: '3', actual: '2' },
    });
    expect(final('outcomes', 'is skipped')).toMatchObject({ status: 'skipped', rawStatus: 'pending' });
    expect(final('outcomes', 'skips itself')?.status).toBe('skipped');
    expect(final('outcomes', 'is a todo')).toMatchObject({ status: 'todo', rawStatus: 'pending' });
  });

  it('reports every attempt of a retried test and marks the passing retry flaky', () => {
    const flaky = results()
      .filter((e) => e.data.testName === 'is flaky')
      .map((e) => e.data);
    expect(flaky.map((d) => [d.attempt, d.status, d.willRetry ?? false, d.flaky ?? false])).toEqual([
      [1, 'failed', true, false],
      [2, 'failed', true, false],
      [3, 'passed', false, true],
    ]);
    expect(flaky[0].error?.message).toBe('attempt 1 fails');
    const never = results()
      .filter((e) => e.data.testName === 'always fails with retries')
      .map((e) => e.data);
    expect(never.map((d) => [d.attempt, d.status, d.willRetry ?? false])).toEqual([
      [1, 'failed', true],
      [2, 'failed', false],
    ]);
    // one progress "running" per attempt
    const running = ofType(run.events, 'test.progress').filter(
      (e) => e.data.testName === 'is flaky' && e.data.status === 'running',
    );
    expect(running).toHaveLength(3);
  });

  it("turns mocha's timeout error into timedOut", () => {
    expect(final('outcomes', 'times out')).toMatchObject({
      status: 'failed',
      timedOut: true,
      error: { code: 'ERR_MOCHA_TIMEOUT' },
    });
    expect(final('outcomes', 'times out')?.error?.message).toMatch(/Timeout of 30ms exceeded/);
  });

  it('reports a failed hook and fails the tests it kept from running', () => {
    const hookFailures = ofType(run.events, 'test.failed').filter((e) => e.data.scope === 'hook');
    expect(hookFailures.map((e) => e.data.testName)).toEqual([
      '"before each" hook for "second is hit by the hook"',
      '"before all" hook for "a never runs"',
      '"after all" hook for "runs before the after hook"',
    ]);
    expect(hookFailures[0].data.error.message).toBe('setup broke');
    expect(final('each hook', 'first runs')?.status).toBe('passed');
    for (const path of [
      ['each hook', 'second is hit by the hook'],
      ['each hook', 'third never runs'],
      ['each hook', 'nested', 'nested never runs'],
    ]) {
      expect(final(...path)).toMatchObject({ status: 'failed', rawStatus: 'hook failed' });
      expect(final(...path)?.error?.message).toBe(
        '"before each" hook for "second is hit by the hook" failed: setup broke',
      );
    }
    expect(final('all hook', 'a never runs')).toMatchObject({ status: 'failed', rawStatus: 'hook failed' });
    expect(final('all hook', 'b is skipped anyway')?.status).toBe('skipped');
    // an after-all hook failure changes no test result
    expect(final('after hooks', 'runs before the after hook')?.status).toBe('passed');
    // every test got exactly one final result
    const finals = results().filter((e) => !e.data.willRetry);
    expect(new Set(finals.map((e) => e.data.id)).size).toBe(17);
    expect(finals).toHaveLength(17);
  });

  it('attributes console and raw stream output to the running test, hooks included', () => {
    const outputs = ofType(run.events, 'test.output').map((e) => [
      e.data.testName ?? `<file ${e.data.file}>`,
      e.data.output,
      e.data.outputType,
      e.data.stream,
    ]);
    expect(outputs).toEqual([
      ['<file output.test.cjs>', 'from before all\n', 'stdout', 'log'],
      ['logs', 'from before each\n', 'stdout', 'info'],
      ['logs', 'log line\n', 'stdout', 'log'],
      ['logs', 'warn line\n', 'stderr', 'warn'],
      ['logs', 'raw stdout\n', 'stdout', 'stdout'],
      ['logs', 'raw stderr\n', 'stderr', 'stderr'],
      ['logs', 'from after each\n', 'stderr', 'error'],
      ['is quiet', 'from before each\n', 'stdout', 'info'],
      ['is quiet', 'from after each\n', 'stderr', 'error'],
    ]);
  });

  it('completes the run in done(): summary, success, then mocha exits', () => {
    const completed = ofType(run.events, 'test.completed');
    expect(completed).toHaveLength(1);
    expect(run.events[run.events.length - 1].type).toBe('test.completed');
    expect(completed[0].data.summary).toMatchObject({
      total: 17,
      passed: 6,
      failed: 7,
      skipped: 3,
      todo: 1,
      flaky: 1,
      success: false,
    });
    expect(completed[0].data.rawStatus).toBe('failed');
  });
});

describe('wrapped reporter', () => {
  it('an unknown terminal reporter falls back to spec with one warning; the run is unaffected', async () => {
    const run = await runMocha(11, ['output.test.cjs'], {
      reporterOptions: { reporter: 'no-such-reporter' },
    });
    expect(run.stderr).toMatch(
      /^testwire: reporter "no-such-reporter" is neither a built-in mocha reporter nor a loadable module: .*; using "spec"\n/,
    );
    expect(run.stdout).toMatch(/✔ logs/);
    expect(run.failures).toBe(0);
    expect(ofType(run.events, 'test.completed')[0]?.data.summary.success).toBe(true);
  });
});
