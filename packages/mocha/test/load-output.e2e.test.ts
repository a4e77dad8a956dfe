/**
 * What a test file prints at its top level — or a module it requires prints at its own — runs while mocha
 * loads the files, before mocha makes its reporter: @testwire/mocha holds it from when mocha loads the
 * reporter, and streams it as the file's output when the run begins (serial mode) or when the file's worker
 * begins it (`--parallel`). End to end: real mocha CLI of each major, a real broadcaster and subscriber.
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, runMochaCli, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

function outputs(events: AnyEventEnvelope[]) {
  return events.filter(
    (e): e is Extract<AnyEventEnvelope, { type: 'test.output' }> => e.type === 'test.output',
  );
}

describe.each(MAJORS)('mocha %i: output written while the test files load', (major) => {
  it.each([
    ['serial', []],
    ['--parallel', ['--parallel', '--jobs', '2']],
  ])(
    '%s: streamed as the output of the file that wrote it, and printed as before',
    async (_mode, flags) => {
      const dir = workCopy(major, 'mocha-load-output', ['load-output']);
      try {
        const result = await runMochaCli(
          major,
          [...flags, '--reporter', '@testwire/mocha', 'loads.test.cjs', 'esm.test.mjs'],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        expect(result.exitCode, result.stderr).toBe(0);
        // the terminal is unchanged
        expect(result.stdout).toContain('printed while loading');
        expect(result.stderr).toContain('helper loaded');
        expect(result.stdout).toContain('esm top level');

        const events = await stream.runOf(basename(dir));
        const of = (text: string) => outputs(events).filter((e) => e.data.output === `${text}\n`);
        for (const [text, file, std] of [
          ['printed while loading', 'loads.test.cjs', 'log'],
          ['helper loaded', 'loads.test.cjs', 'error'],
          ['esm top level', 'esm.test.mjs', 'log'],
        ]) {
          const found = of(text);
          expect(found, text).toHaveLength(1);
          // the file's own output: no test
          expect(found[0].data, text).toMatchObject({ file, stream: std });
          expect(found[0].data.id, text).toBeUndefined();
        }
        // a test's output is still its own
        expect(of('printed by the test')[0]?.data).toMatchObject({
          testName: 'runs',
          file: 'loads.test.cjs',
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
