/**
 * TESTWIRE_CAPTURE_OUTPUT read as the core reads every switch (reporter-core's switchedOff: 0, false, off, no,
 * disabled, any case, spaces around): off, nothing taps the tests' output — in mocha's process (serial mode)
 * or in its workers (`--parallel`) — and the stream has no test.output. End to end: real mocha CLI of each
 * major, a real broadcaster and subscriber.
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, ofType, runMochaCli, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

describe.each(MAJORS)('mocha %i: TESTWIRE_CAPTURE_OUTPUT', (major) => {
  describe.each([
    ['serial', []],
    ['--parallel', ['--parallel', '--jobs', '2']],
  ])('%s', (_mode, flags) => {
    it.each([
      [' Disabled ', false],
      ['unset', true],
    ])(
      '%s: output tapped %s',
      async (value, tapped) => {
        const dir = workCopy(major, 'mocha-switches', ['switches']);
        try {
          const env: Record<string, string> = { TESTWIRE_URL: stream.url };
          if (value !== 'unset') env.TESTWIRE_CAPTURE_OUTPUT = value;
          const result = await runMochaCli(
            major,
            [...flags, '--reporter', '@testwire/mocha', 'tapped.test.cjs'],
            dir,
            env,
          );
          expect(result.exitCode, result.stderr).toBe(0);
          // the terminal has it either way
          expect(result.stderr).toContain(`tapped: ${tapped}\n`);
          const outputs = ofType(await stream.runOf(basename(dir)), 'test.output');
          expect(outputs.map((e) => e.data.output)).toEqual(tapped ? [`tapped: ${tapped}\n`] : []);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      60_000,
    );
  });
});
