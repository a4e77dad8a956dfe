/**
 * `scripts/demo.mjs` end to end, non-interactively: four example suites (three without chromium)
 * stream into one `testwire serve` on an ephemeral port at the same time, and `testwire watch` must see
 * every run complete and print its summary.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, REPO_ROOT, run } from './helpers.js';

const hasChromium = existsSync('/usr/bin/chromium');
const runners = hasChromium ? ['jest', 'vitest', 'playwright', 'mocha'] : ['jest', 'vitest', 'mocha'];

describe('pnpm demo', () => {
  beforeAll(assertBuilt);

  it(`runs ${runners.join(', ')} at once into one endpoint and shows every run's summary`, {
    timeout: 300_000,
  }, async () => {
    const out = await run(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs')], {
      cwd: REPO_ROOT,
      env: { TESTWIRE_PORT: '0', TESTWIRE_DEMO_TIMEOUT: '240', TESTWIRE_URL: '', CI: '1' },
      timeoutMs: 280_000,
    });
    const context = `stdout:\n${out.stdout}\nstderr:\n${out.stderr}`;
    expect(out.code, context).toBe(0);
    if (!hasChromium)
      expect(out.stderr).toContain(
        'skipping playwright: /usr/bin/chromium is missing (install it with `apt-get install -y chromium`)',
      );
    expect(out.stderr).toMatch(/demo: testwire serve listening at http:\/\/127\.0\.0\.1:\d+/);
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
    const logDir = /log: (\S+)\/serve\.log/.exec(out.stderr)?.[1];
    if (logDir?.includes('testwire-demo-')) rmSync(logDir, { recursive: true, force: true });
  });
});
