/**
 * C8Coverage outside a c8 process (this test process has no c8 ancestor): nothing without NODE_V8_COVERAGE;
 * with it, c8's config files alone (the note says the command line was not found), read by the c8 of
 * compat/mocha-11 from a copy of test/fixtures/c8.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { C8Coverage } from '../src/c8.js';
import { workCopy } from './helpers/run.js';

const dirs: string[] = [];
const cwd = process.cwd();
afterEach(() => {
  process.chdir(cwd);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(c8rc?: object): string {
  const dir = workCopy(11, 'c8-unit', ['nyc', 'c8']);
  dirs.push(dir);
  process.chdir(dir); // c8 reads its config from the current directory
  mkdirSync(join(dir, 'coverage', 'tmp'), { recursive: true });
  if (c8rc) writeFileSync(join(dir, '.c8rc.json'), JSON.stringify(c8rc));
  return dir;
}

describe('C8Coverage', () => {
  it('nothing without NODE_V8_COVERAGE', () => {
    expect(C8Coverage.detect({})).toBeUndefined();
    project();
    expect(C8Coverage.detect({})).toBeUndefined();
  });

  it('c8’s config file without its command line: include/exclude as patterns, --all files, thresholds', async () => {
    const dir = project({ include: ['src/**'], all: true, checkCoverage: true, lines: 80, reporter: 'lcov' });
    const c8 = C8Coverage.detect({ NODE_V8_COVERAGE: join(dir, 'coverage', 'tmp') });
    expect(c8).toBeDefined();
    const start = c8?.start();
    expect(start).toMatchObject({ provider: 'c8', totalFiles: 3 });
    expect(start?.patterns[0]).toBe('src/**');
    expect(start?.patterns).toContain('!coverage/**'); // c8's default excludes
    // this process is not under c8: no coverage files, so --all's files at 0% are the whole report
    const report = await c8?.collect();
    expect(report).toMatchObject({
      provider: 'c8',
      files: 3,
      reports: ['lcov'],
      thresholds: { lines: 80, functions: 0, branches: 0, statements: 0 },
    });
    expect(report?.totals.lines.covered).toBe(0);
    expect(report?.totals.lines.total).toBeGreaterThan(0);
    expect(report?.note).toMatch(/command line was not found/);
  });

  it('`100` checks every metric at 100; `per-file` checks each file', async () => {
    const dir = project({ include: ['src/**'], all: true, 100: true, 'per-file': true });
    const report = await C8Coverage.detect({ NODE_V8_COVERAGE: join(dir, 'coverage', 'tmp') })?.collect();
    expect(report?.thresholds).toEqual({ lines: 100, functions: 100, branches: 100, statements: 100 });
    expect(report?.perFile?.map((entry) => entry.file.slice(dir.length + 1)).sort()).toEqual([
      'src/math.js',
      'src/strings.js',
      'src/unused.js',
    ]);
  });

  it('monocart is not supported: no coverage rather than other figures', () => {
    const dir = project({ experimentalMonocart: true });
    expect(C8Coverage.detect({ NODE_V8_COVERAGE: join(dir, 'coverage', 'tmp') })).toBeUndefined();
  });
});
