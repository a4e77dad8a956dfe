import { describe, expect, test } from 'vitest';
import { outcomesOf, STATUS, statusOf } from '../src/outcome.js';
import { error, finish, module, testCase } from './fakes.js';

describe('statusOf', () => {
  test('maps every Vitest state', () => {
    expect(STATUS).toEqual({ passed: 'passed', failed: 'failed', skipped: 'skipped', pending: 'skipped' });
  });

  test('a skipped test.todo is todo; a todo that somehow ran keeps its real state', () => {
    expect(statusOf('skipped', 'todo')).toBe('todo');
    expect(statusOf('skipped', 'skip')).toBe('skipped');
    expect(statusOf('failed', 'todo')).toBe('failed');
  });
});

describe('outcomesOf', () => {
  const file = module('a.test.ts');

  test('a test that passed first time is one attempt', () => {
    const t = finish(testCase(file, 'one'), 'passed', { duration: 12 });
    expect(outcomesOf(t)).toEqual([
      { status: 'passed', rawStatus: 'passed', duration: 12, attempt: 1, startedAt: 1_700_000_000_000 },
    ]);
  });

  test('durations in whole ms, as the other runners send them (Vitest measures fractions)', () => {
    const once = finish(testCase(file, 'once'), 'passed', { duration: 700.9165710000001 });
    expect(outcomesOf(once).map((o) => o.duration)).toEqual([701]);
    const failed = finish(testCase(file, 'failed'), 'failed', { errors: [error('x')], duration: 4.43 });
    expect(outcomesOf(failed).map((o) => o.duration)).toEqual([4]);
    // Retried: the attempts share the rounded whole, still summing to it.
    const retried = finish(testCase(file, 'retried'), 'passed', {
      errors: [error('first')],
      retryCount: 1,
      duration: 10.6,
    });
    expect(outcomesOf(retried).map((o) => o.duration)).toEqual([6, 5]);
  });

  test('retried then passed: one failed willRetry attempt per retry, each with its own error', () => {
    const e1 = error('first');
    const e2 = error('second');
    const t = finish(testCase(file, 'flaky'), 'passed', { errors: [e1, e2], retryCount: 2, duration: 30 });
    const outcomes = outcomesOf(t);
    expect(outcomes.map((o) => [o.attempt, o.status, o.willRetry, o.errors])).toEqual([
      [1, 'failed', true, [e1]],
      [2, 'failed', true, [e2]],
      [3, 'passed', undefined, undefined],
    ]);
    expect(outcomes.reduce((sum, o) => sum + o.duration, 0)).toBe(30);
    expect(outcomes[0].startedAt).toBe(1_700_000_000_000);
    expect(outcomes[1].startedAt).toBeUndefined();
  });

  test('retried and failed every time: the last attempt fails without willRetry', () => {
    const t = finish(testCase(file, 'broken'), 'failed', { errors: [error('a'), error('b')], retryCount: 1 });
    const outcomes = outcomesOf(t);
    expect(outcomes.map((o) => [o.status, o.willRetry, o.errors?.length])).toEqual([
      ['failed', true, 1],
      ['failed', undefined, 1],
    ]);
  });

  test('surplus errors (an afterEach that also threw) go to the last failed attempt, none dropped', () => {
    const errors = [error('a'), error('b'), error('afterEach')];
    const failed = outcomesOf(finish(testCase(file, 'x'), 'failed', { errors, retryCount: 1 }));
    expect(failed.map((o) => o.errors?.map((e) => (e as { message: string }).message))).toEqual([
      ['a'],
      ['b', 'afterEach'],
    ]);
    const passed = outcomesOf(finish(testCase(file, 'y'), 'passed', { errors, retryCount: 1 }));
    expect(passed.map((o) => o.errors?.map((e) => (e as { message: string }).message))).toEqual([
      ['a', 'b', 'afterEach'],
      undefined,
    ]);
  });

  test('Vitest 3 repeats: retries counted for passing repeats are not failed attempts', () => {
    // `{ retry: 1, repeats: 2 }` that always passes: Vitest 3.2 reports retryCount 1 and no error.
    const repeated = finish(testCase(file, 'repeats'), 'passed', { retryCount: 1, duration: 8 });
    expect(outcomesOf(repeated)).toEqual([
      { status: 'passed', rawStatus: 'passed', duration: 8, attempt: 1, startedAt: 1_700_000_000_000 },
    ]);
    // One real failure among two counted retries: one failed attempt (its error), then the pass.
    const once = finish(testCase(file, 'once'), 'passed', { errors: [error('x')], retryCount: 2 });
    expect(outcomesOf(once).map((o) => [o.status, o.willRetry, o.errors?.length])).toEqual([
      ['failed', true, 1],
      ['passed', undefined, undefined],
    ]);
    // Failed in the end with one error: that attempt is the last, nothing invented before it.
    const failed = finish(testCase(file, 'failed'), 'failed', { errors: [error('y')], retryCount: 1 });
    expect(outcomesOf(failed).map((o) => [o.status, o.willRetry, o.errors?.length])).toEqual([
      ['failed', undefined, 1],
    ]);
  });

  test('test.fails with retry is one attempt with the final state (no expected failure split off), rawStatus expected fail', () => {
    // An expected failure retried once: Vitest flips it to passed and drops its errors.
    const expected = finish(testCase(file, 'fails'), 'passed', { retryCount: 1, duration: 6 });
    Object.assign(expected.options, { fails: true });
    expect(outcomesOf(expected)).toEqual([
      { status: 'passed', rawStatus: 'expected fail', duration: 6, attempt: 1, startedAt: 1_700_000_000_000 },
    ]);
    // Failed first (expected), then passed (unexpected): failed with Vitest's one error.
    const unexpected = finish(testCase(file, 'passes'), 'failed', {
      errors: [error('Expect test to fail')],
      retryCount: 1,
    });
    Object.assign(unexpected.options, { fails: true });
    expect(outcomesOf(unexpected)).toMatchObject([
      { status: 'failed', attempt: 1, errors: [{ message: 'Expect test to fail' }] },
    ]);
    expect(outcomesOf(unexpected)[0].willRetry).toBeUndefined();
  });

  test('a bench of `vitest bench`: its duration is the time tinybench sampled it, no performance.now() start', () => {
    const bench = finish(testCase(file, 'sort'), 'passed');
    Object.assign(bench, {
      task: { meta: { benchmark: true }, result: { benchmark: { totalTime: 37.66 } } },
    });
    (bench as { _diagnostic: unknown })._diagnostic = {
      duration: undefined,
      startTime: 1192.58,
      retryCount: 0,
    };
    expect(outcomesOf(bench)).toEqual([{ status: 'passed', rawStatus: 'passed', duration: 38, attempt: 1 }]);
    // A bench that threw: Vitest leaves it running (pending), with no figures.
    const threw = testCase(file, 'throws');
    Object.assign(threw, { task: { meta: { benchmark: true }, result: { benchmark: {} } } });
    expect(outcomesOf(threw)).toEqual([{ status: 'skipped', rawStatus: 'pending', duration: 0, attempt: 1 }]);
  });

  test('timeouts are flagged on the attempt that timed out', () => {
    const timeout = {
      message: 'Test timed out in 50ms.\nIf this is a long-running test, pass a timeout value',
    };
    const outcomes = outcomesOf(
      finish(testCase(file, 'slow'), 'passed', { errors: [timeout], retryCount: 1 }),
    );
    expect(outcomes.map((o) => o.timedOut)).toEqual([true, undefined]);
  });

  test('skipped, todo and never-run tests are one attempt without errors', () => {
    expect(outcomesOf(finish(testCase(file, 's', 'skip'), 'skipped'))).toMatchObject([
      { status: 'skipped', rawStatus: 'skipped', attempt: 1 },
    ]);
    expect(outcomesOf(finish(testCase(file, 't', 'todo'), 'skipped'))).toMatchObject([
      { status: 'todo', rawStatus: 'todo' },
    ]);
    const pending = testCase(file, 'p');
    expect(outcomesOf(pending)).toEqual([
      { status: 'skipped', rawStatus: 'pending', duration: 0, attempt: 1, startedAt: undefined },
    ]);
  });

  test('a Vitest without diagnostic() still yields the final outcome', () => {
    const t = testCase(file, 'old');
    t._result = { state: 'failed', errors: [error('boom')] };
    (t as { diagnostic?: unknown }).diagnostic = undefined;
    expect(outcomesOf(t)).toMatchObject([
      { status: 'failed', attempt: 1, duration: 0, errors: [{ message: 'boom' }] },
    ]);
  });
});

