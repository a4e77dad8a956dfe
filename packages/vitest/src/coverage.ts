/**
 * Vitest's coverage -> a reporter-core CoverageReport. Both providers (v8, istanbul) hand `onCoverage` an
 * istanbul CoverageMap; the figures are read from its summary, so they are the ones Vitest prints.
 *
 * Thresholds, checked as Vitest checks them: the global ones (`lines`, `functions`, `branches`,
 * `statements`, `100`) on every file, each glob key's on the files it matches (relative to the root, with
 * the picomatch of Vitest's own install), and `perFile` for both.
 */
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import {
  COVERAGE_METRICS,
  type CoverageCounts,
  type CoverageMetric,
  type CoverageReport,
  istanbulReport,
  metricThresholds,
} from '@testwire/reporter-core';
import type { VitestCoverageOptions } from './vitest-types.js';

/** undefined when `map` is not a coverage map this reporter can read (a custom provider's own object). */
export function coverageReportOf(
  map: unknown,
  options: VitestCoverageOptions | undefined,
  root = process.cwd(),
): CoverageReport | undefined {
  const coverage = istanbulReport(map, options?.provider ?? 'unknown', options?.reporter);
  if (!coverage) return undefined;
  const { report } = coverage;
  const configured = options?.thresholds as Readonly<Record<string, unknown>> | undefined;
  if (!configured) return report;
  const perFile = configured.perFile === true;
  const globs = Object.keys(configured).filter((key) => !RESERVED.has(key));
  // Per-file summaries only when something reads them: a summary per file of a large project is not free.
  const files = perFile || globs.length > 0 ? coverage.perFile() : [];
  const thresholds = vitestThresholds(configured);
  if (thresholds) {
    report.thresholds = thresholds;
    if (perFile) report.perFile = files;
  }
  const matcher = globs.length > 0 ? picomatchOf(root) : undefined;
  for (const glob of globs) {
    const own = vitestThresholds(configured[glob] as Readonly<Record<string, unknown>> | undefined);
    if (!own || !matcher) continue;
    const isMatch = matcher(glob);
    const matching = files.filter((entry) => isMatch(relative(root, entry.file)));
    report.groups ??= [];
    report.groups.push({
      pattern: glob,
      thresholds: own,
      totals: sum(matching.map((entry) => entry.totals)),
      ...(perFile ? { perFile: matching } : {}),
    });
  }
  return report;
}

/** Keys of `coverage.thresholds` that are not globs. */
const RESERVED = new Set<string>(['perFile', 'autoUpdate', '100', ...COVERAGE_METRICS]);

/** The counts of several files together: what a merged coverage map sums up to. */
function sum(counts: CoverageCounts[]): CoverageCounts {
  const total = {} as CoverageCounts;
  for (const metric of COVERAGE_METRICS)
    total[metric] = {
      covered: counts.reduce((n, c) => n + c[metric].covered, 0),
      total: counts.reduce((n, c) => n + c[metric].total, 0),
    };
  return total;
}

/** picomatch, as Vitest matches its glob thresholds with it (a dependency of vitest 3 and 4). */
function picomatchOf(root: string): ((glob: string) => (path: string) => boolean) | undefined {
  try {
    const vitest = createRequire(join(root, 'noop.js')).resolve('vitest/package.json');
    return createRequire(vitest)('picomatch');
  } catch {
    return undefined;
  }
}

/** The metric thresholds of a thresholds object (the global one, or a glob's); `100: true` sets all four. */
function vitestThresholds(
  thresholds: Readonly<Record<string, unknown>> | undefined,
): Partial<Record<CoverageMetric, number>> | undefined {
  if (thresholds?.['100'] === true) return { statements: 100, branches: 100, functions: 100, lines: 100 };
  return metricThresholds(thresholds);
}
