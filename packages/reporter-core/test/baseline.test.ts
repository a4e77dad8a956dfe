import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatePublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BaselineFile,
  compareRun,
  DEFAULT_THRESHOLDS,
  durationStats,
  foldRun,
  judgeTest,
  labelProblem,
  readBaseline,
} from '../src/baseline/index.js';
import type { ReporterCoreOptions, TestRef } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { sinkCore } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  vi.restoreAllMocks();
});

type Row = { title: string; status: 'passed' | 'failed' | 'skipped'; duration: number };
const ref = (title: string): TestRef => ({ file: 'a.test.js', titlePath: ['suite', title] });

/** One run of `rows` through a sink core rooted in `rootDir` (a fresh one when not given). */
async function run(rows: Row[], baseline: ReporterCoreOptions['baseline'], rootDir?: string) {
  const context = sinkCore({ baseline, ...(rootDir ? { rootDir } : {}) });
  cleanups.push(context.cleanup);
  context.core.runStarted({ totalTests: rows.length });
  for (const row of rows) {
    context.core.testStarted(ref(row.title));
    context.core.testResult(ref(row.title), {
      status: row.status,
      rawStatus: row.status,
      duration: row.duration,
      ...(row.status === 'failed' ? { errors: [new Error('boom')] } : {}),
    });
  }
  await context.core.runCompleted({ success: rows.every((row) => row.status !== 'failed') });
  for (const event of context.events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  return context;
}

const suite: Row[] = [
  { title: 'slow', status: 'passed', duration: 500 },
  { title: 'tiny', status: 'passed', duration: 2 },
  { title: 'flips', status: 'passed', duration: 5 },
  { title: 'gone', status: 'passed', duration: 3 },
  { title: 'skipped', status: 'skipped', duration: 0 },
];

describe('baseline in the core', () => {
  it('saves a run to .test-baselines/<label>.json with per-test status and duration statistics', async () => {
    const first = await run(suite, { save: 'main' });
    const saved = first.of('baseline.saved');
    expect(saved).toHaveLength(1);
    expect(saved[0].data).toMatchObject({
      label: 'main',
      framework: 'jest',
      project: 'fixture-project',
      path: './.test-baselines/main.json',
      tests: 5,
      runs: 1,
    });
    // Part of the run, before its test.completed.
    expect(first.events.at(-1)?.type).toBe('test.completed');
    expect(saved[0].runId).toBe(first.core.runId);
    const path = join(first.rootDir, '.test-baselines', 'main.json');
    expect(saved[0].data.size).toBe(readFileSync(path).length);
    const file = readBaseline(path);
    const source = file.sources['jest:fixture-project'];
    const slowId = first.core.idFor(ref('slow'));
    expect(source.tests[slowId]).toMatchObject({
      test: 'slow',
      titlePath: ['suite', 'slow'],
      file: 'a.test.js',
      status: 'passed',
      durations: [500],
      duration: { median: 500, samples: 1, stddev: 0 },
    });
    expect(source.tests[first.core.idFor(ref('skipped'))].duration).toBeUndefined();
    expect(source.runs[0].summary).toMatchObject({ total: 5, passed: 4, skipped: 1 });
  });

  it('a rerun of the unchanged suite flags nothing, even with tiny tests taking several times longer', async () => {
    const first = await run(suite, { save: 'main' });
    const jittery = suite.map((row) => ({
      ...row,
      duration: row.title === 'slow' ? row.duration + 120 : row.duration * 8,
    }));
    const second = await run(jittery, { compare: 'main' }, first.rootDir);
    expect(second.of('test.result').filter((e) => e.data.baseline)).toEqual([]);
    const [compared] = second.of('baseline.compared');
    expect(compared.data).toMatchObject({
      baseline: 'main',
      path: './.test-baselines/main.json',
      comparison: {
        testsAdded: 0,
        testsRemoved: 0,
        testsChanged: 0,
        performanceRegression: false,
        summary: { regression: false, score: 1 },
      },
      regressions: [],
    });
  });

  it('flags a 2x slowdown, an added, a removed and a newly failing test: live on test.result, and at the end', async () => {
    const first = await run(suite, { save: 'main', compare: 'main' });
    expect(first.of('baseline.compared')).toHaveLength(0); // nothing to compare with yet, and no warning for it
    const changed: Row[] = [
      { title: 'slow', status: 'passed', duration: 1000 },
      { title: 'tiny', status: 'passed', duration: 2 },
      { title: 'flips', status: 'failed', duration: 5 },
      { title: 'extra', status: 'passed', duration: 1 },
      { title: 'skipped', status: 'skipped', duration: 0 },
    ];
    const second = await run(changed, { save: 'main', compare: 'main' }, first.rootDir);
    const live = new Map(second.of('test.result').map((e) => [e.data.testName, e.data.baseline]));
    expect(live.get('slow')).toEqual({
      label: 'main',
      regression: true,
      status: 'passed',
      slower: true,
      duration: 500,
      change: 500,
      percentage: 100,
    });
    expect(live.get('flips')).toEqual({
      label: 'main',
      regression: true,
      status: 'passed',
      newlyFailing: true,
    });
    expect(live.get('extra')).toEqual({ label: 'main', regression: false, added: true });
    expect(live.get('tiny')).toBeUndefined();
    expect(live.get('skipped')).toBeUndefined();

    const types = second.events.map((e) => e.type);
    expect(types.indexOf('baseline.compared')).toBeLessThan(types.indexOf('baseline.saved'));
    expect(types.at(-1)).toBe('test.completed');
    const [compared] = second.of('baseline.compared');
    expect(compared.data.comparison).toMatchObject({
      testsAdded: 1,
      testsRemoved: 1,
      testsChanged: 1,
      testsNewlyFailing: 1,
      performanceRegression: true,
      summary: { regression: true, improvement: false },
    });
    // 4 tests compared, 2 regressed (the slowdown and the new failure).
    expect(compared.data.comparison.summary.score).toBe(0.5);
    expect(compared.data.regressions).toEqual([
      expect.objectContaining({
        test: 'slow',
        change: 500,
        percentage: 100,
        baselineDuration: 500,
        duration: 1000,
      }),
    ]);
    expect(compared.data.added).toEqual([
      { id: second.core.idFor(ref('extra')), test: 'extra', file: 'a.test.js' },
    ]);
    expect(compared.data.removed).toEqual([
      { id: second.core.idFor(ref('gone')), test: 'gone', file: 'a.test.js' },
    ]);
    expect(compared.data.changed).toEqual([
      expect.objectContaining({ test: 'flips', from: 'passed', to: 'failed' }),
    ]);
    // Saved again: the slow test now has two samples, the removed test is gone from the baseline.
    const file = readBaseline(join(first.rootDir, '.test-baselines', 'main.json'));
    const tests = file.sources['jest:fixture-project'].tests;
    expect(tests[second.core.idFor(ref('slow'))].durations).toEqual([500, 1000]);
    expect(tests[second.core.idFor(ref('gone'))]).toBeUndefined();
    expect(second.of('baseline.saved')[0].data.runs).toBe(2);
  });

  it("keeps each run's coverage summary and compares the next run's with it", async () => {
    const counts = (covered: number) => ({
      statements: { covered, total: 100 },
      branches: { covered, total: 100 },
      functions: { covered, total: 100 },
      lines: { covered, total: 100 },
    });
    const withCoverage = async (covered: number, rootDir?: string) => {
      const context = sinkCore({
        baseline: { save: 'cov', compare: 'cov' },
        ...(rootDir ? { rootDir } : {}),
      });
      cleanups.push(context.cleanup);
      context.core.runStarted({});
      context.core.testResult(ref('tiny'), { status: 'passed', rawStatus: 'passed', duration: 1 });
      context.core.coverage({ provider: 'v8', totals: counts(covered), files: 1 });
      await context.core.runCompleted({ success: true });
      return context;
    };
    const first = await withCoverage(80);
    expect(first.of('baseline.saved')[0].data.coverage).toBe(80);
    const second = await withCoverage(70, first.rootDir);
    expect(second.of('baseline.compared')[0].data.comparison).toMatchObject({
      coverageImproved: false,
      coverage: { baseline: 80, current: 70, change: -10 },
      summary: { regression: true },
    });
    const file = readBaseline(join(first.rootDir, '.test-baselines', 'cov.json'));
    expect(file.sources['jest:fixture-project'].runs.map((run) => run.coverage?.lines)).toEqual([80, 70]);
  });

  it('a retried test is judged on its final attempt only', async () => {
    const first = await run(suite, { save: 'main' });
    const context = sinkCore({ baseline: { compare: 'main' }, rootDir: first.rootDir });
    context.core.runStarted({});
    context.core.testResult(ref('flips'), {
      status: 'failed',
      rawStatus: 'failed',
      duration: 5,
      willRetry: true,
    });
    context.core.testResult(ref('flips'), { status: 'passed', rawStatus: 'passed', duration: 5, attempt: 2 });
    await context.core.runCompleted({ success: true });
    expect(context.of('test.result').map((e) => e.data.baseline)).toEqual([undefined, undefined]);
    expect(context.of('baseline.compared')[0].data.comparison.testsChanged).toBe(0);
  });

  it('compares coverage: a drop is a regression, a gain an improvement', () => {
    const source = foldRun(undefined, 'main', {
      runId: 'r_1',
      framework: 'jest',
      tests: [],
      summary: { total: 0, passed: 0, failed: 0, skipped: 0, todo: 0 },
      coverage: { statements: 80, branches: 80, functions: 80, lines: 80 },
    }).sources.jest;
    const lower = compareRun(
      'main',
      source,
      { tests: [], coverage: { statements: 70, branches: 70, functions: 70, lines: 70 } },
      DEFAULT_THRESHOLDS,
    );
    expect(lower.comparison).toMatchObject({
      coverageImproved: false,
      coverage: { baseline: 80, current: 70, change: -10 },
      summary: { regression: true, score: 0.9 },
    });
    const higher = compareRun(
      'main',
      source,
      { tests: [], coverage: { statements: 90, branches: 90, functions: 90, lines: 90, total: 90 } },
      DEFAULT_THRESHOLDS,
    );
    expect(higher.comparison).toMatchObject({
      coverageImproved: true,
      summary: { regression: false, improvement: true, score: 1 },
    });
  });

  it('a missing or broken baseline is one stderr line; the run goes on uncompared', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const missing = await run(suite, { compare: 'nope' });
    expect(missing.of('baseline.compared')).toHaveLength(0);
    expect(missing.of('test.completed')).toHaveLength(1);
    expect(stderr.mock.calls.map(String).join('')).toMatch(
      /no baseline at .*nope\.json; this run is not compared/,
    );
    stderr.mockClear();
    const broken = sinkCore({});
    cleanups.push(broken.cleanup);
    await run(suite, { save: 'x' }, broken.rootDir);
    writeFileSync(join(broken.rootDir, '.test-baselines', 'x.json'), '{"format":"other"}');
    const again = await run(suite, { compare: 'x', save: 'x' }, broken.rootDir);
    expect(again.of('baseline.compared')).toHaveLength(0);
    expect(again.of('baseline.saved')).toHaveLength(0); // not overwritten silently
    const text = stderr.mock.calls.map(String).join('');
    expect(text).toMatch(/is not a testwire baseline: format is "other"/);
    expect(text).toMatch(/baseline "x" not saved/);
  });
});

