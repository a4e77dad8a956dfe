/**
 * Vitest's coverage -> a reporter-core CoverageReport. Both providers (v8, istanbul) hand `onCoverage` an
 * istanbul CoverageMap; the figures are read from its summary, so they are the ones Vitest prints.
 *
 * Thresholds: the global ones (`lines`, `functions`, `branches`, `statements`, `100`) and `perFile`, checked
 * as Vitest checks them. Glob-keyed thresholds are not evaluated here (README).
 */
import type { CoverageCounts, CoverageMetric, CoverageReport } from '@testwire/reporter-core';
import type { VitestCoverageMap, VitestCoverageOptions, VitestCoverageSummary } from './vitest-types.js';

const METRICS: readonly CoverageMetric[] = ['statements', 'branches', 'functions', 'lines'];

/** undefined when `map` is not a coverage map this reporter can read (a custom provider's own object). */
export function coverageReportOf(
  map: unknown,
  options: VitestCoverageOptions | undefined,
): CoverageReport | undefined {
  if (!isCoverageMap(map)) return undefined;
  const files = typeof map.files === 'function' ? map.files() : [];
  const report: CoverageReport = {
    provider: typeof options?.provider === 'string' ? options.provider : 'unknown',
    totals: countsOf(map.getCoverageSummary()),
    files: files.length,
    reports: reporterNames(options?.reporter),
  };
  const configured = options?.thresholds as Readonly<Record<string, unknown>> | undefined;
  const thresholds = globalThresholds(configured);
  if (thresholds) {
    report.thresholds = thresholds;
    if (configured?.perFile === true && typeof map.fileCoverageFor === 'function') {
      const fileCoverageFor = map.fileCoverageFor.bind(map);
      report.perFile = files.map((file) => ({ file, totals: countsOf(fileCoverageFor(file).toSummary()) }));
    }
  }
  return report;
}

function isCoverageMap(value: unknown): value is VitestCoverageMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as VitestCoverageMap).getCoverageSummary === 'function'
  );
}

function countsOf(summary: VitestCoverageSummary): CoverageCounts {
  const counts = {} as CoverageCounts;
  for (const metric of METRICS) {
    const entry = summary.data?.[metric] ?? summary[metric];
    counts[metric] = { covered: Number(entry?.covered) || 0, total: Number(entry?.total) || 0 };
  }
  return counts;
}

/** `coverage.reporter` resolves to `[name, options]` tuples; a custom reporter may be a module path. */
function reporterNames(reporters: ReadonlyArray<unknown> | undefined): string[] {
  if (!Array.isArray(reporters)) return [];
  return reporters
    .map((reporter) => (Array.isArray(reporter) ? reporter[0] : reporter))
    .filter((name): name is string => typeof name === 'string');
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
