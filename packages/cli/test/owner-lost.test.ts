/**
 * The process that owns the endpoint is SIGKILLed while running a run of its own; another test process
 * takes the endpoint over and finishes its run. The dead owner's run never sends its test.completed and
 * the new owner does not know it: `watch --exit-when-done` and `tail --until test.completed --runs 2`
 * must still end, showing it interrupted (owner lost) rather than running forever or failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cli,
  FIXTURES,
  freePort,
  gate,
  PACKAGE_DIR,
  parseNdjson,
  status,
  subscribed,
  until,
} from './helpers.js';

beforeAll(assertBuilt);

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `node fixtures/own-run.mjs …`, its stdout lines waitable; stopped (SIGTERM, then SIGKILL) after the test. */
function testProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, [`${FIXTURES}/own-run.mjs`, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, TESTWIRE_URL: '', TESTWIRE_PORT: '', TESTWIRE_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', () => {});
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  cleanup.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
  return {
    child,
    exited,
    line: (match: RegExp) =>
      until(
        () => stdout,
        (text) => match.test(text),
        20_000,
      ),
  };
}

describe('the owner process dies with its own run going', () => {
  it('watch --exit-when-done and tail --until test.completed end, the run shown interrupted (owner lost)', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The owner: one passed, one failed of 10, then it hangs until killed.
    const owner = testProcess([String(port), 'r_own', '1', '9', '0', '2']);
    await owner.line(/role owner\n[\s\S]*holding/);

    const watch = cli(['watch', '--port', String(port), '--plain', '--exit-when-done'], {
      timeoutMs: 40_000,
    });
    const tail = cli(['tail', '--port', String(port), '--json', '--until', 'test.completed', '--runs', '2'], {
      timeoutMs: 40_000,
    });
    await subscribed(url, 2);
    // Another test process joins and runs (3 passed, 1 failed), held before its last result until the owner
    // is gone: the owner dies in the middle of both runs, however fast or slow the machine.
    const held = gate();
    cleanup.push(held.remove);
    const joined = testProcess([String(port), 'r_pub', '3', '1', '0', '-1'], { FIXTURE_GATE: held.path });
    await joined.line(/role publisher/);
    await until(
      () => status(url),
      (s) => s.runs.length === 2,
    );

    owner.child.kill('SIGKILL');
    await owner.exited;
    held.open();
    await joined.line(/published r_pub via owner/);

    const [watched, tailed] = await Promise.all([watch, tail]);
    // Before: neither ever ended (killed at their timeout, code null).
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expect(tailed.code, tailed.stderr).toBe(0);

    expect(watched.stdout).toMatch(
      /jest r_own was running when the process that owned \S+ went away; it will not complete/,
    );
    expect(watched.stdout).toMatch(/testwire watch: 2 of 2 runs completed\n/);
    expect(watched.stdout).toMatch(/✗ jest r_own {2}interrupted \(owner lost\) {2}1 passed, 1 failed of 10/);
    expect(watched.stdout).toMatch(/✗ jest r_pub {2}failed {2}3 passed, 1 failed of 4/);

    expect(tailed.stderr).toMatch(
      /run r_own \(jest r_own\) was running when the process that owned the endpoint went away; it will not complete: counted as completed, interrupted \(owner lost\)/,
    );
    // Nothing made up on stdout: the one test.completed printed is r_pub's own.
    const completed = parseNdjson(tailed.stdout).filter((e) => e.type === 'test.completed');
    expect(completed.map((e) => e.runId)).toEqual(['r_pub']);
  });
});