describe('a hand-edited baseline', () => {
  /** A saved baseline of `suite`, edited by `edit`, compared against and saved again by a second run. */
  async function edited(edit: (file: any, slowId: string) => void) {
    const first = await run(suite, { save: 'main' });
    const path = join(first.rootDir, '.test-baselines', 'main.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    edit(file.sources['jest:fixture-project'], first.core.idFor(ref('slow')));
    writeFileSync(path, JSON.stringify(file));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // run() checks that every event the core sent is valid: none would be refused by an owner.
    const again = await run(suite, { compare: 'main', save: 'main' }, first.rootDir);
    const text = stderr.mock.calls.map(String).join('');
    stderr.mockRestore();
    return { again, text, path };
  }

  it.each([
    ['a status out of the enum', (s: any, id: string) => (s.tests[id].status = '<b>weird</b>'), /\.status: /],
    [
      'a duration that is a string',
      (s: any, id: string) => (s.tests[id].durations = ['900', 'x']),
      /durations/,
    ],
    ['a negative duration', (s: any, id: string) => (s.tests[id].durations = [-100000]), /durations/],
    ['a name that is an object', (s: any, id: string) => (s.tests[id].test = { a: 1 }), /\.test: /],
    ['coverage as strings', (s: any) => (s.runs[0].coverage = { lines: '90' }), /coverage/],
  ])(
    '%s: the file is refused with what is wrong; every result is sent, the file kept',
    async (_, edit, field) => {
      const { again, text, path } = await edited(edit);
      expect(text).toMatch(/is not a testwire baseline: sources\.jest:fixture-project\./);
      expect(text).toMatch(field);
      expect(again.of('test.result')).toHaveLength(suite.length);
      expect(again.of('baseline.compared')).toHaveLength(0);
      expect(again.of('baseline.saved')).toHaveLength(0);
      expect(() => readBaseline(path)).toThrow(/is not a testwire baseline/);
    },
  );

  it('statistics that disagree with the durations are computed again from them', async () => {
    const { again, text } = await edited((source, id) => {
      source.tests[id].duration = { median: 1, mean: 1, min: 1, max: 1, stddev: 0, samples: 1 };
    });
    expect(text).toBe('');
    // The median of the saved durations (500 ms), not the edited 1 ms: the slow test is as it was.
    expect(again.of('test.result').find((e) => e.data.testName === 'slow')?.data.baseline).toBeUndefined();
    expect(again.of('baseline.compared')[0].data.regressions).toEqual([]);
  });
});

describe('thresholds and noise guard', () => {
  const entry = (durations: number[]) => ({
    test: 't',
    titlePath: ['t'],
    file: 'f',
    status: 'passed' as const,
    durations,
    duration: durationStats(durations),
  });

  it('needs both the relative and the absolute threshold', () => {
    // +100 % but only +40 ms: under the absolute floor.
    expect(judgeTest('b', entry([40]), 'passed', 80, DEFAULT_THRESHOLDS)).toBeUndefined();
    // +238 % but +105 ms: a tiny playwright test on a rerun under load, under the absolute floor (250 ms).
    expect(judgeTest('b', entry([44]), 'passed', 149, DEFAULT_THRESHOLDS)).toBeUndefined();
    // +110 ms but only +22 %: under the relative threshold.
    expect(judgeTest('b', entry([500]), 'passed', 610, DEFAULT_THRESHOLDS)).toBeUndefined();
    expect(judgeTest('b', entry([500]), 'passed', 760, DEFAULT_THRESHOLDS)?.slower).toBe(true);
    expect(judgeTest('b', entry([500]), 'passed', 200, DEFAULT_THRESHOLDS)?.faster).toBe(true);
  });

  it('uses 3 standard deviations of the baseline samples as a noise guard', () => {
    const noisy = entry([200, 400, 600, 300, 500]); // median 400, stddev ~141
    expect(judgeTest('b', noisy, 'passed', 800, DEFAULT_THRESHOLDS)).toBeUndefined();
    expect(judgeTest('b', noisy, 'passed', 900, DEFAULT_THRESHOLDS)?.slower).toBe(true);
  });

  it('labels are file names; bad options are reported, not thrown', () => {
    expect(labelProblem('v1.0.0')).toBeUndefined();
    expect(labelProblem('../etc/passwd')).toMatch(/must be 1-100 letters/);
    expect(labelProblem('.hidden')).toMatch(/not starting with/);
    const { options, problems } = resolveOptions({
      framework: 'jest',
      rootDir: '/tmp/x',
      env: { TESTWIRE_BASELINE_COMPARE: 'main', TESTWIRE_BASELINE_RELATIVE: 'lots' },
      baseline: { save: '../up', dir: 'b', colour: 1 } as never,
    });
    expect(options.baseline).toEqual({
      compare: 'main',
      dir: '/tmp/x/b',
      thresholds: { relative: 0.5, absoluteMs: 250 },
    });
    expect(problems.join('\n')).toMatch(/unknown option "baseline.colour"/);
    expect(problems.join('\n')).toMatch(/baseline.save: baseline label "..\/up" must be/);
    expect(problems.join('\n')).toMatch(/TESTWIRE_BASELINE_RELATIVE must be a number >= 0/);
  });

  it("keeps the last 10 durations and other runners' sources when saving", () => {
    let file: BaselineFile | undefined;
    file = foldRun(file, 'l', {
      runId: 'r_v',
      framework: 'vitest',
      tests: [{ id: 't_v', test: 'v', titlePath: ['v'], file: 'v', status: 'passed', duration: 1 }],
      summary: { total: 1, passed: 1, failed: 0, skipped: 0, todo: 0 },
    });
    for (let i = 1; i <= 12; i++)
      file = foldRun(file, 'l', {
        runId: `r_${i}`,
        framework: 'jest',
        tests: [{ id: 't_j', test: 'j', titlePath: ['j'], file: 'j', status: 'passed', duration: i }],
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, todo: 0 },
      });
    expect(file?.sources.jest.tests.t_j.durations).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(file?.sources.jest.runs).toHaveLength(10);
    expect(file?.sources.vitest.tests.t_v.status).toBe('passed');
  });
});
