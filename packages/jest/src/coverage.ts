/**
 * Jest's coverage -> a reporter-core CoverageReport. Jest's CoverageReporter runs after every custom
 * reporter (TestScheduler adds it last) and only then sets `results.coverageMap` (an istanbul CoverageMap,
 * for the babel and the v8 provider alike) and checks `coverageThreshold`; see TestwireJestReporter's
 * onRunComplete for how the run waits for it.
 *
 * Thresholds: `coverageThreshold.global` is checked as Jest checks it. Path and glob keys take their files
 * out of the global check; those the core does not evaluate: the verdict is then Jest's own.
 */
import {
  type CoverageMetric,
  type CoverageReport,
  istanbulReport,
  metricThresholds,
} from '@testwire/reporter-core';

export interface JestCoverageConfig {
  coverageProvider?: string;
  coverageReporters?: unknown[];
  coverageThreshold?: Record<string, Partial<Record<CoverageMetric, number>> | undefined>;
}

/**
 * `thresholdsFailed`: whether Jest failed the run for something other than tests and snapshots (its
 * coverage reporter's threshold error), the verdict used when the thresholds have path or glob keys.
 */
export function jestCoverageReport(
  map: unknown,
  config: JestCoverageConfig | undefined,
  thresholdsFailed: boolean,
): CoverageReport | undefined {
  const coverage = istanbulReport(map, config?.coverageProvider ?? 'babel', config?.coverageReporters);
  if (!coverage) return undefined;
  const { report } = coverage;
  const keys = Object.keys(config?.coverageThreshold ?? {});
  if (keys.length === 0) return report;
  if (keys.every((key) => key === 'global'))
    report.thresholds = metricThresholds(config?.coverageThreshold?.global);
  else report.thresholdsMet = !thresholdsFailed;
  return report;
}
