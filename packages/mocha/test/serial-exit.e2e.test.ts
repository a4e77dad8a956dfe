/**
 * Serial mocha, a test that calls `process.exit(code)` mid-run (real mocha CLI of each major, a real
 * broadcaster and subscriber). Mocha itself: the lines its reporter printed so far, no summary, the process's
 * exit code is the test's (0 or 1), the rest of the run never happens. The stream mirrors that: the results
 * mocha printed and no other, a test.completed `interrupted: true, interruptedBy: "exit"` whose error gives
 * the exit code, the test that called exit named in `runningTests` (nothing else started and unended), and
 * `success: false` whatever the code — mocha never reached its verdict, the tests after the exit never ran.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, mochaDir, ofType, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

describe.each(MAJORS)('mocha %i, serial: a test calls process.exit()', (major) => {
  it.each([0, 1])(
    'process.exit(%i): interrupted by the exit, its code said, nothing claimed',
    async (code) => {
      const name = `mocha-serial-exit-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = writeProject(join(mochaDir(major), 'work', name), {
        'package.json': '{ "name": "mocha-serial-exit-fixture", "private": true }\n',
        'test/a.test.cjs': [
          "describe('a', () => {",
          "  it('passes', () => {});",
          `  it('exits', () => { process.exit(${code}); });`,
          "  it('never runs', () => {});",
          '});',
          '',
        ].join('\n'),
        'test/b.test.cjs': "describe('b', () => { it('in b', () => {}); });\n",
      });
      try {
        const result = await runMochaCli(
          major,
          ['--reporter', '@testwire/mocha', 'test/a.test.cjs', 'test/b.test.cjs'],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        // mocha: the test's exit code, the first test printed, no summary
        expect(result.exitCode, result.stderr).toBe(code);
        expect(result.stdout).toContain('passes');
        expect(result.stdout).not.toMatch(/passing|failing/);

        const events = await stream.runOf(basename(dir));
        const completed = ofType(events, 'test.completed')[0]?.data;
        expect(completed).toMatchObject({
          interrupted: true,
          interruptedBy: 'exit',
          rawStatus: 'interrupted',
          summary: { total: 1, passed: 1, failed: 0, success: false },
        });
        expect(completed?.errors?.map((e) => e.message).join('\n')).toContain(`exit code ${code}`);
        expect(completed?.runningTests?.map((t) => t.titlePath)).toEqual([['a', 'exits']]);
        // the results mocha printed, and every test that started either ended or is named as running
        const results = ofType(events, 'test.result').map((e) => e.data);
        expect(results.map((r) => r.titlePath.join(' '))).toEqual(['a passes']);
        const ended = new Set(results.map((r) => r.id));
        const running = new Set(completed?.runningTests?.map((t) => t.id));
        const started = ofType(events, 'test.progress').flatMap((e) => (e.data.id ? [e.data.id] : []));
        expect(started.filter((id) => !ended.has(id) && !running.has(id))).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
