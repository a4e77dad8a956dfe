import type { FullResult, TestError } from '@playwright/test/reporter';
import {
  type EventDataMap,
  type EventType,
  type PublishedEvent,
  validatePublishedEvent,
} from '@testwire/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import TestwireReporterDefault, { TestwireReporter, toRawError } from '../src/index.js';
import { begin, config, end, ROOT, suite, testCase, tree } from './fakes.js';

function collect(options: Record<string, unknown> = {}) {
  const events: PublishedEvent[] = [];
  const reporter = new TestwireReporter({
    performanceIntervalMs: 0,
    slowTestThreshold: 0,
    sink: (event) => events.push(event),
    ...options,
  });
  const of = <T extends EventType>(type: T) =>
    events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);
  return { reporter, events, of };
}

const fullResult = (status: FullResult['status']): FullResult => ({
  status,
  startTime: new Date(),
  duration: 10,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TestwireReporter', () => {
  it('is the default export and prints nothing itself', () => {
    expect(TestwireReporterDefault).toBe(TestwireReporter);
    expect(new TestwireReporter().printsToStdio()).toBe(false);
  });

  it('streams a run: start, attempts with retries, output, errors, completion', async () => {
    const { reporter, events, of } = collect();
    const { root, group, project } = tree();
    const otherFile = suite('file', 'tests/b.spec.ts', project);
    const passes = testCase(group, 'passes', { retries: 1 });
    const flaky = testCase(group, 'flaky', { retries: 1 });
    const expectedFailure = testCase(group, 'expected failure', { retries: 1, expectedStatus: 'failed' });
    const other = testCase(otherFile, 'other', { file: `${ROOT}/tests/b.spec.ts` });

    reporter.onBegin(config({ shard: { current: 1, total: 3 } }), root);
    expect(of('test.started')[0]).toMatchObject({
      framework: 'playwright',
      totalTests: 4,
      testFiles: ['tests/a.spec.ts', 'tests/b.spec.ts'],
      options: { workers: 2, retries: 1, projects: ['chromium'] },
      run: { frameworkVersion: '1.99.0', shard: { current: 1, total: 3 } },
    });

    let result = begin(passes);
    reporter.onTestBegin(passes, result);
    reporter.onStdOut('hello\n', passes, result);
    reporter.onStdErr(Buffer.from('oops\n'), passes, result);
    reporter.onTestEnd(passes, end(result, 'passed', 12));

    result = begin(flaky);
    reporter.onTestBegin(flaky, result);
    reporter.onTestEnd(
      flaky,
      end(result, 'failed', 3, [{ message: 'Error: first try', stack: 'Error: first try\n    at x' }]),
    );
    result = begin(flaky);
    reporter.onTestBegin(flaky, result);
    reporter.onTestEnd(flaky, end(result, 'passed', 4));

    result = begin(expectedFailure);
    reporter.onTestBegin(expectedFailure, result);
    reporter.onTestEnd(expectedFailure, end(result, 'failed', 2, [{ message: 'Error: as expected' }]));

    result = begin(other);
    reporter.onTestBegin(other, result);
    reporter.onStdOut('between tests\n');
    reporter.onTestEnd(
      other,
      end(result, 'timedOut', 30_000, [{ message: 'Test timeout of 30000ms exceeded.' }]),
    );

    reporter.onError({ message: 'Error: worker crashed' });
    await expect(reporter.onEnd(fullResult('failed'))).resolves.toBeUndefined();
    await reporter.onExit();

    const results = of('test.result');
    expect(results.map((r) => [r.titlePath.join(' › '), r.status, r.rawStatus, r.attempt])).toEqual([
      ['group › passes', 'passed', 'passed', 1],
      ['group › flaky', 'failed', 'failed', 1],
      ['group › flaky', 'passed', 'passed', 2],
      ['group › expected failure', 'passed', 'failed', 1],
      ['other', 'failed', 'timedOut', 1],
    ]);
    expect(results[0]).toMatchObject({ project: 'chromium', file: 'tests/a.spec.ts', line: 3, duration: 12 });
    expect(results[0].startedAt).toBe(1_700_000_000_000);
    expect(results[1].willRetry).toBe(true);
    expect(results[1].error?.message).toBe('first try');
    expect(results[2].flaky).toBe(true);
    expect(results[4]).toMatchObject({ timedOut: true, file: 'tests/b.spec.ts' });
    expect(results[4].willRetry).toBeUndefined();
    // Same test, same id on every attempt; different tests, different ids.
    expect(results[1].id).toBe(results[2].id);
    expect(new Set(results.map((r) => r.id)).size).toBe(4);

    const outputs = of('test.output');
    expect(outputs.map((o) => [o.output, o.outputType, o.testName])).toEqual([
      ['hello\n', 'stdout', 'passes'],
      ['oops\n', 'stderr', 'passes'],
      ['between tests\n', 'stdout', undefined],
    ]);

    const failed = of('test.failed');
    expect(failed.filter((f) => f.scope === 'run').map((f) => f.error.message)).toEqual(['worker crashed']);

    const completed = of('test.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      summary: { total: 4, passed: 3, failed: 1, flaky: 1, success: false },
      rawStatus: 'failed',
    });
    expect(events.at(-1)?.type).toBe('test.completed');
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('reports success and interruption from the run status', async () => {
    for (const status of ['passed', 'interrupted'] as const) {
      const { reporter, of } = collect();
      reporter.onBegin(config(), tree().root);
      await reporter.onEnd(fullResult(status));
      expect(of('test.completed')[0]).toMatchObject({
        summary: { success: status === 'passed' },
        rawStatus: status,
        ...(status === 'interrupted' ? { interrupted: true } : {}),
      });
    }
  });

  it("the global timeout's late calls: a test's end, step and output after onEnd open no second run", async () => {
    const { reporter, events, of } = collect();
    const { root, group } = tree();
    const done = testCase(group, 'done');
    const long = testCase(group, 'long');
    reporter.onBegin(config(), root);
    let result = begin(done);
    reporter.onTestBegin(done, result);
    reporter.onTestEnd(done, end(result, 'passed'));
    result = begin(long);
    reporter.onTestBegin(long, result);
    // Playwright ends the run while `long` runs, then its worker ends `long`: after onEnd.
    await reporter.onEnd(fullResult('timedout'));
    const ended = events.length;
    reporter.onStdOut('teardown\n', long, result);
    reporter.onStepEnd(long, result, {
      title: 'late step',
      category: 'test.step',
      startTime: new Date(),
      duration: 1,
      steps: [],
    } as never);
    reporter.onTestEnd(long, end(result, 'interrupted', 1382));
    reporter.onError({ message: 'late worker error' });
    await reporter.onExit();
    expect(events.slice(ended).map((e) => e.type)).toEqual([]);
    expect(of('test.started')).toHaveLength(1);
    expect(of('test.completed')).toHaveLength(1);
    // `long` keeps the one result onEnd gave it.
    expect(of('test.result').map((r) => [r.titlePath.at(-1), r.status, r.rawStatus])).toEqual([
      ['done', 'passed', 'passed'],
      ['long', 'skipped', 'interrupted'],
    ]);
    expect(new Set(events.map((e) => e.runId)).size).toBe(1);
  });

  it('a beforeAll/afterAll step that failed its test: one hook failure with HOOK_FAILED; a skipping one is none', async () => {
    const { reporter, of } = collect();
    const { root, group } = tree();
    const file = `${ROOT}/tests/a.spec.ts`;
    const at = (line: number) => ({ file, line, column: 8 });
    // Playwright's suites keep their hooks: a titled one is told by its location.
    (group as unknown as { _hooks: unknown[] })._hooks = [
      { type: 'beforeAll', title: 'connect', location: at(2) },
      { type: 'beforeEach', title: 'beforeEach hook', location: at(3) },
    ];
    const first = testCase(group, 'first');
    const second = testCase(group, 'second');
    const third = testCase(group, 'third');
    const fourth = testCase(group, 'fourth');
    const boom = (message: string, line: number): TestError => ({
      message: `Error: ${message}`,
      stack: `Error: ${message}\n    at ${file}:${line}:30`,
    });
    const step = (title: string, line: number | undefined, error?: TestError) =>
      ({
        title,
        category: 'hook',
        startTime: new Date(),
        duration: 1,
        error,
        location: line === undefined ? undefined : at(line),
      }) as never;
    reporter.onBegin(config({ projects: [{ name: 'chromium', retries: 0 }] as never }), root);
    const run = (test: typeof first, steps: unknown[], status: 'failed' | 'skipped', errors: TestError[]) => {
      const result = begin(test);
      reporter.onTestBegin(test, result);
      for (const s of steps) reporter.onStepEnd(test, result, s as never);
      reporter.onTestEnd(test, end(result, status, 5, errors));
    };
    // A titled beforeAll, and the `Before Hooks` step around it (no location: not a hook of its own).
    const connect = boom('cannot connect', 2);
    run(first, [step('connect', 2, connect), step('Before Hooks', undefined, connect)], 'failed', [connect]);
    // A beforeEach is the test's own failure.
    const each = boom('each boom', 3);
    run(second, [step('beforeEach hook', 3, each)], 'failed', [each]);
    // A beforeAll that calls test.skip() ends its step with an error and skips the test.
    const skip = { message: 'Error: Test is skipped: no db' };
    run(third, [step('beforeAll hook', 4, skip)], 'skipped', []);
    // An untitled afterAll (not in the suite's hooks here): by its title.
    const cleanup = boom('cannot clean up', 5);
    run(fourth, [step('afterAll hook', 5, cleanup)], 'failed', [cleanup]);
    await reporter.onEnd(fullResult('failed'));

    expect(of('test.failed').map((f) => [f.scope, f.testName, f.file, f.error.message])).toEqual([
      ['hook', '"beforeAll" hook for "first"', 'tests/a.spec.ts', 'cannot connect'],
      ['test', 'first', 'tests/a.spec.ts', 'cannot connect'],
      ['test', 'second', 'tests/a.spec.ts', 'each boom'],
      ['hook', '"afterAll" hook for "fourth"', 'tests/a.spec.ts', 'cannot clean up'],
      ['test', 'fourth', 'tests/a.spec.ts', 'cannot clean up'],
    ]);
    expect(of('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'tests/a.spec.ts', 'cannot connect'],
      ['HOOK_FAILED', 'tests/a.spec.ts', 'cannot clean up'],
    ]);
    expect(of('test.completed')[0].summary).toMatchObject({ total: 4, failed: 3, skipped: 1 });
  });

  it('sends no output with captureOutput: false', () => {
    const { reporter, of } = collect({ captureOutput: false });
    const { root, group } = tree();
    const test = testCase(group, 't');
    reporter.onBegin(config(), root);
    const result = begin(test);
    reporter.onTestBegin(test, result);
    reporter.onStdOut('hidden\n', test, result);
    reporter.onTestEnd(test, end(result, 'passed'));
    expect(of('test.output')).toEqual([]);
    expect(of('test.result')).toHaveLength(1);
  });

  it('streams nothing for `playwright test --list` or when disabled', async () => {
    for (const options of [{ _mode: 'list' }, { enabled: false }]) {
      const { reporter, events } = collect(options);
      const { root, group } = tree();
      const test = testCase(group, 't');
      reporter.onBegin(config(), root);
      const result = begin(test);
      reporter.onTestBegin(test, result);
      reporter.onTestEnd(test, end(result, 'passed'));
      await reporter.onEnd(fullResult('passed'));
      await reporter.onExit();
      expect(events).toEqual([]);
    }
  });

  it('never throws into Playwright, whatever the order of calls or the sink does', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const reporter = new TestwireReporter({
      performanceIntervalMs: 0,
      sink: () => {
        throw new Error('sink broke');
      },
    });
    const { root, group } = tree();
    const test = testCase(group, 't');
    const result = begin(test);
    // Before onBegin: nothing to attribute to yet.
    expect(() => reporter.onTestBegin(test, result)).not.toThrow();
    expect(() => reporter.onTestEnd(test, end(result, 'passed'))).not.toThrow();
    expect(() => reporter.onBegin(config(), root)).not.toThrow();
    expect(() => reporter.onTestBegin(test, result)).not.toThrow();
    expect(() => reporter.onStdOut('x', test, result)).not.toThrow();
    expect(() => reporter.onError({ message: 'boom' })).not.toThrow();
    // A malformed test object (a future Playwright) is swallowed too.
    expect(() => reporter.onTestEnd({} as never, result)).not.toThrow();
    await expect(reporter.onEnd(fullResult('passed'))).resolves.toBeUndefined();
    await expect(reporter.onExit()).resolves.toBeUndefined();
    stderr.mockRestore();
  });

  it("does not pass Playwright's own constructor keys on to the core (no unknown-option warning)", () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    const reporter = new TestwireReporter({
      performanceIntervalMs: 0,
      sink: () => {},
      configDir: ROOT,
      _mode: 'test',
      _commandHash: 'abc',
    } as never);
    reporter.onBegin(config(), tree().root);
    expect(writes.join('')).not.toMatch(/unknown option/);
  });
});

