import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishedEvent } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { JEST_STATUS, mapJestStatus, TestwireJestReporter } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'testwire-jest-'));
writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'jest-unit' }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function reporter(options: Record<string, unknown> = {}) {
  const events: PublishedEvent[] = [];
  const instance = new TestwireJestReporter({ rootDir: root }, {
    performanceIntervalMs: 0,
    sink: (event: PublishedEvent) => events.push(event),
    ...options,
  } as never);
  const of = (type: string) =>
    events.filter((event) => event.type === type).map((event) => event.data as any);
  return { instance, events, of };
}

const file = join(root, 'math.test.js');
const test = { path: file, context: { config: {} } };
const assertion = (title: string, status: string, extra: Record<string, unknown> = {}) => ({
  ancestorTitles: ['math'],
  title,
  fullName: `math ${title}`,
  status,
  duration: 2,
  failureMessages: [] as string[],
  failureDetails: [] as unknown[],
  invocations: 1,
  numPassingAsserts: 1,
  location: null,
  ...extra,
});
// What jest 29/30 send for a failed toBe(), copied from a real run.
const failure = {
  failureMessages: [
    'Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 2\nReceived: 1\n    at Object.toBe (' +
      file +
      ':31:27)',
  ],
  failureDetails: [{ matcherResult: { actual: 1, expected: 2, name: 'toBe', pass: false } }],
};

describe('status table', () => {
  it('maps every jest status, unknown ones to failed', () => {
    expect(Object.keys(JEST_STATUS).sort()).toEqual([
      'disabled',
      'failed',
      'focused',
      'passed',
      'pending',
      'skipped',
      'todo',
    ]);
    expect(mapJestStatus('pending')).toBe('skipped');
    expect(mapJestStatus('todo')).toBe('todo');
    expect(mapJestStatus('weird')).toBe('failed');
  });
});

