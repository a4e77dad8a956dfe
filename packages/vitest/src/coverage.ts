/**
 * Vitest's coverage -> a reporter-core CoverageReport. Both providers (v8, istanbul) hand `onCoverage` an
 * istanbul CoverageMap; the figures are read from its summary, so they are the ones Vitest prints.
 *
 * Thresholds: the global ones (`lines`, `functions`, `branches`, `statements`, `100`) and `perFile`, checked
 * as Vitest checks them. Glob-keyed thresholds are not evaluated here (README).
 */
import {
  type CoverageMetric,
  type CoverageReport,
  readIstanbulMap,
  reporterNames,
} from '@testwire/reporter-core';
import type { VitestCoverageOptions } from './vitest-types.js';

const METRICS: readonly CoverageMetric[] = ['statements', 'branches', 'functions', 'lines'];

/** undefined when `map` is not a coverage map this reporter can read (a custom provider's own object). */
export function coverageReportOf(
  map: unknown,
  options: VitestCoverageOptions | undefined,
): CoverageReport | undefined {
  const coverage = readIstanbulMap(map);
  if (!coverage) return undefined;
  const report: CoverageReport = {
    provider: typeof options?.provider === 'string' ? options.provider : 'unknown',
    totals: coverage.totals,
    files: coverage.files.length,
    reports: reporterNames(options?.reporter),
  };
  const configured = options?.thresholds as Readonly<Record<string, unknown>> | undefined;
  const thresholds = globalThresholds(configured);
  if (thresholds) {
    report.thresholds = thresholds;
    if (configured?.perFile === true) report.perFile = coverage.perFile();
  }
  return report;
}

function globalThresholds(
  thresholds: Readonly<Record<string, unknown>> | undefined,
): Partial<Record<CoverageMetric, number>> | undefined {
  if (!thresholds) return undefined;
  const resolved: Partial<Record<CoverageMetric, number>> = {};
  for (const metric of METRICS) {
    const value = thresholds[metric];
    // `100: true` wins over the metric keys, as in Vitest's own check.
    if (thresholds['100'] === true) resolved[metric] = 100;
    else if (typeof value === 'number' && Number.isFinite(value)) resolved[metric] = value;
  }
  return Object.keys(resolved).length > 0 ? resolved : undefined;
}
