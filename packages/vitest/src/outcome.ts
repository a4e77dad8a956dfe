/**
 * Vitest test case -> testwire outcomes: the status table and the split of one test case into attempts.
 *
 * Vitest runs retries inside one test case and reports it once (`onTestCaseResult`), with
 * `diagnostic().retryCount` retries performed and `result().errors` accumulated over every attempt
 * ("if the test was retried successfully, errors will still be reported"). testwire publishes one
 * `test.result` per attempt, so the attempts are rebuilt here:
 *
 *   retryCount = 2, final state passed, errors [e1, e2]
 *     attempt 1  failed  willRetry  [e1]
 *     attempt 2  failed  willRetry  [e2]
 *     attempt 3  passed             []
 *
 * Each failed attempt usually throws exactly one error; when the count does not match (an `afterEach`
 * that also threw), the surplus goes to the last failed attempt so no error is ever dropped.
 *
 * `retryCount` is not always a count of failures, and no attempt is streamed as failed without an error of
 * its own (an attempt Vitest ran and that failed always holds one, `failTask` in @vitest/runner):
 *   - Vitest 3 with `repeats`: a passing attempt of the first repeat is retried as long as attempts are left
 *     (its state stays `run` until the last retry index), and counted in `retryCount`. Failed attempts
 *     before the last are therefore at most the errors there are: `{ retry: 1, repeats: 2 }` that always
 *     passes has `retryCount` 1 and no error, and is one passed attempt.
 *   - `test.fails` (Vitest 3 and 4): the runner retries while the raw state is failed, so an expected
 *     failure is retried `retry` times, then flipped to passed with its errors dropped; an unexpected pass
 *     is flipped to failed with one error, `Expect test to fail`. Which raw attempt did what is not told:
 *     the test is one attempt with its final state and errors, as Vitest's own line shows it.
 *
 * Vitest 5 reports the attempts itself (`testCase.attempts()`, detected by feature, not by version):
 * their own errors, durations and start times are used as they are.
 */
import type { TestStatus } from '@testwire/protocol';
import type { TestOutcome } from '@testwire/reporter-core';
import { benchmarkOutcome, isBenchmark } from './benchmark.js';
import { withTypeCheckFrame } from './typecheck.js';
import type { VitestError, VitestTestAttempt, VitestTestCase, VitestTestState } from './vitest-types.js';

/** Typed as a Record so a new Vitest state fails to compile until it is mapped. */
export const STATUS: Record<VitestTestState, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  // Only seen for tests that never ran (run interrupted, `bail` reached): nothing ran, so skipped.
  pending: 'skipped',
};

/**
 * rawStatus of a `test.fails` test that failed as expected. Its state is `passed` and its status stays
 * `passed` (the contract's four statuses have no other place for it; Vitest 3 and its json reporter say
 * passed), but Vitest 4.1's `Tests` line counts it apart, in these words: `5 passed | 2 expected fail`.
 */
export const EXPECTED_FAIL = 'expected fail';

const TIMEOUT_MESSAGE = /^(?:Test|Hook) timed out in \d+ms/;

/** The testwire status of a Vitest state, `todo` for `test.todo` (Vitest reports those as skipped). */
export function statusOf(state: VitestTestState, mode: string | undefined): TestStatus {
  if (mode === 'todo' && state !== 'passed' && state !== 'failed') return 'todo';
  return STATUS[state] ?? 'skipped';
}

/**
 * Whole milliseconds, as the other runners report them: Vitest measures with `performance.now()`
 * (700.9165710000001), and the protocol's durations are ms.
 */
function msOf(duration: number | undefined): number {
  return typeof duration === 'number' && Number.isFinite(duration) ? Math.max(0, Math.round(duration)) : 0;
}

/** A `test.fails` test that failed, which Vitest flipped to passed (Vitest 4.1: an "expected fail"). */
function isExpectedFail(testCase: VitestTestCase, state: VitestTestState): boolean {
  return state === 'passed' && testCase.options?.fails === true;
}

function isTimeout(errors: readonly VitestError[]): boolean {
  return errors.some((error) => typeof error?.message === 'string' && TIMEOUT_MESSAGE.test(error.message));
}

/**
 * One outcome per attempt, in order; the last is the final one. Reads only documented members
 * (`result()`, `diagnostic()`, `options.mode`), each of which may be missing on an unknown version.
 */
