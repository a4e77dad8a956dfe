import type { PublishedEvent } from '@testwire/protocol';
import { describe, expect, test } from 'vitest';
import TestwireVitestReporter, { TestwireVitestReporter as Named } from '../src/index.js';
import { context, error, finish, module, suite, testCase } from './fakes.js';

function setup(config: Parameters<typeof context>[0] = {}) {
  const events: PublishedEvent[] = [];
  const reporter = new TestwireVitestReporter({
    sink: (event) => events.push(event),
    performanceIntervalMs: 0,
    // One progress per transition (not sampled), so each test start and total change can be checked.
    progressIntervalMs: 0,
  });
  reporter.onInit(context(config));
  const of = (type: string) =>
    events.filter((event) => event.type === type).map((event) => event.data as Record<string, any>);
  return { reporter, events, of };
}

describe('TestwireVitestReporter', () => {
  test('default and named exports are the same class', () => {
    expect(Named).toBe(TestwireVitestReporter);
  });

  test('a run: files up front, total grows as modules are collected and is final once all are', async () => {
    const { reporter, of } = setup();
    const a = module('a.test.ts');
    const b = module('b.test.ts');
    const inner = suite(a, 'math');
    const t1 = testCase(inner, 'adds');
    const t2 = testCase(b, 'other');
    reporter.onTestRunStart([{ moduleId: a.moduleId }, { moduleId: b.moduleId }]);
    expect(of('test.started')[0]).toMatchObject({ testFiles: ['a.test.ts', 'b.test.ts'], totalKnown: false });

    reporter.onTestModuleQueued(a);
    reporter.onTestModuleCollected(a);
    reporter.onTestModuleStart(a);
    reporter.onTestCaseReady(t1);
    expect(of('test.progress').at(-1)).toMatchObject({
      status: 'running',
      titlePath: ['math', 'adds'],
      total: 1,
      totalKnown: false,
    });
    reporter.onTestCaseResult(finish(t1, 'passed'));
    reporter.onTestModuleEnd(a);

    reporter.onTestModuleCollected(b);
    reporter.onTestCaseReady(t2);
    expect(of('test.progress').at(-1)).toMatchObject({ total: 2, totalKnown: true });
    reporter.onTestCaseResult(finish(t2, 'failed', { errors: [error('nope')] }));
    await reporter.onTestRunEnd([a, b], [], 'failed');

    expect(of('test.result').map((r) => [r.file, r.titlePath, r.status, r.line])).toEqual([
      ['a.test.ts', ['math', 'adds'], 'passed', 3],
      ['b.test.ts', ['other'], 'failed', 3],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 2, passed: 1, failed: 1, success: false });
  });

  test('coverage only where Vitest reports it: a failed test and reportOnFailure off (its default) leave it out', async () => {
    // An istanbul coverage map as far as the reporter reads it: one file, half its lines covered.
    const half = { data: { covered: 1, total: 2 } };
    const map = {
      getCoverageSummary: () => ({
        data: { statements: half.data, branches: half.data, functions: half.data, lines: half.data },
      }),
      files: () => ['/repo/src/a.js'],
      fileCoverageFor: () => ({ toSummary: () => ({ data: { lines: half.data } }) }),
    };
    const cases = [
      // Vitest's state counts the failed tasks; without it (an older or newer API), the modules' states tell.
      { failed: true, reportOnFailure: undefined, state: true, reported: false },
      { failed: true, reportOnFailure: undefined, state: false, reported: false },
      { failed: true, reportOnFailure: true, state: true, reported: true },
      { failed: false, reportOnFailure: undefined, state: true, reported: true },
      { failed: false, reportOnFailure: undefined, state: false, reported: true },
    ];
    for (const { failed, reportOnFailure, state, reported } of cases) {
      const events: PublishedEvent[] = [];
      const reporter = new TestwireVitestReporter({
        sink: (event) => events.push(event),
        performanceIntervalMs: 0,
      });
      const coverage = { enabled: true, provider: 'v8', thresholds: { lines: 100 }, reportOnFailure };
      reporter.onInit({
        ...context({ coverage }),
        ...(state ? { state: { getCountOfFailedTests: () => (failed ? 2 : 0) } } : {}),
      });
      const a = module('a.test.ts');
      const t = testCase(a, 'one');
      reporter.onTestRunStart([{ moduleId: a.moduleId }]);
      reporter.onTestModuleCollected(a);
      reporter.onTestCaseReady(t);
      reporter.onTestCaseResult(
        failed ? finish(t, 'failed', { errors: [error('no')] }) : finish(t, 'passed'),
      );
      a._state = failed ? 'failed' : 'passed';
      reporter.onTestModuleEnd(a);
      reporter.onCoverage(map);
      await reporter.onTestRunEnd([a], [], failed ? 'failed' : 'passed');
      const types = events.map((e) => e.type).filter((type) => type.startsWith('coverage.'));
      const label = JSON.stringify({ failed, reportOnFailure, state });
      expect(types, label).toEqual(
        reported ? ['coverage.started', 'coverage.threshold', 'coverage.completed'] : ['coverage.started'],
      );
      expect((events[0].data as any).options, label).toMatchObject({ coverage: true });
    }
  });

  test('console output logged before the test is known is held, then attributed to the test after it starts', async () => {
    const { reporter, events } = setup();
    const a = module('a.test.ts');
    const t = testCase(a, 'logs');
    reporter.onTestRunStart([{ moduleId: a.moduleId }]);
    // Vitest sends logs at once but batches task updates: the log arrives first.
    reporter.onUserConsoleLog({ content: 'early\n', type: 'stdout', taskId: t.id });
    reporter.onUserConsoleLog({ content: 'at import\n', type: 'stderr', taskId: a.id });
    reporter.onTestModuleCollected(a);
    reporter.onTestCaseReady(t);
    reporter.onUserConsoleLog({ content: 'late\n', type: 'stdout', taskId: t.id });
    reporter.onUserConsoleLog({ content: 'who knows\n', type: 'stdout', taskId: '__vitest__unknown_test__' });
    reporter.onTestCaseResult(finish(t, 'passed'));
    await reporter.onTestRunEnd([a], [], 'passed');

    const sequence = events
      .filter((e) => e.type !== 'framework.detected' && e.type !== 'system.health')
      .filter((e) => e.type !== 'test.progress' || (e.data as any).status === 'running')
      .map((e) => {
        const d = e.data as Record<string, any>;
        return e.type === 'test.output'
          ? `output:${d.output.trim()}:${d.titlePath?.join('>') ?? d.file ?? '-'}:${d.outputType}`
          : e.type;
      });
    expect(sequence).toEqual([
      'test.started',
      'output:at import:a.test.ts:stderr',
      'test.progress',
      'output:early:logs:stdout',
      'output:late:logs:stdout',
      'test.result',
      'output:who knows:-:stdout',
      'test.completed',
    ]);
  });

  test('captureOutput: false publishes no output', async () => {
    const events: PublishedEvent[] = [];
    const reporter = new TestwireVitestReporter({
      sink: (e) => events.push(e),
      performanceIntervalMs: 0,
      captureOutput: false,
    });
    reporter.onInit(context());
    const a = module('a.test.ts');
    const t = testCase(a, 'x');
    reporter.onTestRunStart([{ moduleId: a.moduleId }]);
    reporter.onTestModuleCollected(a);
    reporter.onUserConsoleLog({ content: 'hi\n', type: 'stdout', taskId: t.id });
    reporter.onTestCaseReady(t);
    reporter.onTestCaseResult(finish(t, 'passed'));
    await reporter.onTestRunEnd([a], [], 'passed');
    expect(events.filter((e) => e.type === 'test.output')).toEqual([]);
    expect(events.some((e) => e.type === 'test.result')).toBe(true);
  });

  test('a retried test publishes every attempt, the retry restarting the test', async () => {
    const { reporter, events } = setup();
    const a = module('a.test.ts');
    const t = testCase(a, 'flaky');
    reporter.onTestRunStart([{ moduleId: a.moduleId }]);
    reporter.onTestModuleCollected(a);
    reporter.onTestCaseReady(t);
    reporter.onTestCaseResult(finish(t, 'passed', { errors: [error('first')], retryCount: 1 }));
    await reporter.onTestRunEnd([a], [], 'passed');
    const flow = events
      .filter(
        (e) =>
          e.type === 'test.result' || (e.type === 'test.progress' && (e.data as any).status === 'running'),
      )
      .map((e) => {
        const d = e.data as Record<string, any>;
        return e.type === 'test.result'
          ? `${d.attempt}:${d.status}${d.willRetry ? ':retry' : ''}${d.flaky ? ':flaky' : ''}`
          : 'running';
      });
    expect(flow).toEqual(['running', '1:failed:retry', 'running', '2:passed:flaky']);
    const summary = (events.find((e) => e.type === 'test.completed')?.data as any)?.summary;
    expect(summary).toMatchObject({ total: 1, passed: 1, failed: 0, flaky: 1, success: true });
  });

  test('beforeAll/afterAll errors become hookFailed once; a file that failed to import becomes fileFailed', async () => {
    const { reporter, of } = setup();
    const a = module('a.test.ts');
    const s = suite(a, 'db');
    const t = testCase(s, 'query');
    const broken = module('broken.test.ts');
    reporter.onTestRunStart([{ moduleId: a.moduleId }, { moduleId: broken.moduleId }]);
    reporter.onTestModuleCollected(a);
    reporter.onHookStart({ name: 'beforeAll', entity: s });
    s._errors.push(error('cannot connect'));
    reporter.onHookEnd({ name: 'beforeAll', entity: s });
    // Vitest then marks the suite's tests skipped without running them.
    reporter.onTestCaseResult(finish(t, 'skipped'));
    reporter.onTestSuiteResult(s);
    reporter.onHookStart({ name: 'afterAll', entity: a });
    reporter.onHookEnd({ name: 'afterAll', entity: a });
    reporter.onTestModuleEnd(a);

    broken._errors.push(error('SyntaxError: Unexpected token'));
    broken._state = 'failed';
    reporter.onTestModuleCollected(broken);
    reporter.onTestModuleStart(broken);
    reporter.onTestModuleEnd(broken);
    await reporter.onTestRunEnd([a, broken], [], 'failed');

    expect(of('test.failed').map((f) => [f.scope, f.testName, f.file, f.error.message])).toEqual([
      ['hook', '"beforeAll" hook for "db"', 'a.test.ts', 'cannot connect'],
      ['file', 'broken.test.ts', 'broken.test.ts', 'SyntaxError: Unexpected token'],
    ]);
    expect(of('test.result').map((r) => r.status)).toEqual(['skipped']);
  });

  test('a beforeAll/afterAll that threw (Vitest sends its start, never its end) is named, with HOOK_FAILED', async () => {
    const { reporter, of } = setup();
    const a = module('a.test.ts');
    const s = suite(a, 'db');
    const t = testCase(s, 'query');
    const b = module('b.test.ts');
    const u = testCase(b, 'uses');
    reporter.onTestRunStart([{ moduleId: a.moduleId }, { moduleId: b.moduleId }]);
    reporter.onTestModuleCollected(a);
    // Vitest batches task updates: the hook's start may come with the error already on the suite.
    s._errors.push(error('cannot connect'));
    reporter.onHookStart({ name: 'beforeAll', entity: s });
    reporter.onTestCaseResult(finish(t, 'skipped'));
    reporter.onTestSuiteResult(s);
    reporter.onTestModuleEnd(a);

    reporter.onTestModuleCollected(b);
    reporter.onHookStart({ name: 'beforeAll', entity: b });
    reporter.onHookEnd({ name: 'beforeAll', entity: b });
    reporter.onTestCaseReady(u);
    reporter.onTestCaseResult(finish(u, 'passed'));
    reporter.onHookStart({ name: 'afterAll', entity: b });
    b._errors.push(error('cannot disconnect'));
    reporter.onTestModuleEnd(b);
    await reporter.onTestRunEnd([a, b], [], 'failed');

    expect(of('test.failed').map((f) => [f.scope, f.testName, f.file, f.error.message])).toEqual([
      ['hook', '"beforeAll" hook for "db"', 'a.test.ts', 'cannot connect'],
      ['hook', '"afterAll" hook', 'b.test.ts', 'cannot disconnect'],
    ]);
    expect(of('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'a.test.ts', 'cannot connect'],
      ['HOOK_FAILED', 'b.test.ts', 'cannot disconnect'],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 2, passed: 1, failed: 0, skipped: 1 });
  });

  test('Vitest 3 sends no onTestModuleEnd for a file that failed to import: reported once, at collection', async () => {
    const { reporter, of } = setup();
    const broken = module('broken.test.ts');
    const late = module('late.test.ts');
    reporter.onTestRunStart([{ moduleId: broken.moduleId }, { moduleId: late.moduleId }]);
    broken._errors.push(error('Cannot find module ./missing'));
    broken._state = 'failed';
    reporter.onTestModuleCollected(broken);
    expect(of('test.failed').map((f) => [f.scope, f.file])).toEqual([['file', 'broken.test.ts']]);
    // An error only visible at the end (no module hook reported it) is still published, once.
    late._errors.push(error('No test found in suite late.test.ts'));
    await reporter.onTestRunEnd([broken, late], [], 'failed');
    expect(of('test.failed').map((f) => [f.scope, f.file, f.error.message])).toEqual([
      ['file', 'broken.test.ts', 'Cannot find module ./missing'],
      ['file', 'late.test.ts', 'No test found in suite late.test.ts'],
    ]);
  });

  test("a worker that died: its file's failure (WORKER_CRASHED, Vitest's cause kept) naming the test it died in", async () => {
    const { reporter, of } = setup();
    const crashed = module('crashed.test.ts');
    const ok = module('ok.test.ts');
    const before = testCase(crashed, 'before');
    const dying = testCase(suite(crashed, 'worker'), 'dying');
    testCase(crashed, 'after');
    const fine = testCase(ok, 'fine');
    reporter.onTestRunStart([{ moduleId: crashed.moduleId }, { moduleId: ok.moduleId }]);
    for (const m of [crashed, ok]) reporter.onTestModuleCollected(m);
    reporter.onTestCaseReady(before);
    reporter.onTestCaseResult(finish(before, 'passed'));
    reporter.onTestCaseReady(dying);
    reporter.onTestCaseReady(fine);
    reporter.onTestCaseResult(finish(fine, 'passed'));
    ok._state = 'passed';
    reporter.onTestModuleEnd(ok);
    // Vitest 4: the file never ends (state pending), the crash is an unhandled error naming no file.
    const crash = new Error('[vitest-pool]: Worker forks emitted error.', {
      cause: new Error('Worker exited unexpectedly'),
    });
    await reporter.onTestRunEnd([crashed, ok], [crash], 'passed');

    const vitestText =
      '[vitest-pool]: Worker forks emitted error.\nCaused by: Error: Worker exited unexpectedly';
    // Vitest's statuses kept; the test the worker died in (started, never ended) carries the crash.
    expect(of('test.result').map((r) => [r.testName, r.status, r.rawStatus, r.error?.message])).toEqual([
      ['before', 'passed', 'passed', undefined],
      ['fine', 'passed', 'passed', undefined],
      [
        'dying',
        'skipped',
        'pending',
        `The worker died while running this test.\nCaused by: Error: ${vitestText}`,
      ],
      ['after', 'skipped', 'pending', undefined],
    ]);
    const message = `The worker died while running "worker > dying".\nCaused by: Error: ${vitestText}`;
    expect(of('test.failed').map((f) => [f.scope, f.file, f.error.message])).toEqual([
      ['file', 'crashed.test.ts', message],
    ]);
    expect(of('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['WORKER_CRASHED', 'crashed.test.ts', message],
    ]);
    const completed = of('test.completed')[0];
    expect(completed.errors.map((e: { message: string }) => e.message)).toEqual([message]);
    expect(completed.summary).toMatchObject({ total: 4, passed: 2, failed: 0, skipped: 2, success: false });
  });

  test("a worker that died before any test of its file started: Vitest's error is the file's", async () => {
    const { reporter, of } = setup();
    const crashed = module('crashed.test.ts');
    testCase(crashed, 'never');
    reporter.onTestRunStart([{ moduleId: crashed.moduleId }]);
    reporter.onTestModuleCollected(crashed);
    const crash = Object.assign(
      new Error('Worker terminated due to reaching memory limit: JS heap out of memory'),
      { code: 'ERR_WORKER_OUT_OF_MEMORY' },
    );
    await reporter.onTestRunEnd([crashed], [crash], 'passed');
    expect(of('test.result').map((r) => [r.testName, r.status, r.error])).toEqual([
      ['never', 'skipped', undefined],
    ]);
    expect(of('test.failed').map((f) => [f.scope, f.error.message, f.error.code])).toEqual([
      ['file', crash.message, 'ERR_WORKER_OUT_OF_MEMORY'],
    ]);
  });

  test('a crash that cannot be placed in one file stays an error of the run, its cause kept', async () => {
    const { reporter, of } = setup();
    const a = module('a.test.ts');
    const b = module('b.test.ts');
    reporter.onTestRunStart([{ moduleId: a.moduleId }, { moduleId: b.moduleId }]);
    // Two files left pending, one crash: which file it ended is not told.
    const crash = {
      message: 'Worker exited unexpectedly',
      name: 'Error',
      stack: 'Error: Worker exited unexpectedly',
    };
    const rejection = { message: 'boom', name: 'Error', cause: { name: 'TypeError', message: 'inner' } };
    await reporter.onTestRunEnd([a, b], [crash, rejection], 'passed');
    expect(of('test.failed').map((f) => [f.scope, f.file, f.error.message])).toEqual([
      ['run', '', 'Worker exited unexpectedly'],
      ['run', '', 'boom\nCaused by: TypeError: inner'],
    ]);
    expect(of('framework.error').map((e) => e.error.code)).toEqual(['WORKER_CRASHED', 'UNHANDLED_ERROR']);
  });

  test('tests that never reported (bail, interrupt) are published as not run at the end', async () => {
    const { reporter, of } = setup();
    const a = module('a.test.ts');
    const ran = testCase(a, 'ran');
    testCase(a, 'never');
    reporter.onTestRunStart([{ moduleId: a.moduleId }]);
    reporter.onTestModuleCollected(a);
    reporter.onTestCaseReady(ran);
    reporter.onTestCaseResult(finish(ran, 'failed', { errors: [error('x')] }));
    await reporter.onTestRunEnd([a], [], 'interrupted');
    expect(of('test.result').map((r) => [r.testName, r.status, r.rawStatus])).toEqual([
      ['ran', 'failed', 'failed'],
      ['never', 'skipped', 'pending'],
    ]);
    expect(of('test.completed')[0]).toMatchObject({
      interrupted: true,
      rawStatus: 'interrupted',
      summary: { success: false },
    });
  });

  test.each([
    ['passed', 0, false, true],
    ['passed', 1, false, false],
    ['passed', 1, true, true],
    ['failed', 0, false, false],
    ['interrupted', 0, false, false],
  ] as const)(
    'success follows the exit code: reason %s, %i unhandled error(s), ignore=%s -> %s',
    async (reason, count, ignore, success) => {
      const { reporter, of } = setup({ dangerouslyIgnoreUnhandledErrors: ignore });
      // A file ran (a run of no file fails for that reason: see the next test).
      const ran = module('a.test.ts');
      ran._state = reason === 'failed' ? 'failed' : 'passed';
      reporter.onTestRunStart([{ moduleId: ran.moduleId }]);
      const errors = Array.from({ length: count }, () => error('unhandled rejection'));
      await reporter.onTestRunEnd([ran], errors, reason);
      expect(of('test.completed')[0].summary.success).toBe(success);
      expect(of('test.failed').filter((f) => f.scope === 'run')).toHaveLength(count);
      expect(of('test.completed')[0].errors ?? []).toHaveLength(count);
    },
  );

  test.each([
    [false, false, ['No test files found, exiting with code 1']],
    [true, false, []],
    [false, true, []],
  ] as const)(
    'a run of no file (passWithNoTests %s, watch %s): its errors are %j',
    async (passWithNoTests, watch, messages) => {
      const { reporter, of } = setup({ passWithNoTests, watch });
      reporter.onTestRunStart([]);
      await reporter.onTestRunEnd([], [], passWithNoTests ? 'passed' : 'failed');
      expect(of('test.completed')[0].summary.success).toBe(passWithNoTests);
      expect((of('test.completed')[0].errors ?? []).map((e: { message: string }) => e.message)).toEqual(
        messages,
      );
    },
  );

  test('each watch-mode rerun is a new run with its own run id', async () => {
    const { reporter, events } = setup({ watch: true });
    const a = module('a.test.ts');
    for (let i = 0; i < 2; i++) {
      reporter.onTestRunStart([{ moduleId: a.moduleId }]);
      await reporter.onTestRunEnd([], [], 'passed');
    }
    const starts = events.filter((e) => e.type === 'test.started');
    const ends = events.filter((e) => e.type === 'test.completed');
    expect(starts).toHaveLength(2);
    expect(ends).toHaveLength(2);
    expect(starts[0].runId).not.toBe(starts[1].runId);
    expect(ends[1].runId).toBe(starts[1].runId);
    expect((starts[0].data as any).run.watch).toBe(true);
  });

  test('a run that never ended is closed as interrupted when the next one starts', async () => {
    const { reporter, events } = setup({ watch: true });
    reporter.onTestRunStart([]);
    reporter.onTestRunStart([]);
    await reporter.onTestRunEnd([], [], 'passed');
    const boundaries = events
      .filter((e) => e.type === 'test.started' || e.type === 'test.completed')
      .map((e) => [e.type, e.runId, (e.data as any).interrupted ?? (e.data as any).summary?.success]);
    expect(boundaries.map(([type]) => type)).toEqual([
      'test.started',
      'test.completed',
      'test.started',
      'test.completed',
    ]);
    expect(boundaries[1]).toEqual(['test.completed', boundaries[0][1], true]);
    expect(boundaries[3][1]).toBe(boundaries[2][1]);
    expect(boundaries[2][1]).not.toBe(boundaries[0][1]);
  });

  test('hooks never throw into Vitest, whatever they are handed', async () => {
    const { reporter } = setup();
    const bad = {} as never;
    reporter.onTestRunStart(bad);
    expect(() => reporter.onTestModuleQueued(bad)).not.toThrow();
    expect(() => reporter.onTestModuleCollected(bad)).not.toThrow();
    expect(() => reporter.onTestModuleStart(bad)).not.toThrow();
    expect(() => reporter.onTestCaseReady(bad)).not.toThrow();
    expect(() => reporter.onTestCaseResult(bad)).not.toThrow();
    expect(() => reporter.onHookStart(bad)).not.toThrow();
    expect(() => reporter.onHookEnd(bad)).not.toThrow();
    expect(() => reporter.onTestSuiteResult(bad)).not.toThrow();
    expect(() => reporter.onUserConsoleLog(bad)).not.toThrow();
    expect(() => reporter.onTestModuleEnd(bad)).not.toThrow();
    await expect(reporter.onTestRunEnd(bad, bad, bad)).resolves.toBeUndefined();
    // Without onInit (a Vitest that never called it) nothing happens either.
    const lonely = new TestwireVitestReporter({ sink: () => {} });
    expect(() => lonely.onTestRunStart([])).not.toThrow();
    await expect(lonely.onTestRunEnd([], [], 'passed')).resolves.toBeUndefined();
  });

  test('enabled: false publishes nothing', async () => {
    const events: PublishedEvent[] = [];
    const reporter = new TestwireVitestReporter({ sink: (e) => events.push(e), enabled: false });
    reporter.onInit(context());
    reporter.onTestRunStart([]);
    await reporter.onTestRunEnd([], [], 'passed');
    expect(events).toEqual([]);
  });
});
