import type { CoverageCompletedData, CoverageThresholdData, CoverageTotals } from '@testwire/protocol';

/** The four metrics of an istanbul-style coverage summary, as jest and vitest report them. */
export const COVERAGE_METRICS = ['statements', 'branches', 'functions', 'lines'] as const;
export type CoverageMetric = (typeof COVERAGE_METRICS)[number];

/** Covered and total items of each metric (what istanbul's `getCoverageSummary()` holds). */
export type CoverageCounts = Record<CoverageMetric, { covered: number; total: number }>;

/**
 * A run's coverage as the adapter read it from its runner, before any percentage is taken: the core derives
 * the percentages, the threshold verdict and the events (coverage.threshold, coverage.completed, and the
 * `coverage` of test.completed), so every runner reports them alike.
 */
export interface CoverageReport {
  /** The coverage provider: `v8`, `istanbul`, `babel`, … */
  provider: string;
  /** Counts over every file of the report. */
  totals: CoverageCounts;
  /** Files in the report. */
  files: number;
  /** Report formats the runner writes (`text`, `html`, `lcov`, …). */
  reports?: string[];
  /**
   * The runner's global thresholds, as jest's `coverageThreshold.global` and vitest's `coverage.thresholds`
   * define them: a positive number is the least percentage, a negative one the most uncovered items.
   */
  thresholds?: Partial<Record<CoverageMetric, number>>;
  /** Per-file counts, when the thresholds apply to each file (vitest `thresholds.perFile`). */
  perFile?: { file: string; totals: CoverageCounts }[];
  /**
   * Thresholds of a subset of the files (vitest's glob keys): checked on the counts of its files, or on each
   * of them with `perFile`.
   */
  groups?: {
    pattern: string;
    thresholds: Partial<Record<CoverageMetric, number>>;
    totals: CoverageCounts;
    perFile?: { file: string; totals: CoverageCounts }[];
  }[];
  /**
   * The runner's own verdict, for thresholds the core cannot check (jest's path and glob keys): used for
   * `thresholdsMet` when no `thresholds` are given.
   */
  thresholdsMet?: boolean;
  /** Why the figures may differ from the provider's own report (coverage.completed `note`). */
  note?: string;
}

/** istanbul-lib-coverage's CoverageMap, as far as it is read here (jest and both vitest providers). */
interface IstanbulCoverageMap {
  getCoverageSummary(): IstanbulSummary;
  files?(): string[];
  fileCoverageFor?(file: string): { toSummary(): IstanbulSummary };
}
type IstanbulCounts = { readonly total?: unknown; readonly covered?: unknown };
type IstanbulSummary = { readonly data?: Readonly<Record<string, IstanbulCounts>> } & Readonly<
  Partial<Record<CoverageMetric, IstanbulCounts>>
>;

/**
 * A CoverageReport from an istanbul CoverageMap (what jest's `results.coverageMap`, vitest's `onCoverage`
 * and nyc's counters give): the counts over all files, the files, the report names (`reporters` as the
 * runner lists them: names, `[name, options]` tuples or one name), and per-file counts on demand for the
 * adapter's thresholds. undefined for anything that is not such a map.
 */
export function istanbulReport(
  map: unknown,
  provider: string,
  reporters: unknown,
): { report: CoverageReport; perFile(): PerFile } | undefined {
  if (typeof map !== 'object' || map === null) return undefined;
  const coverage = map as IstanbulCoverageMap;
  if (typeof coverage.getCoverageSummary !== 'function') return undefined;
  const files = typeof coverage.files === 'function' ? coverage.files() : [];
  const fileCoverageFor = coverage.fileCoverageFor?.bind(coverage);
  return {
    report: {
      provider,
      totals: istanbulCounts(coverage.getCoverageSummary()),
      files: files.length,
      reports: reporterNames(typeof reporters === 'string' ? [reporters] : reporters),
    },
    perFile: () =>
      fileCoverageFor
        ? files.map((file) => ({ file, totals: istanbulCounts(fileCoverageFor(file).toSummary()) }))
        : [],
  };
}

