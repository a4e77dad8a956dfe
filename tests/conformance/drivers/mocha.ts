/**
 * Conformance drivers for Mocha 10, 11 and 12 (compat/mocha-10, -11, -12): run the real `mocha` binary
 * (no `--exit`: it must exit on its own) on a copy of fixtures/mocha/<fixture>/ and read mocha's own JSON
 * report of the same run.
 *
 * Mocha takes one `--reporter`, so the terminal output and the JSON report come from one reporter that
 * runs mocha's `Spec` and `JSON` side by side (fixtures/mocha/_support/spec-and-json.cjs):
 *   without testwire:  mocha --reporter <copy>/.spec-and-json.cjs --reporter-option output=<file>
 *   with testwire:     mocha --reporter @testwire/mocha --reporter-option reporter=<copy>/.spec-and-json.cjs
 *                            --reporter-option output=<file>
 * @testwire/mocha forwards `output` to the reporter it wraps, so both runs print plain `spec` output and
 * write the same JSON. Mocha's JSON lumps skipped and todo tests together as `pending` (nativeTodo false).
 */
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeReport, NativeTest, RunnerDriver, RunOptions, RunResult } from '../src/driver.js';
import {
  copyFixture,
  escapeRegExp,
  REPO_DIR,
  readNativeReport,
  runnerEnv,
  runProcess,
} from '../src/spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, '../fixtures/mocha');
const SUPPORT_REPORTER = path.join(FIXTURES, '_support/spec-and-json.cjs');

// ---------------------------------------------------------------------------------------------------------
// Mocha's JSON report (lib/reporters/json.js): tests in the order they ended, plus passes/failures/pending.

interface JsonTest {
  title: string;
  fullTitle: string;
  file?: string;
}
interface JsonReport {
  stats?: { failures?: number };
  tests?: JsonTest[];
  passes?: JsonTest[];
  failures?: JsonTest[];
  pending?: JsonTest[];
}
/** Written by the support reporter: the title path of every test that ended, read from the same runner. */
interface TitleEntry {
  file?: string;
  fullTitle: string;
  titlePath: string[];
  /** 'passed' | 'failed' | 'pending' as the runner left the test. */
  state?: string;
}

export function normalizeJsonReport(report: JsonReport, titles: TitleEntry[], root: string): NativeReport {
  const key = (file: string | undefined, fullTitle: string) => `${file ?? ''}\u0000${fullTitle}`;
  const paths = new Map(titles.map((entry) => [key(entry.file, entry.fullTitle), entry.titlePath]));
  const failed = new Set((report.failures ?? []).map((test) => key(test.file, test.fullTitle)));
  const pending = new Set((report.pending ?? []).map((test) => key(test.file, test.fullTitle)));
  const tests: NativeTest[] = [];
  if (titles.length === (report.tests ?? []).length && titles.every((entry) => entry.state)) {
    // One entry per test that ended, with its own state: exact even for tests that share a full title.
    for (const entry of titles)
      tests.push({
        file: entry.file ? path.relative(root, entry.file).split(path.sep).join('/') : '',
        titlePath: entry.titlePath,
        status: entry.state === 'failed' ? 'failed' : entry.state === 'pending' ? 'skipped' : 'passed',
      });
    return { tests, success: report.stats?.failures === 0 };
  }
  for (const test of report.tests ?? []) {
    const k = key(test.file, test.fullTitle);
    tests.push({
      file: test.file ? path.relative(root, test.file).split(path.sep).join('/') : '',
      titlePath: paths.get(k) ?? [test.fullTitle],
      // A test in `tests` ended; failures also hold hooks, which never appear in `tests`.
      status: failed.has(k) ? 'failed' : pending.has(k) ? 'skipped' : 'passed',
    });
  }
  return { tests, success: report.stats?.failures === 0 };
}

function createDriver(id: 'mocha-10' | 'mocha-11' | 'mocha-12'): RunnerDriver {
  const compat = path.join(REPO_DIR, 'compat', id);
  const work = path.join(compat, 'work');
  const bin = path.join(compat, 'node_modules/.bin/mocha');

  async function run(options: RunOptions): Promise<RunResult> {
    const { dir, cleanup } = copyFixture(id, 'mocha', options.fixture);
    try {
      // Inside the copy, `require('mocha')` in the support reporter resolves compat/<id>'s mocha.
      const reporter = path.join(dir, '.spec-and-json.cjs');
      await copyFile(SUPPORT_REPORTER, reporter);
      const reportFile = path.join(dir, 'report.json');
      const args = options.reporter
        ? ['--reporter', '@testwire/mocha', '--reporter-option', `reporter=${reporter}`]
        : ['--reporter', reporter];
      args.push('--reporter-option', `output=${reportFile}`, '--no-color');
      if (options.parallel) args.push('--parallel', '--jobs', '2');
      const result = await runProcess(bin, args, {
        cwd: dir,
        env: runnerEnv(options.env),
        timeoutMs: options.timeoutMs ?? 120_000,
        onSpawn: options.onSpawn,
      });
      const native = await readNativeReport(async () => {
        const report = JSON.parse(await readFile(reportFile, 'utf8')) as JsonReport;
        const titles = JSON.parse(await readFile(`${reportFile}.titles.json`, 'utf8')) as TitleEntry[];
        return normalizeJsonReport(report, titles, dir);
      });
      return { ...result, native };
    } finally {
      cleanup();
    }
  }

  /**
   * What differs between two runs of the same fixture: durations — spec prints ` (305ms)` after a slow test
   * and `6 passing (419ms)` / `(1s)` / `(1m)` in the summary — and the fixture copy's path (stack frames).
   */
  function normalizeOutput(output: string): string {
    return output
      .replace(/\r\n/g, '\n')
      .replace(new RegExp(`${escapeRegExp(work)}[\\\\/][^\\\\/\\s)]+`, 'g'), '<fixture>')
      .replace(/ \(\d+(?:\.\d+)?(?:ms|s|m)\)/g, '');
  }

  return {
    id,
    framework: 'mocha',
    // mocha's JSON reports skipped and todo tests alike as `pending`.
    nativeTodo: false,
    run,
    normalizeOutput,
  };
}

export const drivers: RunnerDriver[] = [
  createDriver('mocha-10'),
  createDriver('mocha-11'),
  createDriver('mocha-12'),
];
