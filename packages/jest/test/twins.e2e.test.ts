/**
 * Tests with one title path in one file (twins), run concurrently, end to end on jest 29 and 30
 * (compat/jest-<major>) into a real broadcaster seen by a real WebSocket subscriber: each twin's id carries
 * its own result. Jest 30 reports a concurrent test's result when it ends, not in declaration order
 * (twins.ts): the twin that ends first must not take the first twin's id.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stableTestId } from '@testwire/reporter-core';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

// Declared: passes (ends last), fails (ends first), passes (ends in between).
const TESTS = [
  'const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));',
  "describe('c', () => {",
  "  test.concurrent('t', async () => { await sleep(400); });",
  "  test.concurrent('t', async () => { await sleep(5); throw new Error('the second twin fails'); });",
  "  test.concurrent('t', async () => { await sleep(150); });",
  '});',
  '',
].join('\n');

describe.each([29, 30])('jest %i: concurrent twins', (major) => {
  it("each twin's id carries its own result, in declaration order", async () => {
    const name = `jest-twins-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-twins-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      'twins.test.js': TESTS,
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--testLocationInResults'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
      const run = await stream.runOf(basename(dir));
      // The k-th twin declared has the id of ordinal k (docs/protocol.md, "Test ids").
      const ids = [0, 1, 2].map((ordinal) =>
        stableTestId({
          framework: 'jest',
          // the project is the package's name
          project: 'jest-twins-fixture',
          file: 'twins.test.js',
          titlePath: ['c', 't'],
          ordinal,
        }),
      );
      const results = run.filter((e) => e.type === 'test.result').map((e) => e.data as any);
      expect(results).toHaveLength(3);
      expect(
        ids.map((id) => {
          const result = results.find((r) => r.id === id);
          return [result?.status, result?.location?.line, result?.error?.message];
        }),
      ).toEqual([
        ['passed', 3, undefined],
        ['failed', 4, 'the second twin fails'],
        ['passed', 5, undefined],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.each([29, 30])('jest %i: twins whose starts overtake the results before them', (major) => {
  it('every start is streamed, with the id its result has', async () => {
    const name = `jest-twins-starts-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Fast tests of one title: a start often reaches the reporter before the result jest sent ahead of it,
    // so twins are seen running together (jest 30 then holds the set's results for the file's result).
    const rows = Array.from({ length: 60 }, () => 'a');
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-twins-fixture", "private": true }\n',
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      'twins.test.js': `test.each(${JSON.stringify(rows)})('%s', () => {});\n`,
      // A second file: jest runs the files in workers, whose events reach the reporter in batches.
      'other.test.js': "test('other', async () => { await new Promise((r) => setTimeout(r, 300)); });\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      // Every start in the stream (no sampling of test.progress).
      const env = { ...runnerEnv(stream.url), TESTWIRE_PROGRESS_INTERVAL: '0' };
      expect(await runToExit(process.execPath, [bin, '--maxWorkers=2'], dir, env)).toBe(0);
      const run = await stream.runOf(basename(dir));
      const results = run
        .filter((e) => e.type === 'test.result' && (e.data as any).file === 'twins.test.js')
        .map((e) => e.data as any);
      expect(new Set(results.map((r) => r.id)).size).toBe(60);
      const started = new Set(
        run
          .filter((e) => e.type === 'test.progress' && (e.data as any).status === 'running')
          .map((e) => (e.data as any).id),
      );
      expect(results.filter((r) => !started.has(r.id)).map((r) => r.id)).toEqual([]);
      // No start of an id without a result (a test left running).
      const completed = run.find((e) => e.type === 'test.completed')?.data as any;
      expect(completed).toMatchObject({ summary: { total: 61, passed: 61 } });
      expect(completed.runningTests).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
