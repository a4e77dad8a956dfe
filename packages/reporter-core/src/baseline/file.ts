/**
 * The baseline file, `.test-baselines/<label>.json` (reference 000's path): what a saved run leaves for
 * later runs to compare against — per test id its status and duration statistics, per run its summary and
 * coverage. One file may hold several runners (a monorepo saving jest and vitest under one label): each
 * saves into its own `source` ("jest", or "jest:web" with a package project) and replaces only that.
 *
 *   { format: 'testwire-baseline', version: 1, label, createdAt, updatedAt,
 *     sources: { 'jest:web': { framework, project?, runs: [{runId, savedAt, summary, coverage?}…≤10],
 *                              tests: { t_…: { test, titlePath, file, status, durations[≤10], duration{…} } } } } }
 *
 * Saving folds the run into the source: the tests are those of the run (a test the run did not have is
 * gone), each keeps its last 10 passing durations, from which the statistics are computed. Reads and
 * writes are synchronous: they run once per run, on the core's thread (never the runner's, per test).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CoverageTotals,
  coverageTotalsSchema,
  type Static,
  type TestStatus,
  t,
  testStatusSchema,
  validateSchema,
} from '@testwire/protocol';
import { labelProblem } from './label.js';

export const BASELINE_FORMAT = 'testwire-baseline' as const;
export const BASELINE_VERSION = 1 as const;
/** Durations kept per test, and runs per source: the window the statistics are computed over. */
export const BASELINE_WINDOW = 10;

/**
 * The file's shape, written once: the types below come from it, and a file read is checked against it before
 * anything in it reaches an event (a hand-edited file must not make the owner refuse a test's result).
 */
const nonNegative = t.number({ minimum: 0 });

/** Duration statistics of one test's samples (ms, one decimal). */
export interface DurationStats extends Static<typeof durationStatsSchema> {}
const durationStatsSchema = t.object({
  /** The reference a later run is compared with: robust to one odd sample. */
  median: nonNegative,
  mean: nonNegative,
  min: nonNegative,
  max: nonNegative,
  /** Population standard deviation (0 with one sample). */
  stddev: nonNegative,
  samples: t.integer({ minimum: 0 }),
});

export interface BaselineTest extends Static<typeof baselineTestSchema> {}
const baselineTestSchema = t.object({
  /** The test's name (its title) and where it is. */
  test: t.string(),
  titlePath: t.array(t.string()),
  file: t.string(),
  /** The runner's project (Playwright project, Jest displayName), when it has one. */
  project: t.optional(t.string()),
  /** Its status in the last run saved. */
  status: testStatusSchema,
  /** The durations of its last passing results (ms), oldest first; at most BASELINE_WINDOW. */
  durations: t.array(nonNegative),
  /** Statistics over `durations`; absent when it never passed. Computed again from them when read. */
  duration: t.optional(durationStatsSchema),
});

export interface BaselineRun extends Static<typeof baselineRunSchema> {}
const count = t.integer({ minimum: 0 });
const baselineRunSchema = t.object({
  runId: t.string(),
  savedAt: t.string(),
  summary: t.object({
    total: count,
    passed: count,
    failed: count,
    skipped: count,
    todo: count,
    duration: t.optional(nonNegative),
  }),
  coverage: t.optional(coverageTotalsSchema),
});

export interface BaselineSource extends Static<typeof baselineSourceSchema> {}
const baselineSourceSchema = t.object({
  framework: t.string(),
  /** The package's project (option `project`, else package.json name). */
  project: t.optional(t.string()),
  /** The runs folded in, oldest first; at most BASELINE_WINDOW. */
  runs: t.array(baselineRunSchema),
  /** By stable test id. */
  tests: t.record(baselineTestSchema),
});

export interface BaselineFile extends Static<typeof baselineFileSchema> {}
const baselineFileSchema = t.object({
  format: t.literal(BASELINE_FORMAT),
  version: t.literal(BASELINE_VERSION),
  label: t.string(),
  createdAt: t.string(),
  updatedAt: t.string(),
  /** By source key (`sourceKey`). */
  sources: t.record(baselineSourceSchema),
});

/** Files larger than this are not read: a baseline is read in one piece, at the run's start. */
export const MAX_BASELINE_BYTES = 64 * 1024 * 1024;

/** A run's final result of one test, as the core or a stored run knows it. */
export interface RunTest {
  id: string;
  test: string;
  titlePath: string[];
  file: string;
  project?: string;
  status: TestStatus;
  /** ms; undefined when unknown. */
  duration?: number;
}

/** What a run adds to a baseline. */
export interface SavedRun {
  runId: string;
  framework: string;
  project?: string;
  tests: Iterable<RunTest>;
  summary: BaselineRun['summary'];
  coverage?: CoverageTotals;
  at?: number;
}

/** The key of a runner's (and package project's) part of a baseline file. */
export function sourceKey(framework: string, project?: string): string {
  return project ? `${framework}:${project}` : framework;
}

export function baselinePath(dir: string, label: string): string {
  return join(dir, `${label}.json`);
}

/** A baseline file that cannot be used, with what is wrong. */
export class BaselineError extends Error {
  constructor(
    message: string,
    readonly code: 'BASELINE_NOT_FOUND' | 'BASELINE_INVALID' | 'BASELINE_LABEL' | 'BASELINE_WRITE',
  ) {
    super(message);
    this.name = 'BaselineError';
  }
}