/** The metric keys of a runner's thresholds object that hold numbers; undefined when there are none. */
export function metricThresholds(source: unknown): Thresholds | undefined {
  const thresholds = validThresholds(
    typeof source === 'object' && source !== null ? (source as Thresholds) : undefined,
  );
  return Object.keys(thresholds).length > 0 ? thresholds : undefined;
}

function istanbulCounts(summary: IstanbulSummary): CoverageCounts {
  const counts = {} as CoverageCounts;
  for (const metric of COVERAGE_METRICS) {
    const entry = summary?.data?.[metric] ?? summary?.[metric];
    counts[metric] = { covered: count(entry?.covered), total: count(entry?.total) };
  }
  return counts;
}

/** Report names as jest's `coverageReporters` and vitest's `coverage.reporter` list them (names or tuples). */
function reporterNames(reporters: unknown): string[] {
  if (!Array.isArray(reporters)) return [];
  return reporters
    .map((reporter) => (Array.isArray(reporter) ? reporter[0] : reporter))
    .filter((name): name is string => typeof name === 'string');
}

/**
 * Percentage as istanbul-lib-coverage computes it (cut, not rounded, to 2 decimals: 2 of 3 is 66.66), so
 * the figures are the ones the runner prints; 100 when there is nothing to cover, as istanbul says.
 */
export function coveragePct(covered: number, total: number): number {
  if (!(total > 0)) return 100;
  return Math.floor((100_000 * covered) / total / 10) / 100;
}

/** The four percentages, and `total`: their mean (the contract's single figure for a run). */
export function coverageTotals(counts: CoverageCounts): CoverageTotals {
  const statements = coveragePct(counts.statements.covered, counts.statements.total);
  const branches = coveragePct(counts.branches.covered, counts.branches.total);
  const functions = coveragePct(counts.functions.covered, counts.functions.total);
  const lines = coveragePct(counts.lines.covered, counts.lines.total);
  const total = Math.round(((statements + branches + functions + lines) / 4) * 100) / 100;
  return { total, statements, branches, functions, lines };
}

/**
 * Checks counts against thresholds the way jest and vitest do: `pct < threshold` fails a positive one,
 * more than `-threshold` uncovered items a negative one. With `perFile`, every file is checked (a failure
 * names its file); each group (vitest's glob-keyed thresholds) is checked on its own files (its failures
 * name the glob). `thresholds` and `actual` of the result are the global ones.
 */
export function checkThresholds(
  report: Pick<CoverageReport, 'totals' | 'thresholds' | 'perFile' | 'groups'>,
  relativize: (file: string) => string = (file) => file,
): CoverageThresholdData | undefined {
  const global = validThresholds(report.thresholds);
  const groups = (report.groups ?? [])
    .map((group) => ({ ...group, thresholds: validThresholds(group.thresholds) }))
    .filter((group) => Object.keys(group.thresholds).length > 0);
  if (Object.keys(global).length === 0 && groups.length === 0) return undefined;
  const failures: CoverageThresholdData['failures'] = [];
  const check = (thresholds: Thresholds, counts: CoverageCounts, file?: string, glob?: string) => {
    for (const metric of COVERAGE_METRICS) {
      const threshold = thresholds[metric];
      if (threshold === undefined) continue;
      const value = measure(counts, metric, threshold);
      const deficit = threshold >= 0 ? threshold - value : value + threshold;
      if (deficit > 0)
        failures.push({
          metric,
          threshold,
          actual: value,
          // Two decimals, as the percentages; a miss smaller than that (42.85 against 42.851) is 0.01, not 0.
          deficit: Math.max(0.01, Math.round(deficit * 100) / 100),
          ...(file !== undefined ? { file: relativize(file) } : {}),
          ...(glob !== undefined ? { glob } : {}),
        });
    }
  };
  const checkEach = (thresholds: Thresholds, totals: CoverageCounts, perFile?: PerFile, glob?: string) => {
    if (perFile) for (const entry of perFile) check(thresholds, entry.totals, entry.file, glob);
    else check(thresholds, totals, undefined, glob);
  };
  checkEach(global, report.totals, report.perFile);
  for (const group of groups) checkEach(group.thresholds, group.totals, group.perFile, group.pattern);
  // The run's figures for the global thresholds, also with perFile (what a reader compares at a glance).
  const actual: CoverageThresholdData['actual'] = {};
  for (const metric of COVERAGE_METRICS) {
    const threshold = global[metric];
    if (threshold !== undefined) actual[metric] = measure(report.totals, metric, threshold);
  }
  return {
    passed: failures.length === 0,
    thresholds: global,
    actual,
    failures,
    ...(report.perFile ? { perFile: true } : {}),
  };
}

