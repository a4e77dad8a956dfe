/**
 * hung_test while a test blocks mocha's thread (a synchronous busy loop), end to end on mocha 11:
 * `mocha --reporter @testwire/mocha` streaming into a real broadcaster seen by a real WebSocket subscriber,
 * with TESTWIRE_HUNG_TEST_THRESHOLD=1500. The report must come while the loop still runs and name the test
 * that loops — not the test before it, whose result may wait in the reporter's batch while the thread is
 * blocked (it does when the batch timer is not due in between: the file blocks twice) — also when the loop
 * begins as soon as the run starts (the run's start reaches the reporter's thread at once).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, until, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mochaDir, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const LOOP_MS = 4500;
const loop = `function () { this.timeout(0); const end = Date.now() + ${LOOP_MS}; while (Date.now() < end) {} }`;

function project(test: string): string {
  const name = `mocha-hung-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(11), 'work', name), {
    'package.json': '{ "name": "mocha-hung-fixture", "private": true }\n',
    'test/block.test.cjs': test,
  });
}

/** Runs the project; resolves once a hung_test of its run arrived, with whether mocha had exited by then. */
async function hungWhileRunning(dir: string) {
  let exited = false;
  const run = runMochaCli(11, ['--reporter', '@testwire/mocha', 'test/*.test.cjs'], dir, {
    TESTWIRE_URL: stream.url,
    TESTWIRE_HUNG_TEST_THRESHOLD: '1500',
  }).finally(() => {
    exited = true;
  });
  const rootName = basename(dir);
  const ofRun = () => {
    const started = stream
      .received()
      .find((e) => e.type === 'test.started' && e.data.run?.rootName === rootName);
    return started ? stream.received().filter((e) => e.runId === started.runId) : [];
  };
  const isHung = (e: AnyEventEnvelope) =>
    e.type === 'performance.bottleneck' && (e.data as { type?: string }).type === 'hung_test';
  const first = await until('a hung_test of the run', () => ofRun().find(isHung), LOOP_MS + 20_000);
  const exitedBefore = exited;
  const result = await run;
  expect(result.exitCode, result.stderr).toBe(0);
  const events = await stream.runOf(rootName);
  return { first, exitedBefore, events, hung: events.filter(isHung) };
}

describe('mocha 11: a test that blocks the thread is the hung test', () => {
  it('after a test that ended: the test that loops, by its title, not the one whose result waits', async () => {
    const dir = project(
      [
        "describe('blocks', () => {",
        "  it('first', async () => { await new Promise((resolve) => setTimeout(resolve, 70)); });",
        `  it('busy loops', ${loop});`,
        // Twice: whether a result is still in the batch when the next test blocks depends on the batch timer.
        "  it('second', async () => { await new Promise((resolve) => setTimeout(resolve, 70)); });",
        `  it('busy again', ${loop});`,
        '});',
        '',
      ].join('\n'),
    );
    try {
      const { first, exitedBefore, events, hung } = await hungWhileRunning(dir);
      expect(exitedBefore).toBe(false);
      expect(first.data).toMatchObject({
        type: 'hung_test',
        testName: 'busy loops',
        titlePath: ['blocks', 'busy loops'],
        file: 'test/block.test.cjs',
        threshold: 1500,
      });
      expect(hung.map((e) => (e.data as { testName: string }).testName)).toEqual([
        'busy loops',
        'busy again',
      ]);
      const results = events.filter((e) => e.type === 'test.result');
      expect(results.map((e) => [(e.data as { testName: string }).testName, e.data.status])).toEqual([
        ['first', 'passed'],
        ['busy loops', 'passed'],
        ['second', 'passed'],
        ['busy again', 'passed'],
      ]);
      // Each sent while its loop ran: before the looping test's own result.
      expect(first.seq).toBeLessThan(results[1]?.seq as number);
      expect(hung[1]?.seq).toBeLessThan(results[3]?.seq as number);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a loop that begins as the run starts: the run and its hung test stream while it loops', async () => {
    const dir = project(
      ["describe('early', () => {", `  it('busy loops at once', ${loop});`, '});', ''].join('\n'),
    );
    try {
      const { first, exitedBefore, events, hung } = await hungWhileRunning(dir);
      expect(exitedBefore).toBe(false);
      expect(first.data).toMatchObject({
        type: 'hung_test',
        testName: 'busy loops at once',
        titlePath: ['early', 'busy loops at once'],
      });
      expect(hung).toHaveLength(1);
      expect(events[0]?.type).toBe('test.started');
      const result = events.find((e) => e.type === 'test.result');
      expect(first.seq).toBeLessThan(result?.seq as number);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
