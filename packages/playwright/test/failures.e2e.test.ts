/**
 * What a failure says, end to end on the real Playwright runner (compat/playwright, and 1.40, the oldest
 * supported), in colour (FORCE_COLOR=1), the reporter loaded by package name and streaming into a real
 * broadcaster seen by a real WebSocket subscriber. Playwright hands reporters the message only (no
 * matcherResult): each test.failed (and its test.result) must still carry the values the matcher printed,
 * a one-line summary quoting both, and a stack starting at the test file without the message.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
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

const compat = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../compat');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const CONFIG = `import { defineConfig } from '@playwright/test';
export default defineConfig({
  testDir: '.',
  outputDir: 'test-results',
  workers: 1,
  reporter: [['list'], ['@testwire/playwright', { performanceIntervalMs: 0 }]],
});
`;

const TESTS = [
  "import assert from 'node:assert';",
  "import { expect, test } from '@playwright/test';",
  "import { add } from './src/math';",
  "test.describe('math', () => {",
  "  test('toBe', () => { expect(add(60, 59)).toBe(108); });",
  "  test('toBeGreaterThan', () => { expect(add(1, 1)).toBeGreaterThan(5); });",
  "  test('node assert', () => { assert.strictEqual(add(20, 15), 35); });",
  "  test('passes', () => { expect(1).toBe(1); });",
  '});',
  '',
].join('\n');

function project(install: string): string {
  const name = `failures-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(path.join(compat, install, 'work', name), {
    'playwright.config.mjs': CONFIG,
    // One too many: every assertion fails with a value off by one.
    'src/math.ts': 'export const add = (a: number, b: number) => a + b + 1;\n',
    'math.spec.ts': TESTS,
  });
}

describe.each(['playwright', 'playwright-1.40'])('%s: failures that say what failed', (install) => {
  it('expected/actual from the message, a summary quoting both, a stack starting at the test file', async () => {
    const dir = project(install);
    try {
      const bin = path.join(compat, install, 'node_modules/.bin/playwright');
      const env = { ...runnerEnv(stream.url), FORCE_COLOR: '1' };
      expect(await runToExit(bin, ['test'], dir, env)).toBe(1);
      expectFailuresSayWhatFailed(await stream.runOf(path.basename(dir)), 'math.spec.ts', [
        { title: 'toBe', expected: '108', actual: '120', summary: 'expected 108, received 120', line: 5 },
        {
          title: 'toBeGreaterThan',
          expected: '> 5',
          actual: '3',
          summary: 'expected > 5, received 3',
          line: 6,
        },
        { title: 'node assert', expected: '35', actual: '36', summary: '36 !== 35', line: 7 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
