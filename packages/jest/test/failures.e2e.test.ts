/**
 * What a failure says, end to end on jest 29 and 30 (compat/jest-<major>), in colour (FORCE_COLOR=1), streaming
 * into a real broadcaster seen by a real WebSocket subscriber: each test.failed (and its test.result) carries
 * the values compared — from jest's matcherResult, or the lines the matcher printed when it has none
 * (toBeGreaterThan, node:assert as jest renders it) — a one-line summary quoting both, and a stack that
 * starts at the test file, without the message or jest-circus's frames (those stay in fullStack).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  expectFailuresSayWhatFailed,
  type LiveStream,
  openStream,
  runnerEnv,
  runToExit,
  writeProject,
} from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const TESTS = [
  "const assert = require('node:assert');",
  "const { add } = require('./src/math');",
  "describe('math', () => {",
  "  test('toBe', () => { expect(add(5, 6)).toBe(11); });",
  "  test('toBeGreaterThan', () => { expect(add(1, 1)).toBeGreaterThan(5); });",
  "  test('node assert', () => { assert.strictEqual(add(20, 15), 35); });",
  "  test('passes', () => { expect(1).toBe(1); });",
  '});',
  '',
].join('\n');

function project(major: number): string {
  const name = `jest-failures-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(compatDir(major), 'work', name), {
    'package.json': '{ "name": "jest-failures-fixture", "private": true }\n',
    'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
    // One too many: every assertion fails with a value off by one.
    'src/math.js': 'exports.add = (a, b) => a + b + 1;\n',
    'math.test.js': TESTS,
  });
}

describe.each([29, 30])('jest %i: failures that say what failed', (major) => {
  it('expected/actual, a summary quoting both, a stack starting at the test file', async () => {
    const dir = project(major);
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const env = { ...runnerEnv(stream.url), FORCE_COLOR: '1' };
      expect(await runToExit(process.execPath, [bin], dir, env)).toBe(1);
      const errors = expectFailuresSayWhatFailed(await stream.runOf(basename(dir)), 'math.test.js', [
        { title: 'toBe', expected: '11', actual: '12', summary: 'expected 11, received 12', line: 4 },
        {
          title: 'toBeGreaterThan',
          expected: '> 5',
          actual: '3',
          summary: 'expected > 5, received 3',
          line: 5,
        },
        { title: 'node assert', expected: '35', actual: '36', summary: 'expected 35, received 36', line: 6 },
      ]);
      // jest-circus's frames are in fullStack only.
      for (const error of Object.values(errors))
        expect(error.fullStack).toMatch(/node_modules[\\/].*jest-circus/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.each([29, 30])('jest %i: a failure outside the tests says what failed', (major) => {
  it('an afterAll hook that throws: a hook failure with its message, not a file that failed to load', async () => {
    const name = `jest-after-all-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-after-all-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      'hooks.test.js': [
        "describe('cleanup', () => {",
        "  afterAll(() => { throw new Error('afterAll boom'); });",
        "  test('runs', () => { expect(1).toBe(1); });",
        '});',
        '',
      ].join('\n'),
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      expect(await runToExit(process.execPath, [bin], dir, runnerEnv(stream.url))).toBe(1);
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      expect(data('test.result').map((r) => [r.testName, r.status])).toEqual([['runs', 'passed']]);
      expect(data('test.failed')).toMatchObject([
        {
          testName: '"afterAll" hook',
          scope: 'hook',
          file: 'hooks.test.js',
          error: { message: 'afterAll boom', type: 'Error' },
        },
      ]);
      expect(data('test.failed')[0].error.stack).toMatch(/^ {4}at .*hooks\.test\.js:2:/);
      expect(data('framework.error')).toMatchObject([
        { error: { message: 'afterAll boom', code: 'HOOK_FAILED' }, file: 'hooks.test.js' },
      ]);
      expect(data('test.completed')[0]).toMatchObject({
        summary: { passed: 1, success: false },
        errors: [{ message: 'afterAll boom' }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
