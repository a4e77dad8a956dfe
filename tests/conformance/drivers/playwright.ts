/**
 * Conformance drivers for Playwright Test, current (compat/playwright) and the oldest supported release
 * (compat/playwright-1.40, the peer range's floor): run the real `playwright test` binary on a copy of
 * fixtures/playwright/<fixture>/ and read Playwright's own JSON report.
 *
 * The fixture's playwright.config.mjs always has the `list` and `json` reporters and adds
 * `@testwire/playwright` when TESTWIRE_CONFORMANCE_REPORTER=1. Fixture tests are plain Node code (no page),
 * so no browser is needed. Playwright attributes worker output to the running test (outputAttribution 'test').
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestStatus } from '@testwire/protocol';
import type { NativeReport, NativeTest, RunnerDriver, RunOptions, RunResult } from '../src/driver.js';
import {
  copyFixture,
  escapeRegExp,
  REPO_DIR,
  readNativeReport,
  runnerEnv,
  runProcess,
} from '../src/spawn.js';

// ---------------------------------------------------------------------------------------------------------
// Playwright JSON report (the subset read here; `JSONReport` in @playwright/test/reporter)

interface JsonReport {
  suites?: JsonSuite[];
  errors?: unknown[];
  stats?: { expected: number; unexpected: number; flaky: number; skipped: number };
}
interface JsonSuite {
  title: string;
  file: string;
  specs?: { title: string; file: string; tests: { status: JsonTestStatus; projectName: string }[] }[];
  suites?: JsonSuite[];
}
type JsonTestStatus = 'expected' | 'unexpected' | 'flaky' | 'skipped';

/** Playwright's per-test outcome -> testwire status (a flaky test passed in the end). */
const OUTCOME: Record<JsonTestStatus, TestStatus> = {
  expected: 'passed',
  flaky: 'passed',
  unexpected: 'failed',
  skipped: 'skipped',
};

/** Top-level suites are files (their title is the file path); nested suites are describes. */
export function normalizeJsonReport(report: JsonReport): NativeReport {
  const tests: NativeTest[] = [];
  const visit = (suite: JsonSuite, describes: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        tests.push({
          file: spec.file.split(path.sep).join('/'),
          titlePath: [...describes, spec.title],
          status: OUTCOME[test.status],
        });
      }
    }
    // Anonymous `test.describe(() => …)` groups have an empty title; titles never show them.
    for (const child of suite.suites ?? [])
      visit(child, child.title ? [...describes, child.title] : describes);
  };
  for (const file of report.suites ?? []) visit(file, []);
  const success =
    (report.stats?.unexpected ?? 0) === 0 && (report.errors?.length ?? 0) === 0 && report.stats !== undefined;
  return { tests, success };
}

function createDriver(id: 'playwright' | 'playwright-1.40'): RunnerDriver {
  const compat = path.join(REPO_DIR, 'compat', id);
  const work = path.join(compat, 'work');
  const bin = path.join(compat, 'node_modules/.bin/playwright');

  async function run(options: RunOptions): Promise<RunResult> {
    const { dir, cleanup } = copyFixture(id, 'playwright', options.fixture);
    const reportFile = path.join(dir, 'report.json');
    try {
      const env = runnerEnv({
        ...options.env,
        TESTWIRE_CONFORMANCE_REPORTER: options.reporter ? '1' : '0',
        TESTWIRE_CONFORMANCE_JSON: reportFile,
      });
      // FORCE_COLOR=0 already turns colours off; NO_COLOR beside it makes every Node process print a warning.
      delete env.NO_COLOR;
      const result = await runProcess(bin, ['test'], {
        cwd: dir,
        env,
        timeoutMs: options.timeoutMs ?? 120_000,
        onSpawn: options.onSpawn,
      });
      const native = await readNativeReport(async () =>
        normalizeJsonReport(JSON.parse(await readFile(reportFile, 'utf8')) as JsonReport),
      );
      return { ...result, native };
    } finally {
      cleanup();
    }
  }

  /**
   * Durations (`(305ms)`, `(1.2s)`, `(1.0m)`), the fixture copy's absolute path (in stack frames) and process
   * ids in Node warnings differ between two runs of the same fixture; nothing else in the list reporter's
   * output does.
   */
  function normalizeOutput(output: string): string {
    return output
      .replace(/\r\n/g, '\n')
      .replace(/\(node:\d+\)/g, '(node:<pid>)')
      .replace(new RegExp(`${escapeRegExp(work)}[\\\\/][^\\\\/\\s]+`, 'g'), '<fixture>')
      .replace(/\b\d+(?:\.\d+)?(?:ms|s|m|h)\b/g, '<duration>');
  }

  return {
    id,
    framework: 'playwright',
    // test.fixme is reported as skipped: the JSON report cannot tell a todo from a skip.
    nativeTodo: false,
    outputAttribution: 'test',
    signalsGroup: id === 'playwright-1.40',
    run,
    normalizeOutput,
  };
}

export const drivers: RunnerDriver[] = [createDriver('playwright'), createDriver('playwright-1.40')];
