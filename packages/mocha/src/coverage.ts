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
import { type CoverageReport, istanbulReport, metricThresholds } from '@testwire/reporter-core';

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

/** undefined unless this process runs under nyc with counters to read. */
export function nycCoverageReport(
  env: NodeJS.ProcessEnv = process.env,
  counters: unknown = (globalThis as { __coverage__?: unknown }).__coverage__,
): CoverageReport | undefined {
  if (!env.NYC_CONFIG || typeof counters !== 'object' || counters === null) return undefined;
  const config = JSON.parse(env.NYC_CONFIG) as NycConfig;
  const map = istanbulLib(config.cwd ?? process.cwd())?.createCoverageMap(counters);
  const coverage = istanbulReport(map, 'nyc', config.reporter);
  if (!coverage) return undefined;
  const { report } = coverage;
  if (config.checkCoverage === true) {
    report.thresholds = metricThresholds(config);
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
