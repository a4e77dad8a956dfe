/**
 * A failing beforeAll/afterAll, end to end on jest 29 and 30 (compat/jest-<major>), streaming into a real
 * broadcaster seen by a real WebSocket subscriber. Jest fails every test under a throwing beforeAll's block
 * with the hook's error and reports an afterAll's error as the file's: the tests keep the results jest gives
 * them, each failing hook is one test.failed (scope 'hook', named after the hook) and one framework.error
 * HOOK_FAILED, and test.completed counts what jest's own `Tests:` line counts (a hook is not a test).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const BEFORE_ALL = {
  'setup.test.js': [
    "describe('setup', () => {",
    "  beforeAll(() => { throw new Error('beforeAll boom'); });",
    "  test('one', () => { expect(1).toBe(1); });",
    "  test('two', () => { expect(1).toBe(1); });",
    "  describe('inner', () => {",
    "    test('three', () => { expect(1).toBe(1); });",
    '  });',
    '});',
    // Thrown after an await: nothing in what jest reports tells this hook's error from a test's own.
    "describe('async setup', () => {",
    "  beforeAll(async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('async boom'); });",
    "  test('four', () => { expect(1).toBe(1); });",
    '});',
    "test('outside', () => { expect(1).toBe(1); });",
    '',
  ].join('\n'),
  // The file's own beforeAll: every test of the file fails with it.
  'top.test.js': [
    "beforeAll(() => { throw new Error('file beforeAll boom'); });",
    "test('five', () => { expect(1).toBe(1); });",
    "describe('block', () => {",
    "  test('six', () => { expect(1).toBe(1); });",
    '});',
    '',
  ].join('\n'),
};

const AFTER_ALL = {
  'cleanup.test.js': [
    "describe('cleanup', () => {",
    "  afterAll(() => { throw new Error('afterAll boom'); });",
    "  test('runs', () => { expect(1).toBe(1); });",
    "  test('fails', () => { expect(1).toBe(2); });",
    '});',
    '',
  ].join('\n'),
};

function project(major: number, files: Record<string, string>): string {
  const name = `jest-hooks-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(compatDir(major), 'work', name), {
    'package.json': '{ "name": "jest-hooks-fixture", "private": true }\n',
    'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
    ...files,
  });
}

/** Jest's own count of tests: its line `Tests:       4 failed, 1 passed, 5 total`. */
function jestCounts(output: string) {
  const line = /^Tests:\s+(.*)$/m.exec(output);
  expect(line, output).not.toBeNull();
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line?.[1] ?? '')?.[1] ?? 0);
  return {
    total: count('total'),
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    todo: count('todo'),
  };
}

async function run(major: number, files: Record<string, string>) {
  const dir = project(major, files);
  try {
    const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
    const { code, output } = await runWithOutput(process.execPath, [bin], dir, runnerEnv(stream.url));
    expect(code, output).toBe(1);
    const events = await stream.runOf(basename(dir));
    const data = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
    return { data, counts: jestCounts(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([29, 30])('jest %i: a beforeAll/afterAll that throws', (major) => {
  it("beforeAll: the block's tests fail as jest fails them, plus one hook failure per hook, HOOK_FAILED", async () => {
    const { data, counts } = await run(major, BEFORE_ALL);
    expect(
      data('test.result')
        .map((r) => [r.testName, r.status, r.error?.message])
        .sort(),
    ).toEqual([
      ['five', 'failed', 'file beforeAll boom'],
      ['four', 'failed', 'async boom'],
      ['one', 'failed', 'beforeAll boom'],
      ['outside', 'passed', undefined],
      ['six', 'failed', 'file beforeAll boom'],
      ['three', 'failed', 'beforeAll boom'],
      ['two', 'failed', 'beforeAll boom'],
    ]);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message]).sort()).toEqual([
      ['"beforeAll" hook for "setup"', 'setup.test.js', 'beforeAll boom'],
      ['"beforeAll" hook', 'top.test.js', 'file beforeAll boom'],
    ]);
    const setup = hooks.find((f) => f.file === 'setup.test.js');
    expect(setup.titlePath).toEqual(['setup']);
    expect(setup.error.stack).toMatch(/^ {4}at .*setup\.test\.js:2:/);
    expect(
      data('framework.error')
        .map((e) => [e.error.code, e.file, e.error.message])
        .sort(),
    ).toEqual([
      ['HOOK_FAILED', 'setup.test.js', 'beforeAll boom'],
      ['HOOK_FAILED', 'top.test.js', 'file beforeAll boom'],
    ]);
    expect(counts).toEqual({ total: 7, passed: 1, failed: 6, skipped: 0, todo: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);

  it("afterAll: one hook failure, HOOK_FAILED, the tests' own results kept", async () => {
    const { data, counts } = await run(major, AFTER_ALL);
    expect(data('test.result').map((r) => [r.testName, r.status])).toEqual([
      ['runs', 'passed'],
      ['fails', 'failed'],
    ]);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message])).toEqual([
      ['"afterAll" hook', 'cleanup.test.js', 'afterAll boom'],
    ]);
    expect(data('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'cleanup.test.js', 'afterAll boom'],
    ]);
    expect(counts).toEqual({ total: 2, passed: 1, failed: 1, skipped: 0, todo: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);
});
