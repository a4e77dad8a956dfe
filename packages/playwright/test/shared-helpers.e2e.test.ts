/**
 * Tests declared in a helper module that several spec files call (test/fixtures/shared), end to end on the
 * real Playwright runner (compat/playwright, and 1.40, the oldest supported). Playwright's `test.location`
 * is where a test is declared — the helper, for all of them — but Playwright tells the tests apart by the
 * spec file they were collected in (their file suite): the stream must too. Playwright's own JSON report of
 * the same run is the oracle: the same tests (file, title path, project), each with its attempts' statuses
 * and its outcome, and the same totals. Retries, a failing beforeAll and `test.step` of such tests keep
 * working, and a test declared in its spec file keeps the id it always had.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EventDataMap, EventType } from '@testwire/protocol';
import { stableTestId } from '@testwire/reporter-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture } from './run-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** One test of Playwright's JSON report: its file suite's file, title path, project, attempts, outcome. */
interface ReportedTest {
  file: string;
  titlePath: string[];
  project: string | undefined;
  attempts: string[];
  outcome: string;
}

type JsonSuite = {
  title: string;
  file: string;
  specs?: {
    title: string;
    /** Where the test is declared (Playwright's `test.location`): the helper module, for a helper's test. */
    file: string;
    line: number;
    column: number;
    tests: { projectName: string; status: string; results: { status: string }[] }[];
  }[];
  suites?: JsonSuite[];
};

