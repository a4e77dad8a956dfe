/**
 * Whether Vitest stopped a run because of `bail` (test.completed `interruptedBy: 'bail'`).
 *
 * Vitest reports every cancelled run alike: `onTestRunEnd`'s reason is `interrupted` (its `isCancelling`),
 * whether `bail` was reached or a key was pressed. Why it cancelled is told only to `vitest.onCancel`
 * listeners, which Vitest 3 and 4 clear when a run is scheduled, after `onTestRunStart`: a reporter has no
 * hook that registers one in time for every run. So it is read the way Vitest decides it: each worker, after a
 * failed test, asks the main thread for its count of failed tasks (`state.getCountOfFailedTests()`: tests,
 * suites and files) and cancels the run with `test-failure` when that count plus one reaches `bail`. A run
 * that ended `interrupted` with `bail` set and at least that many failed tasks was stopped by it. (A signal
 * the reporter saw still names itself: reporter-core prefers it over this.)
 */

import { testsOf } from './twins.js';
import type { VitestContext, VitestRunEndReason, VitestTestModule } from './vitest-types.js';

export function bailed(
  vitest: VitestContext | undefined,
  reason: VitestRunEndReason,
  testModules: ReadonlyArray<VitestTestModule>,
): boolean {
  if (reason !== 'interrupted') return false;
  const bail = Number(vitest?.config.bail);
  if (!Number.isFinite(bail) || bail <= 0) return false;
  const counted = vitest?.state?.getCountOfFailedTests?.();
  const failed = typeof counted === 'number' ? counted : failedTasksOf(testModules);
  return failed >= bail;
}

/** Failed tests and modules, where Vitest's state is missing (fewer than it counts: suites are left out). */
function failedTasksOf(testModules: ReadonlyArray<VitestTestModule>): number {
  let failed = 0;
  for (const testModule of testModules) {
    if (testModule.state() === 'failed') failed++;
    for (const test of testsOf(testModule)) if (test.result().state === 'failed') failed++;
  }
  return failed;
}
