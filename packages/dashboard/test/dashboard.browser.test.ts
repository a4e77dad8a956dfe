/**
 * The dashboard in a real browser: headless Chromium (playwright-core) loads the page from a real
 * broadcaster (through a TCP proxy, so the test can cut the page's connection), a small run is published,
 * and the page must show it; then the connection dies and the page must reconnect and catch up, first by
 * resuming (no event lost), then by resyncing from a snapshot when the history no longer holds the gap.
 *
 * Skips when /usr/bin/chromium is absent, except in CI (env CI set), where it fails: CI installs it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
// The built package, as the broadcaster sees it (src/public has no app.js).
import { dashboardDir } from '@testwire/dashboard';
import type { PublishedEvent } from '@testwire/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, launchChromium } from './helpers/chromium.js';
import { completed, failed, output, result, running, started } from './helpers/events.js';
import { until } from './helpers/page.js';
import { startProxy, type TcpProxy } from './helpers/proxy.js';

const API_KEY = 'dashboard-test-key';
const WAIT_MS = 15_000;

if (!HAVE_CHROMIUM) {
  if (process.env.CI) {
    describe('dashboard in Chromium', () => {
      it('needs Chromium', () => {
        throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
      });
    });
  } else {
    console.warn(
      `[@testwire/dashboard] browser tests SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium). They run in CI.`,
    );
  }
}

/** Waits until `selector`'s text equals `want` (or matches it); the error names what the page showed. */
async function waitText(page: Page, selector: string, want: string | RegExp): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 1000 })
      .catch(() => null);
    if (last !== null && (typeof want === 'string' ? last.trim() === want : want.test(last))) return;
    await page.waitForTimeout(50);
  }
  throw new Error(`${selector}: expected ${String(want)}, the page shows ${JSON.stringify(last)}`);
}

async function waitStatus(page: Page, status: string): Promise<void> {
  try {
    await page.waitForSelector(`[data-testid="connection-indicator"][data-status="${status}"]`, {
      timeout: WAIT_MS,
    });
  } catch {
    const shown = await page.getAttribute('[data-testid="connection-indicator"]', 'data-status');
    const detail = await page.textContent('#connection-detail');
    throw new Error(`connection status: expected ${status}, the page shows ${shown} (${detail})`);
  }
}

const count = (runId: string, name: string) => `[data-run-id="${runId}"] [data-count="${name}"]`;