describe('outcomesOf with Vitest 5 attempts()', () => {
  const file = module('b.test.ts');

  test('uses each attempt as reported: own errors, duration and start time', () => {
    const e1 = error('first');
    const e2 = error('second');
    const e3 = error('afterEach of the second');
    const t = finish(testCase(file, 'flaky'), 'passed', {
      errors: [e1, e2, e3],
      retryCount: 2,
      duration: 99,
    });
    t.attempts = () => [
      { state: 'failed', errors: [e1], duration: 5, startTime: 100, retryIndex: 0, repeatIndex: 0 },
      { state: 'failed', errors: [e2, e3], duration: 6, startTime: 200, retryIndex: 1, repeatIndex: 0 },
      { state: 'passed', errors: undefined, duration: 7, startTime: 300, retryIndex: 2, repeatIndex: 0 },
    ];
    expect(
      outcomesOf(t).map((o) => [o.attempt, o.status, o.willRetry, o.duration, o.startedAt, o.errors?.length]),
    ).toEqual([
      [1, 'failed', true, 5, 100, 1],
      [2, 'failed', true, 6, 200, 2],
      [3, 'passed', undefined, 7, 300, undefined],
    ]);
  });

  test('with repeats the totals are used: one final result per test case', () => {
    const t = finish(testCase(file, 'repeated'), 'passed', { retryCount: 0, duration: 30 });
    t.attempts = () => [
      { state: 'passed', duration: 10, startTime: 1, retryIndex: 0, repeatIndex: 0 },
      { state: 'passed', duration: 10, startTime: 2, retryIndex: 0, repeatIndex: 1 },
    ];
    expect(outcomesOf(t)).toMatchObject([{ status: 'passed', attempt: 1, duration: 30 }]);
  });
});
