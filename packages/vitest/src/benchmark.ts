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

import type { BenchmarkStats, TestStatus } from '@testwire/protocol';
import type { TestOutcome } from '@testwire/reporter-core';
import type { TinybenchResult, VitestTestCase } from './vitest-types.js';

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
  const result = testCase.task?.result?.benchmark;
  const totalTime = result?.totalTime;
  const duration =
    typeof totalTime === 'number' && Number.isFinite(totalTime) ? Math.max(0, Math.round(totalTime)) : 0;
  const benchmark = result && benchmarkStats(result);
  return { status, rawStatus, duration, attempt: 1, ...(benchmark ? { benchmark } : {}) };
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** tinybench's figures as test.result's `benchmark`; undefined for a bench that was never measured. */
export function benchmarkStats(result: TinybenchResult): BenchmarkStats | undefined {
  const { hz, mean, min, max, p75, p99, p995, p999, rme, totalTime } = result;
  const samples = finite(result.sampleCount) ? result.sampleCount : result.samples?.length;
  const figures = { hz, mean, min, max, p75, p99, p995, p999, rme, totalTime };
  if (!Object.values(figures).every(finite) || !finite(samples) || samples <= 0) return undefined;
  return {
    ...(figures as Omit<BenchmarkStats, 'samples' | 'median'>),
    samples: Math.floor(samples),
    ...(finite(result.median) ? { median: result.median } : {}),
  };
}
