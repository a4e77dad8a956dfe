/**
 * Whether mocha stopped a serial run because of `bail` (`--bail`, or a suite's `this.bail(true)`):
 * test.completed `interrupted: true, interruptedBy: 'bail'`.
 *
 * Mocha does not abort a bailing run (`Runner#abort` is for an error after a test passed, and SIGINT): once
 * `runner.failures` is non-zero, each suite whose `bail()` is set skips its remaining tests (`runTests`
 * empties its queue, `runSuite` returns at once), and the run ends with EVENT_RUN_END as usual. The tests it
 * skipped get no event and are in none of mocha's counts. So the run was stopped by bail when it failed, a
 * suite bails, it was not aborted, and fewer tests ended than the run holds: `grepTotal` of the root suite,
 * counted at the end, after `.only` filtered it (the `total` mocha's runner had at its start is from before).
 */
import type { MochaRunner, MochaSuite } from './mocha-types.js';

/**
 * `ended`: the tests that got their final result (each test's last attempt, and those a failed hook kept
 * from running, which the stream reports as failed), counted as the run's tests are.
 */
export function bailed(runner: MochaRunner, ended: number): boolean {
  if (!(typeof runner.failures === 'number' && runner.failures > 0)) return false;
  if (runner._abort === true) return false;
  const root = runner.suite;
  if (!root || !bails(root) || typeof runner.grepTotal !== 'function') return false;
  return ended < runner.grepTotal(root);
}

/** Whether the suite or one in it bails (`--bail` sets the root's, which its suites inherit). */
function bails(suite: MochaSuite): boolean {
  if (suite._bail === true) return true;
  return (suite.suites ?? []).some(bails);
}
