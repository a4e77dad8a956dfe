/**
 * A benchmark of `vitest bench` as a test outcome.
 *
 * Vitest's benchmark runner reports each `bench()` as a test case, but measures it with tinybench, not as a
 * test: it sets no duration on the task (its `diagnostic().duration` is undefined: the stream said 0), stamps
 * its start with `performance.now()` (ms since the worker started, not an epoch: the stream said 1970), and
 * puts tinybench's figures on `task.result.benchmark`, where `totalTime` is the time the bench was sampled
 * (its JSON report's `totalTime`). That is the benchmark's duration here, and no start time is sent.
 *
 * A bench that throws is never finished by Vitest (its state stays `run`, reported `pending`; Vitest prints
 * no row for it, keeps no error and exits 0): it is `skipped` with `rawStatus: 'pending'`, as Vitest has it.
 */

import type { TestStatus } from '@testwire/protocol';
import type { TestOutcome } from '@testwire/reporter-core';
import type { VitestTestCase } from './vitest-types.js';

/** Whether the test case is a `bench()` of Vitest's benchmark mode. */
export function isBenchmark(testCase: VitestTestCase): boolean {
  return testCase.task?.meta?.benchmark === true;
}

/** The benchmark's one outcome: its final state, and the time tinybench sampled it as its duration. */
export function benchmarkOutcome(
  testCase: VitestTestCase,
  status: TestStatus,
  rawStatus: string,
): TestOutcome {
  const totalTime = testCase.task?.result?.benchmark?.totalTime;
  const duration =
    typeof totalTime === 'number' && Number.isFinite(totalTime) ? Math.max(0, Math.round(totalTime)) : 0;
  return { status, rawStatus, duration, attempt: 1 };
}
