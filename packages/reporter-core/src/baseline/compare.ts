/**
 * A run against a baseline: one test as its result arrives (`judgeTest`, the `baseline` of `test.result`),
 * and the whole run at its end (`compareRun`, `baseline.compared`). Pure functions over plain data, used by
 * the core and by `testwire baseline compare` alike.
 *
 * A duration regression must clear three bars at once (so that a rerun of an unchanged suite flags nothing,
 * even on a loaded machine where tiny tests jitter by several times their duration):
 *
 *   change = duration - median(baseline samples)
 *   change > absoluteMs                 (absolute floor, 250 ms: a 40 ms test taking 150 ms on a loaded
 *                                        machine is noise, not a regression)
 *   change > relative × median          (relative: +50 % by default)
 *   change > 3 × stddev(samples)        (noise guard from the baseline's own spread, with ≥ 3 samples)
 *
 * Only tests that passed both in the baseline and now are compared by duration (a failure's duration says
 * how it failed, not how fast the code is).
 */
import type {
  BaselineComparedData,
  BaselineTestComparison,
  CoverageTotals,
  TestStatus,
} from '@testwire/protocol';
import type { BaselineSource, BaselineTest, RunTest } from './file.js';

export interface BaselineThresholds {
  /** Fraction of the baseline's median a test must slow down by (0.5 = +50 %). */
  relative: number;
  /** Milliseconds a test must slow down by, whatever its relative change. */
  absoluteMs: number;
}

export const DEFAULT_THRESHOLDS: BaselineThresholds = { relative: 0.5, absoluteMs: 250 };

/** Samples from which the baseline's spread is trusted as a noise guard. */
const MIN_SAMPLES_FOR_SPREAD = 3;
/** Coverage moves by less than this many points are not a change. */
const COVERAGE_EPSILON = 0.1;
/** Entries per list of baseline.compared (the counts are complete). */
const MAX_LISTED = 100;

/** How `duration` compares with a baseline test's samples: undefined when it cannot be compared. */
export function durationChange(
  entry: BaselineTest,
  duration: number,
  thresholds: BaselineThresholds,
): { reference: number; change: number; percentage: number; slower: boolean; faster: boolean } | undefined {
  const stats = entry.duration;
  if (!stats || !Number.isFinite(duration)) return undefined;
  const reference = stats.median;
  const change = duration - reference;
  const spread = stats.samples >= MIN_SAMPLES_FOR_SPREAD ? 3 * stats.stddev : 0;
  const bar = Math.max(thresholds.absoluteMs, thresholds.relative * reference, spread);
  return {
    reference,
    change: round1(change),
    // A baseline of 0 ms (a test faster than the runner's clock): measured against 1 ms.
    percentage: round1((change / Math.max(reference, 1)) * 100),
    slower: change > bar,
    faster: -change > bar,
  };
}

/**
 * The comparison of one final result with the baseline, or undefined when there is nothing to say (the
 * test is as it was): what `test.result` carries in `baseline`.
 */
export function judgeTest(
  label: string,
  entry: BaselineTest | undefined,
  status: TestStatus,
  duration: number,
  thresholds: BaselineThresholds,
): BaselineTestComparison | undefined {
  if (!entry) return { label, regression: false, added: true };
  const newlyFailing = entry.status === 'passed' && status === 'failed';
  const fixed = entry.status === 'failed' && status === 'passed';
  const timing =
    entry.status === 'passed' && status === 'passed'
      ? durationChange(entry, duration, thresholds)
      : undefined;
  const slower = timing?.slower === true;
  const faster = timing?.faster === true;
  if (!newlyFailing && !fixed && !slower && !faster && entry.status === status) return undefined;
  const out: BaselineTestComparison = { label, regression: newlyFailing || slower, status: entry.status };
  if (newlyFailing) out.newlyFailing = true;
  if (fixed) out.fixed = true;
  if (timing && (slower || faster)) {
    out.duration = timing.reference;
    out.change = timing.change;
    out.percentage = timing.percentage;
    if (slower) out.slower = true;
    if (faster) out.faster = true;
  }
  return out;
}

/** A run as compared: its final results and coverage. */
export interface ComparedRun {
  tests: Iterable<RunTest>;
  coverage?: CoverageTotals;
  /** A shard runs part of the suite: tests missing from it are not "removed". */
  partial?: boolean;
}