export function outcomesOf(testCase: VitestTestCase): TestOutcome[] {
  const result = testCase.result();
  const state = result.state;
  const status = statusOf(state, testCase.options?.mode);
  const rawStatus = status === 'todo' ? 'todo' : isExpectedFail(testCase, state) ? EXPECTED_FAIL : state;
  // `vitest bench`: measured by tinybench, not timed as a test (see benchmark.ts).
  if (isBenchmark(testCase)) return [benchmarkOutcome(testCase, status, rawStatus)];
  const diagnostic = typeof testCase.diagnostic === 'function' ? testCase.diagnostic() : undefined;
  const duration = msOf(diagnostic?.duration);
  const startedAt = diagnostic?.startTime || undefined;

  if (state !== 'passed' && state !== 'failed') {
    const outcome: TestOutcome = { status, rawStatus, duration, attempt: 1 };
    if (startedAt !== undefined) outcome.startedAt = startedAt;
    return [outcome];
  }
  // The common case, built with the fields there are (it crosses to the reporter's thread at every test).
  const retried = Math.floor(diagnostic?.retryCount ?? 0) > 0;
  // tsc's errors (--typecheck) have their place only in `stacks`: given a stack frame (typecheck.ts).
  const firstErrors =
    result.errors && result.errors.length > 0 ? result.errors.map(withTypeCheckFrame) : undefined;
  if (!retried && typeof testCase.attempts !== 'function' && !(firstErrors && firstErrors.length > 0)) {
    const outcome: TestOutcome = { status, rawStatus, duration, attempt: 1 };
    if (startedAt !== undefined) outcome.startedAt = startedAt;
    return [outcome];
  }
  // `test.fails`: one attempt, the final one (see the header).
  if (testCase.options?.fails === true) {
    const attemptErrors = [...(firstErrors ?? [])];
    return [
      {
        status,
        rawStatus,
        duration,
        attempt: 1,
        timedOut: isTimeout(attemptErrors) || undefined,
        errors: attemptErrors.length > 0 ? attemptErrors : undefined,
        startedAt,
      },
    ];
  }

  const reported = reportedAttempts(testCase);
  if (reported) {
    return reported.map((attempt, index) => {
      const last = index === reported.length - 1;
      const attemptErrors = [...(attempt.errors ?? [])];
      return {
        // The last attempt's state is the test's (after `fails`); the ones before were retried, so failed.
        status: last ? status : 'failed',
        rawStatus: last ? rawStatus : 'failed',
        duration: msOf(attempt.duration),
        attempt: index + 1,
        willRetry: last ? undefined : true,
        timedOut: isTimeout(attemptErrors) || undefined,
        errors: attemptErrors.length > 0 ? attemptErrors : undefined,
        startedAt: attempt.startTime || undefined,
      };
    });
  }

  const errors = [...(firstErrors ?? [])];
  const finalFailed = state === 'failed';
  // Failed attempts before the last: one per retry, but never more than the errors left for them (the last
  // attempt, when it failed, keeps one): Vitest 3 counts retries of passing repeats too (see the header).
  const errorsBeforeLast = Math.max(0, errors.length - (finalFailed ? 1 : 0));
  const retries = Math.min(Math.max(0, Math.floor(diagnostic?.retryCount ?? 0)), errorsBeforeLast);
  const attempts = retries + 1;
  // Attempts whose errors we are looking for: every attempt before the last, plus the last if it failed.
  const failedAttempts = finalFailed ? attempts : attempts - 1;
  const errorsOf = (index: number): VitestError[] => {
    if (index >= failedAttempts) return [];
    // The last failed attempt takes the surplus.
    return index === failedAttempts - 1 ? errors.slice(index) : errors.slice(index, index + 1);
  };
  // Vitest measures the test case as a whole: attempts get an even share of it.
  const share = attempts > 1 ? Math.round(duration / attempts) : duration;

  const outcomes: TestOutcome[] = [];
  for (let index = 0; index < attempts; index++) {
    const last = index === attempts - 1;
    const attemptErrors = errorsOf(index);
    outcomes.push({
      status: last ? status : 'failed',
      rawStatus: last ? rawStatus : 'failed',
      duration: last ? Math.max(0, duration - share * (attempts - 1)) : share,
      attempt: index + 1,
      willRetry: last ? undefined : true,
      timedOut: isTimeout(attemptErrors) || undefined,
      errors: attemptErrors.length > 0 ? attemptErrors : undefined,
      startedAt: index === 0 ? startedAt : undefined,
    });
  }
  return outcomes;
}

/**
 * The attempts Vitest >= 5 reports, when usable: with `repeats`, one test case holds several repeats each
 * with its own retries; testwire keeps one result per test case there and falls back to the totals.
 */
function reportedAttempts(testCase: VitestTestCase): readonly VitestTestAttempt[] | undefined {
  if (typeof testCase.attempts !== 'function') return undefined;
  const attempts = testCase.attempts();
  if (!Array.isArray(attempts) || attempts.length === 0) return undefined;
  if (attempts.some((attempt) => (attempt?.repeatIndex ?? 0) !== 0)) return undefined;
  return attempts;
}