type Thresholds = Partial<Record<CoverageMetric, number>>;
type PerFile = { file: string; totals: CoverageCounts }[];

function validThresholds(input: Thresholds | undefined): Thresholds {
  const thresholds: Thresholds = {};
  for (const metric of COVERAGE_METRICS) {
    const value = input?.[metric];
    if (typeof value === 'number' && Number.isFinite(value)) thresholds[metric] = value;
  }
  return thresholds;
}

/** What a threshold compares: the percentage (positive threshold) or the uncovered count (negative). */
function measure(counts: CoverageCounts, metric: CoverageMetric, threshold: number): number {
  const { covered, total } = counts[metric];
  return threshold >= 0 ? coveragePct(covered, total) : total - covered;
}

/** coverage.completed's data (without framework/project, which the core adds to every event). */
export function coverageCompleted(
  report: CoverageReport,
  threshold: CoverageThresholdData | undefined,
): Omit<CoverageCompletedData, 'framework'> {
  return {
    provider: report.provider,
    summary: coverageTotals(report.totals),
    thresholdsMet: threshold ? threshold.passed : report.thresholdsMet !== false,
    files: report.files,
    reports: report.reports ?? [],
    ...(report.note ? { note: report.note } : {}),
  };
}

/** A report as an adapter may hand it over (counts from a runner object): non-numbers become 0. */
export function cleanCoverageReport(report: CoverageReport): CoverageReport {
  if (typeof report !== 'object' || report === null)
    throw new TypeError(`expected a coverage report, got ${report}`);
  const counts = (input: CoverageCounts | undefined): CoverageCounts => {
    const out = {} as CoverageCounts;
    for (const metric of COVERAGE_METRICS) {
      const entry = input?.[metric];
      out[metric] = { covered: count(entry?.covered), total: count(entry?.total) };
    }
    return out;
  };
  const cleaned: CoverageReport = {
    provider: typeof report.provider === 'string' && report.provider ? report.provider : 'unknown',
    totals: counts(report.totals),
    files: count(report.files),
    reports: Array.isArray(report.reports) ? report.reports.map(String) : [],
  };
  if (report.thresholds) cleaned.thresholds = validThresholds(report.thresholds);
  if (typeof report.thresholdsMet === 'boolean') cleaned.thresholdsMet = report.thresholdsMet;
  if (typeof report.note === 'string' && report.note) cleaned.note = report.note;
  const perFile = (entries: PerFile): PerFile =>
    entries.map((entry) => ({ file: String(entry.file), totals: counts(entry.totals) }));
  if (Array.isArray(report.perFile)) cleaned.perFile = perFile(report.perFile);
  if (Array.isArray(report.groups))
    cleaned.groups = report.groups.map((group) => ({
      pattern: String(group.pattern),
      thresholds: validThresholds(group.thresholds),
      totals: counts(group.totals),
      ...(Array.isArray(group.perFile) ? { perFile: perFile(group.perFile) } : {}),
    }));
  return cleaned;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
