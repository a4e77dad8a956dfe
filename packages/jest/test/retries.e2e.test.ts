/**
 * Retried tests (`jest.retryTimes`), end to end on jest 29 and 30 (compat/jest-<major>) run on a project that
 * resolves no jest of its own (a jest installed elsewhere), into a real broadcaster seen by a real WebSocket
 * subscriber. Jest-circus retries a block's failed tests after its other tests, and with a cold cache their
 * starts reach the reporter ahead of the first attempts' failed results: the stream must still hold one test
 * per test jest lists, each with its attempts, none left running.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

const reporter = join(import.meta.dirname, '..', 'dist', 'index.cjs');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

describe.each([29, 30])('jest %i: retried tests', (major) => {
  it('each test jest lists is one test with its attempts, none left running', async () => {
    const name = `jest-retries-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Outside the repository: nothing there resolves a jest (the reporter tells jest 29 from 30 by its bin).
    const dir = writeProject(join(tmpdir(), name), {
      'package.json': '{ "name": "jest-retries-fixture", "private": true }\n',
      // A cache of its own, cold: jest is slowest to report the first failures, and the retries' starts
      // overtake them.
      'jest.config.cjs': `module.exports = { reporters: ['default', ${JSON.stringify(reporter)}], cacheDirectory: '<rootDir>/.cache' };\n`,
      'retry.test.js': [
        'jest.retryTimes(2);',
        'let n = 0, m = 0;',
        "test('flaky', () => { n++; if (n < 2) throw new Error('flaky attempt ' + n); });",
        "test('always', () => { throw new Error('always fails'); });",
        "test('flaky', () => { m++; if (m < 3) throw new Error('flaky twin ' + m); });",
        "test('ok', () => {});",
        '',
      ].join('\n'),
      'other.test.js': "test('other', async () => { await new Promise((r) => setTimeout(r, 300)); });\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const env: NodeJS.ProcessEnv = { ...runnerEnv(stream.url), TESTWIRE_PROGRESS_INTERVAL: '0' };
      delete env.NODE_PATH; // vitest's bin sets it: the jest run would resolve the repository's jest through it
      expect(await runToExit(process.execPath, [bin, '--maxWorkers=2'], dir, env)).toBe(1);
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      expect(data('test.started')[0].run.frameworkVersion).toMatch(new RegExp(`^${major}\\.`));
      const results = data('test.result');
      const attempts = (title: string) => {
        const ids = [...new Set(results.filter((r) => r.testName === title).map((r) => r.id))];
        return ids.map((id) => results.filter((r) => r.id === id).map((r) => `${r.attempt} ${r.status}`));
      };
      expect(attempts('flaky')).toEqual([
        ['1 failed', '2 passed'],
        ['1 failed', '2 failed', '3 passed'],
      ]);
      expect(attempts('always')).toEqual([['1 failed', '2 failed', '3 failed']]);
      expect(attempts('ok')).toEqual([['1 passed']]);
      // Every test that started (test.progress names the one that started last) has a result.
      const ids = new Set(results.map((r) => r.id));
      const started = data('test.progress').filter((p) => p.id !== undefined && !ids.has(p.id));
      expect(started.map((p) => p.titlePath)).toEqual([]);
      const completed = data('test.completed')[0];
      expect(completed.summary).toMatchObject({ total: 5, passed: 4, failed: 1, flaky: 2 });
      expect(completed.runningTests).toBeUndefined();
      expect(data('test.progress').at(-1)).toMatchObject({ status: 'idle', total: 5, completed: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
