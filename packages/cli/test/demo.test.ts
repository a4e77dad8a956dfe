/**
 * `scripts/demo.mjs` end to end, non-interactively: four example suites (three without chromium)
 * stream into one `testwire serve` on an ephemeral port at the same time, and `testwire watch` must see
 * every run complete and print its summary (`--exit`, unpaced: TESTWIRE_DEMO_PACE=0); and, without
 * `--exit`, the endpoint stays up with the run's history after the run until SIGINT.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, REPO_ROOT, run, status, until } from './helpers.js';

const hasChromium = existsSync('/usr/bin/chromium');
const runners = hasChromium ? ['jest', 'vitest', 'playwright', 'mocha'] : ['jest', 'vitest', 'mocha'];

describe('pnpm demo', () => {
  beforeAll(assertBuilt);

  it(`runs ${runners.join(', ')} at once into one endpoint and shows every run's summary`, {
    timeout: 300_000,
  }, async () => {
    const out = await run(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs'), '--exit'], {
      cwd: REPO_ROOT,
      env: {
        TESTWIRE_PORT: '0',
        TESTWIRE_DEMO_TIMEOUT: '240',
        TESTWIRE_DEMO_PACE: '0',
        TESTWIRE_URL: '',
        CI: '1',
      },
      timeoutMs: 280_000,
    });
    const context = `stdout:\n${out.stdout}\nstderr:\n${out.stderr}`;
    expect(out.code, context).toBe(0);
    if (!hasChromium)
      expect(out.stderr).toContain(
        'skipping playwright: /usr/bin/chromium is missing (install it with `apt-get install -y chromium`)',
      );
    const url = /demo: testwire serve listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out.stderr)?.[1];
    expect(url, context).toBeDefined();
    expect(out.stderr).toContain(`demo: dashboard: ${url}/ `);
    // --exit: no waiting for Ctrl-C, and the endpoint is gone.
    expect(out.stderr).not.toContain('the endpoint stays up');
    expect(out.stderr).toContain(`demo: all ${runners.length} runs completed and were displayed`);
    // watch (plain, since stdout is a pipe here) ends with one summary per run.
    const summary = out.stdout.slice(out.stdout.lastIndexOf('testwire watch: '));
    expect(summary, context).toMatch(
      new RegExp(`^testwire watch: ${runners.length} of ${runners.length} runs completed`),
    );
    for (const runner of runners) {
      expect(summary, `${runner}\n${context}`).toMatch(
        new RegExp(`^[✓✗] ${runner}\\b.* {2}(passed|failed) {2}\\d+ passed`, 'm'),
      );
      // Each runner's own output went to its log file, named at the end.
      const log = new RegExp(`demo: ${runner} +exited \\d+.*log: (\\S+\\.log)`).exec(out.stderr);
      expect(log, `${runner} log line\n${context}`).not.toBeNull();
      expect(existsSync(log![1])).toBe(true);
    }
    await expect(fetch(`${url}/status`), 'the endpoint stopped with the demo').rejects.toThrow();
    removeLogs(out.stderr);
  });

  it('without --exit, keeps the endpoint and its history up after the runs until SIGINT', {
    timeout: 120_000,
  }, async () => {
    // --port (what serve's "port in use" error tells to pick) wins over TESTWIRE_PORT, which is no port here.
    const demo = spawn(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs'), '--port', '0'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TESTWIRE_PORT: 'not-a-port',
        TESTWIRE_DEMO_RUNNERS: 'mocha',
        TESTWIRE_DEMO_PACE: '0',
        TESTWIRE_DEMO_TIMEOUT: '90',
        TESTWIRE_URL: '',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    demo.stderr.on('data', (chunk) => (stderr += chunk));
    demo.stdout.resume();
    const exited = new Promise<number | null>((resolve) => demo.on('exit', (code) => resolve(code)));
    try {
      await until(
        () => stderr,
        (text) => text.includes('the endpoint stays up') || demo.exitCode !== null,
        100_000,
      );
      expect(stderr).toContain('demo: all 1 runs completed and were displayed');
      expect(stderr).toContain('the endpoint stays up with their history until you press Ctrl-C');
      const url = /demo: testwire serve listening at (\S+)/.exec(stderr)![1];
      expect(stderr).toContain(`demo:   dashboard       ${url}/`);
      // The run is over and still there; so is the page.
      const after = await status(url);
      expect(after.runs, JSON.stringify(after)).toEqual([
        expect.objectContaining({ framework: 'mocha', status: 'completed' }),
      ]);
      expect(after.history.events).toBeGreaterThan(10);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      await page.arrayBuffer();
      expect(demo.exitCode).toBeNull();

      demo.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
      expect(stderr).toContain('demo: endpoint stopped');
      await expect(fetch(`${url}/status`), 'the endpoint stopped with the demo').rejects.toThrow();
    } finally {
      // SIGTERM, not SIGKILL: the demo stops the serve it started (in its own process group) on the way out.
      if (demo.exitCode === null) {
        demo.kill('SIGTERM');
        const killer = setTimeout(() => demo.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      removeLogs(stderr);
    }
  });
});

describe('pnpm demo --port', () => {
  it('refuses a --port that is no port number, naming the flag', async () => {
    const out = await run(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs'), '--port', '73x7'], {
      cwd: REPO_ROOT,
      env: { TESTWIRE_URL: '' },
    });
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain('demo: --port must be a port number (0 = any free port), got "73x7"');
  });

  it('lists --port in its help', async () => {
    const out = await run(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs'), '--help'], {
      cwd: REPO_ROOT,
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /^ {2}--port <n> +the endpoint's port \(default: \$TESTWIRE_PORT or 7357; 0 = any free port\)$/m,
    );
  });
});

/** The demo's log folder (named in its output), once a test is done with it. */
function removeLogs(stderr: string): void {
  const logDir = /log: (\S+)\/serve\.log/.exec(stderr)?.[1];
  if (logDir?.includes('testwire-demo-')) rmSync(logDir, { recursive: true, force: true });
}
