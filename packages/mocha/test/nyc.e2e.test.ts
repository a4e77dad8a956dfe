/**
 * `nyc --all mocha --reporter @testwire/mocha` end to end (mocha 11, the nyc of compat/mocha-11): the files
 * no test loads count as nyc counts them, so the stream's figures are nyc's own (its text-summary and
 * json-summary) and a `--check-coverage` threshold fails test.completed exactly when it fails the command.
 * The fixture: test/fixtures/nyc (src/math.js, loaded by math.test.cjs) with test/fixtures/nyc-all over it
 * (src/unloaded.js, loaded by no test; src/skipped.js, excluded).
 */
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, mochaDir, runChild, runUnderTool, workCopy } from './helpers/run.js';

const METRICS = ['statements', 'branches', 'functions', 'lines'] as const;
type Metric = (typeof METRICS)[number];

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** What the runs select: src/, without src/skipped.js (nyc's default excludes would keep the test file out). */
const SELECT = ['--include', 'src/**', '--exclude', 'src/skipped.js'];

/**
 * `nyc [nycArgs] --reporter=json-summary --reporter=text-summary mocha --reporter @testwire/mocha
 * math.test.cjs` in a copy of the fixtures: the stream's events, nyc's exit code, and nyc's own figures
 * (json-summary) and text-summary percentages.
 */
async function nycRun(nycArgs: string[], fixtures = ['nyc', 'nyc-all'], testwire = true) {
  const { dir, result } = await runUnderTool(
    'nyc',
    fixtures,
    [...nycArgs, '--reporter=json-summary', '--reporter=text-summary'],
    ['--reporter', '@testwire/mocha', '--reporter-option', 'reporter=dot', 'math.test.cjs'],
    testwire ? { TESTWIRE_URL: stream.url } : { TESTWIRE: 'off' },
  );
  try {
    const events = testwire ? await stream.runOf(basename(dir)) : [];
    let own: Record<Metric, { pct: number }>;
    try {
      own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;
    } catch {
      throw new Error(
        `nyc wrote no json-summary (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
    return { result, events, own, data, text: textSummary(result.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The percentages of nyc's text-summary (`Lines        : 57.89% ( 11/19 )`). */
function textSummary(stdout: string): Partial<Record<Metric, number>> {
  const figures: Partial<Record<Metric, number>> = {};
  for (const [, name, pct] of stdout.matchAll(/^(Statements|Branches|Functions|Lines)\s*: ([\d.]+)%/gm))
    figures[(name as string).toLowerCase() as Metric] = Number(pct);
  return figures;
}

/** coverage.completed's percentages are nyc's, in its text-summary and its json-summary alike. */
function expectNycFigures(run: Awaited<ReturnType<typeof nycRun>>) {
  const summary = run.data('coverage.completed')?.summary;
  expect(Object.keys(run.text).sort(), run.result.stdout).toEqual([...METRICS].sort());
  for (const metric of METRICS) {
    expect(summary?.[metric], metric).toBe(run.text[metric]);
    expect(summary?.[metric], metric).toBe(run.own[metric].pct);
  }
}

describe('nyc --all mocha (mocha 11)', () => {
  it('a lines threshold between the loaded files’ figure and nyc’s --all figure fails the run, as it fails nyc', async () => {
    // Without --all, nyc's own lines figure: the loaded files only.
    const [loaded, run] = await Promise.all([
      nycRun([...SELECT, '--check-coverage', '--lines', '40']),
      nycRun(['--all', ...SELECT, '--check-coverage', '--lines', '40']),
    ]);
    expect(loaded.result.exitCode, loaded.result.stderr).toBe(0);
    expect(loaded.own.lines.pct).toBeGreaterThan(40);
    expectNycFigures(loaded);

    expect(run.result.stdout).toMatch(/2 passing/);
    expect(run.result.stderr).toMatch(
      /Coverage for lines \([\d.]+%\) does not meet global threshold \(40%\)/,
    );
    expect(run.result.exitCode).toBe(1);
    expect(run.own.lines.pct).toBeLessThan(40);
    expectNycFigures(run);
    const completed = run.data('coverage.completed');
    // math.js and unloaded.js; not skipped.js (excluded)
    expect(completed).toMatchObject({ provider: 'nyc', files: 2, thresholdsMet: false });
    expect(completed.note).toBeUndefined();
    expect(run.data('coverage.threshold')).toMatchObject({
      passed: false,
      actual: { lines: run.own.lines.pct },
      failures: [{ metric: 'lines', threshold: 40, actual: run.own.lines.pct }],
    });
    expect(run.data('test.completed').summary).toMatchObject({ passed: 2, failed: 0, success: false });
    expect(run.data('test.completed').coverage).toEqual(completed.summary);
  });

  it('`all: true` in .nycrc.json, and --per-file: the unloaded file fails its own check, as in nyc', async () => {
    const [rc, perFile] = await Promise.all([
      nycRun(['--check-coverage', '--lines', '40'], ['nyc', 'nyc-all', 'nyc-allrc']),
      nycRun(['--all', ...SELECT, '--check-coverage', '--per-file', '--lines', '10']),
    ]);
    expect(rc.result.exitCode, rc.result.stderr).toBe(1);
    expectNycFigures(rc);
    expect(rc.data('coverage.completed')).toMatchObject({ files: 2, thresholdsMet: false });
    expect(rc.data('test.completed').summary).toMatchObject({ success: false });

    expect(perFile.result.stderr).toMatch(
      /Coverage for lines \(0%\) does not meet threshold \(10%\) for .*unloaded\.js/,
    );
    expect(perFile.result.exitCode).toBe(1);
    expectNycFigures(perFile);
    expect(perFile.data('coverage.threshold')).toMatchObject({
      passed: false,
      perFile: true,
      failures: [{ metric: 'lines', threshold: 10, actual: 0, file: 'src/unloaded.js' }],
    });
    expect(perFile.data('test.completed').summary).toMatchObject({ success: false });
  });

  it('a threshold the --all figures meet: the run succeeds, as nyc does; nyc’s figures are its own', async () => {
    const args = ['--all', ...SELECT, '--check-coverage', '--lines', '20'];
    const [run, alone] = await Promise.all([nycRun(args), nycRun(args, undefined, false)]);
    expect(run.result.exitCode, run.result.stderr).toBe(0);
    // reading nyc's files and counters at mocha's end changes nothing nyc reports
    expect(run.own).toEqual(alone.own);
    expect(alone.result.exitCode).toBe(0);
    expectNycFigures(run);
    expect(run.data('coverage.completed')).toMatchObject({ files: 2, thresholdsMet: true });
    expect(run.data('coverage.threshold')).toMatchObject({ passed: true, failures: [] });
    expect(run.data('test.completed').summary).toMatchObject({ success: true });
  });
});

describe('nyc that the project does not have (npx nyc, a global nyc, another project’s)', () => {
  it('a mocha 10 project run by the nyc of compat/mocha-11: coverage.completed and the threshold are nyc’s', async () => {
    // compat/mocha-10 has no nyc: nothing resolves it from the project (nor from NODE_PATH, below)
    const dir = workCopy(10, 'mocha-nyc-elsewhere', ['nyc']);
    try {
      const result = await runChild(
        process.execPath,
        [
          join(mochaDir(11), 'node_modules', 'nyc', 'bin', 'nyc.js'),
          ...SELECT,
          '--check-coverage',
          '--lines',
          '95',
          '--reporter=json-summary',
          process.execPath,
          join(mochaDir(10), 'node_modules', 'mocha', 'bin', 'mocha.js'),
          '--reporter',
          '@testwire/mocha',
          '--reporter-option',
          'reporter=dot',
          'math.test.cjs',
        ],
        dir,
        withoutNodePath(cleanEnv({ TESTWIRE_URL: stream.url })),
        60_000,
      );
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;
      expect(own.lines.pct, result.stderr).toBeLessThan(95);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).not.toMatch(/testwire:/);

      const events = await stream.runOf(basename(dir));
      const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
      const completed = data('coverage.completed');
      expect(completed).toMatchObject({ provider: 'nyc', thresholdsMet: false });
      for (const metric of METRICS) expect(completed?.summary[metric], metric).toBe(own[metric].pct);
      expect(data('coverage.threshold')).toMatchObject({ passed: false });
      expect(data('test.completed').coverage).toEqual(completed.summary);
      expect(data('test.completed').summary).toMatchObject({ success: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * pnpm's bin shims (the one that started vitest, node_modules/.bin/nyc and mocha: not used here) set NODE_PATH
 * to the store's hoisted node_modules, where nyc is: a child with it would find nyc from anywhere, as a
 * project without nyc does not.
 */
function withoutNodePath(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_PATH: _nodePath, ...rest } = env;
  return rest;
}
