/**
 * The coverage helpers an adapter calls when its run has coverage (istanbulReport, metricThresholds,
 * checkThresholds, coveragePct, coverageTotals): coverage.ts as a build file of its own, dist/coverage.cjs,
 * loaded on first use, from both builds (through `require`: adapters call them synchronously). The runner's
 * thread compiles all the entry holds when it loads the reporter (on its critical path, budget B2 of issue
 * 13), and most runs have no coverage. The recorder's `cleanCoverageReport` (coverage.ts too) stays in the
 * entry: it runs at a `coverage` call, which comes with the report these helpers make.
 */
import { requireBuilt } from './built-file.js';

type Coverage = typeof import('./coverage.js');

let loaded: Coverage | undefined;
const coverage = (): Coverage => {
  loaded ??= requireBuilt<Coverage>('coverage.cjs');
  return loaded;
};

export const istanbulReport: Coverage['istanbulReport'] = (map, provider, reporters) =>
  coverage().istanbulReport(map, provider, reporters);

export const metricThresholds: Coverage['metricThresholds'] = (source) => coverage().metricThresholds(source);

export const checkThresholds: Coverage['checkThresholds'] = (report, relativize) =>
  coverage().checkThresholds(report, relativize);

export const coveragePct: Coverage['coveragePct'] = (covered, total) =>
  coverage().coveragePct(covered, total);

export const coverageTotals: Coverage['coverageTotals'] = (counts) => coverage().coverageTotals(counts);
