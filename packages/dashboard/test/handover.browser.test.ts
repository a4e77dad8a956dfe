/**
 * The dashboard when the endpoint changes hands, in headless Chromium, through a TCP proxy the test points at
 * one real broadcaster after another (what the page sees when `testwire serve` restarts, or a reporter
 * process takes the port over: the same URL, a new epoch):
 *
 *   broadcaster A: run `done` (finished), run `lost` (running)     ─┐ the page on the proxy
 *   proxy → B, A unreachable (its owner gone, SIGKILL-like)         │ `done` stays, `lost` is interrupted
 *   B: run `next`                                                    │ (owner_lost), `next` is shown
 *   B: run `hang` running; the proxy refuses (endpoint gone)        │ `hang`'s time stops, the card says why;
 *                                                                    │ "nothing answers since" = the cut
 *   proxy → C                                                       ─┘ `hang` interrupted, its time as frozen
 *
 * and a fresh page over a slow link on a long history: "Catching up…" with progress, a run's time its own.
 */
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { dashboardDir } from '@testwire/dashboard';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchChromium } from './helpers/chromium.js';
import { completed, output, result, running, started } from './helpers/events.js';
import { card, cardIds, connectionShown, until, waitStatus } from './helpers/page.js';
import { startProxy, type TcpProxy } from './helpers/proxy.js';

const quiet = { warn() {} };

