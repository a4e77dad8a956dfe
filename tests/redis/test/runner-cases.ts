/**
 * Jest, Playwright and Mocha as the sharded tests run them: the command of an unsharded reference run (the
 * runner alone) or of shard k/N (with its testwire reporter), and the tests of the runner's own JSON report.
 * Tests are keyed `file :: title path joined by spaces` — mocha's JSON has only `fullTitle`, the titles
 * joined by spaces — so a runner's report and testwire's `test.result` (file, titlePath) meet on one key.
 *
 * Mocha has no --shard: each job gets TESTWIRE_SHARD=k/N, which both tells @testwire/mocha its shard and
 * picks the job's share of the spec files in the fixture's .mocharc.cjs (the recipe the README gives).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_DIR } from './helpers.js';

export interface ReportedTest {
  key: string;
  /** passed | failed | skipped | todo, as testwire counts them. */
  status: string;
}

export interface RunnerCase {
  name: 'jest' | 'playwright' | 'mocha';
  fixture: string;
  /** The run's command line; `shard` given: shard k/N of N, reporting to testwire. */
  command(
    dir: string,
    report: string,
    shard?: { k: number; n: number },
  ): {
    bin: string;
    args: string[];
    env: Record<string, string>;
  };
  /** The tests of the run's own JSON report. */
  read(report: string, dir: string): ReportedTest[];
}

const bin = (name: string) => join(PACKAGE_DIR, 'node_modules/.bin', name);
const key = (file: string, titles: string[]) => `${file} :: ${titles.join(' ')}`;
const json = (report: string) => {
  if (!existsSync(report)) throw new Error(`no report at ${report}`);
  return JSON.parse(readFileSync(report, 'utf8'));
};

const JEST_STATUS: Record<string, string> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  skipped: 'skipped',
  disabled: 'skipped',
  todo: 'todo',
};

const PLAYWRIGHT_STATUS: Record<string, string> = {
  expected: 'passed',
  flaky: 'passed',
  unexpected: 'failed',
  skipped: 'skipped',
};

export const jest: RunnerCase = {
  name: 'jest',
  fixture: 'jest-sharded',
  command(_dir, report, shard) {
    const args = ['--ci', '--maxWorkers=1', '--json', `--outputFile=${report}`];
    if (shard)
      args.push(`--shard=${shard.k}/${shard.n}`, '--reporters=default', '--reporters=@testwire/jest');
    return { bin: bin('jest'), args, env: {} };
  },
  read(report, dir) {
    const body = json(report) as {
      testResults: {
        name: string;
        assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
      }[];
    };
    return body.testResults.flatMap((file) =>
      file.assertionResults.map((a) => ({
        key: key(relative(dir, file.name), [...a.ancestorTitles, a.title]),
        status: JEST_STATUS[a.status] ?? a.status,
      })),
    );
  },
};

interface PlaywrightSuite {
  title: string;
  specs?: { title: string; file: string; tests: { status: string }[] }[];
  suites?: PlaywrightSuite[];
}

export const playwright: RunnerCase = {
  name: 'playwright',
  fixture: 'playwright-sharded',
  command(_dir, report, shard) {
    const args = ['test'];
    // The config adds @testwire/playwright when TESTWIRE_REDIS_URL is set (the shards' env).
    if (shard) args.push(`--shard=${shard.k}/${shard.n}`);
    return { bin: bin('playwright'), args, env: { PW_JSON_REPORT: report } };
  },
  read(report) {
    const body = json(report) as { suites: PlaywrightSuite[] };
    const tests: ReportedTest[] = [];
    const visit = (suite: PlaywrightSuite, describes: string[]) => {
      for (const spec of suite.specs ?? [])
        for (const test of spec.tests)
          tests.push({
            key: key(spec.file, [...describes, spec.title]),
            status: PLAYWRIGHT_STATUS[test.status] ?? test.status,
          });
      for (const child of suite.suites ?? [])
        visit(child, child.title ? [...describes, child.title] : describes);
    };
    for (const file of body.suites) visit(file, []);
    return tests;
  },
};

interface MochaTest {
  fullTitle: string;
  file: string;
}

export const mocha: RunnerCase = {
  name: 'mocha',
  fixture: 'mocha-sharded',
  command(_dir, report, shard) {
    const args = shard
      ? ['--reporter', '@testwire/mocha', '--reporter-option', 'reporter=json']
      : ['--reporter', 'json'];
    args.push('--reporter-option', `output=${report}`);
    const env: Record<string, string> = shard ? { TESTWIRE_SHARD: `${shard.k}/${shard.n}` } : {};
    return { bin: bin('mocha'), args, env };
  },
  read(report, dir) {
    const body = json(report) as { tests: MochaTest[]; failures: MochaTest[]; pending: MochaTest[] };
    const id = (t: MochaTest) => `${relative(dir, t.file)} :: ${t.fullTitle}`;
    const failed = new Set(body.failures.map(id));
    const pending = new Set(body.pending.map(id));
    return body.tests.map((t) => ({
      key: id(t),
      status: failed.has(id(t)) ? 'failed' : pending.has(id(t)) ? 'skipped' : 'passed',
    }));
  },
};

/** A `test.result`'s key, as the runners' reports are keyed. */
export const resultKey = (data: { file: string; titlePath: string[] }): string =>
  key(data.file, data.titlePath);

/** Counts of a report's tests, as the group's summary has them. */
export function countsOf(tests: ReportedTest[]) {
  const by = (status: string) => tests.filter((t) => t.status === status).length;
  return {
    total: tests.length,
    passed: by('passed'),
    failed: by('failed'),
    skipped: by('skipped'),
    todo: by('todo'),
  };
}
