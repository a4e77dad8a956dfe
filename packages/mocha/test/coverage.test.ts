import { describe, expect, it } from 'vitest';
import { nycCoverageReport } from '../src/coverage.js';
import { mochaDir } from './helpers/run.js';

/** nyc's counters for one file (istanbul's FileCoverage data): 2 of 3 statements, 1 of 2 functions run. */
const counters = {
  '/p/src/a.js': {
    path: '/p/src/a.js',
    statementMap: {
      0: { start: { line: 1, column: 0 }, end: { line: 1, column: 9 } },
      1: { start: { line: 2, column: 0 }, end: { line: 2, column: 9 } },
      2: { start: { line: 3, column: 0 }, end: { line: 3, column: 9 } },
    },
    fnMap: {
      0: {
        name: 'a',
        decl: { start: { line: 1, column: 0 }, end: { line: 1, column: 1 } },
        loc: { start: { line: 1, column: 0 }, end: { line: 1, column: 9 } },
      },
      1: {
        name: 'b',
        decl: { start: { line: 3, column: 0 }, end: { line: 3, column: 1 } },
        loc: { start: { line: 3, column: 0 }, end: { line: 3, column: 9 } },
      },
    },
    branchMap: {},
    s: { 0: 1, 1: 4, 2: 0 },
    f: { 0: 1, 1: 0 },
    b: {},
  },
};

describe('nycCoverageReport', () => {
  it('summarizes nyc’s counters with nyc’s own istanbul-lib-coverage, thresholds only with checkCoverage', () => {
    const config = { cwd: mochaDir(11), reporter: 'lcov', checkCoverage: true, lines: 90, functions: 0 };
    const report = nycCoverageReport({ NYC_CONFIG: JSON.stringify(config) }, counters);
    expect(report).toEqual({
      provider: 'nyc',
      totals: {
        statements: { covered: 2, total: 3 },
        branches: { covered: 0, total: 0 },
        functions: { covered: 1, total: 2 },
        lines: { covered: 2, total: 3 },
      },
      files: 1,
      reports: ['lcov'],
      thresholds: { lines: 90, functions: 0 },
    });
    const unchecked = nycCoverageReport(
      { NYC_CONFIG: JSON.stringify({ ...config, checkCoverage: false }) },
      counters,
    );
    expect(unchecked?.thresholds).toBeUndefined();
  });

  it('nothing outside nyc, or without counters', () => {
    expect(nycCoverageReport({}, counters)).toBeUndefined();
    expect(nycCoverageReport({ NYC_CONFIG: JSON.stringify({ cwd: mochaDir(11) }) }, null)).toBeUndefined();
  });
});
