/**
 * `mocha --reporter @testwire/mocha` end to end, on each major: the CLI `require`s the package (the CJS
 * entry must be the constructor), events reach a real broadcaster over a real publisher connection and a
 * real WebSocket subscriber, other reporter options reach the wrapped reporter, and mocha exits on its own
 * (no --exit). Parallel mode once: every test once, total unknown up front (live per test: parallel.e2e.test.ts). Watch mode once: every
 * rerun is a run of its own, and the reporters mocha builds per rerun share one thread.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  MAJORS,
  type Major,
  mochaDir,
  runMochaCli,
  runUnderTool,
  workCopy,
} from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** Copies test/fixtures/cli into compat/mocha-<major>/work/ so the CLI resolves that mocha and this package. */
function workDir(major: Major): string {
  return workCopy(major, 'mocha-unit', ['cli']);
}

function finals(events: AnyEventEnvelope[]) {
  return Object.fromEntries(
    events.flatMap((e) =>
      e.type === 'test.result' && !e.data.willRetry ? [[e.data.titlePath.join(' > '), e.data.status]] : [],
    ),
  );
}

describe.each(MAJORS)('mocha %i CLI', (major) => {
  it('require() of the package from the compat install returns the reporter constructor', () => {
    const required = createRequire(join(mochaDir(major), 'package.json'))('@testwire/mocha');
    expect(typeof required).toBe('function');
    expect(required.name).toBe('TestwireReporter');
    expect(required.default).toBe(required);
    expect(required.TestwireReporter).toBe(required);
  });

  it('streams the run, forwards output= to the wrapped json reporter, and exits on its own', async () => {
    const dir = workDir(major);
    try {
      const report = join(dir, 'report.json');
      const started = Date.now();
      const result = await runMochaCli(
        major,
        [
          '--reporter',
          '@testwire/mocha',
          '--reporter-option',
          `reporter=json,output=${report}`,
          '*.test.cjs',
        ],
        dir,
        { TESTWIRE_URL: stream.url },
      );
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(1);
      // json with output= prints nothing but the tests' own console output
      expect(result.stdout).toBe('hello from alpha\n');
      expect(Date.now() - started).toBeLessThan(20_000);
      const json = JSON.parse(readFileSync(report, 'utf8'));
      expect(json.stats).toMatchObject({ tests: 5, passes: 2, failures: 1, pending: 2 });

      const events = await stream.runOf(basename(dir));
      expect(events[0]?.type).toBe('test.started');
      expect(finals(events)).toEqual({
        'alpha > passes': 'passed',
        'alpha > fails': 'failed',
        'alpha > is a todo': 'todo',
        'beta > passes too': 'passed',
        'beta > is skipped': 'skipped',
      });
      const output = events.find((e) => e.type === 'test.output');
      expect(output?.data).toMatchObject({ testName: 'passes', output: 'hello from alpha\n', stream: 'log' });
      const completed = events.find((e) => e.type === 'test.completed');
      expect(completed?.data.summary).toMatchObject({
        total: 5,
        passed: 2,
        failed: 1,
        skipped: 1,
        todo: 1,
        success: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mocha 11 --parallel', () => {
  it('delivers every test with the total unknown up front', async () => {
    const dir = workDir(11);
    try {
      const result = await runMochaCli(
        11,
        [
          '--parallel',
          '--jobs',
          '2',
          '--reporter',
          '@testwire/mocha',
          '--reporter-option',
          'reporter=dot',
          '*.test.cjs',
        ],
        dir,
        { TESTWIRE_URL: stream.url },
      );
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(/2 passing/);
      const events = await stream.runOf(basename(dir));
      const started = events.find((e) => e.type === 'test.started');
      expect(started?.data).toMatchObject({
        totalTests: 0,
        totalKnown: false,
        options: { parallel: true, coverage: false },
      });
      expect(finals(events)).toEqual({
        'alpha > passes': 'passed',
        'alpha > fails': 'failed',
        'alpha > is a todo': 'todo',
        'beta > passes too': 'passed',
        'beta > is skipped': 'skipped',
      });
      const progress = events.filter((e) => e.type === 'test.progress');
      expect(progress[progress.length - 1]?.data).toMatchObject({
        completed: 5,
        total: 5,
        totalKnown: false,
      });
      const completed = events.find((e) => e.type === 'test.completed');
      expect(completed?.data.summary).toMatchObject({ total: 5, failed: 1, success: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nyc mocha (mocha 11)', () => {
  /** `nyc [args] mocha --reporter @testwire/mocha math.test.cjs` in a copy of test/fixtures/nyc. */
  async function nycRun(nycArgs: string[]) {
    const { dir, result } = await runUnderTool(
      'nyc',
      ['nyc'],
      [...nycArgs, '--reporter=json-summary'],
      ['--reporter', '@testwire/mocha', 'math.test.cjs'],
      { TESTWIRE_URL: stream.url },
    );
    return { dir, result, events: await stream.runOf(basename(dir)) };
  }

  it('streams nyc’s coverage before test.completed, with the figures nyc writes; a missed threshold fails it', async () => {
    const { dir, result, events } = await nycRun(['--check-coverage', '--lines', '100', '--functions', '50']);
    try {
      // mocha passed; nyc failed the command on the lines threshold
      expect(result.stdout).toMatch(/2 passing/);
      expect(result.exitCode, result.stderr).toBe(1);
      const own = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')).total;
      expect(
        events.map((e) => e.type).filter((t) => t.startsWith('coverage.') || t === 'test.completed'),
      ).toEqual(['coverage.started', 'coverage.threshold', 'coverage.completed', 'test.completed']);
      const data = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
      const completed = data('coverage.completed');
      expect(completed).toMatchObject({
        framework: 'mocha',
        provider: 'nyc',
        files: 1,
        reports: ['json-summary'],
      });
      for (const metric of ['statements', 'branches', 'functions', 'lines'])
        expect(completed.summary[metric], metric).toBe(own[metric].pct);
      expect(data('coverage.threshold')).toMatchObject({
        passed: false,
        failures: [{ metric: 'lines', threshold: 100, actual: own.lines.pct }],
      });
      expect(data('test.completed').summary).toMatchObject({ passed: 2, success: false });
      expect(data('test.completed').coverage).toEqual(completed.summary);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --check-coverage: coverage.completed only, and the run succeeds as the command does', async () => {
    const { dir, result, events } = await nycRun([]);
    try {
      expect(result.exitCode, result.stderr).toBe(0);
      expect(events.some((e) => e.type === 'coverage.threshold')).toBe(false);
      expect(events.find((e) => e.type === 'coverage.completed')?.data).toMatchObject({
        thresholdsMet: true,
      });
      expect(events.find((e) => e.type === 'test.completed')?.data.summary).toMatchObject({ success: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('final flush', () => {
  it('an endpoint that never answers delays the exit by the flush bound at most, and keeps the exit code', async () => {
    // Accepts connections and never answers: the publisher's handshake hangs, the final flush cannot finish.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const dir = workDir(12);
    try {
      const started = Date.now();
      const result = await runMochaCli(
        12,
        ['--reporter', '@testwire/mocha', '--reporter-option', 'reporter=dot', '*.test.cjs'],
        dir,
        {
          TESTWIRE_URL: `http://127.0.0.1:${port}`,
          TESTWIRE_FLUSH_TIMEOUT: '800',
        },
      );
      const elapsed = Date.now() - started;
      // mocha sets its exit code only once done() hands back: it must not exit before that
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(/2 passing/);
      expect(elapsed).toBeLessThan(15_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('mocha --watch', () => {
  it('streams every rerun as a run of its own, all from one reporter thread', async () => {
    // mocha builds a new reporter for each rerun: each must stream, and none may leave a thread behind.
    const dir = workDir(12);
    const rootName = basename(dir);
    const child = spawn(
      process.execPath,
      [
        join(mochaDir(12), 'node_modules/mocha/bin/mocha.js'),
        '--no-color',
        '--watch',
        '--reporter',
        '@testwire/mocha',
        '--reporter-option',
        'reporter=dot',
        'alpha.test.cjs',
      ],
      { cwd: dir, env: cleanEnv({ TESTWIRE_URL: stream.url }), stdio: 'ignore' },
    );
    const until = async (runs: number) => {
      expect(await stream.waitForRuns(rootName, runs, 15_000)).toHaveLength(runs);
    };
    const threads = () => readdirSync(`/proc/${child.pid}/task`).length;
    try {
      await until(1);
      const first = threads();
      for (let rerun = 1; rerun <= 3; rerun++) {
        // an edit, as a developer makes: mocha reruns on the watcher's change event
        await new Promise((resolve) => setTimeout(resolve, 300));
        appendFileSync(join(dir, 'alpha.test.cjs'), `// edit ${rerun}\n`);
        await until(rerun + 1);
      }
      // One thread serves every rerun's reporter (the first run started it); allow one for Node's own.
      expect(threads()).toBeLessThanOrEqual(first + 1);
      const runIds = stream.completedRuns(rootName);
      expect(new Set(runIds).size).toBe(4);
      for (const runId of runIds) {
        expect(finals(stream.received().filter((e) => e.runId === runId))).toEqual({
          'alpha > passes': 'passed',
          'alpha > fails': 'failed',
          'alpha > is a todo': 'todo',
        });
      }
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
