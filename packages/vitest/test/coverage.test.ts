import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { coverageReportOf } from '../src/coverage.js';

/** An istanbul CoverageMap as far as the reporter reads it. */
function fakeMap(files: Record<string, Record<string, { covered: number; total: number }>>) {
  const sum = (metric: string) =>
    Object.values(files).reduce(
      (acc, file) => ({
        covered: acc.covered + (file[metric]?.covered ?? 0),
        total: acc.total + (file[metric]?.total ?? 0),
      }),
      { covered: 0, total: 0 },
    );
  const summary = (data: Record<string, unknown>) => ({ data });
  return {
    getCoverageSummary: () =>
      summary({
        statements: sum('statements'),
        branches: sum('branches'),
        functions: sum('functions'),
        lines: sum('lines'),
      }),
    files: () => Object.keys(files),
    fileCoverageFor: (file: string) => ({ toSummary: () => summary(files[file] ?? {}) }),
  };
}

const half = { covered: 1, total: 2 };
const full = { covered: 2, total: 2 };
const map = fakeMap({
  '/p/src/a.js': { statements: full, branches: full, functions: full, lines: full },
  '/p/src/b.js': { statements: half, branches: half, functions: half, lines: half },
});

describe('coverageReportOf', () => {
  it('reads the counts, the files and the reporter names (tuples or bare names)', () => {
    expect(
      coverageReportOf(map, { provider: 'istanbul', reporter: [['text', {}], 'lcov', ['html']] }),
    ).toEqual({
      provider: 'istanbul',
      totals: {
        statements: { covered: 3, total: 4 },
        branches: { covered: 3, total: 4 },
        functions: { covered: 3, total: 4 },
        lines: { covered: 3, total: 4 },
      },
      files: 2,
      reports: ['text', 'lcov', 'html'],
    });
  });

  it('thresholds: the metric keys, `100` for every metric, per-file counts with perFile; glob keys ignored', () => {
    const report = coverageReportOf(map, {
      provider: 'v8',
      thresholds: { 100: true, lines: 50, perFile: true, autoUpdate: false, 'src/a.js': { lines: 100 } },
    });
    expect(report?.thresholds).toEqual({ statements: 100, branches: 100, functions: 100, lines: 100 });
    expect(report?.perFile?.map((entry) => [entry.file, entry.totals.lines])).toEqual([
      ['/p/src/a.js', full],
      ['/p/src/b.js', half],
    ]);
    const plain = coverageReportOf(map, { thresholds: { branches: -3, 'src/**': { lines: 90 } } });
    expect(plain?.thresholds).toEqual({ branches: -3 });
    expect(plain?.perFile).toBeUndefined();
    expect(plain?.provider).toBe('unknown');
  });

  it('glob keys: a group of the files each matches (relative to the root), with per-file counts on perFile', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const rooted = fakeMap({
      [join(root, 'src/a.js')]: { statements: full, branches: full, functions: full, lines: full },
      [join(root, 'src/b.js')]: { statements: half, branches: half, functions: half, lines: half },
      [join(root, 'lib/c.js')]: { statements: half, branches: half, functions: half, lines: half },
    });
    const report = coverageReportOf(
      rooted,
      {
        thresholds: {
          'src/**': { lines: 80, 100: false },
          'lib/*.js': { 100: true },
          'none/**': { lines: 1 },
        },
      },
      root,
    );
    expect(report?.thresholds).toBeUndefined();
    expect(report?.groups).toEqual([
      {
        pattern: 'src/**',
        thresholds: { lines: 80 },
        totals: {
          statements: { covered: 3, total: 4 },
          branches: { covered: 3, total: 4 },
          functions: { covered: 3, total: 4 },
          lines: { covered: 3, total: 4 },
        },
      },
      {
        pattern: 'lib/*.js',
        thresholds: { statements: 100, branches: 100, functions: 100, lines: 100 },
        totals: { statements: half, branches: half, functions: half, lines: half },
      },
      {
        pattern: 'none/**',
        thresholds: { lines: 1 },
        totals: {
          statements: { covered: 0, total: 0 },
          branches: { covered: 0, total: 0 },
          functions: { covered: 0, total: 0 },
          lines: { covered: 0, total: 0 },
        },
      },
    ]);
    const perFile = coverageReportOf(
      rooted,
      { thresholds: { perFile: true, 'lib/**': { lines: 90 } } },
      root,
    );
    expect(perFile?.groups?.[0]?.perFile?.map((entry) => entry.file)).toEqual([join(root, 'lib/c.js')]);
  });

  it('no thresholds configured: none reported; something that is not a coverage map: no report', () => {
    expect(coverageReportOf(map, { thresholds: { perFile: true } })?.thresholds).toBeUndefined();
    expect(coverageReportOf({ custom: 'provider output' }, { provider: 'custom' })).toBeUndefined();
    expect(coverageReportOf(undefined, undefined)).toBeUndefined();
  });
});
