/**
 * What a failure says, end to end on Vitest 3 and 4 (compat/vitest-<major>): `vitest run` in colour
 * (FORCE_COLOR=1) with `--reporter=@testwire/vitest`, streaming into a real broadcaster and a real WebSocket
 * subscriber. Each test.failed (and its test.result) carries Vitest's expected/actual and diff without
 * colours, a one-line summary quoting both values, and a stack that starts at the test file, without the
 * message or @vitest/runner's frames (those stay in fullStack).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  expectFailuresSayWhatFailed,
  type LiveStream,
  openStream,
  runnerEnv,
  runToExit,
  writeProject,
} from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const TESTS = [
  "import assert from 'node:assert';",
  "import { describe, expect, test } from 'vitest';",
  "import { add } from './src/math.js';",
  "describe('math', () => {",
  "  test('toBe', () => { expect(add(60, 59)).toBe(108); });",
  "  test('chai', () => { expect(add(60, 59)).to.equal(108); });",
  "  test('node assert', () => { assert.strictEqual(add(20, 15), 35); });",
  "  test('passes', () => { expect(1).toBe(1); });",
  '});',
  '',
].join('\n');

function project(major: number): string {
  const name = `vitest-failures-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
    'package.json': '{ "name": "vitest-failures-fixture", "private": true, "type": "module" }\n',
    // One too many: every assertion fails with a value off by one.
    'src/math.js': 'export const add = (a, b) => a + b + 1;\n',
    'math.test.js': TESTS,
  });
}

describe.each([3, 4])('vitest %i: failures that say what failed', (major) => {
  it('expected/actual and diff, a summary quoting both, a stack starting at the test file', async () => {
    const dir = project(major);
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--reporter=default', '--reporter=@testwire/vitest'];
      const env = { ...runnerEnv(stream.url), FORCE_COLOR: '1' };
      expect(await runToExit(process.execPath, args, dir, env)).toBe(1);
      const errors = expectFailuresSayWhatFailed(await stream.runOf(basename(dir)), 'math.test.js', [
        { title: 'toBe', expected: '108', actual: '120', summary: 'expected 120 to be 108', line: 5 },
        { title: 'chai', expected: '108', actual: '120', summary: 'expected 120 to equal 108', line: 6 },
        { title: 'node assert', expected: '35', actual: '36', summary: '36 !== 35', line: 7 },
      ]);
      for (const error of Object.values(errors)) {
        // Vitest's own diff, colours stripped; @vitest/runner's frames in fullStack only.
        expect(error.diff).toContain(`+ ${error.actual}`);
        expect(error.fullStack).toMatch(/node_modules[\\/].*@vitest[\\/]runner/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('an unhandled rejection is UNHANDLED_REJECTION, a file that does not parse SYNTAX_ERROR', async () => {
    const name = `vitest-outside-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
      'package.json': '{ "name": "vitest-outside-fixture", "private": true, "type": "module" }\n',
      'rejects.test.js':
        "import { test } from 'vitest';\ntest('leaves a rejection', () => { Promise.reject(new Error('nobody caught me')); });\n",
      'broken.test.js': "import { test } from 'vitest';\ntest('never', () => {\n",
    });
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--reporter=default', '--reporter=@testwire/vitest'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
      const errors = (await stream.runOf(basename(dir)))
        .filter((e) => e.type === 'framework.error')
        .map((e) => e.data as { error: { code: string; message: string }; file?: string });
      expect(errors.find((e) => /nobody caught me/.test(e.error.message))?.error.code).toBe(
        'UNHANDLED_REJECTION',
      );
      expect(errors.find((e) => e.file === 'broken.test.js')?.error.code).toBe('SYNTAX_ERROR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
