/**
 * A file whose worker process exits during a test, end to end on jest 29 and 30 (compat/jest-<major>), into a
 * real broadcaster seen by a real WebSocket subscriber. jest-worker runs the file again in a new child, up to
 * 3 times, then gives the file the error "Jest worker encountered 4 child process exceptions". The stream must
 * keep each test's id through the restarts (not a twin per restart), fail the test during which the child
 * exited each time (jest runs it again, so `willRetry`), and fail it with jest's error in the end: no test is
 * left running.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

describe.each([29, 30])('jest %i: a worker that exits during a test', (major) => {
  it('keeps ids through the restarts and fails the test it exited in', async () => {
    const name = `jest-worker-exit-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-worker-exit-fixture", "private": true }\n',
      // A cache of its own: with timings from an earlier run jest would run these few fast files in band,
      // where process.exit ends jest itself.
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      'exits.test.js': [
        "test('before', () => {});",
        "test('exits', async () => { await new Promise((r) => setTimeout(r, 50)); process.exit(3); });",
        "test('after', () => {});",
        '',
      ].join('\n'),
      'other.test.js': "test('other', async () => { await new Promise((r) => setTimeout(r, 300)); });\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const code = await runToExit(process.execPath, [bin, '--maxWorkers=2'], dir, runnerEnv(stream.url));
      expect(code).toBe(1);
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      const results = data('test.result');
      const idsOf = (title: string) => new Set(results.filter((r) => r.testName === title).map((r) => r.id));
      // One id per test, whatever the restarts: jest ran the file 4 times.
      expect(idsOf('before').size).toBe(1);
      expect(idsOf('exits').size).toBe(1);
      expect(new Set(results.filter((r) => r.file === 'exits.test.js').map((r) => r.id)).size).toBe(2);
      expect(results.filter((r) => r.testName === 'before').map((r) => r.status)).toEqual(
        Array(4).fill('passed'),
      );
      const exits = results.filter((r) => r.testName === 'exits');
      expect(exits.map((r) => [r.status, r.willRetry === true])).toEqual([
        ['failed', true],
        ['failed', true],
        ['failed', true],
        ['failed', false],
      ]);
      // Each run of the file is another attempt of the same tests (jest counts from 1 again in each worker);
      // a test that passed every time is not flaky.
      expect(exits.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
      expect(
        results.filter((r) => r.testName === 'before').map((r) => [r.attempt, r.flaky === true]),
      ).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, false],
      ]);
      expect(exits[0].error.message).toMatch(/worker process exited during this test/);
      // Each retrying attempt ran until the next worker's first test at the latest, not until jest gave up:
      // together they are shorter than the run.
      const retried = exits.slice(0, 3).reduce((sum, r) => sum + r.duration, 0);
      expect(retried).toBeLessThan(data('test.completed')[0].summary.duration);
      expect(exits[3].error.message).toMatch(/Jest worker encountered 4 child process exceptions/);
      expect(results.some((r) => r.testName === 'after')).toBe(false);
      expect(data('test.failed').filter((f) => f.scope === 'file')).toMatchObject([
        { file: 'exits.test.js', error: { message: expect.stringMatching(/4 child process exceptions/) } },
      ]);
      expect(data('test.completed')[0].summary).toMatchObject({
        total: 3,
        passed: 2,
        failed: 1,
        success: false,
      });
      expect(data('test.completed')[0].runningTests).toBeUndefined();
      expect(data('test.progress').at(-1)).toMatchObject({ status: 'idle', completed: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("a twin whose start overtook the running test's result is a twin: no restart", async () => {
    const name = `jest-worker-twins-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Fast tests, twins apart (a, b, a, …): a start often reaches the reporter before the result jest sent
    // ahead of it, so a running test is seen when a twin starts again.
    const rows = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'a' : 'b'));
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-worker-twins-fixture", "private": true }\n',
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      'twins.test.js': `test.each(${JSON.stringify(rows)})('%s', () => {});\n`,
      'other.test.js': "test('other', async () => { await new Promise((r) => setTimeout(r, 300)); });\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const code = await runToExit(process.execPath, [bin, '--maxWorkers=2'], dir, runnerEnv(stream.url));
      expect(code).toBe(0);
      const run = await stream.runOf(basename(dir));
      const results = run.filter((e) => e.type === 'test.result').map((e) => e.data as any);
      expect(results.filter((r) => r.status !== 'passed')).toEqual([]);
      const twins = results.filter((r) => r.file === 'twins.test.js');
      expect(twins.length).toBe(60);
      expect(new Set(twins.map((r) => r.id)).size).toBe(60);
      expect(run.find((e) => e.type === 'test.completed')?.data).toMatchObject({
        summary: { total: 61, passed: 61 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Exits the worker the first time it runs (a mark beside the test file says it did): jest runs the file again. */
