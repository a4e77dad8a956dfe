/**
 * `c8 mocha --reporter @testwire/mocha` end to end (mocha 11, the c8 of compat/mocha-11): the coverage the
 * stream carries is the coverage c8 itself writes for the same run (its json-summary), with and without
 * `--all`, serial and `--parallel`; c8's `--check-coverage` thresholds fail test.completed exactly when they
 * fail the command. c8's flags come from its command line, `include` and the reporters from the fixture's
 * `.c8rc.json`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { createReporterCore } from '@testwire/reporter-core';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, runUnderTool } from './helpers/run.js';

const METRICS = ['statements', 'branches', 'functions', 'lines'] as const;

/** coverage.started comes from a core call another branch adds (issue 15); expected once the core has it. */
const coreStartsCoverage =
  typeof (
    createReporterCore({ enabled: false, rootDir: fixturesDir, framework: 'mocha' }) as {
      coverageStarted?: unknown;
    }
  ).coverageStarted === 'function';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** The fixture project: nyc's math module and its test, with test/fixtures/c8 over it. */
const C8_FIXTURE = ['nyc', 'c8'];

/** `c8 [c8Args] mocha [mochaArgs] --reporter @testwire/mocha *.test.cjs` in a copy of C8_FIXTURE. */
async function c8Run(c8Args: string[], mochaArgs: string[] = [], testwire = true) {
  const { dir, result } = await runUnderTool(
    'c8',
    C8_FIXTURE,
    c8Args,
    [...mochaArgs, '--reporter', '@testwire/mocha', '--reporter-option', 'reporter=dot', '*.test.cjs'],
    testwire ? { TESTWIRE_URL: stream.url } : { TESTWIRE: 'off' },
  );
  const events = testwire ? await stream.runOf(basename(dir)) : [];
  let own: Record<(typeof METRICS)[number], { pct: number }>;
  try {
    own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;
  } catch {
    throw new Error(
      `c8 wrote no json-summary (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
  return { result, events, own, data, files: c8Files(result.stdout) };
}

/** The files of c8's text report (the fixture's `.c8rc.json` asks for `text` too). */
function c8Files(stdout: string): string[] {
  return [...stdout.matchAll(/^ {1}(\S+\.js)\s+\|/gm)].map((m) => m[1] as string);
}

/** A file's line coverage in c8's text report (undefined when it is not there). */
function c8Lines(stdout: string, file: string): number | undefined {
  const row = stdout.split('\n').find((line) => line.startsWith(` ${file} `));
  return row ? Number(row.split('|')[4]) : undefined;
}

/**
 * `c8 … mocha --parallel --jobs 2`. mocha kills a worker that takes over 1 s to exit (workerpool's terminate
 * timeout) with SIGTERM, before node writes its coverage: on a loaded machine c8's own report then lacks
 * that worker's files, and so does the stream. Such a run still shows the figures equal (checked here); the
 * merge of both workers needs a run where c8 has both test files' coverage: up to three tries.
 */
async function parallelRun(c8Args: string[]) {
  for (let attempt = 1; ; attempt++) {
    const run = await c8Run(c8Args, ['--parallel', '--jobs', '2']);
    expectSameFigures(run.data('coverage.completed'), run.own);
    const bothWorkers = ['math.js', 'strings.js'].every(
      (file) => (c8Lines(run.result.stdout, file) ?? 0) > 0,
    );
    if (bothWorkers || attempt === 3) return run;
  }
}

function coverageTypes(events: AnyEventEnvelope[]): string[] {
  return events.map((e) => e.type).filter((t) => t.startsWith('coverage.') || t === 'test.completed');
}

function expectSameFigures(completed: Record<string, any>, own: Record<string, { pct: number | string }>) {
  for (const metric of METRICS) {
    const pct = own[metric]?.pct;
    // istanbul's json-summary says 'Unknown' when nothing was covered at all; the stream says 100, as
    // istanbul's percentages do for a file with nothing to cover
    expect(completed.summary[metric], metric).toBe(pct === 'Unknown' ? 100 : pct);
  }
}

describe('c8 mocha (mocha 11)', () => {
  it('serial: c8’s own figures; a missed --check-coverage threshold fails test.completed as it fails the command', async () => {
    const { result, events, own, data, files } = await c8Run(['--check-coverage', '--lines', '95']);
    expect(result.stdout).toMatch(/4 passing/);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/Coverage for lines \([\d.]+%\) does not meet global threshold \(95%\)/);
    expect(coverageTypes(events)).toEqual([
      ...(coreStartsCoverage ? ['coverage.started'] : []),
      'coverage.threshold',
      'coverage.completed',
      'test.completed',
    ]);
    const completed = data('coverage.completed');
    expect(completed).toMatchObject({
      framework: 'mocha',
      provider: 'c8',
      files: files.length,
      reports: ['json-summary', 'text'],
      thresholdsMet: false,
    });
    expect(files).toEqual(['math.js', 'strings.js']);
    expect(completed.note).toMatch(/mocha's end/);
    expectSameFigures(completed, own);
    expect(own.lines.pct).toBeLessThan(95);
    expect(data('coverage.threshold')).toMatchObject({
      passed: false,
      thresholds: { lines: 95, functions: 0, branches: 0, statements: 0 },
      failures: [{ metric: 'lines', threshold: 95, actual: own.lines.pct }],
    });
    expect(data('test.completed').summary).toMatchObject({ passed: 4, success: false });
    expect(data('test.completed').coverage).toEqual(completed.summary);
    if (coreStartsCoverage)
      expect(data('coverage.started')).toMatchObject({
        provider: 'c8',
        patterns: expect.arrayContaining(['src/**']),
      });
    // The run says it collects coverage, as jest's and vitest's do.
    expect(data('test.started').options).toMatchObject({ coverage: true });
  });

  it('serial --all: the files no test loaded count as c8 counts them; thresholds met, the run succeeds', async () => {
    const args = ['--all', '--check-coverage', '--lines', '50'];
    const [{ result, events, own, data, files }, alone] = await Promise.all([
      c8Run(args),
      c8Run(args, [], false),
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    // the coverage taken at mocha's end does not change what c8 reports
    expect(own).toEqual(alone.own);
    expect(alone.result.exitCode).toBe(0);
    expect(files).toEqual(['math.js', 'strings.js', 'unused.js']);
    const completed = data('coverage.completed');
    expect(completed).toMatchObject({ provider: 'c8', files: 3, thresholdsMet: true });
    expectSameFigures(completed, own);
    expect(data('coverage.threshold')).toMatchObject({ passed: true, failures: [] });
    expect(data('test.completed').summary).toMatchObject({ passed: 4, success: true });
    if (coreStartsCoverage) expect(data('coverage.started')).toMatchObject({ totalFiles: 3 });
    expect(coverageTypes(events).at(-1)).toBe('test.completed');
  });

  it('--parallel: every worker’s coverage, merged, with and without --all; thresholds as c8 checks them', async () => {
    const [checked, all] = await Promise.all([
      parallelRun(['--check-coverage', '--functions', '90']),
      // `--all=true`: c8 finds the command it runs with yargs-parser, which reads `--all mocha` as all=mocha
      parallelRun(['--all=true']),
    ]);
    for (const { data, files } of [checked, all]) {
      // both test files ran in workers (this process loads none): the figures, equal to c8's (parallelRun),
      // are the workers'
      expect(data('coverage.completed')).toMatchObject({ provider: 'c8', files: files.length });
      expect(data('test.completed').summary).toMatchObject({ passed: 4 });
    }
    expect(checked.files).toEqual(['math.js', 'strings.js']);
    expect(all.files).toEqual(['math.js', 'strings.js', 'unused.js']);

    // c8's default lines threshold (90) and --functions 90 fail: the command exits 1, the run is not a success
    expect(checked.own.functions.pct).toBeLessThan(90);
    expect(checked.result.exitCode, checked.result.stderr).toBe(1);
    expect(checked.result.stderr).toMatch(
      /Coverage for functions \([\d.]+%\) does not meet global threshold \(90%\)/,
    );
    expect(checked.data('coverage.threshold')).toMatchObject({
      passed: false,
      thresholds: { lines: 90, functions: 90, branches: 0, statements: 0 },
      failures: [
        { metric: 'functions', threshold: 90, actual: checked.own.functions.pct },
        { metric: 'lines', threshold: 90, actual: checked.own.lines.pct },
      ],
    });
    expect(checked.data('test.completed').summary.success).toBe(false);

    // no --check-coverage: no coverage.threshold, and the command and the run succeed
    expect(all.result.exitCode, all.result.stderr).toBe(0);
    expect(all.events.some((e) => e.type === 'coverage.threshold')).toBe(false);
    expect(all.data('coverage.completed').thresholdsMet).toBe(true);
    expect(all.data('test.completed').summary.success).toBe(true);
  }, 180_000); // parallelRun may try three times on a loaded machine
});
