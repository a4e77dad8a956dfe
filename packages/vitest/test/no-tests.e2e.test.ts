/**
 * Runs that find no test file, end to end on Vitest 3 and 4 (compat/vitest-<major>), into a real broadcaster
 * and WebSocket subscriber, against Vitest's exit code, its printed line and its json reporter: a filter that
 * matches nothing fails the run (`No test files found, exiting with code 1`), which test.completed says in
 * its `errors` (with a framework.error) besides `success: false`; with `--passWithNoTests`, and with
 * `--changed` when nothing changed (the fixture is under a git-ignored folder), Vitest passes with no tests
 * and the stream says the same, without an error.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const FILES = {
  'package.json': '{ "name": "vitest-no-tests-fixture", "private": true, "type": "module" }\n',
  'vitest.config.js': "import { defineConfig } from 'vitest/config';\nexport default defineConfig({});\n",
  'a.test.js': "import { test } from 'vitest';\ntest('a', () => {});\n",
};

interface Completed {
  summary: { total: number; passed: number; failed: number; success: boolean };
  errors?: { message: string }[];
}

/** Runs Vitest with `args` in a fresh copy of the fixture: its exit code and output, the stream, its json. */
async function run(major: number, args: string[]) {
  const name = `vitest-no-tests-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), FILES);
  try {
    const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
    const reporters = ['--reporter=default', '--reporter=@testwire/vitest', '--reporter=json'];
    const { code, output } = await runWithOutput(
      process.execPath,
      [bin, 'run', ...args, ...reporters, '--outputFile.json=report.json'],
      dir,
      runnerEnv(stream.url),
    );
    // No report: Vitest did not get to run (what it printed says why).
    expect(existsSync(join(dir, 'report.json')), output).toBe(true);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      numTotalTests: number;
      success: boolean;
    };
    const events: AnyEventEnvelope[] = await stream.runOf(basename(dir));
    const completed = events.find((e) => e.type === 'test.completed')?.data as Completed;
    const frameworkErrors = events
      .filter((e) => e.type === 'framework.error')
      .map((e) => (e.data as { error: { message: string; code: string } }).error);
    return { code, output, report, events, completed, frameworkErrors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([3, 4])('vitest %i: no test file found', (major) => {
  it('a filter that matches nothing: the run failed, and test.completed says why, as Vitest prints it', async () => {
    const { code, output, report, completed, frameworkErrors } = await run(major, ['nomatch']);
    expect(code, output).toBe(1);
    expect(output).toContain('No test files found, exiting with code 1');
    expect(report.numTotalTests).toBe(0);
    expect(completed.summary).toMatchObject({ total: 0, failed: 0, success: false });
    expect(completed.errors?.map((error) => error.message)).toEqual([
      'No test files found, exiting with code 1',
    ]);
    expect(frameworkErrors).toMatchObject([
      { message: 'No test files found, exiting with code 1', code: 'RUN_ERROR' },
    ]);
  }, 120_000);

  it('--passWithNoTests: Vitest passes with no tests, the stream too, without an error', async () => {
    const { code, output, report, completed, frameworkErrors } = await run(major, [
      'nomatch',
      '--passWithNoTests',
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain('No test files found, exiting with code 0');
    expect(report).toMatchObject({ numTotalTests: 0, success: true });
    expect(completed.summary).toMatchObject({ total: 0, success: true });
    expect(completed.errors ?? []).toEqual([]);
    expect(frameworkErrors).toEqual([]);
  }, 120_000);

  it('--changed with nothing changed: no tests, as Vitest says, and a passed run', async () => {
    const { code, output, report, events, completed, frameworkErrors } = await run(major, ['--changed']);
    expect(code, output).toBe(0);
    expect(report).toMatchObject({ numTotalTests: 0, success: true });
    expect(events.filter((e) => e.type === 'test.result')).toEqual([]);
    expect(completed.summary).toMatchObject({ total: 0, passed: 0, failed: 0, success: true });
    expect(completed.errors ?? []).toEqual([]);
    expect(frameworkErrors).toEqual([]);
  }, 120_000);
});
