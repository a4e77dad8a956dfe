/**
 * Coverage of a mocha run under nyc (`nyc mocha …`): nyc instruments the code in this very process and
 * counts into `global.__coverage__`, and hands its resolved options over in `NYC_CONFIG`. When the run ends
 * the counts are final; they are summarized with nyc's own istanbul-lib-coverage, so the figures are the
 * ones nyc prints — for code nyc does not remap or add afterwards: files added by `all: true` and source-map
 * remapping (transpiled code) happen when nyc writes its report, after mocha exits.
 *
 * Thresholds: with `--check-coverage`, nyc's `lines` / `functions` / `branches` / `statements` and
 * `perFile`. c8 (V8 coverage) writes its data at process exit: nothing to read here.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type CoverageMetric,
  type CoverageReport,
  readIstanbulMap,
  reporterNames,
} from '@testwire/reporter-core';

interface NycConfig {
  cwd?: string;
  reporter?: string | string[];
  checkCoverage?: boolean;
  perFile?: boolean;
  lines?: number;
  functions?: number;
  branches?: number;
  statements?: number;
}

const METRICS: readonly CoverageMetric[] = ['statements', 'branches', 'functions', 'lines'];

/** undefined unless this process runs under nyc with counters to read. */
export function nycCoverageReport(
  env: NodeJS.ProcessEnv = process.env,
  counters: unknown = (globalThis as { __coverage__?: unknown }).__coverage__,
): CoverageReport | undefined {
  if (!env.NYC_CONFIG || typeof counters !== 'object' || counters === null) return undefined;
  const config = JSON.parse(env.NYC_CONFIG) as NycConfig;
  const coverage = readIstanbulMap(istanbulLib(config.cwd ?? process.cwd())?.createCoverageMap(counters));
  if (!coverage) return undefined;
  const report: CoverageReport = {
    provider: 'nyc',
    totals: coverage.totals,
    files: coverage.files.length,
    reports: reporterNames(typeof config.reporter === 'string' ? [config.reporter] : config.reporter),
  };
  if (config.checkCoverage === true) {
    const thresholds: Partial<Record<CoverageMetric, number>> = {};
    for (const metric of METRICS) {
      const value = config[metric];
      if (typeof value === 'number' && Number.isFinite(value)) thresholds[metric] = value;
    }
    report.thresholds = thresholds;
    if (config.perFile === true) report.perFile = coverage.perFile();
  }
  return report;
}

/** nyc's own istanbul-lib-coverage (a dependency of nyc), resolved from the project nyc runs in. */
function istanbulLib(cwd: string): { createCoverageMap(data: unknown): unknown } | undefined {
  try {
    const nyc = createRequire(join(cwd, 'noop.js')).resolve('nyc/package.json');
    return createRequire(nyc)('istanbul-lib-coverage');
  } catch {
    return undefined;
  }
}