describe('TestwireJestReporter', () => {
  it('turns a run with retries, skipped tests, console and a broken file into one consistent stream', async () => {
    const { instance, of, events } = reporter();
    instance.onRunStart({ numTotalTestSuites: 2 });
    instance.onTestFileStart(test);
    instance.onTestCaseStart(test, { ancestorTitles: ['math'], title: 'flaky' });
    instance.onTestCaseResult(test, assertion('flaky', 'failed', { ...failure, invocations: 1 }));
    instance.onTestCaseStart(test, { ancestorTitles: ['math'], title: 'flaky' });
    instance.onTestCaseResult(test, assertion('flaky', 'passed', { invocations: 2 }));
    instance.onTestFileResult(test, {
      testFilePath: file,
      testResults: [
        assertion('flaky', 'passed', { invocations: 2 }),
        assertion('skipped', 'pending', { duration: null, numPassingAsserts: 0 }),
      ],
      console: [
        { message: 'adding numbers', origin: 'at x', type: 'log' },
        { message: 'careful', origin: 'at y', type: 'warn' },
      ],
    });
    const broken = join(root, 'broken.test.js');
    instance.onTestFileStart({ path: broken });
    instance.onTestFileResult(
      { path: broken },
      {
        testFilePath: broken,
        testResults: [],
        testExecError: {
          message: 'Cannot find module ./nope',
          stack: `Error: Cannot find module ./nope\n    at ${broken}:1:1`,
        },
      },
    );
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 2,
      numFailedTests: 0,
      numRuntimeErrorTestSuites: 1,
    });

    const results = of('test.result');
    expect(results.map((r) => [r.testName, r.status, r.attempt, r.flaky ?? false])).toEqual([
      ['flaky', 'failed', 1, false],
      ['flaky', 'passed', 2, true],
      ['skipped', 'skipped', 1, false],
    ]);
    expect(results[0]).toMatchObject({
      file: 'math.test.js',
      titlePath: ['math', 'flaky'],
      rawStatus: 'failed',
    });
    expect(results[0].error).toMatchObject({
      message: expect.stringContaining('Expected: 2'),
      type: 'Error',
      expected: '2',
      actual: '1',
    });
    expect(results[0].error.stack).toContain('at Object.toBe (math.test.js:31:27)');
    expect(of('test.output').map((o) => [o.output, o.outputType, o.stream, o.file, o.id])).toEqual([
      ['adding numbers', 'stdout', 'log', 'math.test.js', undefined],
      ['careful', 'stderr', 'warn', 'math.test.js', undefined],
    ]);
    const fileFailure = of('test.failed').find((f) => f.scope === 'file');
    expect(fileFailure).toMatchObject({
      file: 'broken.test.js',
      error: { message: 'Cannot find module ./nope' },
    });
    const completed = of('test.completed')[0];
    expect(completed.summary).toMatchObject({ total: 2, passed: 1, skipped: 1, flaky: 1, success: false });
    expect(of('test.progress').at(-1)).toMatchObject({ completed: 2, total: 2, totalKnown: true });
    expect(events[0].type).toBe('test.started');
    expect(events.at(-1)!.type).toBe('test.completed');
    expect(instance.getLastError()).toBeUndefined();
  });

  it('an error outside the tests after some ran: an afterAll hook by its frames, else an unhandled error', async () => {
    const { instance, of } = reporter();
    instance.onRunStart({ numTotalTestSuites: 2 });
    const circus = '/x/node_modules/jest-circus/build/jestAdapterInit.js';
    for (const [path, frames] of [
      [file, `    at Object.<anonymous> (${file}:2:26)\n    at _callCircusHook (${circus}:1136:40)`],
      [join(root, 'late.test.js'), `    at Timeout._onTimeout (${join(root, 'late.test.js')}:1:40)`],
    ] as const) {
      const fileTest = { path, context: { config: {} } };
      instance.onTestFileStart(fileTest);
      instance.onTestCaseStart(fileTest, { ancestorTitles: ['math'], title: 'runs' });
      instance.onTestCaseResult(fileTest, assertion('runs', 'passed'));
      instance.onTestFileResult(fileTest, {
        testFilePath: path,
        testResults: [assertion('runs', 'passed')],
        testExecError: { message: '', stack: `Error: boom in ${path.slice(root.length + 1)}\n${frames}` },
      });
    }
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 2,
      numFailedTests: 0,
      numRuntimeErrorTestSuites: 0,
    });
    expect(of('test.failed').map((f) => [f.scope, f.testName, f.file, f.error.message])).toEqual([
      ['hook', '"afterAll" hook', 'math.test.js', 'boom in math.test.js'],
      ['file', 'late.test.js', 'late.test.js', 'boom in late.test.js'],
    ]);
    expect(of('framework.error').map((f) => [f.error.code, f.file])).toEqual([
      ['HOOK_FAILED', 'math.test.js'],
      ['UNHANDLED_ERROR', 'late.test.js'],
    ]);
  });

  it('twins whose live results were held (a start overtook a result) are each sent with the file result', async () => {
    // Jest 30 under load: the next twin's start reaches the reporter before the first one's result, so the
    // set looks concurrent and its live results are held for the file's result (twins.ts).
    const root30 = mkdtempSync(join(tmpdir(), 'testwire-jest30-'));
    writeFileSync(join(root30, 'package.json'), JSON.stringify({ name: 'jest-unit' }));
    mkdirSync(join(root30, 'node_modules', 'jest'), { recursive: true });
    writeFileSync(
      join(root30, 'node_modules', 'jest', 'package.json'),
      '{ "name": "jest", "version": "30.0.0" }',
    );
    const events: PublishedEvent[] = [];
    const instance = new TestwireJestReporter({ rootDir: root30 }, {
      performanceIntervalMs: 0,
      sink: (event: PublishedEvent) => events.push(event),
    } as never);
    const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
    const file = join(root30, 'same.test.js');
    const test = { path: file, context: { config: {} } };
    instance.onRunStart({ numTotalTestSuites: 1 });
    instance.onTestFileStart(test);
    const twin = assertion('same', 'passed');
    instance.onTestCaseStart(test, twin);
    instance.onTestCaseResult(test, twin); // the first twin, live
    instance.onTestCaseStart(test, twin);
    instance.onTestCaseStart(test, twin); // ahead of the second one's result
    instance.onTestCaseResult(test, twin);
    instance.onTestCaseResult(test, twin);
    instance.onTestFileResult(test, {
      testFilePath: file,
      testResults: [twin, twin, twin],
    } as never);
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 1,
      numFailedTests: 0,
      numRuntimeErrorTestSuites: 0,
    } as never);
    const results = of('test.result');
    expect(results).toHaveLength(3);
    expect(new Set(results.map((r) => r.id)).size).toBe(3);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 3, passed: 3 });
    rmSync(root30, { recursive: true, force: true });
  });

  it("a beforeAll that threw: the block's tests fail as jest says, plus one hook failure told by its frames", async () => {
    const { instance, of } = reporter();
    instance.onRunStart({ numTotalTestSuites: 1 });
    const circus = '/x/node_modules/jest-circus/build/jestAdapterInit.js';
    // As jest 30 words them (jest 29: run.js, _runTestsForDescribeBlock), copied from real runs.
    const fromBlock = (line: number, message: string) =>
      `Error: ${message}\n    at Object.<anonymous> (${file}:${line}:27)\n    at Promise.finally.completed (${circus}:1834:28)\n    at new Promise (<anonymous>)\n    at callAsyncCircusFn (${circus}:1774:10)\n    at _callCircusHook (${circus}:1136:40)\n    at _runTestsForDescribeBlockOnce (${circus}:967:9)`;
    const beforeAll = fromBlock(2, 'cannot connect');
    const resumed = fromBlock(20, 'cannot log in').replace(
      '\n    at _runTestsForDescribeBlockOnce',
      '\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at _runTestsForDescribeBlock',
    );
    const beforeEach = `Error: each boom\n    at Object.<anonymous> (${file}:9:28)\n    at callAsyncCircusFn (${circus}:1774:10)\n    at _callCircusHook (${circus}:1136:40)\n    at _runTestInContext (${circus}:1097:5)`;
    const afterAwait = `Error: async boom\n    at Object.<anonymous> (${file}:12:75)`;
    const failed = (titles: string[], title: string, message: string) =>
      assertion(title, 'failed', {
        ancestorTitles: titles,
        failureMessages: [message],
        failureDetails: [{}],
      });
    const results = [
      failed(['db'], 'reads', beforeAll),
      failed(['db'], 'writes', beforeAll),
      failed(['db', 'inner'], 'deletes', beforeAll),
      // The hook call resumed after an await: node's own frame between it and the block's (jest 29, seen
      // on a first run in workers).
      failed(['other'], 'reads', resumed),
      failed(['each'], 'runs', beforeEach),
      failed(['async'], 'one', afterAwait),
      failed(['async'], 'two', afterAwait),
      assertion('passes', 'passed', { ancestorTitles: [] }),
    ];
    instance.onTestFileStart(test);
    for (const result of results) instance.onTestCaseResult(test, result);
    instance.onTestFileResult(test, { testFilePath: file, testResults: results });
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 1,
      numFailedTests: 7,
      numRuntimeErrorTestSuites: 0,
    });
    expect(of('test.failed').filter((f) => f.scope === 'hook')).toMatchObject([
      {
        testName: '"beforeAll" hook for "db"',
        titlePath: ['db'],
        file: 'math.test.js',
        error: { message: 'cannot connect', type: 'Error' },
      },
      { testName: '"beforeAll" hook for "other"', error: { message: 'cannot log in' } },
    ]);
    expect(of('framework.error').map((f) => [f.error.code, f.file, f.error.message])).toEqual([
      ['HOOK_FAILED', 'math.test.js', 'cannot connect'],
      ['HOOK_FAILED', 'math.test.js', 'cannot log in'],
    ]);
    // A hook is not a test: the counts are jest's.
    expect(of('test.completed')[0].summary).toMatchObject({ total: 8, passed: 1, failed: 7 });
  });

  it("streams a failed attempt as retrying when the file's jest.retryTimes(n) says so, and corrects it if jest did not retry", async () => {
    const { instance, of } = reporter();
    const retried = join(root, 'retried.test.js');
    writeFileSync(retried, 'if (process.env.CI) jest.retryTimes(1, { logErrorsBeforeRetry: true });\n');
    const file = { path: retried, context: { config: {} } };
    instance.onRunStart({ numTotalTestSuites: 1 });
    instance.onTestFileStart(file);
    instance.onTestCaseResult(file, assertion('flaky', 'failed', { ...failure, invocations: 1 }));
    instance.onTestCaseResult(file, assertion('flaky', 'passed', { invocations: 2 }));
    // Not retried after all (the retryTimes call was in a branch not taken): its only attempt is final.
    instance.onTestCaseResult(file, assertion('broken', 'failed', { ...failure, invocations: 1 }));
    instance.onTestFileResult(file, {
      testFilePath: retried,
      testResults: [
        assertion('flaky', 'passed', { invocations: 2 }),
        assertion('broken', 'failed', { ...failure, invocations: 1 }),
      ],
    });
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 1,
      numFailedTests: 1,
      numRuntimeErrorTestSuites: 0,
    });
    const results = of('test.result').map((r) => [r.testName, r.attempt, r.status, r.willRetry ?? false]);
    expect(results).toEqual([
      ['flaky', 1, 'failed', true],
      ['flaky', 2, 'passed', false],
      ['broken', 1, 'failed', true],
      ['broken', 1, 'failed', false],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 2, passed: 1, failed: 1, flaky: 1 });
  });

  it('rebuilds attempts jest did not send live from invocations and retryReasons', () => {
    const { instance, of } = reporter();
    instance.onRunStart({ numTotalTestSuites: 1 });
    instance.onTestFileResult(test, {
      testFilePath: file,
      testResults: [
        assertion('flaky', 'passed', {
          invocations: 3,
          retryReasons: ['Error: first\n    at x (math.test.js:1:1)'],
        }),
      ],
    });
    const results = of('test.result');
    expect(results.map((r) => [r.attempt, r.status, r.willRetry ?? false, r.flaky ?? false])).toEqual([
      [1, 'failed', true, false],
      [2, 'failed', true, false],
      [3, 'passed', false, true],
    ]);
    expect(results[0].error.message).toBe('first');
    expect(results[1].error.message).toContain('logErrorsBeforeRetry');
  });

  it.each([29, 30])(
    "jest %i: retries whose starts overtook the first attempt's failed result are that test's attempts, not twins",
    async (major) => {
      // Jest-circus retries a block's failed tests after its other tests, and a start reaches this reporter
      // ahead of results sent before it (jest's own reporters have no start hook). The hooks of a real jest 29
      // run of this file with --maxWorkers=2 and a cold cache, in the order and with the start times seen
      // (worker clock, ms); jest 30 gave the same order, its results with their start times.
      const root29 = mkdtempSync(join(tmpdir(), `testwire-jest${major}-`));
      mkdirSync(join(root29, 'node_modules', 'jest'), { recursive: true });
      writeFileSync(
        join(root29, 'node_modules', 'jest', 'package.json'),
        `{ "name": "jest", "version": "${major}.0.0" }`,
      );
      const source = join(root29, 'retry.test.js');
      writeFileSync(source, 'jest.retryTimes(2);\n');
      const events: PublishedEvent[] = [];
      const instance = new TestwireJestReporter({ rootDir: root29 }, {
        performanceIntervalMs: 0,
        progressIntervalMs: 0,
        sink: (event: PublishedEvent) => events.push(event),
      } as never);
      const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
      const file = { path: source, context: { config: {} } };
      const at = 1_796_644_925_000;
      const start = (title: string, startedAt: number) =>
        instance.onTestCaseStart(file, { ancestorTitles: [], title, startedAt: at + startedAt });
      const result = (title: string, status: string, invocations: number, startedAt: number) =>
        instance.onTestCaseResult(file, {
          ...assertion(title, status, { invocations, duration: 0 }),
          ancestorTitles: [],
          ...(status === 'failed' ? failure : {}),
          ...(major >= 30 ? { startedAt: at + startedAt } : {}),
        });
      instance.onRunStart({ numTotalTestSuites: 1 });
      instance.onTestFileStart(file);
      start('flaky', 887);
      result('flaky', 'failed', 1, 887);
      start('always', 908);
      start('flaky', 909); // the second test named flaky
      start('ok', 910);
      start('flaky', 910); // the first one's retry
      start('always', 910); // its retries: ahead of its first attempt's result
      start('always', 911);
      start('flaky', 916);
      start('flaky', 917);
      result('always', 'failed', 1, 908);
      result('flaky', 'failed', 1, 909);
      result('ok', 'passed', 1, 910);
      result('flaky', 'passed', 2, 910);
      result('always', 'failed', 2, 910);
      result('always', 'failed', 3, 911);
      result('flaky', 'failed', 2, 916);
      result('flaky', 'passed', 3, 917);
      const entry = (title: string, status: string, invocations: number) => ({
        ...assertion(title, status, { invocations }),
        ancestorTitles: [],
      });
      instance.onTestFileResult(file, {
        testFilePath: source,
        testResults: [
          entry('flaky', 'passed', 2),
          entry('always', 'failed', 3),
          entry('flaky', 'passed', 3),
          entry('ok', 'passed', 1),
        ],
        perfStats: { start: at + 429 },
      } as never);
      await instance.onRunComplete(new Set(), {
        numTotalTestSuites: 1,
        numFailedTests: 1,
        numRuntimeErrorTestSuites: 0,
      } as never);
      rmSync(root29, { recursive: true, force: true });
      const resultIds = new Set(of('test.result').map((r) => r.id));
      expect(resultIds.size).toBe(4);
      // Every test that started has a result: no twin of a retried test left running.
      const started = of('test.progress').filter((p) => p.id !== undefined);
      expect(started.filter((p) => !resultIds.has(p.id)).map((p) => p.id)).toEqual([]);
      expect(of('test.progress').at(-1)).toMatchObject({ status: 'idle', total: 4, completed: 4 });
      expect(of('test.completed')[0].summary).toMatchObject({ total: 4, passed: 3, failed: 1, flaky: 2 });
    },
  );

  it('a file jest runs again after its worker exited: the same tests, their attempts going on', async () => {
    // Jest 29's hooks when the worker exits during `exits` and jest runs the file in a new one (times in ms,
    // worker clock); each worker's results count invocations from 1.
    const { instance, of } = reporter({ progressIntervalMs: 0 });
    const at = 1_796_644_925_000;
    const start = (title: string, startedAt: number) =>
      instance.onTestCaseStart(test, { ancestorTitles: ['math'], title, startedAt: at + startedAt });
    const result = (title: string, status: string) =>
      instance.onTestCaseResult(test, assertion(title, status, { duration: 1 }));
    instance.onRunStart({ numTotalTestSuites: 1 });
    instance.onTestFileStart(test);
    start('before', 0);
    result('before', 'passed');
    start('exits', 2); // the worker exits during it
    start('before', 1000); // the new worker
    result('before', 'passed');
    start('exits', 1002);
    result('exits', 'passed');
    start('after', 1004);
    result('after', 'passed');
    instance.onTestFileResult(test, {
      testFilePath: file,
      testResults: [
        assertion('before', 'passed'),
        assertion('exits', 'passed'),
        assertion('after', 'passed'),
      ],
      perfStats: { start: at + 900 },
    } as never);
    await instance.onRunComplete(new Set(), {
      numTotalTestSuites: 1,
      numFailedTests: 0,
      numRuntimeErrorTestSuites: 0,
    } as never);
    expect(of('test.result').map((r) => [r.testName, r.attempt, r.status, r.flaky === true])).toEqual([
      ['before', 1, 'passed', false],
      ['exits', 1, 'failed', false],
      ['before', 2, 'passed', false],
      ['exits', 2, 'passed', true],
      ['after', 1, 'passed', false],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 3, passed: 3, failed: 0, flaky: 1 });
  });

  it('flags jest timeouts', () => {
    const { instance, of } = reporter();
    instance.onTestCaseResult(
      test,
      assertion('slow', 'failed', {
        failureMessages: [
          'thrown: "Exceeded timeout of 5000 ms for a test.\nAdd a timeout value to this test…"\n    at x (math.test.js:1:1)',
        ],
      }),
    );
    expect(of('test.result')[0]).toMatchObject({ status: 'failed', timedOut: true });
  });

  it('success follows jest exit code logic, evaluated before jest sets results.success', async () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ numFailedTests: 0, numRuntimeErrorTestSuites: 0 }, true],
      [{ numFailedTests: 1, numRuntimeErrorTestSuites: 0 }, false],
      [{ numFailedTests: 0, numRuntimeErrorTestSuites: 1 }, false],
      [{ numFailedTests: 0, numRuntimeErrorTestSuites: 0, snapshot: { failure: true } }, false],
      [{ numFailedTests: 0, numRuntimeErrorTestSuites: 0, wasInterrupted: true }, false],
    ];
    for (const [results, success] of cases) {
      const { instance, of } = reporter();
      instance.onRunStart({ numTotalTestSuites: 0 });
      await instance.onRunComplete(new Set(), { numTotalTestSuites: 0, ...results } as never);
      expect(of('test.completed')[0].summary.success).toBe(success);
    }
  });

  it('a watch-mode rerun is a new run', async () => {
    const { instance, of } = reporter();
    for (let i = 0; i < 2; i++) {
      instance.onRunStart({ numTotalTestSuites: 1 });
      instance.onTestCaseResult(test, assertion('adds', 'passed'));
      await instance.onRunComplete(new Set(), {
        numTotalTestSuites: 1,
        numFailedTests: 0,
        numRuntimeErrorTestSuites: 0,
      });
    }
    const started = of('test.started');
    expect(started).toHaveLength(2);
    expect(started[0].run.runId).not.toBe(started[1].run.runId);
    expect(of('test.completed').map((c) => c.summary.total)).toEqual([1, 1]);
  });

  it('never throws into jest, whatever it is given', async () => {
    const { instance } = reporter();
    const junk = null as never;
    expect(() => {
      instance.onRunStart(junk);
      instance.onTestFileStart(junk);
      instance.onTestCaseStart(junk, junk);
      instance.onTestCaseResult(junk, junk);
      instance.onTestFileResult(junk, junk);
    }).not.toThrow();
    await expect(instance.onRunComplete(junk, junk)).resolves.toBeUndefined();
    expect(() => new TestwireJestReporter(junk, junk)).not.toThrow();
  });
});

describe('module shape', () => {
  const require = createRequire(import.meta.url);
  it("require('@testwire/jest') is the reporter class, also as .default", () => {
    const Reporter = require('../dist/index.cjs');
    expect(typeof Reporter).toBe('function');
    expect(Reporter.name).toBe('TestwireJestReporter');
    expect(Reporter.default).toBe(Reporter);
  });

  it.each(['jest-29', 'jest-30'])(
    '%s loads it the way it loads reporters (requireOrImportModule)',
    async (compat) => {
      const compatDir = join(__dirname, '../../../compat', compat);
      const fromJest = createRequire(require.resolve('jest/package.json', { paths: [compatDir] }));
      const fromCore = createRequire(fromJest.resolve('@jest/core'));
      const { requireOrImportModule } = fromCore('jest-util');
      const path = require.resolve('@testwire/jest', { paths: [compatDir] });
      const Reporter = await requireOrImportModule(path);
      expect(Reporter.name).toBe('TestwireJestReporter');
      expect(new Reporter({ rootDir: root }, { enabled: false }).getLastError()).toBeUndefined();
    },
  );
});
