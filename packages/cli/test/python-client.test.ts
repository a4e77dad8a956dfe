/**
 * examples/python/client.py against a real broadcaster: it subscribes, prints the run's events and
 * exits after test.completed.
 *
 * Needs /usr/bin/python3 with the `websockets` package (Debian: apt-get install -y python3-websockets).
 * Without it the test is skipped on a workstation and FAILS in CI (CI=true), so CI cannot pass silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, subscribed, until } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const CLIENT = join(REPO_ROOT, 'examples/python/client.py');
const probe = existsSync(PYTHON)
  ? spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8' })
  : undefined;
const available = probe?.status === 0;
const missing = `${PYTHON} cannot import websockets (${probe?.stderr?.trim().split('\n').pop() ?? 'no python3'}): apt-get install -y python3 python3-websockets`;

describe.skipIf(!available && !process.env.CI)('examples/python/client.py', () => {
  let broadcaster: Broadcaster;
  beforeAll(async () => {
    if (!available) throw new Error(missing);
    broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await broadcaster?.close();
  });

  it('prints every test event of a run and exits after test.completed', async () => {
    const client = run(PYTHON, [CLIENT, '--url', broadcaster.url], { timeoutMs: 30_000 });
    let stdout = '';
    client.child.stdout!.on('data', (chunk) => (stdout += chunk));
    await until(
      () => stdout,
      (s) => s.includes('# connected'),
    );
    await subscribed(broadcaster.url);

    const runId = 'r_python';
    const base = { framework: 'mocha', project: 'py-demo' };
    broadcaster.publish({
      type: 'test.started',
      runId,
      data: { ...base, totalTests: 4, testFiles: ['a.test.js'] },
    });
    const test = (n: number) => ({
      id: `t${n}`,
      titlePath: ['suite', `case ${n}`],
      testName: `case ${n}`,
      suite: 'suite',
      file: 'a.test.js',
      attempt: 1,
    });
    broadcaster.publish({
      type: 'test.result',
      runId,
      data: { ...base, ...test(1), status: 'passed', duration: 4 },
    });
    broadcaster.publish({
      type: 'test.result',
      runId,
      data: {
        ...base,
        ...test(2),
        status: 'failed',
        duration: 7,
        error: { message: 'expected 2 to equal 3\n  at a.test.js:9' },
      },
    });
    broadcaster.publish({
      type: 'test.result',
      runId,
      data: {
        ...base,
        ...test(3),
        status: 'failed',
        duration: 5,
        error: {
          message: 'expect(received).toBe(expected)\n\nExpected: 3\nReceived: 2',
          summary: 'expected 3, received 2',
        },
      },
    });
    broadcaster.publish({
      type: 'test.result',
      runId,
      data: { ...base, ...test(4), status: 'todo', duration: 0 },
    });
    // Not subscribed (the default is test.*): must not show up.
    broadcaster.publish({
      type: 'performance.metrics',
      runId,
      data: {
        memory: { heapUsed: 1, heapTotal: 2, external: 0, rss: 3 },
        cpu: { usage: 1, load: [0] },
        uptime: 1,
      },
    });
    broadcaster.publish({
      type: 'test.completed',
      runId,
      data: {
        ...base,
        summary: { total: 4, passed: 1, failed: 2, skipped: 0, todo: 1, duration: 12, success: false },
      },
    });
    // And nothing after test.completed is waited for.
    const out = await client;
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^# connected to http:\/\/127\.0\.0\.1:\d+ \(server [\d.]+, epoch \S+\)$/);
    const events = lines.slice(1).map((line) => line.trim().split(/\s+/)[1]);
    expect(events).toEqual([
      'test.started',
      'test.result',
      'test.result',
      'test.result',
      'test.result',
      'test.completed',
    ]);
    expect(out.stdout).toContain('mocha py-demo started: 4 tests');
    expect(out.stdout).toContain('✓ suite › case 1 (4 ms)');
    expect(out.stdout).toContain('✗ suite › case 2 (7 ms)  expected 2 to equal 3');
    expect(out.stdout).toContain('✗ suite › case 3 (5 ms)  expected 3, received 2');
    expect(out.stdout).toContain('✎ suite › case 4 (0 ms)');
    expect(out.stdout).not.toContain('a.test.js:9');
    // The summary line counts every status the run has, todo included.
    expect(out.stdout).toContain('mocha failed: 1 passed, 2 failed, 0 skipped, 1 todo of 4 in 12 ms');
  });

  it('says nothing is listening, exit code 3', async () => {
    const out = await run(PYTHON, [CLIENT, '--url', 'http://127.0.0.1:9']);
    expect(out.code).toBe(3);
    expect(out.stderr).toBe('testwire client.py: nothing is listening at http://127.0.0.1:9\n');
  });
});