const ONCE = [
  "const { existsSync, writeFileSync } = require('node:fs');",
  'const once = () => {',
  "  const mark = __filename + '.exited';",
  '  if (!existsSync(mark)) {',
  "    writeFileSync(mark, '');",
  '    process.exit(3);',
  '  }',
  '};',
  'const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));',
  '',
].join('\n');

/** Worker exits (and look-alikes) the stream must mirror as jest reports them (--json), the tests' ids kept. */
const EXITS: Record<string, string> = {
  // In the file's first test: nothing has a result when it starts again.
  'first-once.test.js': `${ONCE}test('first', async () => { await sleep(50); once(); });\ntest('second', () => {});\n`,
  // In a later test, after which the file passes: the new child's result of that test is not the old one's.
  'middle-once.test.js': `${ONCE}test('before', () => {});\ntest('exits', async () => { await sleep(50); once(); });\ntest('after', () => {});\n`,
  // Between tests: nothing runs when the file starts again.
  'after-all-once.test.js': `${ONCE}afterAll(() => once());\ntest('a', () => {});\ntest('b', () => {});\n`,
  'before-all-once.test.js': `${ONCE}test('a', () => {});\ndescribe('d', () => {\n  beforeAll(() => once());\n  test('b', () => {});\n});\n`,
  // A timer a test left fires during the next one.
  'timer-once.test.js': `${ONCE}test('a', () => { setTimeout(once, 30); });\ntest('b', async () => { await sleep(300); });\n`,
  // Rows of one title first (twins), then an exit after them: the rows run again, twins still.
  'twins-once.test.js': `${ONCE}afterAll(() => once());\ntest.each([1, 2, 3])('row', () => {});\n`,
  // No exit: the first test's title again, long after the test before it ended (a slow test whose result a
  // start may overtake, a slow hook between twins). Held a while, then streamed as the twins they are.
  'slow-twins.test.js': `${ONCE}test.each([1, 2, 3])('slow row', async () => { await sleep(80); });\n`,
  'slow-hook-twins.test.js': `${ONCE}test('t', () => {});\ndescribe('d', () => {\n  afterAll(() => sleep(150));\n  test('x', () => {});\n});\ntest('t', () => {});\n`,
};