/** The JSON report's top-level suites are the file suites: their `file` is the spec file. */
function reportedTests(report: { suites: JsonSuite[] }): ReportedTest[] {
  const tests: ReportedTest[] = [];
  const walk = (suite: JsonSuite, file: string, titles: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        tests.push({
          file,
          titlePath: [...titles, spec.title],
          // The unnamed project's tests carry the run's project (the reporter's `project` option).
          project: test.projectName || 'shared-fixture',
          attempts: test.results.map((result) => result.status),
          outcome: test.status,
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, file, [...titles, child.title].filter(Boolean));
  };
  for (const fileSuite of report.suites) walk(fileSuite, fileSuite.file, []);
  return tests;
}

/** A test of the stream, by id: what its results say, in Playwright's words (attempts' rawStatus, outcome). */
function streamedTests(results: EventDataMap['test.result'][]): (ReportedTest & { id: string })[] {
  const byId = new Map<string, EventDataMap['test.result'][]>();
  for (const result of results) byId.set(result.id, [...(byId.get(result.id) ?? []), result]);
  return [...byId].map(([id, attempts]) => {
    const last = attempts[attempts.length - 1];
    const outcome =
      last.status === 'passed'
        ? last.flaky
          ? 'flaky'
          : 'expected'
        : last.status === 'failed'
          ? 'unexpected'
          : last.status;
    return {
      id,
      file: last.file,
      titlePath: last.titlePath,
      project: last.project,
      attempts: attempts.map((attempt) => attempt.rawStatus ?? ''),
      outcome,
    };
  });
}

const byKey = (a: ReportedTest, b: ReportedTest) =>
  `${a.file} ${a.titlePath.join(' › ')}`.localeCompare(`${b.file} ${b.titlePath.join(' › ')}`);

describe.each(['playwright', 'playwright-1.40'])('%s: tests declared in a helper module', (install) => {
  it('one test per spec file that runs it, as Playwright reports them; hooks, retries, steps', async () => {
    const reportFile = `report-${process.pid}.json`;
    // 20–27 tests, several failing (a worker restart each): over 50 s on a loaded machine (CI beside other load)
    const fixture = await runFixture('shared', { PW_JSON_REPORT: reportFile }, install, 150_000);
    dirs.push(fixture.dir);
    const output = `${fixture.stdout}\n${fixture.stderr}`;
    expect(fixture.exitCode, output).toBe(1);
    const report = JSON.parse(await readFile(path.join(fixture.dir, reportFile), 'utf8'));
    const of = <T extends EventType>(type: T) =>
      fixture.events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);

    // The oracle: 3 spec files run checkout (twice.spec.mjs twice), cart.spec.mjs the database too.
    const oracle = reportedTests(report).sort(byKey);
    expect(oracle, output).toHaveLength(4 * 4 + 2 + 2);
    const streamed = streamedTests(of('test.result'));
    expect(streamed.map(({ id: _id, ...test }) => test).sort(byKey)).toEqual(oracle);
    expect(new Set(streamed.map((test) => test.id)).size).toBe(oracle.length);

    const { stats } = report;
    const total = stats.expected + stats.unexpected + stats.skipped + stats.flaky;
    expect(of('test.completed')[0].summary).toMatchObject({
      total,
      passed: stats.expected + stats.flaky,
      failed: stats.unexpected,
      skipped: stats.skipped,
      flaky: stats.flaky,
    });
    expect(of('test.started')[0].totalTests).toBe(total);
    expect([...of('test.started')[0].testFiles].sort()).toEqual(
      report.suites.map((s: JsonSuite) => s.file).sort(),
    );

    // A helper's test is in its spec file, and its `location` is where it is declared, in the helper — as
    // Playwright's JSON report says (its spec's file, line, column); `line` (a line of the spec file) is not
    // set. A test declared in its spec file keeps its line there.
    const results = of('test.result');
    const declared = new Map<string, { file: string; line: number; column: number }>();
    const walk = (suite: JsonSuite, file: string, titles: string[]) => {
      for (const spec of suite.specs ?? [])
        declared.set(`${file} ${[...titles, spec.title].join(' › ')}`, {
          file: spec.file,
          line: spec.line,
          column: spec.column,
        });
      for (const child of suite.suites ?? []) walk(child, file, [...titles, child.title].filter(Boolean));
    };
    for (const fileSuite of report.suites) walk(fileSuite, fileSuite.file, []);
    for (const result of results)
      expect(result.location, `${result.file} ${result.titlePath.join(' › ')}`).toEqual(
        declared.get(`${result.file} ${result.titlePath.join(' › ')}`),
      );
    const adds = results.find((r) => r.file === 'shop.spec.mjs' && r.testName === 'adds to cart');
    expect(adds?.location).toEqual({ file: 'helpers.mjs', line: 7, column: 5 });
    expect(adds?.line).toBeUndefined();
    const plain = results.find((r) => r.testName === 'plain');
    expect(plain?.location).toEqual({ file: 'own.spec.mjs', line: 4, column: 1 });
    expect(plain?.line).toBe(4);

    // Ids of tests declared in their spec file are what they always were.
    for (const titlePath of [['plain'], ['group', 'inside']]) {
      const id = stableTestId({
        framework: 'playwright',
        project: 'shared-fixture',
        file: 'own.spec.mjs',
        titlePath,
      });
      expect(results.filter((r) => r.id === id).map((r) => r.titlePath)).toEqual([titlePath]);
    }

    // The beforeAll in the helper: one hook failure per attempt of the test it ran for, in cart.spec.mjs.
    const hooks = of('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message])).toEqual([
      ['"beforeAll" hook for "reads"', 'cart.spec.mjs', 'no database'],
      ['"beforeAll" hook for "reads"', 'cart.spec.mjs', 'no database'],
    ]);
    expect(of('framework.error').map((e) => [e.error.code, e.file])).toEqual([
      ['HOOK_FAILED', 'cart.spec.mjs'],
      ['HOOK_FAILED', 'cart.spec.mjs'],
    ]);

    // `test.step` of a helper's test: one per spec file (and describe) that ran it, on that test's id; the
    // step's own location stays where it is written.
    const idOf = new Map(streamed.map((test) => [`${test.file} ${test.titlePath.join(' › ')}`, test.id]));
    const steps = of('test.step').filter((s) => s.title === 'open cart');
    expect(steps.map((s) => [s.file, s.titlePath.join(' › ')]).sort()).toEqual([
      ['cart.spec.mjs', 'checkout › adds to cart'],
      ['shop.spec.mjs', 'checkout › adds to cart'],
      ['twice.spec.mjs', 'guest › checkout › adds to cart'],
      ['twice.spec.mjs', 'member › checkout › adds to cart'],
    ]);
    for (const step of steps) {
      expect(step.id).toBe(idOf.get(`${step.file} ${step.titlePath.join(' › ')}`));
      expect(step.stepLocation?.file).toBe('helpers.mjs');
    }
  }, 240_000);
});
