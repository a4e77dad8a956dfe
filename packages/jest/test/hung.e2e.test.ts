/**
 * hung_test while a test blocks jest's thread (`jest -i`, a synchronous busy loop), end to end on jest 30,
 * streaming into a real broadcaster seen by a real WebSocket subscriber, with
 * TESTWIRE_HUNG_TEST_THRESHOLD=1500: the report comes while the loop still runs and names the test that
 * loops — not the test before it, whose result waits in the reporter's batch while the thread is blocked.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv, until, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const LOOP_MS = 6000;

describe('jest 30 -i: a test that blocks the thread is the hung test', () => {
  it('after a test that ended: the test that loops, by its title, not the one whose result waits', async () => {
    const name = `jest-hung-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(30), 'work', name), {
      'package.json': '{ "name": "jest-hung-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      'block.test.js': [
        "describe('blocks', () => {",
        "  test('first', async () => { await new Promise((resolve) => setTimeout(resolve, 70)); });",
        `  test('busy loops', () => { const end = Date.now() + ${LOOP_MS}; while (Date.now() < end) {} }, 0);`,
        '});',
        '',
      ].join('\n'),
    });
    try {
      const bin = join(compatDir(30), 'node_modules', 'jest', 'bin', 'jest.js');
      const env = { ...runnerEnv(stream.url), TESTWIRE_HUNG_TEST_THRESHOLD: '1500' };
      const child = spawn(process.execPath, [bin, '-i'], { cwd: dir, env, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      let exited = false;
      const exit = new Promise<number | null>((resolve) =>
        child.once('close', (code) => {
          exited = true;
          clearTimeout(timer);
          resolve(code);
        }),
      );
      const rootName = basename(dir);
      const isHung = (e: AnyEventEnvelope) =>
        e.type === 'performance.bottleneck' && (e.data as { type?: string }).type === 'hung_test';
      const ofRun = () => {
        const started = stream
          .received()
          .find((e) => e.type === 'test.started' && e.data.run?.rootName === rootName);
        return started ? stream.received().filter((e) => e.runId === started.runId) : [];
      };
      const first = await until('a hung_test of the run', () => ofRun().find(isHung), LOOP_MS + 30_000);
      expect(exited).toBe(false);
      expect(first.data).toMatchObject({
        type: 'hung_test',
        testName: 'busy loops',
        titlePath: ['blocks', 'busy loops'],
        file: 'block.test.js',
        threshold: 1500,
      });
      expect(await exit).toBe(0);
      const events = await stream.runOf(rootName);
      expect(events.filter(isHung).map((e) => (e.data as { testName: string }).testName)).toEqual([
        'busy loops',
      ]);
      const looped = events.find(
        (e) => e.type === 'test.result' && (e.data as { testName: string }).testName === 'busy loops',
      );
      expect(first.seq).toBeLessThan(looped?.seq as number);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
