/**
 * Coverage end to end on Vitest 3 and 4 (compat/vitest-<major>): `vitest run --coverage.enabled …` as a user
 * runs it, with `--reporter=@testwire/vitest` streaming into a real broadcaster and a real WebSocket
 * subscriber. Vitest 4 hands reporters the coverage map in `onCoverage` before `onTestRunEnd`; Vitest 3 in
 * `onFinished`, beside `onTestRunEnd`. Either way the run's coverage events must precede its test.completed
 * and carry the figures Vitest writes itself (`json-summary`), and test.completed must agree with the exit
 * code Vitest sets for a missed threshold.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LiveStream, openStream, runnerEnv } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const fixture = join(here, 'fixtures', 'covered');
/** The same source, with a test that fails. */
const failingFixture = join(here, 'fixtures', 'covered-fails');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** Runs `vitest run` of compat/vitest-<major> on a copy of the fixture; resolves with its exit code. */
function vitestRun(major: number, dir: string, args: string[]): Promise<number | null> {
  const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [bin, 'run', ...args], {
    cwd: dir,
    env: runnerEnv(stream.url),
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

describe.each([3, 4])('vitest %i --coverage', (major) => {
  it('streams coverage.threshold and coverage.completed with Vitest’s own figures, before test.completed', async () => {
    const name = `vitest-coverage-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = join(repo, 'compat', `vitest-${major}`, 'work', name);
    mkdirSync(dirname(dir), { recursive: true });
    cpSync(fixture, dir, { recursive: true });
    try {
      const exitCode = await vitestRun(major, dir, [
        '--reporter=default',
        '--reporter=@testwire/vitest',
        '--coverage.enabled',
        '--coverage.provider=v8',
        '--coverage.include=src/**',
        '--coverage.reporter=json-summary',
        '--coverage.reporter=text',
        '--coverage.thresholds.lines=100',
        '--coverage.thresholds.statements=10',
      ]);
      // The tests pass; the lines threshold does not.
      expect(exitCode).toBe(1);
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;

      const events = await stream.runOf(name);
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('test.started');
      expect((events[0].data as Record<string, any>).options).toMatchObject({ coverage: true });
      expect(types.filter((t) => t.startsWith('coverage.') || t === 'test.completed')).toEqual([
        'coverage.started',
        'coverage.threshold',
        'coverage.completed',
        'test.completed',
      ]);
      const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
      const completed = data('coverage.completed');
      expect(completed).toMatchObject({
        framework: 'vitest',
        provider: 'v8',
        files: 1,
        reports: ['json-summary', 'text'],
        thresholdsMet: false,
      });
      for (const metric of ['statements', 'branches', 'functions', 'lines'])
        expect(completed.summary[metric], metric).toBe(own[metric].pct);
      expect(data('coverage.threshold')).toMatchObject({
        passed: false,
        thresholds: { lines: 100, statements: 10 },
        failures: [{ metric: 'lines', threshold: 100, actual: own.lines.pct }],
      });
      expect(data('test.completed').summary).toMatchObject({ passed: 2, failed: 0, success: false });
      expect(data('test.completed').coverage).toEqual(completed.summary);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Copies `from` under compat/vitest-<major>/work as a run of its own name; returns its directory and name. */
function workCopy(major: number, from: string) {
  const name = `vitest-coverage-fails-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = join(repo, 'compat', `vitest-${major}`, 'work', name);
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(from, dir, { recursive: true });
  return { name, dir };
}

const failingRunArgs = [
  '--reporter=default',
  '--reporter=@testwire/vitest',
  '--coverage.enabled',
  '--coverage.provider=v8',
  '--coverage.include=src/**',
  '--coverage.reporter=json-summary',
  '--coverage.thresholds.lines=100',
];

describe.each([3, 4])('vitest %i --coverage with a failing test', (major) => {
  it('reportOnFailure off (the default): Vitest reports no coverage and checks no threshold; neither does the stream', async () => {
    const { name, dir } = workCopy(major, failingFixture);
    try {
      expect(await vitestRun(major, dir, failingRunArgs)).toBe(1);
      // Vitest's own report: none written
      expect(existsSync(join(dir, 'coverage', 'coverage-summary.json'))).toBe(false);

      const events = await stream.runOf(name);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t.startsWith('coverage.') || t === 'test.completed')).toEqual([
        'coverage.started',
        'test.completed',
      ]);
      const completed = events.find((e) => e.type === 'test.completed')?.data as Record<string, any>;
      expect(completed.summary).toMatchObject({ passed: 1, failed: 1, success: false });
      expect(completed.coverage).toBeUndefined();
      // Durations in whole ms, as the other runners send them (Vitest measures fractions)
      const durations = events.filter((e) => e.type === 'test.result').map((e) => (e.data as any).duration);
      expect(durations).toHaveLength(2);
      for (const duration of durations) expect(Number.isInteger(duration), String(duration)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('reportOnFailure on: Vitest reports the coverage and checks the thresholds; so does the stream', async () => {
    const { name, dir } = workCopy(major, failingFixture);
    try {
      expect(await vitestRun(major, dir, [...failingRunArgs, '--coverage.reportOnFailure'])).toBe(1);
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;

      const events = await stream.runOf(name);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t.startsWith('coverage.') || t === 'test.completed')).toEqual([
        'coverage.started',
        'coverage.threshold',
        'coverage.completed',
        'test.completed',
      ]);
      const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
      expect(data('coverage.threshold')).toMatchObject({ passed: false, thresholds: { lines: 100 } });
      expect(data('coverage.completed').summary.lines).toBe(own.lines.pct);
      expect(data('test.completed').summary).toMatchObject({ passed: 1, failed: 1, success: false });
      const durations = events.filter((e) => e.type === 'test.result').map((e) => (e.data as any).duration);
      expect(durations).toHaveLength(2);
      for (const duration of durations) expect(Number.isInteger(duration), String(duration)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
