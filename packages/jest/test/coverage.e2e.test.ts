/**
 * `jest --coverage` end to end on jest 29 and 30 (compat/jest-<major>), streaming into a real broadcaster
 * seen by a real WebSocket subscriber. Jest's CoverageReporter runs after ours and Jest decides the exit code
 * after every reporter: the run's coverage events must still precede its test.completed, carry the figures
 * Jest writes itself (`json-summary`), and test.completed must agree with Jest's exit code — also when only a
 * coverage threshold fails it — while Jest exits on its own, without its "did not exit" warning.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** A project under compat/jest-<major>/work/ (where node finds that jest and this package) with coverage on. */
function project(major: number, coverageThreshold: object): string {
  const dir = join(
    compatDir(major),
    'work',
    `jest-coverage-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "name": "jest-coverage-fixture", "private": true }\n');
  const config = {
    reporters: ['default', '@testwire/jest'],
    collectCoverage: true,
    coverageReporters: ['json-summary', 'text'],
    coverageThreshold,
  };
  writeFileSync(join(dir, 'jest.config.cjs'), `module.exports = ${JSON.stringify(config)};\n`);
  writeFileSync(
    join(dir, 'src', 'math.js'),
    [
      'exports.add = (a, b) => a + b;',
      'exports.clamp = (value, min, max) => {',
      '  if (value < min) return min;',
      '  if (value > max) return max;',
      '  return value;',
      '};',
      "exports.neverCalled = () => 'not covered';",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'math.test.js'),
    [
      "const { add, clamp } = require('./src/math');",
      "test('adds', () => { expect(add(1, 2)).toBe(3); });",
      "test('clamps below the range', () => { expect(clamp(-5, 0, 10)).toBe(0); });",
      '',
    ].join('\n'),
  );
  return dir;
}

/** Runs jest; `output` is its stdout and stderr (where each major prints the threshold error differs). */
function jest(
  major: number,
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { ...runnerEnv(stream.url), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

const dataOf = (events: AnyEventEnvelope[], type: string) =>
  events.find((e) => e.type === type)?.data as Record<string, any> | undefined;

describe.each([29, 30])('jest %i --coverage', (major) => {
  it('a missed global threshold: coverage events with Jest’s figures, then test.completed failing as Jest exits', async () => {
    const dir = project(major, { global: { lines: 100, statements: 10, branches: -1 } });
    try {
      const { code, output } = await jest(major, dir);
      expect(code, output).toBe(1);
      // jest 29: 'coverage threshold for lines (100%) not met'; 30: 'Coverage for lines (…) does not meet'
      expect(output).toMatch(/coverage (threshold )?for lines .*(not met|does not meet)/i);
      expect(output).not.toMatch(/did not exit/);
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;

      const events = await stream.runOf(basename(dir));
      expect(events[0]?.type).toBe('test.started');
      expect(events.at(-1)?.type).toBe('test.completed');
      // coverage.progress: one per test file, between the start and the end.
      expect(
        events.map((e) => e.type).filter((t) => t.startsWith('coverage.') && t !== 'coverage.progress'),
      ).toEqual(['coverage.started', 'coverage.threshold', 'coverage.completed']);
      expect(events.filter((e) => e.type === 'coverage.progress').length).toBeGreaterThanOrEqual(1);
      const completed = dataOf(events, 'coverage.completed');
      expect(completed).toMatchObject({
        framework: 'jest',
        provider: 'babel',
        files: 1,
        reports: ['json-summary', 'text'],
        thresholdsMet: false,
      });
      for (const metric of ['statements', 'branches', 'functions', 'lines'])
        expect(completed?.summary[metric], metric).toBe(own[metric].pct);
      expect(dataOf(events, 'coverage.threshold')).toMatchObject({
        passed: false,
        thresholds: { lines: 100, statements: 10, branches: -1 },
        actual: { lines: own.lines.pct, branches: own.branches.total - own.branches.covered },
        failures: [
          { metric: 'branches', threshold: -1 },
          { metric: 'lines', threshold: 100, actual: own.lines.pct },
        ],
      });
      const done = dataOf(events, 'test.completed');
      expect(done?.summary).toMatchObject({ passed: 2, failed: 0, success: false });
      expect(done?.coverage).toEqual(completed?.summary);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('--forceExit: Jest exits as it decides the run; the core’s thread flushes the coverage and Jest’s verdict first', async () => {
    const dir = project(major, { global: { lines: 100 } });
    try {
      const { code, output } = await jest(major, dir, ['--forceExit']);
      expect(code, output).toBe(1);
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;
      const events = await stream.runOf(basename(dir));
      expect(events.at(-1)?.type).toBe('test.completed');
      // coverage.progress: one per test file, between the start and the end.
      expect(
        events.map((e) => e.type).filter((t) => t.startsWith('coverage.') && t !== 'coverage.progress'),
      ).toEqual(['coverage.started', 'coverage.threshold', 'coverage.completed']);
      expect(events.filter((e) => e.type === 'coverage.progress').length).toBeGreaterThanOrEqual(1);
      expect(dataOf(events, 'coverage.completed')).toMatchObject({
        thresholdsMet: false,
        summary: { lines: own.lines.pct },
      });
      expect(dataOf(events, 'test.completed')?.summary).toMatchObject({ passed: 2, success: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('--forceExit with the core on Jest’s thread (TESTWIRE_THREAD=off): the run completes in onRunComplete, without coverage', async () => {
    const dir = project(major, { global: { lines: 100 } });
    try {
      const { code, output } = await jest(major, dir, ['--forceExit'], { TESTWIRE_THREAD: 'off' });
      expect(code, output).toBe(1);
      const events = await stream.runOf(basename(dir));
      expect(events.at(-1)?.type).toBe('test.completed');
      expect(events.some((e) => e.type === 'coverage.completed' || e.type === 'coverage.threshold')).toBe(
        false,
      );
      // Without coverage the reporter cannot know of the missed threshold: the tests passed.
      expect(dataOf(events, 'test.completed')?.summary).toMatchObject({ passed: 2, success: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('thresholds keyed by path: Jest’s own verdict, met or not', async () => {
    for (const [lines, exitCode] of [
      [10, 0],
      [100, 1],
    ] as const) {
      const dir = project(major, { './src/math.js': { lines } });
      try {
        const { code, output } = await jest(major, dir);
        expect(code, output).toBe(exitCode);
        expect(output).not.toMatch(/did not exit/);
        const events = await stream.runOf(basename(dir));
        expect(events.some((e) => e.type === 'coverage.threshold')).toBe(false);
        expect(dataOf(events, 'coverage.completed')?.thresholdsMet).toBe(exitCode === 0);
        expect(dataOf(events, 'test.completed')?.summary.success).toBe(exitCode === 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 90_000);
});
