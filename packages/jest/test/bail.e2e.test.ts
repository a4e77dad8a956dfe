/**
 * `--bail`, end to end on jest 29 and 30 (compat/jest-<major>), streaming into a real broadcaster seen by a real
 * WebSocket subscriber. Once the failed tests reach `bail`, jest completes the run and exits, files left
 * unreported: test.completed says the run was interrupted by `bail`, its verdict still `failed`. A run whose
 * failures reach `bail` with its last file ran every file: not interrupted.
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

// Without timings jest runs the largest file first: the failing one, padded. The slow files keep the other
// worker busy (and the rest queued) when it fails.
const FAILS = `${'// padding: jest runs larger files first\n'.repeat(40)}test('fails', () => { expect(1).toBe(2); });\n`;
const SLOW = "test('slow', () => new Promise((r) => setTimeout(r, 3000)));\n";

async function completedOf(major: number, files: Record<string, string>) {
  const name = `jest-bail-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = writeProject(join(compatDir(major), 'work', name), {
    'package.json': '{ "name": "jest-bail-fixture", "private": true }\n',
    'jest.config.cjs':
      "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
    ...files,
  });
  try {
    const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
    const args = [bin, '--bail', '--maxWorkers=2'];
    expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
    const run = await stream.runOf(basename(dir));
    const completed = run.filter((e) => e.type === 'test.completed').map((e) => e.data as any);
    expect(completed).toHaveLength(1);
    return completed[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([29, 30])('jest %i: --bail', (major) => {
  it('reached with files left: interrupted by bail, failed', async () => {
    const completed = await completedOf(major, {
      'fails.test.js': FAILS,
      'slow-1.test.js': SLOW,
      'slow-2.test.js': SLOW,
      'slow-3.test.js': SLOW,
    });
    expect(completed).toMatchObject({ interrupted: true, interruptedBy: 'bail', rawStatus: 'failed' });
    expect(completed.summary).toMatchObject({ failed: 1, success: false });
    expect(Array.isArray(completed.runningTests)).toBe(true);
  }, 120_000);

  it('reached with the last file: every file ran, not interrupted', async () => {
    const completed = await completedOf(major, { 'fails.test.js': FAILS });
    expect(completed.rawStatus).toBe('failed');
    expect(completed.interrupted).toBeUndefined();
    expect(completed.interruptedBy).toBeUndefined();
    expect(completed.summary).toMatchObject({ total: 1, failed: 1, success: false });
  }, 120_000);
});
