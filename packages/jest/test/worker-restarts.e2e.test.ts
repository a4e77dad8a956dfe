/**
 * A file whose worker process exits during a test, end to end on jest 29 and 30 (compat/jest-<major>), into a
 * real broadcaster seen by a real WebSocket subscriber. jest-worker runs the file again in a new child, up to
 * 3 times, then gives the file the error "Jest worker encountered 4 child process exceptions". The stream must
 * keep each test's id through the restarts (not a twin per restart), fail the test during which the child
 * exited each time (jest runs it again, so `willRetry`), and fail it with jest's error in the end: no test is
 * left running.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
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
