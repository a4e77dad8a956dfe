/**
 * One test file in two jest projects, end to end on jest 29 and 30 (compat/jest-<major>) into a real
 * broadcaster: jest hands the live hooks of both projects' runs the first project's `Test` (it finds it by
 * path), so each project's tests must still be streamed as that project's, once each.
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

const project = (name: string) =>
  `{ displayName: '${name}', testEnvironment: 'node', testMatch: ['<rootDir>/*.test.js'] }`;

describe.each([29, 30])('jest %i: one file in two projects', (major) => {
  it("each project's tests as that project's, once each", async () => {
    const name = `jest-projects-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-projects-fixture", "private": true }\n',
      'jest.config.cjs': `module.exports = { reporters: ['default', '@testwire/jest'], projects: [${project('A')}, ${project('B')}] };\n`,
      'a.test.js': [
        "describe('d', () => {",
        "  test('one', () => {});",
        "  test('two', () => { expect(1).toBe(2); });",
        "  test.skip('sk', () => {});",
        '});',
        '',
      ].join('\n'),
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      expect(await runToExit(process.execPath, [bin, '--ci'], dir, runnerEnv(stream.url))).toBe(1);
      const run = await stream.runOf(basename(dir));
      const results = run.filter((e) => e.type === 'test.result').map((e) => e.data as any);
      expect(results.map((r) => `${r.project} ${r.testName} ${r.status}`).sort()).toEqual([
        'A one passed',
        'A sk skipped',
        'A two failed',
        'B one passed',
        'B sk skipped',
        'B two failed',
      ]);
      expect(new Set(results.map((r) => r.id)).size).toBe(6);
      const completed = run.find((e) => e.type === 'test.completed')?.data as any;
      expect(completed.summary).toMatchObject({ total: 6, passed: 2, failed: 2, skipped: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
