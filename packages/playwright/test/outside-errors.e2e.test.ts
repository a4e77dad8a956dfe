/**
 * Errors Playwright reports outside any test (real runner, 1.65 and 1.40, test/fixtures/cases): a globalSetup
 * or globalTeardown that throws, a webServer command that exits 1, no test found. The stream says what
 * Playwright says — its error, the run failed, the same counts as its JSON report — and names each for what
 * it is (framework.error's code, suggestion and file), not as a test file that failed to load or an error
 * thrown by a timer.
 */
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { EventDataMap, EventType } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture } from './run-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function run(name: string, install: string, args: string[] = [], env: Record<string, string> = {}) {
  const fixture = await runFixture('cases', { CASE: name, ...env }, install, 60_000, args);
  dirs.push(fixture.dir);
  const of = <T extends EventType>(type: T) =>
    fixture.events.filter((e) => e.type === type).map((e) => e.data as EventDataMap[T]);
  const report = JSON.parse(await readFile(path.join(fixture.dir, 'report.json'), 'utf8')) as {
    stats: { expected: number; unexpected: number; skipped: number };
    errors: { message: string }[];
  };
  const [completed] = of('test.completed');
  // One run, ended once; its counts and errors those of Playwright's JSON report
  expect(of('test.started')).toHaveLength(1);
  expect(of('test.completed')).toHaveLength(1);
  expect(completed.summary).toMatchObject({
    passed: report.stats.expected,
    failed: report.stats.unexpected,
    skipped: report.stats.skipped,
  });
  expect((completed.errors ?? []).map((error) => error.message)).toEqual(
    report.errors.map((error) => error.message.replace(/^Error: /, '')),
  );
  return { fixture, of, completed };
}

/** A port nothing listens on (the webServer's url: Playwright must start the command, not find a server). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(['playwright', 'playwright-1.40'])('%s: errors outside the tests', (install) => {
  it('a globalSetup that throws: the run failed with its error, named as the globalSetup (not a test file nor an unhandled error)', async () => {
    const { fixture, of, completed } = await run('globalsetup', install);
    expect(fixture.exitCode, fixture.stderr).toBe(1);
    expect(fixture.stdout + fixture.stderr).toContain('global setup broke');
    expect(completed.summary).toMatchObject({ total: 0, success: false });
    expect(of('test.failed')).toMatchObject([
      {
        scope: 'run',
        testName: 'globalSetup',
        file: 'global-setup-throws.mjs',
        error: { message: 'global setup broke' },
      },
    ]);
    expect(of('framework.error')).toMatchObject([
      {
        file: 'global-setup-throws.mjs',
        error: {
          code: 'HOOK_FAILED',
          message: 'global setup broke',
          details: { hook: 'globalSetup', suggestion: expect.stringContaining('globalSetup failed') },
        },
      },
    ]);
  }, 90_000);

  it('a globalTeardown that throws: the tests passed, the run failed with its error, named as the globalTeardown', async () => {
    const { fixture, of, completed } = await run('globalteardown', install);
    expect(fixture.exitCode, fixture.stderr).toBe(1);
    expect(completed.summary).toMatchObject({ total: 2, passed: 2, failed: 0, success: false });
    expect(completed.rawStatus).toBe('failed');
    expect(of('test.failed')).toMatchObject([
      {
        scope: 'run',
        testName: 'globalTeardown',
        file: 'global-teardown-throws.mjs',
        error: { message: 'global teardown broke' },
      },
    ]);
    expect(of('framework.error')).toMatchObject([
      {
        file: 'global-teardown-throws.mjs',
        error: { code: 'HOOK_FAILED', details: { hook: 'globalTeardown' } },
      },
    ]);
  }, 90_000);

  it('a webServer command that exits 1: no test ran, the run failed with the webServer named', async () => {
    const port = await freePort();
    const { fixture, of, completed } = await run('webserver', install, [], { FREE_PORT: String(port) });
    expect(fixture.exitCode, fixture.stderr).toBe(1);
    expect(completed.summary).toMatchObject({ total: 0, success: false });
    expect(of('test.failed')).toMatchObject([{ scope: 'run', testName: 'webServer' }]);
    expect(of('framework.error')).toMatchObject([
      {
        error: {
          code: 'RUN_ERROR',
          message: expect.stringContaining('config.webServer'),
          details: { phase: 'webServer', suggestion: expect.stringContaining('webServer') },
        },
      },
    ]);
  }, 90_000);

  it('no test found: the run failed saying so, what to check as its suggestion', async () => {
    const { fixture, of, completed } = await run('notests', install);
    expect(fixture.exitCode, fixture.stderr).toBe(1);
    expect(completed.summary).toMatchObject({ total: 0, success: false });
    expect(of('test.failed')).toMatchObject([{ scope: 'run', testName: 'no tests found' }]);
    expect(of('framework.error')).toMatchObject([
      {
        error: {
          code: 'RUN_ERROR',
          message: 'No tests found',
          details: { phase: 'noTests', suggestion: expect.stringContaining('--pass-with-no-tests') },
        },
      },
    ]);
  }, 90_000);

  it('--pass-with-no-tests: an empty run that passed, no error', async () => {
    const { fixture, of, completed } = await run('notests', install, ['--pass-with-no-tests']);
    expect(fixture.exitCode, fixture.stderr).toBe(0);
    expect(completed.summary).toMatchObject({ total: 0, success: true });
    expect(of('framework.error')).toEqual([]);
  }, 90_000);
});
