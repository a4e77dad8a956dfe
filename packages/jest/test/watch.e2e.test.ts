/**
 * `jest --watchAll` end to end, on jest 29 and 30 (compat/jest-<major>): jest builds its reporters anew for
 * every rerun (a new TestScheduler per run), so each rerun must stream as a run of its own — into a real
 * broadcaster, seen by a real WebSocket subscriber — and the reporters of the reruns must share the one
 * reporter thread of the process rather than leave a thread behind per rerun.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** A small project under compat/jest-<major>/work/, where node resolution finds that jest and this package. */
function project(major: number): string {
  const dir = join(compatDir(major), 'work', `jest-watch-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "name": "jest-watch-fixture", "private": true }\n');
  writeFileSync(
    join(dir, 'jest.config.cjs'),
    "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
  );
  writeFileSync(
    join(dir, 'sum.test.js'),
    [
      "test('adds', () => { expect(1 + 1).toBe(2); });",
      "test('fails', () => { expect(1 + 1).toBe(3); });",
      "test.todo('later');",
      '',
    ].join('\n'),
  );
  return dir;
}

describe.each([29, 30])('jest %i --watchAll', (major) => {
  it('streams every rerun as a run of its own, all from one reporter thread', async () => {
    const dir = project(major);
    const rootName = basename(dir);
    const child = spawn(
      process.execPath,
      [join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js'), '--watchAll'],
      { cwd: dir, env: runnerEnv(stream.url), stdio: 'ignore' },
    );
    // Generous: a jest run on a loaded machine (two concurrent test packages, helpers) took over 20 s.
    const until = async (runs: number) => {
      expect(await stream.waitForRuns(rootName, runs, 90_000)).toHaveLength(runs);
    };
    const threads = () => readdirSync(`/proc/${child.pid}/task`).length;
    try {
      await until(1);
      const first = threads();
      for (let rerun = 1; rerun <= 3; rerun++) {
        // an edit, as a developer makes: jest's watcher sees the change and runs the suite again
        await new Promise((resolve) => setTimeout(resolve, 300));
        appendFileSync(join(dir, 'sum.test.js'), `// edit ${rerun}\n`);
        await until(rerun + 1);
      }
      // One reporter thread serves every rerun's reporter; allow one more for Node's or jest's own.
      expect(threads()).toBeLessThanOrEqual(first + 1);
      const runIds = stream.completedRuns(rootName);
      expect(new Set(runIds).size).toBe(4);
      for (const runId of runIds) {
        const events = stream.received().filter((e) => e.runId === runId);
        expect(events[0]?.type).toBe('test.started');
        expect(events.at(-1)?.type).toBe('test.completed');
        const finals = Object.fromEntries(
          events.flatMap((e) => (e.type === 'test.result' ? [[e.data.testName, e.data.status]] : [])),
        );
        expect(finals).toEqual({ adds: 'passed', fails: 'failed', later: 'todo' });
        const completed = events.at(-1) as Extract<AnyEventEnvelope, { type: 'test.completed' }>;
        expect(completed.data.summary).toMatchObject({ passed: 1, failed: 1, todo: 1, success: false });
      }
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 400_000);
});
