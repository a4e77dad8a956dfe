/**
 * A test file that cannot load, serial mode, end to end: real mocha CLI of each major, a real broadcaster and
 * WebSocket subscriber. mocha loads the files before it makes its reporter, and on a file that does not load
 * it prints "Exception during run" and exits 1: the stream still has the run — test.started, the file's
 * failure (test.failed scope 'file', framework.error with the code and the file), test.completed
 * success: false with no test counted, as mocha ran none — and the terminal is mocha's.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, type Major, mochaDir, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

function project(major: Major): string {
  const name = `mocha-load-failure-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-load-failure-fixture", "private": true }\n',
    'test/ok.test.cjs': "it('ok', () => {});\n",
    'test/missing.test.cjs': "require('./nope');\nit('never declared', () => {});\n",
    'test/syntax.test.cjs': "it('ok', () => {\n",
    'test/later.test.cjs': "it('never loaded', () => {});\n",
  });
}

describe.each(MAJORS)('mocha %i, serial: a test file that cannot load', (major) => {
  it.each([
    ['missing.test.cjs', 'MODULE_NOT_FOUND', /^Cannot find module '\.\/nope'/, 'Error'],
    ['syntax.test.cjs', 'SYNTAX_ERROR', /^Unexpected end of input/, 'SyntaxError'],
  ])(
    '%s: a run with the file’s failure (%s) and test.completed success: false; mocha’s own output unchanged',
    async (file, code, message, type) => {
      const dir = project(major);
      try {
        const result = await runMochaCli(
          major,
          [
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            'reporter=dot',
            'test/ok.test.cjs',
            `test/${file}`,
            'test/later.test.cjs',
          ],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        // what mocha does, as without testwire
        expect(result.exitCode, result.stderr).toBe(1);
        expect(result.stderr).toContain('Exception during run');
        expect(result.stderr).toMatch(type === 'SyntaxError' ? /SyntaxError: Unexpected end/ : /nope/);

        const events = await stream.runOf(basename(dir));
        const started = only(events, 'test.started');
        expect(started.data).toMatchObject({ framework: 'mocha', totalTests: 0 });
        expect(started.data.testFiles).toEqual(['test/ok.test.cjs', `test/${file}`, 'test/later.test.cjs']);

        const failed = only(events, 'test.failed');
        expect(failed.data).toMatchObject({ scope: 'file', file: `test/${file}` });
        expect(failed.data.error?.message).toMatch(message);
        const error = only(events, 'framework.error');
        expect(error.data).toMatchObject({
          file: `test/${file}`,
          severity: 'error',
          error: { code, details: { type } },
        });
        expect(error.data.error.message).toMatch(message);

        // mocha ran no test: none is reported, none is counted
        expect(events.filter((e) => e.type === 'test.result')).toEqual([]);
        const completed = only(events, 'test.completed');
        expect(completed.data.summary).toMatchObject({ total: 0, passed: 0, failed: 0, success: false });
        expect(completed.data.interrupted).toBeFalsy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

function only<T extends AnyEventEnvelope['type']>(events: AnyEventEnvelope[], type: T) {
  const found = events.filter(
    (event): event is Extract<AnyEventEnvelope, { type: T }> => event.type === type,
  );
  expect(found, type).toHaveLength(1);
  return found[0];
}