describe('toRawError', () => {
  it('strips colours and the class prefix, keeps the stack', () => {
    const error: TestError = {
      message:
        'Error: \u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).\u001b[22mtoBe\u001b[2m(\u001b[22m\u001b[32mexpected\u001b[39m\u001b[2m)\u001b[22m\n\nExpected: \u001b[32m0\u001b[39m\nReceived: \u001b[31mInfinity\u001b[39m',
      stack: 'Error: expect(received).toBe(expected)\n    at /repo/app/tests/a.spec.ts:15:21',
    };
    expect(toRawError(error)).toEqual({
      name: 'Error',
      message: 'expect(received).toBe(expected)\n\nExpected: 0\nReceived: Infinity',
      stack: 'Error: expect(received).toBe(expected)\n    at /repo/app/tests/a.spec.ts:15:21',
    });
  });

  it('keeps a specific error class name', () => {
    expect(toRawError({ message: 'TimeoutError: locator.click: Timeout 100ms exceeded.' })).toMatchObject({
      name: 'TimeoutError',
      message: 'locator.click: Timeout 100ms exceeded.',
    });
  });

  it('turns a location-only error (a file that fails to load) into a stack frame', () => {
    expect(
      toRawError({
        message: 'SyntaxError: Unexpected token',
        location: { file: '/repo/app/x.spec.ts', line: 2, column: 5 },
      }),
    ).toEqual({
      name: 'SyntaxError',
      message: 'Unexpected token',
      stack: 'SyntaxError: Unexpected token\n    at /repo/app/x.spec.ts:2:5',
    });
  });

  it('keeps the cause chain Playwright serializes (the core puts it in the message)', () => {
    const error = {
      message: 'Error: top level failed',
      stack: 'Error: top level failed\n    at /repo/app/tests/a.spec.ts:3:9',
      cause: { message: 'Error: mid layer failed', cause: { message: 'TypeError: root db down' } },
    } as TestError;
    expect(toRawError(error)).toMatchObject({
      name: 'Error',
      message: 'top level failed',
      cause: {
        name: 'Error',
        message: 'mid layer failed',
        cause: { name: 'TypeError', message: 'root db down' },
      },
    });
  });

  it('uses the value of a thrown non-Error', () => {
    expect(toRawError({ value: '42' })).toEqual({ message: '42' });
    expect(toRawError({})).toEqual({ message: 'Unknown error' });
  });
});
