/**
 * Whether Playwright stopped the run at `maxFailures` (`--max-failures`, `maxFailures` in the config) with
 * tests left: test.completed then says `interrupted: true, interruptedBy: 'maxFailures'`, as the jest, vitest
 * and mocha adapters say `'bail'`. Playwright's own verdict stays `failed` (FullResult status, exit 1).
 *
 * Playwright (1.40 to 1.65) counts a test towards maxFailures once its last attempt failed (the dispatcher's
 * `failedTestCount`: outcome `unexpected` with no retry left), stops scheduling when the count reaches the
 * limit, and ends the run with the tests it never ran (or cut off) without a result: "N did not run" in its
 * summary. A run whose last test brought the count to the limit left nothing out: not interrupted.
 */
import type { FullResult, TestCase } from '@playwright/test/reporter';

/**
 * `ended`: the tests whose last attempt ended; `left`: how many of the run's tests had no final result when
 * Playwright ended it.
 */
export function stoppedAtMaxFailures(
  maxFailures: number | undefined,
  status: FullResult['status'],
  ended: Iterable<Pick<TestCase, 'outcome'>>,
  left: number,
): boolean {
  // Ctrl-C and the global timeout end the run as `interrupted` / `timedout`: those say why themselves.
  if (!maxFailures || maxFailures <= 0 || status !== 'failed' || left === 0) return false;
  let failed = 0;
  for (const test of ended) if (test.outcome() === 'unexpected') failed++;
  return failed >= maxFailures;
}
