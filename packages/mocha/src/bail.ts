/**
 * Whether mocha stopped a run because of `bail` (`--bail`, or a suite's `this.bail(true)`): test.completed
 * `interrupted: true, interruptedBy: 'bail'`. Serial mode (`bailed`) and a `--parallel` main process
 * (`parallelBailing`, `parallelBailed`); a parallel worker asks `bailed` of its own runner.
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

/**
 * `--parallel`: mocha's ParallelBufferedRunner (mocha 10 to 12) goes BAILING when it emits a burst event whose
 * data bails (`_bail`, which `--bail` sets on every suite) of a file that failed, and BAILED once that burst is
 * out: it then drops the bursts of the files still running or queued (their events reach no reporter, their
 * failures no count) and ends the run. The state is read as events are emitted: its RUN_END listener, made
 * before any reporter's, has set it COMPLETE by the time a reporter hears RUN_END; the event that sets it is
 * never a burst's last (its suite's end follows).
 */
export function parallelBailing(runner: MochaRunner): boolean {
  const state = (runner as { _state?: unknown })._state;
  return state === 'BAILING' || state === 'BAILED';
}

/**
 * Whether a `--parallel` run that bailed (`parallelBailing` was seen) left tests out: a file whose burst
 * mocha never emitted (`files` not in `settled`, the files the bursts named), or a file whose worker stopped
 * at its failure (its worker's `bailed`, told in the burst's marker: `bailedInFile`).
 */
export function parallelBailed(
  bailing: boolean,
  files: readonly string[],
  settled: ReadonlySet<string>,
  bailedInFile: boolean,
): boolean {
  if (!bailing) return false;
  return bailedInFile || files.some((file) => !settled.has(file));
}
