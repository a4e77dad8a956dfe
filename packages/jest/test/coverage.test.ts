import { describe, expect, it } from 'vitest';
import { jestCoverageReport } from '../src/coverage.js';

const metric = (covered: number, total: number) => ({ covered, total, pct: 0 });
/** What Jest's results.coverageMap offers: an istanbul CoverageMap. */
const map = {
  getCoverageSummary: () => ({
    data: { statements: metric(3, 5), branches: metric(1, 4), functions: metric(2, 3), lines: metric(2, 3) },
  }),
  files: () => ['/p/src/math.js'],
};

describe('jestCoverageReport', () => {
  it('reads the map; the provider defaults to babel (Jest’s default); coverageReporters names', () => {
    expect(
      jestCoverageReport(map, { coverageReporters: ['json', ['lcov', { projectRoot: '/' }]] }, false),
    ).toEqual({
      provider: 'babel',
      totals: {
        statements: { covered: 3, total: 5 },
        branches: { covered: 1, total: 4 },
        functions: { covered: 2, total: 3 },
        lines: { covered: 2, total: 3 },
      },
      files: 1,
      reports: ['json', 'lcov'],
    });
  });

  it('global thresholds are handed to the core to check; path or glob keys leave the verdict to Jest', () => {
    const global = jestCoverageReport(
      map,
      {
        coverageProvider: 'v8',
        coverageThreshold: { global: { lines: 90, branches: -2, functions: undefined } },
      },
      true,
    );
    expect(global).toMatchObject({ provider: 'v8', thresholds: { lines: 90, branches: -2 } });
    expect(global?.thresholdsMet).toBeUndefined();
    for (const failed of [true, false]) {
      const keyed = jestCoverageReport(
        map,
        { coverageThreshold: { global: { lines: 90 }, './src/': { lines: 100 } } },
        failed,
      );
      expect(keyed?.thresholds).toBeUndefined();
      expect(keyed?.thresholdsMet).toBe(!failed);
    }
  });

  it('no map (coverage off, or a map Jest did not set): no report', () => {
    expect(jestCoverageReport(undefined, {}, false)).toBeUndefined();
    expect(jestCoverageReport({ data: {} }, {}, false)).toBeUndefined();
  });
});
