/**
 * A test mocha fails after its run ended (its `done()` called again once the summary is printed), end to end:
 * real mocha CLI of each major, a real broadcaster and WebSocket subscriber. mocha itself, without testwire,
 * dies of it: its stopped runner throws the error ("done() called multiple times") out of its
 * 'uncaughtException' listener, Node prints it and exits 7 — no 'exit' event, no further turn of the loop,
 * nothing for mocha's reporters. The process dies while test.completed is being flushed: the stream still has
 * the whole run as mocha reported it (the test passed, the run completed), nothing left running.
 */
import { rmSync } from 'node:fs';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, ofType, runMochaCli, runOf, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const MULTIPLE_DONE = /done\(\) called multiple times in test <finishes early>/;

describe.each(MAJORS)('mocha %i: a test failed after the run ended', (major) => {
  it('mocha dies of it (exit 7) as without testwire; the stream has the run, flushed before it dies', async () => {
    const dir = workCopy(major, 'mocha-late-done', ['late']);
    try {
      // mocha alone
      const plain = await runMochaCli(major, ['late-done.test.cjs'], dir);
      expect(plain.exitCode, plain.stderr).toBe(7);
      expect(plain.stdout).toContain('1 passing');
      expect(plain.stderr).toMatch(MULTIPLE_DONE);

      const result = await runMochaCli(major, ['--reporter', '@testwire/mocha', 'late-done.test.cjs'], dir, {
        TESTWIRE_URL: stream.url,
      });
      expect(result.exitCode, result.stderr).toBe(7);
      expect(result.stdout).toContain('1 passing');
      expect(result.stderr).toMatch(MULTIPLE_DONE);

      const events = await runOf(stream, dir, result);
      const results = ofType(events, 'test.result');
      expect(results.map((e) => [e.data.testName, e.data.status])).toEqual([['finishes early', 'passed']]);
      const completed = ofType(events, 'test.completed');
      expect(completed).toHaveLength(1);
      expect(completed[0].data.summary).toMatchObject({ total: 1, passed: 1, failed: 0 });
      // the last event of the run
      expect(events.at(-1)?.type).toBe('test.completed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
