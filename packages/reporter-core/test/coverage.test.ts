import { join } from 'node:path';
import { validatePublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type CoverageCounts, checkThresholds, coveragePct, coverageTotals } from '../src/index.js';
import { RUN_CONTEXT_EVENTS, sinkCore } from './helpers.js';

const counts = (
  statements: [number, number],
  branches: [number, number],
  functions: [number, number],
  lines: [number, number],
): CoverageCounts => ({
  statements: { covered: statements[0], total: statements[1] },
  branches: { covered: branches[0], total: branches[1] },
  functions: { covered: functions[0], total: functions[1] },
  lines: { covered: lines[0], total: lines[1] },
});

describe('coverage figures', () => {
  it('cuts percentages to 2 decimals as istanbul does, and says 100 when there is nothing to cover', () => {
    // istanbul-lib-coverage: Math.floor((1000 * 100 * covered) / total / 10) / 100
    expect(coveragePct(2, 3)).toBe(66.66);
    expect(coveragePct(3, 7)).toBe(42.85);
    expect(coveragePct(1, 3)).toBe(33.33);
    expect(coveragePct(1, 8)).toBe(12.5);
    expect(coveragePct(7, 7)).toBe(100);
    expect(coveragePct(0, 5)).toBe(0);
    expect(coveragePct(0, 0)).toBe(100);
  });

  it('totals: the four percentages and their mean', () => {
    expect(coverageTotals(counts([9, 10], [1, 2], [3, 4], [8, 10]))).toEqual({
      statements: 90,
      branches: 50,
      functions: 75,
      lines: 80,
      total: 73.75,
    });
  });
});

describe('coverage thresholds', () => {
  const totals = counts([9, 10], [1, 2], [3, 4], [8, 10]);

  it('none set: no verdict', () => {
    expect(checkThresholds({ totals })).toBeUndefined();
    expect(checkThresholds({ totals, thresholds: {} })).toBeUndefined();
  });

  it('a positive threshold is the least percentage', () => {
    const result = checkThresholds({ totals, thresholds: { statements: 90, branches: 60, lines: 85 } });
    expect(result).toEqual({
      passed: false,
      thresholds: { statements: 90, branches: 60, lines: 85 },
      actual: { statements: 90, branches: 50, lines: 80 },
      failures: [
        { metric: 'branches', threshold: 60, actual: 50, deficit: 10 },
        { metric: 'lines', threshold: 85, actual: 80, deficit: 5 },
      ],
    });
  });

  it('a miss smaller than the percentages show has a deficit of 0.01, never 0', () => {
    // 3/7 = 42.857…%, shown (cut to two decimals, as istanbul does) as 42.85.
    const third = counts([3, 7], [3, 7], [3, 7], [3, 7]);
    const result = checkThresholds({ totals: third, thresholds: { lines: 42.851 } });
    expect(result).toMatchObject({
      passed: false,
      failures: [{ metric: 'lines', actual: 42.85, deficit: 0.01 }],
    });
  });

  it('a negative threshold is the most uncovered items', () => {
    // 1 uncovered statement, 1 uncovered branch, 1 uncovered function
    const result = checkThresholds({ totals, thresholds: { statements: -1, functions: -1 } });
    expect(result?.actual).toEqual({ statements: 1, functions: 1 });
    expect(result?.failures).toEqual([]);
    expect(result?.passed).toBe(true);
    const tight = checkThresholds({ totals, thresholds: { branches: -0.5, lines: -1 } });
    expect(tight?.failures).toEqual([
      { metric: 'branches', threshold: -0.5, actual: 1, deficit: 0.5 },
      { metric: 'lines', threshold: -1, actual: 2, deficit: 1 },
    ]);
  });

  it('groups (glob-keyed thresholds): each checked on its own counts, failures name the glob', () => {
    const result = checkThresholds(
      {
        totals,
        thresholds: { lines: 50 },
        groups: [
          { pattern: 'src/**', thresholds: { lines: 90 }, totals: counts([5, 5], [1, 1], [2, 2], [4, 5]) },
          {
            pattern: 'lib/**',
            thresholds: { functions: -1 },
            totals: counts([1, 1], [0, 0], [0, 3], [1, 1]),
          },
          { pattern: 'empty/**', thresholds: {}, totals: counts([0, 0], [0, 0], [0, 0], [0, 0]) },
        ],
      },
      (file) => file,
    );
    expect(result).toEqual({
      passed: false,
      thresholds: { lines: 50 },
      actual: { lines: 80 },
      failures: [
        { metric: 'lines', threshold: 90, actual: 80, deficit: 10, glob: 'src/**' },
        { metric: 'functions', threshold: -1, actual: 3, deficit: 2, glob: 'lib/**' },
      ],
    });
    // only groups: a verdict with no global thresholds
    expect(checkThresholds({ totals, groups: [{ pattern: 'x', thresholds: { lines: 1 }, totals }] })).toEqual(
      {
        passed: true,
        thresholds: {},
        actual: {},
        failures: [],
      },
    );
  });

  it('per file: every file is checked, a failure names its file; actual stays the run’s figures', () => {
    const result = checkThresholds(
      {
        totals,
        thresholds: { lines: 75 },
        perFile: [
          { file: '/root/src/a.js', totals: counts([5, 5], [1, 1], [2, 2], [5, 5]) },
          { file: '/root/src/b.js', totals: counts([4, 5], [0, 1], [1, 2], [3, 5]) },
        ],
      },
      (file) => file.replace('/root/', ''),
    );
    expect(result).toEqual({
      passed: false,
      perFile: true,
      thresholds: { lines: 75 },
      actual: { lines: 80 },
      failures: [{ metric: 'lines', threshold: 75, actual: 60, deficit: 15, file: 'src/b.js' }],
    });
  });
});