describe.each([29, 30])('jest %i: worker exits mirrored as jest reports them', (major) => {
  it('each test once, with its id and the status jest gives it; none left running', async () => {
    const name = `jest-worker-exits-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-worker-exits-fixture", "private": true }\n',
      // A cache of its own: no timings, so jest runs the files in workers (not in band).
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      ...EXITS,
      // Every time, in the file's first test: jest gives up on the file.
      'first-always.test.js':
        "test('first', async () => { await new Promise((r) => setTimeout(r, 50)); process.exit(3); });\ntest('second', () => {});\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--maxWorkers=2', '--json', '--outputFile=jest.json'];
      expect(
        await runToExit(process.execPath, args, dir, {
          ...runnerEnv(stream.url),
          TESTWIRE_PROGRESS_INTERVAL: '0',
        }),
      ).toBe(1);
      const jest = JSON.parse(readFileSync(join(dir, 'jest.json'), 'utf8'));
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      const results = data('test.result');
      // Each test's last word: a test started and never ended stays `running`.
      const final = new Map<string, any>();
      for (const start of data('test.progress').filter((e) => e.status === 'running' && e.id))
        final.set(start.id, { ...start, status: 'running' });
      for (const result of results) final.set(result.id, result);
      const streamed = (file: string) =>
        [...final.values()]
          .filter((r) => r.file === file)
          .map((r) => [r.titlePath.join(' > '), r.status])
          .sort();
      const STATUS: Record<string, string> = { passed: 'passed', failed: 'failed', pending: 'skipped' };
      const reported: Record<string, string[][]> = {};
      const mirrored: Record<string, string[][]> = {};
      for (const file of Object.keys(EXITS)) {
        const report = jest.testResults.find((r: any) => basename(r.name) === file);
        reported[file] = report.assertionResults
          .map((a: any) => [[...a.ancestorTitles, a.title].join(' > '), STATUS[a.status]])
          .sort();
        mirrored[file] = streamed(file);
      }
      // One id per test (no twin per run of the file), each with jest's final status.
      expect(mirrored).toEqual(reported);
      // Jest gave up on this one: its first test fails with jest's error, the second never ran.
      expect(streamed('first-always.test.js')).toEqual([['first', 'failed']]);
      const first = results.filter((r) => r.file === 'first-always.test.js');
      expect(first.map((r) => r.willRetry === true)).toEqual([true, true, true, false]);
      expect(first.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
      // The file ran again after the exit: another attempt of each test, flaky when one before failed.
      const middle = (title: string) =>
        results
          .filter((r) => r.file === 'middle-once.test.js' && r.testName === title)
          .map((r) => [r.attempt, r.status, r.flaky === true]);
      expect(middle('before')).toEqual([
        [1, 'passed', false],
        [2, 'passed', false],
      ]);
      expect(middle('exits')).toEqual([
        [1, 'failed', false],
        [2, 'passed', true],
      ]);
      expect(middle('after')).toEqual([[1, 'passed', false]]);
      expect(first.at(-1).error.message).toMatch(/4 child process exceptions/);
      // Jest counts none of the tests of a file it gave up on; the stream counts the one that failed.
      expect(data('test.completed')[0].summary).toMatchObject({
        total: jest.numTotalTests + 1,
        passed: jest.numPassedTests,
        failed: jest.numFailedTests + 1,
        success: false,
      });
      expect(data('test.completed')[0].runningTests).toBeUndefined();
      expect(data('test.progress').at(-1)).toMatchObject({
        status: 'idle',
        completed: jest.numTotalTests + 1,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

// In band there is no worker to start again: process.exit ends jest itself, and the core ends the run.
describe.each([29, 30])('jest %i in band: a test that exits', (major) => {
  it('ends jest itself: the run ends, and the test it exited in did not pass', async () => {
    const name = `jest-band-exit-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-band-exit-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      'exits.test.js': [
        "test('before', () => {});",
        "test('exits', async () => { await new Promise((r) => setTimeout(r, 50)); process.exit(3); });",
        "test('after', () => {});",
        '',
      ].join('\n'),
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      expect(await runToExit(process.execPath, [bin, '-i'], dir, runnerEnv(stream.url))).toBe(3);
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      // What ran before the exit passed; the test it exited in was running when the process ended.
      expect(data('test.result').map((r) => [r.testName, r.status])).toEqual([['before', 'passed']]);
      const [completed] = data('test.completed');
      expect(completed).toMatchObject({
        interrupted: true,
        interruptedBy: 'exit',
        summary: { total: 1, passed: 1, failed: 0, success: false },
      });
      expect(completed.runningTests.map((t: any) => t.testName)).toEqual(['exits']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// A test that runs again after its worker exited is its next attempt from its start on. The new worker's
// hooks are held until the file's result says it restarted (worker-restarts.ts): a run that ends before it
// (watch mode's --bail interrupts it) lists the test running in the new worker, with that attempt.
describe.each([29, 30])('jest %i: a test running again after a worker exit when the run ends', (major) => {
  it('is listed running with the attempt after the one the exit failed', async () => {
    const name = `jest-worker-start-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-worker-start-fixture", "private": true }\n',
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      // The first worker exits in 'slow'; the second runs it until jest ends the run (a mark says it does).
      'slow.test.js': `${ONCE}test('before', () => {});\ntest('slow', async () => { await sleep(50); once(); writeFileSync(__filename + '.again', ''); await sleep(60000); }, 70000);\n`,
      // Fails once 'slow' runs again: --bail in watch mode interrupts the run.
      'fail.test.js': [
        "const { existsSync } = require('node:fs');",
        "const again = require('node:path').join(__dirname, 'slow.test.js.again');",
        "test('fails', async () => {",
        '  const deadline = Date.now() + 60000;',
        '  while (!existsSync(again) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));',
        "  expect('slow runs again').toBe('never');",
        '}, 70000);',
        '',
      ].join('\n'),
    });
    const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
    const child = spawn(process.execPath, [bin, '--watchAll', '--bail', '--maxWorkers=2'], {
      cwd: dir,
      env: runnerEnv(stream.url),
      stdio: 'ignore',
    });
    try {
      expect(await stream.waitForRuns(basename(dir), 1, 90_000)).toHaveLength(1);
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      const slow = data('test.result').filter((r) => r.testName === 'slow');
      expect(slow.map((r) => [r.attempt, r.status, r.willRetry === true])).toEqual([[1, 'failed', true]]);
      const [completed] = data('test.completed');
      expect(completed.interrupted).toBe(true);
      expect(completed.runningTests.map((t: any) => [t.testName, t.id, t.attempt])).toEqual([
        ['slow', slow[0].id, 2],
      ]);
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
