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
  readIstanbulMap,
  reporterNames,
} from '@testwire/reporter-core';

export interface JestCoverageConfig {
  coverageProvider?: string;
  coverageReporters?: unknown[];
  coverageThreshold?: Record<string, Partial<Record<CoverageMetric, number>> | undefined>;
}

const METRICS: readonly CoverageMetric[] = ['statements', 'branches', 'functions', 'lines'];

/**
 * `thresholdsFailed`: whether Jest failed the run for something other than tests and snapshots (its
 * coverage reporter's threshold error), the verdict used when the thresholds have path or glob keys.
 */
export function jestCoverageReport(
  map: unknown,
  config: JestCoverageConfig | undefined,
  thresholdsFailed: boolean,
): CoverageReport | undefined {
  const coverage = readIstanbulMap(map);
  if (!coverage) return undefined;
  const report: CoverageReport = {
    provider: typeof config?.coverageProvider === 'string' ? config.coverageProvider : 'babel',
    totals: coverage.totals,
    files: coverage.files.length,
    reports: reporterNames(config?.coverageReporters),
  };
  const thresholds = config?.coverageThreshold;
  if (!thresholds || typeof thresholds !== 'object') return report;
  const keys = Object.keys(thresholds);
  if (keys.every((key) => key === 'global')) {
    const global: Partial<Record<CoverageMetric, number>> = {};
    for (const metric of METRICS) {
      const value = thresholds.global?.[metric];
      if (typeof value === 'number' && Number.isFinite(value)) global[metric] = value;
    }
    if (Object.keys(global).length > 0) report.thresholds = global;
  } else if (keys.length > 0) {
    report.thresholdsMet = !thresholdsFailed;
  }
  return report;
}
