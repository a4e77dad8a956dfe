/**
 * test.started's `options` say how mocha runs, end to end (real mocha CLI of each major, a real broadcaster and
 * subscriber): `--invert` is stated with the grep (else the stream claims the opposite selection), and timeout
 * and slow are numbers of ms as mocha parses them (`--timeout 2s` is 2000; the command line gives strings) —
 * also for a run whose file fails to load, which mocha ends before it makes its reporter.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, type Major, mochaDir, ofType, runMochaCli } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

function project(major: Major): string {
  const name = `mocha-started-options-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-started-options-fixture", "private": true }\n',
    'test/ok.test.cjs': "it('passes', () => {});\nit('other', () => {});\n",
    'test/missing.test.cjs': "require('./nope');\n",
  });
}

describe.each(MAJORS)('mocha %i: test.started options', (major) => {
  it.each([
    [
      '--grep passes --invert --timeout 2s --slow 100',
      ['--grep', 'passes', '--invert', '--timeout', '2s', '--slow', '100', 'test/ok.test.cjs'],
      0,
      { grep: '/passes/', invert: true, timeout: 2000, slow: 100 },
    ],
    ['the defaults', ['test/ok.test.cjs'], 0, { timeout: 2000, slow: 75 }],
    [
      '--timeout 100, a file that fails to load',
      ['--timeout', '100', 'test/missing.test.cjs'],
      1,
      { timeout: 100, slow: 75 },
    ],
  ])(
    '%s',
    async (_case, args, exitCode, expected) => {
      const dir = project(major);
      try {
        const result = await runMochaCli(
          major,
          ['--reporter', '@testwire/mocha', '--reporter-option', 'reporter=dot', ...args],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        expect(result.exitCode, result.stderr).toBe(exitCode);
        const started = ofType(await stream.runOf(basename(dir)), 'test.started')[0]?.data;
        expect(started?.options).toMatchObject(expected);
        if (!('invert' in expected)) expect(started?.options).not.toHaveProperty('invert');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
