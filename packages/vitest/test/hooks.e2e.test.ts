/**
 * A failing beforeAll/afterAll, end to end on Vitest 3 and 4 (compat/vitest-<major>): `vitest run` with the
 * default reporter and `@testwire/vitest`, streaming into a real broadcaster seen by a real WebSocket
 * subscriber. Each failing hook is one test.failed (scope 'hook', named after the hook and its suite) and one
 * framework.error HOOK_FAILED; the tests keep the results Vitest gives them (a beforeAll's tests are
 * skipped), and test.completed counts what Vitest's own summary line counts: a hook is not a test.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const BEFORE_ALL = {
  // A describe block's beforeAll: Vitest skips the block's tests.
  'setup.test.js': [
    "import { beforeAll, describe, expect, test } from 'vitest';",
    "describe('setup', () => {",
    "  beforeAll(() => { throw new Error('beforeAll boom'); });",
    "  test('one', () => { expect(1).toBe(1); });",
    "  test('two', () => { expect(1).toBe(1); });",
    '});',
    "test('outside', () => { expect(1).toBe(1); });",
    '',
  ].join('\n'),
  // A file's own beforeAll, async, rejecting after an await: every test of the file is skipped.
  'top.test.js': [
    "import { beforeAll, expect, test } from 'vitest';",
    "beforeAll(async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('file beforeAll boom'); });",
    "test('three', () => { expect(1).toBe(1); });",
    '',
  ].join('\n'),
};

const AFTER_ALL = {
  'cleanup.test.js': [
    "import { afterAll, describe, expect, test } from 'vitest';",
    "afterAll(() => { throw new Error('file afterAll boom'); });",
    "describe('cleanup', () => {",
    "  afterAll(() => { throw new Error('afterAll boom'); });",
    "  test('runs', () => { expect(1).toBe(1); });",
    "  test('fails', () => { expect(1).toBe(2); });",
    '});',
    '',
  ].join('\n'),
};

function project(major: number, files: Record<string, string>): string {
  const name = `vitest-hooks-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
    'package.json': '{ "name": "vitest-hooks-fixture", "private": true, "type": "module" }\n',
    ...files,
  });
}

/** Vitest's own count of tests: its summary line `Tests  1 failed | 1 passed | 2 skipped (4)`. */
function vitestCounts(output: string) {
  const line = /^\s*Tests\s+(.*)\((\d+)\)\s*$/m.exec(output);
  expect(line, output).not.toBeNull();
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line?.[1] ?? '')?.[1] ?? 0);
  return {
    total: Number(line?.[2]),
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    todo: count('todo'),
  };
}

async function run(major: number, files: Record<string, string>) {
  const dir = project(major, files);
  try {
    // Vitest's default reporter beside testwire's.
    const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
    const args = [bin, 'run', '--reporter=default', '--reporter=@testwire/vitest'];
    const { code, output } = await runWithOutput(process.execPath, args, dir, runnerEnv(stream.url));
    expect(code, output).toBe(1);
    const events = await stream.runOf(basename(dir));
    const data = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
    return { data, counts: vitestCounts(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([3, 4])('vitest %i: a beforeAll/afterAll that throws', (major) => {
  it('beforeAll: a hook failure named after the hook, HOOK_FAILED, the tests skipped as Vitest skips them', async () => {
    const { data, counts } = await run(major, BEFORE_ALL);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message]).sort()).toEqual([
      ['"beforeAll" hook for "setup"', 'setup.test.js', 'beforeAll boom'],
      ['"beforeAll" hook', 'top.test.js', 'file beforeAll boom'],
    ]);
    expect(data('test.failed').filter((f) => f.scope !== 'hook')).toEqual([]);
    expect(
      data('framework.error')
        .map((e) => [e.error.code, e.file, e.error.message])
        .sort(),
    ).toEqual([
      ['HOOK_FAILED', 'setup.test.js', 'beforeAll boom'],
      ['HOOK_FAILED', 'top.test.js', 'file beforeAll boom'],
    ]);
    expect(
      data('test.result')
        .map((r) => [r.testName, r.status])
        .sort(),
    ).toEqual([
      ['one', 'skipped'],
      ['outside', 'passed'],
      ['three', 'skipped'],
      ['two', 'skipped'],
    ]);
    expect(counts).toEqual({ total: 4, passed: 1, failed: 0, skipped: 3, todo: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);

  it("afterAll: a hook failure per failing hook (the file's and the block's), the tests' own results kept", async () => {
    const { data, counts } = await run(major, AFTER_ALL);
    const hooks = data('test.failed').filter((f) => f.scope === 'hook');
    expect(hooks.map((f) => [f.testName, f.file, f.error.message])).toEqual([
      ['"afterAll" hook for "cleanup"', 'cleanup.test.js', 'afterAll boom'],
      ['"afterAll" hook', 'cleanup.test.js', 'file afterAll boom'],
    ]);
    expect(hooks[0].error.stack).toMatch(/^ {4}at .*cleanup\.test\.js:4:/);
    expect(data('framework.error').map((e) => [e.error.code, e.file, e.error.message])).toEqual([
      ['HOOK_FAILED', 'cleanup.test.js', 'afterAll boom'],
      ['HOOK_FAILED', 'cleanup.test.js', 'file afterAll boom'],
    ]);
    expect(data('test.result').map((r) => [r.testName, r.status])).toEqual([
      ['runs', 'passed'],
      ['fails', 'failed'],
    ]);
    expect(counts).toEqual({ total: 2, passed: 1, failed: 1, skipped: 0, todo: 0 });
    expect(data('test.completed')[0].summary).toMatchObject({ ...counts, success: false });
  }, 120_000);
});
