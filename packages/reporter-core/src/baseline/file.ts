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
import type { CoverageTotals, TestStatus } from '@testwire/protocol';

export const BASELINE_FORMAT = 'testwire-baseline';
export const BASELINE_VERSION = 1;
/** The reference's folder, under the run's root. */
export const BASELINE_DIR = '.test-baselines';
/** Durations kept per test, and runs per source: the window the statistics are computed over. */
export const BASELINE_WINDOW = 10;

/** A label is a file name: letters, digits, `.`, `_`, `-`; not starting with `.`; at most 100 characters. */
const LABEL = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

/** Why `label` cannot name a baseline, or undefined when it can. */
export function labelProblem(label: unknown): string | undefined {
  if (typeof label !== 'string' || label.length === 0) return 'a baseline label must be a non-empty string';
  if (!LABEL.test(label))
    return `baseline label ${JSON.stringify(label)} must be 1-100 letters, digits, ".", "_" or "-", not starting with "."`;
  return undefined;
}

/** Duration statistics of one test's samples (ms, one decimal). */
export interface DurationStats {
  /** The reference a later run is compared with: robust to one odd sample. */
  median: number;
  mean: number;
  min: number;
  max: number;
  /** Population standard deviation (0 with one sample). */
  stddev: number;
  samples: number;
}

export interface BaselineTest {
  /** The test's name (its title) and where it is. */
  test: string;
  titlePath: string[];
  file: string;
  /** The runner's project (Playwright project, Jest displayName), when it has one. */
  project?: string;
  /** Its status in the last run saved. */
  status: TestStatus;
  /** The durations of its last passing results (ms), oldest first; at most BASELINE_WINDOW. */
  durations: number[];
  /** Statistics over `durations`; absent when it never passed. */
  duration?: DurationStats;
}

export interface BaselineRun {
  runId: string;
  savedAt: string;
  summary: {
    total: number;
    passed: number;
    failed: number;
    skipped: number;
    todo: number;
    duration?: number;
  };
  coverage?: CoverageTotals;
}

export interface BaselineSource {
  framework: string;
  /** The package's project (option `project`, else package.json name). */
  project?: string;
  /** The runs folded in, oldest first; at most BASELINE_WINDOW. */
  runs: BaselineRun[];
  /** By stable test id. */
  tests: Record<string, BaselineTest>;
}

export interface BaselineFile {
  format: typeof BASELINE_FORMAT;
  version: typeof BASELINE_VERSION;
  label: string;
  createdAt: string;
  updatedAt: string;
  /** By source key (`sourceKey`). */
  sources: Record<string, BaselineSource>;
}

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

/** Reads and checks a baseline file. Throws BaselineError (not found, not JSON, not a testwire baseline). */
export function readBaseline(path: string): BaselineFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
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
  return parsed as BaselineFile;
}

function fileProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  if (value.format !== BASELINE_FORMAT)
    return `format is ${JSON.stringify(value.format)}, expected "${BASELINE_FORMAT}"`;
  if (value.version !== BASELINE_VERSION)
    return `version ${JSON.stringify(value.version)} is not supported (this testwire reads version ${BASELINE_VERSION})`;
  if (!isRecord(value.sources)) return '"sources" is missing';
  for (const [key, source] of Object.entries(value.sources)) {
    if (!isRecord(source) || !isRecord(source.tests) || !Array.isArray(source.runs))
      return `source ${JSON.stringify(key)} lacks "tests" or "runs"`;
    for (const [id, test] of Object.entries(source.tests)) {
      if (!isRecord(test) || typeof test.status !== 'string' || !Array.isArray(test.durations))
        return `test ${id} of ${JSON.stringify(key)} lacks "status" or "durations"`;
    }
  }
  return undefined;
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

/** The coverage total of a summary: its `total`, else the mean of the four metrics. */
export function coverageTotal(coverage: CoverageTotals | undefined): number | undefined {
  if (!coverage) return undefined;
  if (typeof coverage.total === 'number') return coverage.total;
  const { statements, branches, functions, lines } = coverage;
  return Math.round(((statements + branches + functions + lines) / 4) * 100) / 100;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