describe.skipIf(!HAVE_CHROMIUM)('dashboard in Chromium', () => {
  let browser: Browser;
  let b: Broadcaster;
  let proxy: TcpProxy;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(existsSync(join(dashboardDir, 'index.html')), 'dist/public is built (pnpm build)').toBe(true);
    b = await startBroadcaster({
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      dashboardDir,
      // Small on purpose: the last phase publishes more than this while the page is offline.
      history: { maxEvents: 30 },
      logger: { warn() {} },
    });
    proxy = await startProxy(b.port);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // Chromium logs refused WebSocket connections (expected while the proxy is down); CSP violations
      // and exceptions are bugs.
      if (message.type() === 'error' && /Content Security Policy|Uncaught/i.test(message.text()))
        pageErrors.push(`console: ${message.text()}`);
    });
    shots = mkdtempSync(join(tmpdir(), 'testwire-dashboard-'));
  });

  // A failed step must not leave the endpoint down for the next one.
  afterEach(() => proxy?.refuse(false));

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await b?.close({ timeoutMs: 500 });
    if (shots && !process.env.TESTWIRE_KEEP_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
  });

  it('connects with ?apiKey= from the page URL and shows an empty state', async () => {
    await page.goto(`${proxy.url}/?apiKey=${API_KEY}#top`);
    await waitStatus(page, 'connected');
    // Read once and kept in memory for reconnects (the steps below cut the connection): out of the address
    // bar and the history, where it would be copied along with the URL.
    expect(page.url()).toBe(`${proxy.url}/#top`);
    expect(await page.evaluate(() => location.search)).toBe('');
    // /status and /events want the key, which a link cannot send: the page says so instead of 401 links.
    expect(await page.isVisible('footer a[href="status"]')).toBe(false);
    expect(await page.isVisible('footer a[href="events"]')).toBe(false);
    expect(await page.textContent('#keyed-links-note')).toContain('/status and /events need the API key');
    expect(await page.isVisible('footer a[href="health"]')).toBe(true);
    expect(await page.isVisible('#runs-empty')).toBe(true);
    expect(await page.title()).toBe('testwire');
    // The page loads nothing from elsewhere: every resource is same-origin.
    const origins = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((r) => new URL(r.name).origin),
    );
    expect(new Set(origins)).toEqual(new Set([proxy.url]));
  });

  it('shows a run live: card, counts, progress, current test, failures, slow tests and the event log', async () => {
    b.publish(started('r1', 'web-app', 4));
    b.publish(running('r1', 'web-app', 'adds', 0, 4));
    b.publish(result('r1', 'web-app', 'adds', 'passed', 12));
    b.publish(result('r1', 'web-app', 'subtracts', 'passed', 1500));
    b.publish(running('r1', 'web-app', 'multiplies <img src=x onerror="window.__xss=1">', 2, 4));
    await b.flush();

    await page.waitForSelector('[data-run-id="r1"]', { timeout: WAIT_MS });
    await waitText(page, count('r1', 'passed'), '2');
    await waitText(page, '[data-run-id="r1"] .badge', 'running');
    await waitText(page, '[data-run-id="r1"] .run-title', 'web-app');
    await waitText(page, '[data-run-id="r1"] .framework', 'vitest 3.2.4');
    await waitText(page, '[data-run-id="r1"] .progress-text', '2 of 4 tests · 50%');
    await waitText(
      page,
      '[data-run-id="r1"] .current-name',
      'multiplies <img src=x onerror="window.__xss=1">',
    );
    expect(await page.getAttribute('[data-run-id="r1"] [role="progressbar"]', 'aria-valuenow')).toBe('2');
    expect(await page.getAttribute('[data-run-id="r1"] [role="progressbar"]', 'aria-valuemax')).toBe('4');
    expect(await page.isHidden('#runs-empty')).toBe(true);

    const error = {
      message: 'expected 6 to be 7 // Object.is equality\n\n- Expected\n+ Received\n\n- 7\n+ 6',
      stack:
        'AssertionError: expected 6 to be 7 // Object.is equality\n    at src/math.test.ts:12:17\n    at node_modules/vitest/dist/runner.js:1:1',
    };
    const xssName = 'multiplies <img src=x onerror="window.__xss=1">';
    b.publish(result('r1', 'web-app', xssName, 'failed', 40, error));
    b.publish(failed('r1', 'web-app', xssName, error));
    b.publish(output('r1', 'web-app', 'computing…'));
    b.publish(result('r1', 'web-app', 'divides', 'skipped', 0));
    b.publish(completed('r1', 'web-app', { passed: 2, failed: 1, skipped: 1 }, 2345));
    await b.flush();

    await waitText(page, '[data-run-id="r1"] .badge', 'failed');
    expect(await page.textContent(count('r1', 'passed'))).toBe('2');
    expect(await page.textContent(count('r1', 'failed'))).toBe('1');
    expect(await page.textContent(count('r1', 'skipped'))).toBe('1');
    expect(await page.textContent(count('r1', 'todo'))).toBe('0');
    expect(await page.textContent('[data-run-id="r1"] .duration')).toBe('2.3 s');
    expect(await page.textContent('[data-run-id="r1"] .progress-text')).toBe('4 of 4 tests · 100%');
    expect(await page.isHidden('[data-run-id="r1"] .current')).toBe(true);

    // Failures: what failed on one line and file:line where the assertion threw; the test name stays text.
    await waitText(page, '#failures-count', '1');
    const failure = '[data-testid="failures"] li';
    expect(await page.locator(failure).count()).toBe(1);
    expect(await page.textContent(`${failure} .failure-title`)).toBe(`math › ${xssName}`);
    expect(await page.textContent(`${failure} .failure-message`)).toBe('expected 6 to be 7');
    expect(await page.textContent(`${failure} .failure-location`)).toBe('src/math.test.ts:12');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    // Expanding shows the diff and stack.
    await page.click(`${failure} summary`);
    expect(await page.textContent(`${failure} .failure-details`)).toContain('+ Received');

    // Slowest first.
    await waitText(page, '[data-testid="slow-tests"] li:first-child .slow-title', 'math › subtracts');
    expect(await page.textContent('[data-testid="slow-tests"] li:first-child .slow-duration')).toBe('1.5 s');

    // The log holds every event, newest first; the filter narrows it by type.
    await waitText(page, '[data-testid="event-log"] li:first-child .log-type', 'test.completed');
    expect(await page.locator('[data-testid="event-log"] li').count()).toBe(10);
    await page.fill('#log-filter', 'result');
    await waitText(page, '#log-count', '4 of 10');
    const types = await page.$$eval('[data-testid="event-log"] li', (rows) =>
      rows.map((r) => r.getAttribute('data-type')),
    );
    expect(types).toEqual(['test.result', 'test.result', 'test.result', 'test.result']);
    await page.fill('#log-filter', 'test.* !test.progress !test.output');
    await waitText(page, '#log-count', '7 of 10');
    await page.fill('#log-filter', '');
    await waitText(page, '#log-count', '10');

    expect(await page.title()).toBe('✗ 1 failed — testwire');
    const shot = join(shots, 'dashboard-light.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'dashboard-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    console.log(`[@testwire/dashboard] screenshots in ${shots}`);
  });

  it('reconnects after the connection is killed and catches up on every missed event (resume)', async () => {
    proxy.refuse(true);
    proxy.dropAll();
    await waitStatus(page, 'reconnecting');
    // B has let go of the page's subscription: what it publishes from now on can reach the page only over
    // a new connection, and the proxy refuses those.
    await until('B to have no subscriber', async () => (await statusOf(b)).subscribers === 0, WAIT_MS);

    const before = await seqOf(b);
    b.publish(started('r2', 'api', 3));
    b.publish(result('r2', 'api', 'get', 'passed', 5));
    b.publish(result('r2', 'api', 'post', 'passed', 7));
    b.publish(result('r2', 'api', 'put', 'failed', 9, { message: 'socket hang up' }));
    b.publish(completed('r2', 'api', { passed: 2, failed: 1, skipped: 0 }, 100));
    await b.flush();
    const after = await seqOf(b);
    expect(after - before).toBe(5);
    // Still offline: the page tries again after r2's last event and is refused, and B had no subscriber
    // from before r2's first event to then: nothing of r2 reached the page; it can only come by the resume.
    const refused = proxy.refused;
    await until('the page to try again and be refused', () => proxy.refused > refused, WAIT_MS);
    expect(await statusOf(b)).toMatchObject({ seq: after, subscribers: 0 });
    expect(await page.locator('[data-run-id="r2"]').count()).toBe(0);

    proxy.refuse(false);
    await waitStatus(page, 'connected');
    await waitText(page, count('r2', 'passed'), '2');
    expect(await page.textContent(count('r2', 'failed'))).toBe('1');
    expect(await page.textContent('[data-run-id="r2"] .badge')).toBe('failed');
    // Every missed event was replayed into the log, in order.
    const seqs = await page.$$eval('[data-testid="event-log"] li .log-seq', (els) =>
      els.map((e) => e.textContent),
    );
    const missed = Array.from({ length: after - before }, (_, i) => `#${after - i}`);
    expect(seqs.slice(0, missed.length)).toEqual(missed);
    // r1 is untouched, and both failures are listed.
    expect(await page.textContent(count('r1', 'passed'))).toBe('2');
    await waitText(page, '#failures-count', '2');
  });

  it('resyncs from a snapshot when the missed events left the history', async () => {
    proxy.refuse(true);
    proxy.dropAll();
    await waitStatus(page, 'reconnecting');
    b.publish(started('r3', 'cli', 2));
    // More than history.maxEvents (30): the page's resume position is evicted.
    for (let i = 0; i < 40; i++) b.publish(output('r3', 'cli', `line ${i}`));
    b.publish(result('r3', 'cli', 'parses', 'passed', 3));
    b.publish(result('r3', 'cli', 'prints', 'passed', 4));
    b.publish(completed('r3', 'cli', { passed: 2, failed: 0, skipped: 0 }, 50));
    await b.flush();

    proxy.refuse(false);
    await waitStatus(page, 'resynced');
    expect(await page.textContent('#connection-detail')).toContain('no longer in its history');
    await waitText(page, count('r3', 'passed'), '2');
    expect(await page.textContent('[data-run-id="r3"] .badge')).toBe('passed');
    // The snapshot carries the earlier runs too.
    expect(await page.textContent(count('r1', 'failed'))).toBe('1');
    expect(await page.textContent(count('r2', 'failed'))).toBe('1');
    expect(await page.locator('[data-testid="runs"] > article').count()).toBe(3);

    // Live again after the resync.
    b.publish(started('r4', 'docs', 1));
    b.publish(result('r4', 'docs', 'builds', 'passed', 2));
    await b.flush();
    await waitText(page, count('r4', 'passed'), '1');
  });

  it('shows the shards of a CI run group on the group run’s card', async () => {
    // What `testwire serve --redis` streams: each shard's run, and the group's own run with group/shards.
    for (const n of [1, 2]) {
      const s = started(`s${n}`, 'web-app', 2);
      (s.data as { run: { shard?: object } }).run.shard = { current: n, total: 3 };
      b.publish(s);
    }
    b.publish(result('s1', 'web-app', 'sums', 'failed', 5, { message: 'expected 3, received 4' }));
    b.publish(result('s2', 'web-app', 'divides', 'passed', 5));
    const group = { id: 'gh-9001-1', expected: 3 };
    const g = started('group:gh-9001-1', 'web-app', 6);
    Object.assign(g.data, { group });
    Object.assign((g.data as { run: object }).run, { group });
    b.publish(g);
    b.publish({
      type: 'test.progress',
      runId: 'group:gh-9001-1',
      data: {
        framework: 'vitest',
        project: 'web-app',
        status: 'running',
        progress: 2 / 6,
        completed: 2,
        total: 6,
        duration: 10,
        group: { ...group, reporting: 2 },
        shards: [
          { shard: 1, runId: 's1', state: 'reporting' },
          { shard: 2, runId: 's2', state: 'silent' },
        ],
      },
    } as PublishedEvent);
    await b.flush();
    const shards = '[data-run-id="group:gh-9001-1"] [data-testid="shards"] .shard';
    await page.waitForSelector(`${shards}[data-state="silent"]`, { timeout: WAIT_MS });
    const rows = await page.$$eval(shards, (els) => els.map((e) => e.textContent));
    expect(rows).toEqual([
      'shard 1/3reporting1/2 · ✗ 1',
      'shard 2/3silent1/2',
      'shard 3/3expectednot started',
    ]);
    expect(await page.textContent('[data-run-id="group:gh-9001-1"] .tags')).toContain(
      'group gh-9001-1 · 2/3 shards',
    );
  });

  it('marks a test reported hung while it runs, until it ends', async () => {
    expect(await page.isVisible('#hung-panel')).toBe(false);
    b.publish(started('r5', 'jobs', 2));
    b.publish(running('r5', 'jobs', 'waits', 0, 2));
    b.publish({
      type: 'performance.bottleneck',
      runId: 'r5',
      data: {
        framework: 'vitest',
        project: 'jobs',
        type: 'hung_test',
        testName: 'waits',
        id: 'r5:waits',
        titlePath: ['math', 'waits'],
        file: 'src/math.test.ts',
        location: { file: 'src/math.test.ts', line: 12 },
        duration: 61_000,
        elapsed: 61_000,
        threshold: 60_000,
        severity: 'high',
        suggestions: [],
      },
    });
    await b.flush();
    await waitText(page, '[data-testid="hung-tests"] li .slow-title', 'math › waits');
    expect(await page.isVisible('#hung-panel')).toBe(true);
    expect(await page.textContent('[data-testid="hung-tests"] li .slow-location')).toBe(
      'src/math.test.ts:12',
    );
    expect(await page.textContent('[data-testid="hung-tests"] li .slow-duration')).toMatch(/^1m \d\ds$/);

    b.publish(result('r5', 'jobs', 'waits', 'failed', 62_000, { message: 'killed' }));
    await b.flush();
    await page.waitForSelector('#hung-panel', { state: 'hidden', timeout: WAIT_MS });
  });

  it('without the key the page says a key is needed instead of retrying', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${proxy.url}/`);
      await waitStatus(other, 'unauthorized');
      await other.waitForSelector('[data-testid="connection-indicator"][data-auth="missing"]', {
        timeout: WAIT_MS,
      });
      expect(await other.textContent('#connection-label')).toBe('API key needed');
      expect(await other.textContent('#connection-detail')).toContain('?apiKey=');
      expect(await other.isVisible('#reconnect')).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('with a wrong key the page says the key is wrong, not that one is missing', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${proxy.url}/?apiKey=not-the-key`);
      await waitStatus(other, 'unauthorized');
      await other.waitForSelector('[data-testid="connection-indicator"][data-auth="wrong"]', {
        timeout: WAIT_MS,
      });
      expect(await other.textContent('#connection-label')).toBe('Wrong API key');
      expect(await other.textContent('#connection-detail')).toContain('Invalid API key');
    } finally {
      await other.close();
    }
  });

  it("shows a test's steps, attachments and baseline comparison in its detail", async () => {
    b.publish(started('pw', 'shop', 1));
    const test = { id: 'pw:checkout', titlePath: ['checkout'], testName: 'checkout', file: 'shop.spec.ts' };
    const step = (title: string, depth: number, stepPath: string[], extra = {}) =>
      ({
        type: 'test.step',
        runId: 'pw',
        data: {
          framework: 'playwright',
          project: 'shop',
          ...test,
          attempt: 1,
          title,
          category: 'test.step',
          stepPath,
          depth,
          duration: 40,
          ...extra,
        },
      }) as PublishedEvent;
    // Steps end innermost first, as Playwright ends them.
    b.publish(step('check the title', 1, ['open the shop']));
    b.publish(step('open the shop', 0, []));
    b.publish(step('buy', 0, [], { error: { message: 'expected "Paid", received "Pending"' } }));
    const done = result('pw', 'shop', 'checkout', 'passed', 900);
    Object.assign(done.data, {
      ...test,
      attachments: [
        { name: 'after buy', contentType: 'image/png', path: 'test-results/checkout/after-buy.png' },
      ],
      baseline: {
        label: 'main',
        regression: true,
        slower: true,
        duration: 300,
        change: 600,
        percentage: 200,
      },
    });
    b.publish(done);
    await b.flush();
    await page.fill('[data-testid="explorer-search"]', 'checkout');
    const row = page.locator('.tree-row[data-kind="test"]', { hasText: 'checkout' }).first();
    await row.waitFor({ timeout: WAIT_MS });
    await row.click();
    await waitText(
      page,
      '[data-testid="detail-baseline"]',
      '▲ slower than main: was 300 ms, +600 ms (+200 %)',
    );
    // the run's card says it too, while the run goes on
    await waitText(
      page,
      '.run[data-run-id="pw"] [data-testid="run-baseline"]',
      'vs main: 1 slower test (live)',
    );
    await page.click('.steps-box summary');
    expect(await page.$$eval('.steps .step-title', (els) => els.map((e) => e.textContent))).toEqual([
      'open the shop',
      '  check the title',
      'buy',
    ]);
    expect(await page.textContent('.steps .step[data-error] .step-error')).toBe(
      'expected "Paid", received "Pending"',
    );
    expect(await page.textContent('.attachments li')).toBe(
      'after buy image/pngtest-results/checkout/after-buy.png',
    );
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="test-detail"]', { state: 'hidden', timeout: WAIT_MS });
    await page.fill('[data-testid="explorer-search"]', '');
  });

  it('keeps thousands of tests in the explorer with a screenful of rows in the page', async () => {
    const N = 3000;
    b.publish(started('big', 'big-suite', N));
    for (let i = 0; i < N; i++)
      b.publish(result('big', 'big-suite', `case ${i}`, i % 500 === 7 ? 'failed' : 'passed', 1));
    await b.flush();
    await page.fill('[data-testid="explorer-search"]', 'big-suite');
    await page.fill('[data-testid="explorer-search"]', '');
    await page.waitForFunction(
      (n) => Number(document.querySelector('#explorer-count')?.textContent?.split(' ').pop()) >= n,
      N,
      { timeout: WAIT_MS },
    );
    // Virtualized: the rows drawn are those in view plus a margin, not one per test.
    const drawn = await page.$$eval('#explorer .tree-row', (els) => els.length);
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(120);
    await page.fill('[data-testid="explorer-search"]', 'case 2507');
    await page.waitForSelector('#explorer .tree-row[data-kind="test"][data-status="failed"]', {
      timeout: WAIT_MS,
    });
    expect(
      await page.$$eval('#explorer .tree-row[data-kind="test"]', (els) => els.map((e) => e.textContent)),
    ).toEqual(['✗case 25071 ms']);
    await page.fill('[data-testid="explorer-search"]', '');
  });

  it('raised no page errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });

  it('says "Locked out" when the address is locked out for wrong keys, not that the endpoint is gone', async () => {
    const locking = await startBroadcaster({
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      dashboardDir,
      limits: { badCredentials: 2, lockoutMs: 60_000 },
      logger: { warn() {} },
    });
    const other = await browser.newPage();
    try {
      // Two wrong keys from this address (the browser's too: both are 127.0.0.1) lock it out: its wrong keys
      // get 429 from now on, while a right key still gets in (a lockout never refuses one).
      for (let i = 0; i < 2; i++) await fetch(`${locking.url}/status?apiKey=wrong-${i}`);
      expect((await fetch(`${locking.url}/status?apiKey=wrong-2`)).status).toBe(429);
      expect((await fetch(`${locking.url}/status?apiKey=${API_KEY}`)).status).toBe(200);
      // The page itself needs no key; its WebSocket with a wrong key is refused with 429, which the client
      // retries.
      await other.goto(`${locking.url}/?apiKey=wrong-page`);
      await other.waitForSelector('[data-testid="connection-indicator"][data-auth="locked"]', {
        timeout: WAIT_MS,
      });
      expect(await other.textContent('#connection-label')).toBe('Locked out');
      expect(await other.textContent('#connection-detail')).toContain('Too many wrong credentials');
    } finally {
      await other.close();
      await locking.close({ timeoutMs: 500 });
    }
  });
});

/** What the broadcaster's /status says of its position and of who listens. */
async function statusOf(b: Broadcaster): Promise<{ seq: number; subscribers: number }> {
  const res = await fetch(`${b.url}/status?apiKey=${API_KEY}`);
  const status = (await res.json()) as { seq?: number; subscribers?: number };
  if (typeof status.seq !== 'number' || typeof status.subscribers !== 'number')
    throw new Error(`/status has no seq or subscribers: ${JSON.stringify(status)}`);
  return { seq: status.seq, subscribers: status.subscribers };
}

async function seqOf(b: Broadcaster): Promise<number> {
  return (await statusOf(b)).seq;
}