/**
 * Reads and checks a baseline file. Throws BaselineError (not found, too large, not JSON, not a testwire
 * baseline, or a field of the wrong type: the message names it). The duration statistics are computed again
 * from the durations read.
 */
export function readBaseline(path: string): BaselineFile {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_BASELINE_BYTES)
      throw new BaselineError(
        `${path} is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${MAX_BASELINE_BYTES / 2 ** 20} MiB a baseline may be`,
        'BASELINE_INVALID',
      );
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof BaselineError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new BaselineError(`no baseline at ${path}`, 'BASELINE_NOT_FOUND');
    throw new BaselineError(`cannot read ${path}: ${(error as Error).message}`, 'BASELINE_INVALID');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BaselineError(`${path} is not JSON: ${(error as Error).message}`, 'BASELINE_INVALID');
  }
  const problem = fileProblem(parsed);
  if (problem) throw new BaselineError(`${path} is not a testwire baseline: ${problem}`, 'BASELINE_INVALID');
  const file = parsed as BaselineFile;
  for (const source of Object.values(file.sources))
    for (const test of Object.values(source.tests)) {
      const stats = durationStats(test.durations);
      if (stats) test.duration = stats;
      else delete test.duration;
    }
  return file;
}

function fileProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  if (value.format !== BASELINE_FORMAT)
    return `format is ${JSON.stringify(value.format)}, expected "${BASELINE_FORMAT}"`;
  if (value.version !== BASELINE_VERSION)
    return `version ${JSON.stringify(value.version)} is not supported (this testwire reads version ${BASELINE_VERSION})`;
  return validateSchema(baselineFileSchema, value);
}

/** Folds `run` into `file` (or a new file) and returns the result; `file` is not modified. */
export function foldRun(file: BaselineFile | undefined, label: string, run: SavedRun): BaselineFile {
  const now = new Date(run.at ?? Date.now()).toISOString();
  const key = sourceKey(run.framework, run.project);
  const previous = file?.sources[key];
  const tests: Record<string, BaselineTest> = {};
  for (const test of run.tests) {
    const before = previous?.tests[test.id];
    const durations = before ? before.durations.slice() : [];
    if (test.status === 'passed' && typeof test.duration === 'number' && Number.isFinite(test.duration))
      durations.push(round1(Math.max(0, test.duration)));
    const kept = durations.slice(-BASELINE_WINDOW);
    const entry: BaselineTest = {
      test: test.test,
      titlePath: test.titlePath,
      file: test.file,
      status: test.status,
      durations: kept,
    };
    if (test.project !== undefined) entry.project = test.project;
    const stats = durationStats(kept);
    if (stats) entry.duration = stats;
    tests[test.id] = entry;
  }
  const savedRun: BaselineRun = { runId: run.runId, savedAt: now, summary: run.summary };
  if (run.coverage) savedRun.coverage = run.coverage;
  const source: BaselineSource = {
    framework: run.framework,
    runs: [...(previous?.runs ?? []), savedRun].slice(-BASELINE_WINDOW),
    tests,
  };
  if (run.project !== undefined) source.project = run.project;
  return {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    label,
    createdAt: file?.createdAt ?? now,
    updatedAt: now,
    sources: { ...(file?.sources ?? {}), [key]: source },
  };
}

/** Writes a baseline atomically (temporary file, then rename); returns its size in bytes. */
export function writeBaseline(path: string, file: BaselineFile): number {
  const text = `${JSON.stringify(file, null, 1)}\n`;
  const dir = join(path, '..');
  try {
    mkdirSync(dir, { recursive: true });
    const temporary = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    throw new BaselineError(`cannot write ${path}: ${(error as Error).message}`, 'BASELINE_WRITE');
  }
  return Buffer.byteLength(text);
}

/** Reads `path` when it exists (undefined when not), then folds and writes: what a save does. */
export function saveRun(path: string, label: string, run: SavedRun): { file: BaselineFile; size: number } {
  let existing: BaselineFile | undefined;
  try {
    existing = readBaseline(path);
  } catch (error) {
    // A file that is not a baseline is not overwritten silently: the caller says what is wrong.
    if (!(error instanceof BaselineError && error.code === 'BASELINE_NOT_FOUND')) throw error;
  }
  const file = foldRun(existing, label, run);
  return { file, size: writeBaseline(path, file) };
}

/** The labels of a folder's baselines with their file sizes, sorted by label. */
export function listBaselines(dir: string): { label: string; path: string; size: number; mtimeMs: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: { label: string; path: string; size: number; mtimeMs: number }[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue;
    const label = name.slice(0, -'.json'.length);
    if (labelProblem(label)) continue;
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isFile()) out.push({ label, path, size: stat.size, mtimeMs: stat.mtimeMs });
  }
  return out;
}

export function durationStats(durations: readonly number[]): DurationStats | undefined {
  if (durations.length === 0) return undefined;
  const sorted = durations.slice().sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  const variance = sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / sorted.length;
  return {
    median: round1(median),
    mean: round1(mean),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    stddev: round1(Math.sqrt(variance)),
    samples: sorted.length,
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
