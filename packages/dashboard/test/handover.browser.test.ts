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
import {
  card,
  cardIds,
  clocksBetween,
  connectionShown,
  indicatorDrawnSince,
  recordIndicatorDraws,
  until,
  waitStatus,
} from './helpers/page.js';
import { startProxy, type TcpProxy } from './helpers/proxy.js';

const quiet = { warn() {} };

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
    const publishedAt = Date.now();
    // Live: its time runs with the clock.
    await until(
      'run `hang` to have run 2.5 s',
      async () => ((await card(page, 'hang'))?.durationMs ?? 0) >= 2500,
    );

    await recordIndicatorDraws(page);
    const cutAt = Date.now();
    proxy.refuse(true);
    proxy.dropAll();
    await waitStatus(page, 'gone');
    const goneAt = Date.now();
    // "Nothing answers since" the page lost the connection: after the cut, before it said `gone` — not
    // since the page last connected (before the run).
    const { detail } = await connectionShown(page);
    const since = /since (\d\d:\d\d:\d\d)/.exec(detail)?.[1];
    expect(clocksBetween(cutAt, goneAt), detail).toContain(since);

    const frozen = (await card(page, 'hang'))!;
    const readAt = Date.now();
    expect(frozen).toMatchObject({ badge: 'running', frozen: true });
    expect(frozen.note).toMatch(/^endpoint gone: its time stopped at \d\d:\d\d:\d\d, when last heard of$/);
    // The run's time up to the cut: from its start (published between startedAt and publishedAt) to when the
    // page lost it (between cutAt and goneAt); the card rounds to 0.1 s.
    expect(frozen.durationMs).toBeGreaterThanOrEqual(cutAt - publishedAt - 50);
    expect(frozen.durationMs).toBeLessThanOrEqual(goneAt - startedAt + 50);
    // And it stays there: the page draws its cards again with each reconnection attempt; once it has drawn
    // them a second after this read (a time still running would read at least 1 s more), the card is the same.
    await indicatorDrawnSince(page, readAt + 1000, 30_000);
    expect(await card(page, 'hang')).toEqual(frozen);

    // Another owner answers, without the run: it ended with the one that died, when the page lost it.
    const c = await broadcaster();
    proxy.retarget(c.port);
    proxy.refuse(false);
    await until('run `hang` interrupted', async () => (await card(page, 'hang'))?.badge === 'interrupted');
    const ended = (await card(page, 'hang'))!;
    expect(ended).toMatchObject({ why: 'interrupted: owner process lost', frozen: false, note: '' });
    // The client's end for it (when it lost the old owner) and the page's frozen time (when the page heard it
    // lost) are the one connection's close, moments apart: equal but for the cards' rounding to 0.1 s.
    expect(Math.abs(ended.durationMs - frozen.durationMs)).toBeLessThanOrEqual(100);
    expect((await cardIds(page)).sort()).toEqual(['done', 'hang', 'lost', 'next']);

    // Its time no longer moves: a run started on the new owner after that read shows 1 s gone by (the cards
    // were drawn at least 1 s later), and `hang` still shows the same time.
    c.publish(started('after', 'jobs', 1));
    c.publish(running('after', 'jobs', 'ticks', 0, 1));
    await c.flush();
    await until(
      'run `after` to have run 1 s',
      async () => ((await card(page, 'after'))?.durationMs ?? 0) >= 1000,
    );
    expect(await card(page, 'hang')).toEqual(ended);
    c.publish(result('after', 'jobs', 'ticks', 'passed', 1));
    c.publish(completed('after', 'jobs', { passed: 1, failed: 0, skipped: 0 }, 1000));
    await c.flush();
    await until('run `after` passed', async () => (await card(page, 'after'))?.badge === 'passed');
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
    // The run is over; let the wall clock get past its own span by a margin (1 s) a time measured "until
    // now" could not hide below the bound checked below.
    await until(
      'the clock 1 s past twice the run’s span',
      () => Date.now() - startedAt >= 2 * publishedIn + 1000,
    );

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
      // Not finished yet as far as the page got; its time is its events' span (all published within
      // publishedIn; the card rounds to 0.1 s), not "until now" (past 2 × publishedIn + 1 s by now).
      expect(shown.run.frozen).toBe(true);
      expect(shown.run.durationMs).toBeLessThanOrEqual(publishedIn + 50);
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
