/**
 * A wrong testwire option given on mocha's command line (`--reporter-option hungTestThreshold=abc`), end to
 * end: real mocha CLI of each major, a real broadcaster and subscriber. As with the other runners, the stream
 * says so — framework.error REPORTER_OPTION_INVALID, a warning, naming the option — besides the stderr line,
 * the option is left at its default, and the run goes on as it would: also the run of a file that failed to
 * load, which mocha ends before it makes its reporter. And such options in a .mocharc.json, written as on the
 * command line (the form mocha 10, 11 and 12 all read).
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
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
  const name = `mocha-bad-option-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-bad-option-fixture", "private": true }\n',
    'test/ok.test.cjs': "it('ok', () => {});\n",
    'test/missing.test.cjs': "require('./nope');\n",
  });
}

describe.each(MAJORS)('mocha %i: --reporter-option hungTestThreshold=abc', (major) => {
  it.each([
    ['a run', ['test/ok.test.cjs'], 0, true],
    ['a file that fails to load', ['test/missing.test.cjs'], 1, false],
  ])(
    '%s: framework.error REPORTER_OPTION_INVALID (warning) naming the option; the run otherwise as it is',
    async (_case, files, exitCode, success) => {
      const dir = project(major);
      try {
        const result = await runMochaCli(
          major,
          [
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            'reporter=dot,hungTestThreshold=abc',
            ...files,
          ],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        expect(result.exitCode, result.stderr).toBe(exitCode);
        expect(result.stderr).toMatch(/testwire: invalid reporter options: hungTestThreshold .*"abc"/);

        const events = await stream.runOf(basename(dir));
        const invalid = ofType(events, 'framework.error').filter(
          (e) => e.data.error.code === 'REPORTER_OPTION_INVALID',
        );
        expect(invalid).toHaveLength(1);
        expect(invalid[0].data).toMatchObject({ framework: 'mocha', severity: 'warning' });
        expect(invalid[0].data.error.message).toMatch(/^testwire reporter: hungTestThreshold .*"abc"/);
        // in the run, after its start
        const types = events.map((e) => e.type);
        expect(types.indexOf('framework.error')).toBeGreaterThan(types.indexOf('test.started'));
        expect(ofType(events, 'test.completed')[0]?.data.summary.success).toBe(success);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe.each(MAJORS)('mocha %i: our options in a .mocharc.json, in the command-line form', (major) => {
  it('"reporter-option": ["reporter=dot", "hungTestThreshold=abc"] is read (README: Options)', async () => {
    const dir = project(major);
    try {
      writeFileSync(
        join(dir, '.mocharc.json'),
        JSON.stringify({
          reporter: '@testwire/mocha',
          'reporter-option': ['reporter=dot', 'hungTestThreshold=abc'],
        }),
      );
      const result = await runMochaCli(major, ['test/ok.test.cjs'], dir, { TESTWIRE_URL: stream.url });
      expect(result.exitCode, result.stderr).toBe(0);
      // dot's line, not spec's
      expect(result.stdout).not.toContain('ok');
      expect(result.stdout).toContain('1 passing');
      const events = await stream.runOf(basename(dir));
      const invalid = ofType(events, 'framework.error').filter(
        (e) => e.data.error.code === 'REPORTER_OPTION_INVALID',
      );
      expect(invalid.map((e) => e.data.error.message)).toEqual([
        expect.stringMatching(/^testwire reporter: hungTestThreshold /),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