describe('coverage events of a run', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('coverage.threshold, coverage.completed, then test.completed carrying the summary', async () => {
    const context = sinkCore({ framework: 'vitest' });
    cleanups.push(context.cleanup);
    const { core, events: all, rootDir } = context;
    core.runStarted({ totalTests: 0 });
    core.coverage({
      provider: 'v8',
      totals: counts([9, 10], [1, 2], [3, 4], [8, 10]),
      files: 2,
      reports: ['text', 'json-summary'],
      thresholds: { branches: 60 },
      perFile: [{ file: join(rootDir, 'src', 'b.js'), totals: counts([9, 10], [1, 2], [3, 4], [8, 10]) }],
    });
    await core.runCompleted({ success: false });
    // What coverage makes, without the run's context (framework.*, system.health).
    const events = all.filter((e) => !RUN_CONTEXT_EVENTS.has(e.type));
    expect(events.map((e) => e.type)).toEqual([
      'test.started',
      'coverage.threshold',
      'coverage.completed',
      'test.completed',
    ]);
    expect(events.map(validatePublishedEvent).filter((result) => !result.ok)).toEqual([]);
    const [, threshold, completed, done] = events.map((e) => e.data as any);
    expect(threshold.failures).toEqual([
      { metric: 'branches', threshold: 60, actual: 50, deficit: 10, file: 'src/b.js' },
    ]);
    const summary = { statements: 90, branches: 50, functions: 75, lines: 80, total: 73.75 };
    expect(completed).toEqual({
      framework: 'vitest',
      project: 'fixture-project',
      provider: 'v8',
      summary,
      thresholdsMet: false,
      files: 2,
      reports: ['text', 'json-summary'],
    });
    expect(done.coverage).toEqual(summary);
  });

  it('without thresholds: thresholdsMet, no coverage.threshold; a run without coverage has none', async () => {
    const context = sinkCore();
    cleanups.push(context.cleanup);
    const { core, of } = context;
    core.runStarted({});
    core.coverage({ provider: 'babel', totals: counts([1, 1], [0, 0], [1, 1], [1, 1]), files: 1 });
    await core.runCompleted({ success: true });
    expect(of('coverage.threshold')).toHaveLength(0);
    expect(of('coverage.completed')[0].data).toMatchObject({ thresholdsMet: true, reports: [] });
    expect(of('coverage.completed')[0].data.note).toBeUndefined();
    core.runStarted({});
    await core.runCompleted({ success: true });
    expect(of('test.completed')[1].data.coverage).toBeUndefined();
  });

  it('garbage in a report becomes zeros and "unknown", never an exception', async () => {
    const context = sinkCore();
    cleanups.push(context.cleanup);
    const { core, of } = context;
    core.runStarted({});
    core.coverage({ provider: 42, totals: { lines: { covered: 'x' } }, files: Number.NaN } as never);
    core.coverage(undefined as never);
    await core.runCompleted({ success: true });
    const [completed] = of('coverage.completed');
    expect(completed.data).toMatchObject({ provider: 'unknown', files: 0 });
    expect(completed.data.summary).toEqual({
      statements: 100,
      branches: 100,
      functions: 100,
      lines: 100,
      total: 100,
    });
    const result = validatePublishedEvent(completed);
    expect(result.ok ? 'ok' : result.error).toBe('ok');
  });

  it('a note on the report (why the figures may differ from the provider’s) reaches coverage.completed', async () => {
    const context = sinkCore();
    cleanups.push(context.cleanup);
    const { core, of } = context;
    core.runStarted({});
    const note = "taken at mocha's end";
    core.coverage({ provider: 'c8', totals: counts([1, 1], [0, 0], [1, 1], [1, 1]), files: 1, note });
    await core.runCompleted({ success: true });
    const [completed] = of('coverage.completed');
    expect(completed.data.note).toBe(note);
    const result = validatePublishedEvent(completed);
    expect(result.ok ? 'ok' : result.error).toBe('ok');
  });
});
