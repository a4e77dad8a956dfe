/**
 * Runs the real Playwright runner (compat/playwright) on test/fixtures/project with @testwire/playwright
 * loaded by package name from its built dist, and reads the events it delivered to a sink file.
 */
import { rm } from 'node:fs/promises';
import { type EventDataMap, type EventType, validatePublishedEvent } from '@testwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureRun, runFixture } from './run-fixture.js';

let dir: string;
let run: FixtureRun;

beforeAll(async () => {
  const fixture = await runFixture('project');
  dir = fixture.dir;
  run = fixture;
}, 55_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const of = <T extends EventType>(type: T) =>
  run.events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);

describe('@testwire/playwright in a real Playwright run', () => {
  it("leaves Playwright's outcome and terminal reporter alone", () => {
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stdout).toContain('group › passes');
    expect(run.stdout).toMatch(/1 failed/);
    expect(run.stderr).not.toContain('[testwire]');
  });

  it('emits valid events, test.started first and test.completed last, in one run', () => {
    expect(run.events.length).toBeGreaterThan(0);
    for (const event of run.events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
    expect(run.events[0].type).toBe('test.started');
    expect(run.events.at(-1)?.type).toBe('test.completed');
    expect(new Set(run.events.map((e) => e.runId)).size).toBe(1);
    expect(of('test.started')[0]).toMatchObject({
      framework: 'playwright',
      totalTests: 7,
      testFiles: ['cases.spec.ts'],
      totalKnown: true,
      options: { workers: 1, retries: 1, projects: ['unit'] },
    });
  });

  it('sends one test.result per attempt with Playwright semantics', () => {
    const results = of('test.result').map((r) => ({
      title: r.titlePath.join(' › '),
      status: r.status,
      rawStatus: r.rawStatus,
      attempt: r.attempt,
      willRetry: r.willRetry ?? false,
      flaky: r.flaky ?? false,
      timedOut: r.timedOut ?? false,
    }));
    const byTitle = (title: string) => results.filter((r) => r.title === title);
    expect(byTitle('group › passes')).toEqual([
      {
        title: 'group › passes',
        status: 'passed',
        rawStatus: 'passed',
        attempt: 1,
        willRetry: false,
        flaky: false,
        timedOut: false,
      },
    ]);
    expect(byTitle('group › expected failure').map((r) => [r.status, r.rawStatus])).toEqual([
      ['passed', 'failed'],
    ]);
    expect(byTitle('group › flaky').map((r) => [r.status, r.attempt, r.willRetry, r.flaky])).toEqual([
      ['failed', 1, true, false],
      ['passed', 2, false, true],
    ]);
    expect(
      byTitle('group › times out').map((r) => [r.status, r.rawStatus, r.attempt, r.willRetry, r.timedOut]),
    ).toEqual([
      ['failed', 'timedOut', 1, true, true],
      ['failed', 'timedOut', 2, false, true],
    ]);
    expect(byTitle('group › in anonymous group').map((r) => r.status)).toEqual(['passed']);
    expect(byTitle('top level').map((r) => r.status)).toEqual(['passed']);
    expect(byTitle('skipped').map((r) => r.status)).toEqual(['skipped']);
    // its annotation (`test.skip`), with where it was declared
    expect(of('test.result').find((r) => r.testName === 'skipped')?.annotations).toMatchObject([
      { type: 'skip', location: { file: 'cases.spec.ts', line: 30 } },
    ]);
    expect(results).toHaveLength(9);
  });

  it('identifies tests by project, root-relative file, title path and location', () => {
    const [passes] = of('test.result').filter((r) => r.testName === 'passes');
    expect(passes).toMatchObject({
      project: 'unit',
      file: 'cases.spec.ts',
      suite: 'group',
      line: 4,
      location: { file: 'cases.spec.ts', line: 4, column: 3 },
      repeatIndex: 0,
    });
    expect(passes.id).toMatch(/^t_[0-9a-f]{16}$/);
    // The worker slot that ran each attempt (one worker here: slot 0; the dashboard's timeline lanes).
    expect(new Set(of('test.result').map((r) => r.worker))).toEqual(new Set(['0']));
    const flaky = of('test.result').filter((r) => r.testName === 'flaky');
    expect(flaky[0].id).toBe(flaky[1].id);
  });

  it("attributes the workers' stdout and stderr to the running test", () => {
    const outputs = of('test.output').map((o) => [o.testName, o.outputType, o.output]);
    expect(outputs).toContainEqual(['passes', 'stdout', 'to stdout\n']);
    expect(outputs).toContainEqual(['passes', 'stderr', 'to stderr\n']);
  });

  it('reports failures with relative stacks and the timeout', () => {
    const failed = of('test.failed').filter((f) => f.testName === 'times out');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ scope: 'test', timedOut: true, willRetry: true, attempt: 1 });
    expect(failed[0].error.message).toMatch(/Test timeout of 200ms exceeded/);
    const flaky = of('test.failed').find((f) => f.testName === 'flaky');
    expect(flaky?.error).toMatchObject({ type: 'Error', expected: '1', actual: '0' });
    expect(flaky?.error.stack).toMatch(/at cases\.spec\.ts:\d+:\d+/);
    expect(JSON.stringify(run.events)).not.toContain(dir);
  });

  it('summarizes the run as Playwright does', () => {
    expect(of('test.completed')).toEqual([
      expect.objectContaining({
        summary: expect.objectContaining({
          total: 7,
          passed: 5,
          failed: 1,
          skipped: 1,
          flaky: 1,
          success: false,
        }),
        rawStatus: 'failed',
      }),
    ]);
  });
});
