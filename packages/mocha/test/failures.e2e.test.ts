/**
 * What a failure says, end to end on each mocha major: `mocha --reporter @testwire/mocha` streaming into a
 * real broadcaster seen by a real WebSocket subscriber. node:assert's AssertionError gives expected/actual;
 * each test.failed (and its test.result) must carry them, a one-line summary quoting both, and a stack that
 * starts at the test file, without the message or node's internal frames (those stay in fullStack).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  expectFailuresSayWhatFailed,
  type LiveStream,
  openStream,
  writeProject,
} from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, type Major, mochaDir, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const TESTS = [
  "const assert = require('node:assert');",
  "const { add } = require('../src/math.cjs');",
  "describe('math', () => {",
  "  it('strictEqual', () => { assert.strictEqual(add(20, 15), 35); });",
  "  it('deepStrictEqual', () => { assert.deepStrictEqual({ sum: add(1, 1) }, { sum: 2 }); });",
  "  it('async', async () => { await Promise.resolve(); assert.strictEqual(add(1, 1), 2); });",
  "  it('passes', () => { assert.ok(true); });",
  '});',
  '',
].join('\n');

function project(major: Major): string {
  const name = `mocha-failures-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-failures-fixture", "private": true }\n',
    // One too many: every assertion fails with a value off by one.
    'src/math.cjs': 'exports.add = (a, b) => a + b + 1;\n',
    'test/math.test.cjs': TESTS,
  });
}

describe.each(MAJORS)('mocha %i: failures that say what failed', (major) => {
  it('expected/actual, a summary quoting both, a stack starting at the test file', async () => {
    const dir = project(major);
    try {
      const result = await runMochaCli(major, ['--reporter', '@testwire/mocha', 'test/*.test.cjs'], dir, {
        TESTWIRE_URL: stream.url,
      });
      expect(result.exitCode, result.stderr).toBe(3);
      const errors = expectFailuresSayWhatFailed(await stream.runOf(basename(dir)), 'test/math.test.cjs', [
        { title: 'strictEqual', expected: '35', actual: '36', summary: '36 !== 35', line: 4 },
        {
          title: 'deepStrictEqual',
          expected: '{\n  "sum": 2\n}',
          actual: '{\n  "sum": 3\n}',
          summary: 'expected { "sum": 2 }, received { "sum": 3 }',
          line: 5,
        },
        { title: 'async', expected: '2', actual: '3', summary: '3 !== 2', line: 6 },
      ]);
      for (const error of Object.values(errors))
        expect(error).toMatchObject({ type: 'AssertionError', code: 'ERR_ASSERTION' });
      // node's internal frames are in fullStack only (after an await, V8 has none to show).
      expect(errors.strictEqual.fullStack).toMatch(/\(node:internal[\\/]/);
      expect(errors.deepStrictEqual.fullStack).toMatch(/\(node:internal[\\/]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