/**
 * The run against the baseline's source of the same runner (and package project): `baseline.compared`'s
 * data without framework/project.
 *
 * score (0..1, 1 = as good as the baseline): 1 − (newly failing + duration regressions) / tests compared,
 * minus the coverage lost in points / 100, at least 0.
 */
export function compareRun(
  label: string,
  source: BaselineSource | undefined,
  run: ComparedRun,
  thresholds: BaselineThresholds,
): Omit<BaselineComparedData, 'framework' | 'project'> {
  const baselineTests = source?.tests ?? {};
  const seen = new Set<string>();
  const added: { id: string; test: string; file: string }[] = [];
  const changed: { id: string; test: string; file: string; from: string; to: string }[] = [];
  const regressions: BaselineComparedData['regressions'] = [];
  let compared = 0;
  let newlyFailing = 0;
  let fixed = 0;
  let faster = 0;
  for (const test of run.tests) {
    seen.add(test.id);
    const entry = Object.hasOwn(baselineTests, test.id) ? baselineTests[test.id] : undefined;
    if (!entry) {
      added.push({ id: test.id, test: test.test, file: test.file });
      continue;
    }
    compared++;
    if (entry.status !== test.status) {
      changed.push({ id: test.id, test: test.test, file: test.file, from: entry.status, to: test.status });
      if (entry.status === 'passed' && test.status === 'failed') newlyFailing++;
      if (entry.status === 'failed' && test.status === 'passed') fixed++;
      continue;
    }
    if (test.status !== 'passed' || test.duration === undefined) continue;
    const timing = durationChange(entry, test.duration, thresholds);
    if (timing?.faster) faster++;
    if (timing?.slower)
      regressions.push({
        test: test.test,
        change: timing.change,
        percentage: timing.percentage,
        id: test.id,
        file: test.file,
        baselineDuration: timing.reference,
        duration: round1(test.duration),
      });
  }
  const removed = run.partial
    ? []
    : Object.entries(baselineTests)
        .filter(([id]) => !seen.has(id))
        .map(([id, entry]) => ({ id, test: entry.test, file: entry.file }));
  regressions.sort((a, b) => b.change - a.change);

  const lastCoverage = source?.runs.at(-1)?.coverage;
  const before = coverageTotal(lastCoverage);
  const after = coverageTotal(run.coverage);
  const coverage =
    before !== undefined && after !== undefined
      ? { baseline: before, current: after, change: Math.round((after - before) * 100) / 100 }
      : undefined;
  const coverageImproved = coverage !== undefined && coverage.change >= COVERAGE_EPSILON;
  const coverageDropped = coverage !== undefined && coverage.change <= -COVERAGE_EPSILON;

  const lost = coverageDropped && coverage ? -coverage.change / 100 : 0;
  const score = compared > 0 ? 1 - (newlyFailing + regressions.length) / compared - lost : 1 - lost;
  const data: Omit<BaselineComparedData, 'framework' | 'project'> = {
    baseline: label,
    comparison: {
      testsAdded: added.length,
      testsRemoved: removed.length,
      testsChanged: changed.length,
      performanceRegression: regressions.length > 0,
      coverageImproved,
      summary: {
        regression: newlyFailing > 0 || regressions.length > 0 || coverageDropped,
        improvement: fixed > 0 || faster > 0 || coverageImproved,
        score: Math.round(Math.max(0, Math.min(1, score)) * 100) / 100,
      },
      testsNewlyFailing: newlyFailing,
    },
    regressions: regressions.slice(0, MAX_LISTED),
    added: added.slice(0, MAX_LISTED),
    removed: removed.slice(0, MAX_LISTED),
    changed: changed.slice(0, MAX_LISTED),
    thresholds: { relative: thresholds.relative, absoluteMs: thresholds.absoluteMs },
  };
  if (coverage) data.comparison.coverage = coverage;
  return data;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The coverage total of a summary: its `total`, else the mean of the four metrics. */
export function coverageTotal(coverage: CoverageTotals | undefined): number | undefined {
  if (!coverage) return undefined;
  if (typeof coverage.total === 'number') return coverage.total;
  const { statements, branches, functions, lines } = coverage;
  return Math.round(((statements + branches + functions + lines) / 4) * 100) / 100;
}
