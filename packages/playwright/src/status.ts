/**
 * Playwright result statuses -> testwire statuses, with Playwright's own "expected status" semantics.
 */
import type { Suite, TestCase, TestResult } from '@playwright/test/reporter';
import type { TestStatus } from '@testwire/protocol';

/** The status of one Playwright attempt (`TestResult['status']`). */
export type PlaywrightStatus = TestResult['status'];

/**
 * What each Playwright status means for a test whose expected status is `passed` (the common case).
 * Typed as a Record so a status added by a future Playwright fails to compile here.
 *
 * `interrupted` (Ctrl-C, `maxFailures` reached) is `skipped`: Playwright's `outcome()` counts an
 * interrupted attempt as neither expected nor unexpected, so the test ends up "skipped" in its own reports.
 */
export const STATUS: Record<PlaywrightStatus, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  timedOut: 'failed',
  skipped: 'skipped',
  interrupted: 'skipped',
};

/**
 * testwire status of one attempt. A test marked `test.fail()` (expectedStatus `failed`) that fails is a
 * pass, and one that passes is a failure — exactly as Playwright's `testCase.outcome()` judges each result.
 */
export function attemptStatus(
  test: Pick<TestCase, 'expectedStatus'>,
  result: Pick<TestResult, 'status'>,
): TestStatus {
  const mapped = STATUS[result.status] ?? 'failed';
  if (mapped === 'skipped') return 'skipped';
  return result.status === test.expectedStatus ? 'passed' : 'failed';
}

/**
 * True when Playwright will run this test again. The same judgement as Playwright's own terminal reporters
 * (`willRetry` in its base reporter): every attempt so far was unexpected and retries remain. Skipped and
 * interrupted attempts are not retried, but for one: a test of a serial group (`describe.configure({ mode:
 * 'serial' })`) that did not run because another test of the group failed in this attempt — Playwright runs
 * the whole group again while retries remain (its dispatcher: every test of the outermost serial suite with a
 * failure is a retry candidate).
 */
export function willRetry(test: RetriedTest, result: Pick<TestResult, 'status' | 'retry'>): boolean {
  if (result.retry >= test.retries) return false;
  if (result.status === 'skipped') return serialGroupFailed(test, result.retry);
  if (attemptStatus(test, result) !== 'failed') return false;
  return test.outcome() === 'unexpected';
}

type RetriedTest = Pick<TestCase, 'expectedStatus' | 'retries' | 'outcome' | 'parent'>;

/** Whether a test of `test`'s outermost serial suite failed (unexpectedly) in attempt `retry`. */
function serialGroupFailed(test: RetriedTest, retry: number): boolean {
  let group: Suite | undefined;
  // `_parallelMode` is Playwright's own (1.40 to 1.65 at least); without it, no group is known.
  for (let suite: Suite | undefined = test.parent; suite; suite = suite.parent)
    if ((suite as { _parallelMode?: string })._parallelMode === 'serial') group = suite;
  if (!group) return false;
  return group
    .allTests()
    .some((other) =>
      other.results.some(
        (r) =>
          r.retry === retry &&
          r.status !== 'skipped' &&
          r.status !== 'interrupted' &&
          r.status !== other.expectedStatus,
      ),
    );
}
