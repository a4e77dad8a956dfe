import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

/** A fresh nyc temp directory (what nyc creates before it starts mocha), with its processinfo directory. */
const dirs: string[] = [];
function tempDir(files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'testwire-nyc-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'processinfo'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(data));
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What nyc's addAllFiles writes for a file: its instrumented maps, zero hits, `all: true`. */
function unloaded(path: string, statements: number) {
  const statementMap: Record<number, unknown> = {};
  const s: Record<number, number> = {};
  for (let i = 0; i < statements; i++) {
    statementMap[i] = { start: { line: i + 1, column: 0 }, end: { line: i + 1, column: 9 } };
    s[i] = 0;
  }
  return { path, statementMap, fnMap: {}, branchMap: {}, s, f: {}, b: {}, all: true };
}

describe('nycCoverageReport', () => {
  it('summarizes nyc’s counters with nyc’s own istanbul-lib-coverage, thresholds only with checkCoverage', () => {
    const config = {
      cwd: mochaDir(11),
      tempDir: tempDir(),
      reporter: 'lcov',
      checkCoverage: true,
      lines: 90,
      functions: 0,
    };
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

  it('`all`: merges what nyc wrote into its temp directory (the unloaded files), as nyc’s report does', () => {
    const before = JSON.stringify(counters);
    const dir = tempDir({
      // nyc's addAllFiles: the loaded file too (its real counters win), and one no test loaded
      'parent.json': {
        '/p/src/a.js': { ...counters['/p/src/a.js'], s: { 0: 0, 1: 0, 2: 0 }, f: { 0: 0, 1: 0 }, all: true },
        '/p/src/u.js': unloaded('/p/src/u.js', 5),
      },
      // an exited child process: its hits add up
      'child.json': {
        '/p/src/a.js': { ...counters['/p/src/a.js'], s: { 0: 0, 1: 0, 2: 3 }, f: { 0: 0, 1: 3 } },
      },
      // this process's own file (written at its exit, its counters are live): not read
      'self.json': { '/p/src/self.js': unloaded('/p/src/self.js', 100) },
    });
    // a file being written when mocha ends: read as empty, as nyc reads what it cannot parse
    writeFileSync(join(dir, 'broken.json'), '{"/p/src/a.js": {');
    const config = { cwd: mochaDir(11), all: true, tempDir: dir, checkCoverage: true, lines: 60 };
    const report = nycCoverageReport(
      { NYC_CONFIG: JSON.stringify(config), NYC_PROCESS_ID: 'self' },
      counters,
    );
    expect(report).toMatchObject({
      files: 2,
      totals: {
        statements: { covered: 3, total: 8 },
        functions: { covered: 2, total: 2 },
        lines: { covered: 3, total: 8 },
      },
      thresholds: { lines: 60 },
    });
    expect(report?.note).toBeUndefined();
    // nyc's live counters are left as they were (nyc writes them at exit)
    expect(JSON.stringify(counters)).toBe(before);
  });

  it('`all` with an unreadable temp directory: a note, and no pass the unloaded files could turn into a miss', () => {
    const missing = join(tmpdir(), 'testwire-nyc-missing-dir');
    const env = (lines: number) => ({
      NYC_CONFIG: JSON.stringify({
        cwd: mochaDir(11),
        all: true,
        tempDir: missing,
        checkCoverage: true,
        lines,
      }),
    });
    const passing = nycCoverageReport(env(50), counters);
    expect(passing).toMatchObject({
      thresholdsMet: false,
      note: expect.stringMatching(/ENOENT.*not counted.*not met/),
    });
    expect(passing?.thresholds).toBeUndefined();
    // 66.66% misses 90% whatever nyc adds: that verdict stands
    const failing = nycCoverageReport(env(90), counters);
    expect(failing).toMatchObject({ thresholds: { lines: 90 }, note: expect.stringMatching(/ENOENT/) });
    expect(failing?.thresholdsMet).toBeUndefined();
  });
});