/** `HH:MM:SS` in local time, as the page writes clocks. */
const clock = (ms: number) => {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)('dashboard when the endpoint changes hands', () => {
  const broadcasters: Broadcaster[] = [];
  let proxy: TcpProxy;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const broadcaster = async (history?: { maxEvents: number }) => {
    const b = await startBroadcaster({ port: 0, host: '127.0.0.1', dashboardDir, logger: quiet, history });
    broadcasters.push(b);
    return b;
  };

  beforeAll(async () => {
    const a = await broadcaster();
    proxy = await startProxy(a.port);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  });

  // A failed step must not leave the endpoint down for the next one.
  afterEach(() => proxy?.refuse(false));

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    for (const b of broadcasters) await b.close({ timeoutMs: 500 });
  });

  it('keeps the runs of the previous owner; the one still running when it died ends interrupted (owner lost)', async () => {
    const [a] = broadcasters;
    await page.goto(`${proxy.url}/`);
    await waitStatus(page, 'connected');
    a.publish(started('done', 'web', 2));
    a.publish(result('done', 'web', 'adds', 'passed', 3));
    a.publish(result('done', 'web', 'subtracts', 'passed', 4));
    a.publish(completed('done', 'web', { passed: 2, failed: 0, skipped: 0 }, 20));
    a.publish(started('lost', 'api', 3));
    a.publish(result('lost', 'api', 'gets', 'passed', 5));
    a.publish(running('lost', 'api', 'posts', 1, 3));
    await a.flush();
    await until('run `lost` running with 1 passed', async () => (await card(page, 'lost'))?.passed === 1);
    expect((await card(page, 'done'))?.badge).toBe('passed');

    // Another process owns the endpoint now; the old one is unreachable (as if SIGKILLed): no test.completed.
    const b = await broadcaster();
    proxy.retarget(b.port);
    proxy.dropAll();
    b.publish(started('next', 'cli', 1));
    b.publish(result('next', 'cli', 'parses', 'passed', 2));
    b.publish(completed('next', 'cli', { passed: 1, failed: 0, skipped: 0 }, 10));
    await b.flush();

    await until('run `next` passed', async () => (await card(page, 'next'))?.badge === 'passed');
    await waitStatus(page, 'resynced');
    // The previous owner's runs are still on the page: the finished one as it ended, the running one
    // completed as interrupted with its counts as last seen — not gone, not running forever.
    expect(await card(page, 'done')).toMatchObject({ badge: 'passed', passed: 2 });
    await until('run `lost` interrupted', async () => (await card(page, 'lost'))?.badge === 'interrupted');
    expect(await card(page, 'lost')).toMatchObject({ why: 'interrupted: owner process lost', passed: 1 });
    expect((await cardIds(page)).sort()).toEqual(['done', 'lost', 'next']);
    // Its tests are still in the explorer.
    expect(await page.textContent('#explorer')).toContain('gets');
  });

  it('while the endpoint is gone, a running run’s time stops and its card says why; the page says since when', async () => {
    const b = broadcasters[1];
    const startedAt = Date.now();
    b.publish(started('hang', 'jobs', 2));
    b.publish(running('hang', 'jobs', 'waits', 0, 2));
    await b.flush();
    // Live: its time runs with the clock.
    await until(
      'run `hang` to have run 2.5 s',
      async () => ((await card(page, 'hang'))?.durationMs ?? 0) >= 2500,
    );

    const cutAt = Date.now();
    proxy.refuse(true);
    proxy.dropAll();
    await waitStatus(page, 'gone');
    // "Nothing answers since" the connection was lost, not since the page last connected (before the run).
    const { detail } = await connectionShown(page);
    const since = /since (\d\d:\d\d:\d\d)/.exec(detail)?.[1];
    expect([clock(cutAt - 1000), clock(cutAt), clock(cutAt + 1000)], detail).toContain(since);

    // Well past the cut, the card still shows the time up to it, and says the endpoint is gone.
    await until('3 s past the cut', () => Date.now() - cutAt >= 3000);
    const frozen = (await card(page, 'hang'))!;
    expect(frozen).toMatchObject({ badge: 'running', frozen: true });
    expect(frozen.note).toMatch(/^endpoint gone: its time stopped at \d\d:\d\d:\d\d, when last heard of$/);
    expect(frozen.durationMs).toBeGreaterThanOrEqual(2500);
    expect(frozen.durationMs).toBeLessThanOrEqual(cutAt - startedAt + 600);

    // Another owner answers, without the run: it ended with the one that died, at the time last known.
    const c = await broadcaster();
    proxy.retarget(c.port);
    proxy.refuse(false);
    await until('run `hang` interrupted', async () => (await card(page, 'hang'))?.badge === 'interrupted');
    const ended = (await card(page, 'hang'))!;
    expect(ended).toMatchObject({ why: 'interrupted: owner process lost', frozen: false, note: '' });
    expect(ended.durationMs).toBeLessThanOrEqual(cutAt - startedAt + 600);
    expect((await cardIds(page)).sort()).toEqual(['done', 'hang', 'lost', 'next']);
  });

  it('a fresh page says it is catching up, with progress, and measures a run by its own times meanwhile', async () => {
    const d = await broadcaster({ maxEvents: 10_000 });
    const startedAt = Date.now();
    d.publish(started('long', 'big', 1));
    for (let i = 0; i < 1500; i++) d.publish(output('long', 'big', `line ${i} ${'x'.repeat(120)}`));
    d.publish(result('long', 'big', 'prints', 'passed', 40));
    d.publish(completed('long', 'big', { passed: 1, failed: 0, skipped: 0 }, 500));
    await d.flush();
    const publishedIn = Date.now() - startedAt;
    // The run is over; let the wall clock get well past its own duration.
    await until('4 s past the run', () => Date.now() - startedAt >= publishedIn + 4000);

    proxy.retarget(d.port);
    proxy.throttleWebSockets(40_000);
    const fresh = await browser.newPage();
    try {
      await fresh.goto(`${proxy.url}/`);
      const shown = await until('the page catching up, with the run on it', async () => {
        const connection = await connectionShown(fresh);
        const run = await card(fresh, 'long');
        return connection.status === 'catching-up' && run ? { connection, run } : undefined;
      });
      expect(shown.connection.detail).toMatch(
        /^(\d+ of \d+ events of its history \(\d+%\)|replaying \d+ events)/,
      );
      // Not finished yet as far as the page got; its time is its events' span, not "until now".
      expect(shown.run.frozen).toBe(true);
      expect(shown.run.durationMs).toBeLessThanOrEqual(publishedIn + 500);
      await waitStatus(fresh, 'connected', 60_000);
      expect(await card(fresh, 'long')).toMatchObject({ badge: 'passed', passed: 1, frozen: false });
    } finally {
      proxy.throttleWebSockets(undefined);
      await fresh.close();
    }
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
