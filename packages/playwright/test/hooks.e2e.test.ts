/**
 * A failing beforeAll/afterAll, end to end on the real Playwright runner (compat/playwright, and 1.40, the
 * oldest supported), the reporter loaded by package name and streaming into a real broadcaster seen by a
 * real WebSocket subscriber. Playwright fails the test a hook ran for with the hook's error (and does not run
 * the rest of a beforeAll's group): the tests keep those results, each failing hook is one test.failed
 * (scope 'hook', named after the hook and the test it ran for) and one framework.error HOOK_FAILED, and
 * test.completed counts what Playwright's own summary counts (a hook is not a test).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
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

const BEFORE_ALL = {
  'setup.spec.ts': [
    "import { expect, test } from '@playwright/test';",
    "test.describe('setup', () => {",
    "  test.beforeAll(() => { throw new Error('beforeAll boom'); });",
    "  test('one', () => { expect(1).toBe(1); });",
    "  test('two', () => { expect(1).toBe(1); });",
    '});',
    // A titled hook, failing after an await.
    "test.describe('titled', () => {",
    "  test.beforeAll('connect', async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('titled boom'); });",
    "  test('three', () => { expect(1).toBe(1); });",
    '});',
    // A beforeAll that skips its group has not failed.
    "test.describe('skipping', () => {",
    "  test.beforeAll(() => { test.skip(true, 'no database here'); });",
    "  test('four', () => { expect(1).toBe(1); });",
    '});',
    "test('outside', () => { expect(1).toBe(1); });",
    '',
  ].join('\n'),
};

const AFTER_ALL = {
  'cleanup.spec.ts': [
    "import { expect, test } from '@playwright/test';",
    "test.describe('cleanup', () => {",
    "  test.afterAll(() => { throw new Error('afterAll boom'); });",
    "  test('runs', () => { expect(1).toBe(1); });",
    "  test('also runs', () => { expect(1).toBe(1); });",
    '});',
    "test('fails', () => { expect(1).toBe(2); });",
    '',
  ].join('\n'),
};

/** Playwright's own count of tests: the lines `  2 failed`, `  1 did not run` (1.40: `skipped`), `  2 passed (3s)`. */
function playwrightCounts(output: string) {
  const count = (words: string) =>
    Number(new RegExp(`^\\s+(\\d+) ${words}(?: \\(|$)`, 'm').exec(output)?.[1] ?? 0);
  const counts = {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped') + count('did not run'),
    flaky: count('flaky'),
  };
  expect(counts.passed + counts.failed, output).toBeGreaterThan(0);
  return { total: counts.passed + counts.failed + counts.skipped + counts.flaky, ...counts };
}

async function run(install: string, files: Record<string, string>) {
  const name = `hooks-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = writeProject(path.join(compat, install, 'work', name), {
    'playwright.config.mjs': CONFIG,
    ...files,
  });
  try {
    const bin = path.join(compat, install, 'node_modules/.bin/playwright');
    const { code, output } = await runWithOutput(bin, ['test'], dir, runnerEnv(stream.url));
    expect(code, output).toBe(1);
    const events = await stream.runOf(path.basename(dir)).catch((error: Error) => {
      throw new Error(`${error.message}; playwright printed:\n${output}`);
    });
    const data = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
    return { data, counts: playwrightCounts(output), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.each(['playwright', 'playwright-1.40'])('%s: a beforeAll/afterAll that throws', (install) => {
  it('beforeAll: a hook failure per failing hook (titled too, not one that skips), HOOK_FAILED', async () => {
    const { data, counts, output } = await run(install, BEFORE_ALL);
    expect(
      data('test.result').map((r) => [r.testName, r.status, r.error?.message]),
      output,
    ).toEqual([
      ['one', 'failed', 'beforeAll boom'],
      ['two', 'skipped', undefined],
      ['three', 'failed', 'titled boom'],
      ['four', 'skipped', undefined],
      ['outside', 'passed', undefined],
    ]);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message])).toEqual([
      ['"beforeAll" hook for "one"', 'setup.spec.ts', 'beforeAll boom'],
      ['"beforeAll" hook for "three"', 'setup.spec.ts', 'titled boom'],
    ]);
    expect(hooks[0].error.stack).toMatch(/^ {4}at .*setup\.spec\.ts:3:/);
    expect(data('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'setup.spec.ts', 'beforeAll boom'],
      ['HOOK_FAILED', 'setup.spec.ts', 'titled boom'],
    ]);
    expect(counts).toEqual({ total: 5, passed: 1, failed: 2, skipped: 2, flaky: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);

  it('afterAll: one hook failure, HOOK_FAILED, the test it ran for failed as Playwright says', async () => {
    const { data, counts, output } = await run(install, AFTER_ALL);
    expect(
      data('test.result').map((r) => [r.testName, r.status, r.error?.message]),
      output,
    ).toEqual([
      ['runs', 'passed', undefined],
      ['also runs', 'failed', 'afterAll boom'],
      ['fails', 'failed', expect.stringContaining('toBe')],
    ]);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message])).toEqual([
      ['"afterAll" hook for "also runs"', 'cleanup.spec.ts', 'afterAll boom'],
    ]);
    expect(data('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'cleanup.spec.ts', 'afterAll boom'],
    ]);
    expect(counts).toEqual({ total: 3, passed: 1, failed: 2, skipped: 0, flaky: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);
});
