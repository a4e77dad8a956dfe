/**
 * The dashboard during a real run of the four examples (jest, vitest, playwright, mocha at once, into one
 * broadcaster, as `pnpm demo` runs them), in headless Chromium:
 *
 *   page A  open from the start        progress moves; (TESTWIRE_SCREENSHOT=1) docs/dashboard.png mid-run
 *   page B  opened mid-run             ┐
 *   page C  its connection cut mid-run ├ all end with the runners' own counts, every test in the explorer,
 *   page D  opened after the run       ┘ the same Events history and slow-test marks as page A
 *
 * then, on the pages: a failure's expected/received, a test found by search and opened with the keyboard,
 * its output and its attempts; the page at 420 px and in dark mode; the endpoint going away.
 *
 * What to expect is read from the run itself (a Node client on the same endpoint, and the runners'
 * printed summaries), so the examples can change without this test changing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { createClient, type TestwireClient } from '@testwire/client';
import { dashboardDir } from '@testwire/dashboard';
import type { AnyEventEnvelope, TestError } from '@testwire/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, launchChromium } from './helpers/chromium.js';
import {
  type ExampleRun,
  REPO,
  RUNNERS,
  type Runner,
  runnerCounts,
  startExample,
  stopExample,
} from './helpers/examples.js';
import { startProxy, type TcpProxy } from './helpers/proxy.js';

/** Generous: four runners and a browser share two loaded cores. */
const WAIT_MS = 60_000;
const RUN_MS = 180_000;

if (!HAVE_CHROMIUM && !process.env.CI)
  console.warn(`[@testwire/dashboard] live browser test SKIPPED: ${CHROMIUM} not found. It runs in CI.`);

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Every run card's counts, by run id. */
function cardCounts(page: Page) {
  return page.$$eval('[data-run-id]', (cards) =>
    cards.map((card) => {
      const n = (name: string) => Number(card.querySelector(`[data-count="${name}"]`)?.textContent ?? 'NaN');
      return {
        runId: (card as HTMLElement).dataset.runId ?? '',
        outcome: (card as HTMLElement).dataset.outcome ?? '',
        passed: n('passed'),
        failed: n('failed'),
        skipped: n('skipped'),
        todo: n('todo'),
      };
    }),
  );
}

/** What the Events panel lists: each row's seq, newest first. */
const logSeqs = (page: Page) =>
  page.$$eval('[data-testid="event-log"] .log-seq', (els) => els.map((e) => e.textContent));

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)('dashboard during a real run of the four examples', () => {
  let b: Broadcaster;
  let proxy: TcpProxy;
  let browser: Browser;
  let watcher: TestwireClient;
  const events: AnyEventEnvelope[] = [];
  const runs: ExampleRun[] = [];
  const pages: Record<'A' | 'B' | 'C' | 'D', Page | undefined> = {
    A: undefined,
    B: undefined,
    C: undefined,
    D: undefined,
  };
  const pageErrors: string[] = [];

  const newPage = async (url: string) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Uncaught/i.test(m.text()))
        pageErrors.push(m.text());
    });
    await page.goto(url);
    return page;
  };

  beforeAll(async () => {
    if (!HAVE_CHROMIUM)
      throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
    b = await startBroadcaster({ port: 0, host: '127.0.0.1', dashboardDir, logger: { warn() {} } });
    proxy = await startProxy(b.port);
    watcher = createClient({ url: b.url, replay: true, reconnect: false });
    watcher.on('*', (_data, envelope) => {
      events.push(envelope);
    });
    await watcher.connect();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const run of runs) stopExample(run);
    await browser?.close();
    await watcher?.close();
    await proxy?.close();
    await b?.close({ timeoutMs: 500 });
  });

  it('follows the run live: progress moves on a page open from the start', {
    timeout: RUN_MS + WAIT_MS,
  }, async () => {
    pages.A = await newPage(`${b.url}/`);
    pages.C = await newPage(`${proxy.url}/`);
    for (const page of [pages.A, pages.C])
      await page.waitForSelector('[data-testid="connection-indicator"][data-status="connected"]', {
        timeout: WAIT_MS,
      });
    for (const runner of RUNNERS) runs.push(startExample(runner, b.url));

    const done = (page: Page) =>
      cardCounts(page).then((cards) => cards.reduce((n, c) => n + c.passed + c.failed, 0));
    const first = await until('a first finished test on page A', async () =>
      (await done(pages.A!)) > 0 ? await done(pages.A!) : undefined,
    );
    // Mid-run: a page opens now, and page C loses its connection while events keep coming.
    pages.B = await newPage(`${b.url}/`);
    proxy.refuse(true);
    proxy.dropAll();
    const cutAt = events.length;
    await pages.C.waitForSelector(
      '[data-testid="connection-indicator"]:is([data-status="reconnecting"], [data-status="gone"])',
      { timeout: WAIT_MS },
    );
    await until(
      '20 events published while page C is cut off',
      () => events.length >= cutAt + 20 || runs.every((r) => r.child.exitCode !== null) || undefined,
      RUN_MS,
    );
    proxy.refuse(false);
    await pages.C.waitForSelector('[data-testid="connection-indicator"][data-status="connected"]', {
      timeout: WAIT_MS,
    });
    await until(
      'progress to move on page A',
      async () => ((await done(pages.A!)) > first ? true : undefined),
      RUN_MS,
    );

    if (process.env.TESTWIRE_SCREENSHOT === '1') {
      // The README's picture: mid-run, with a failure open in the detail.
      const failed = await until(
        'a failed test',
        () =>
          events.find((e) => e.type === 'test.result' && (e.data as { status?: string }).status === 'failed'),
        RUN_MS,
      );
      // Later in the run, when three runs have results and one still runs, if that happens.
      await until(
        'three runs with results while one of them still runs',
        async () => {
          const cards = await cardCounts(pages.A!);
          const busy = cards.filter((c) => c.passed + c.failed > 0).length >= 3;
          return (
            (busy && cards.some((c) => c.outcome === 'running' && c.passed + c.failed > 0)) ||
            runs.some((r) => r.child.exitCode !== null && r.runner === 'playwright') ||
            undefined
          );
        },
        RUN_MS,
      ).catch(() => undefined);
      await openBySearch(pages.A, (failed.data as { testName: string }).testName);
      await pages.A.fill('[data-testid="explorer-search"]', '');
      await pages.A.setViewportSize({ width: 1280, height: 1500 });
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      await pages.A.screenshot({ path: join(REPO, 'docs/dashboard.png'), fullPage: false });
      await pages.A.setViewportSize({ width: 1280, height: 1000 });
      await pages.A.keyboard.press('Escape');
    }

    const codes = await Promise.race([
      Promise.all(runs.map((r) => r.exited)),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the examples did not finish in time')), RUN_MS),
      ),
    ]);
    // The examples fail on purpose; each must have run to its end (an exit code, not a signal).
    expect(codes.every((c) => c === 0 || c === 1)).toBe(true);
  });

  it('pages opened mid-run, after the run, and cut off mid-run end like the page open from the start', {
    timeout: WAIT_MS * 4,
  }, async () => {
    await until('every run completed on the watcher', () =>
      events.filter((e) => e.type === 'test.completed').length >= RUNNERS.length ? true : undefined,
    );
    pages.D = await newPage(`${b.url}/`);
    const runnerOf = new Map<string, Runner>();
    for (const e of events)
      if (e.type === 'test.started') runnerOf.set(e.runId, (e.data as { framework: Runner }).framework);
    const want = new Map(runs.map((r) => [r.runner, runnerCounts(r.runner, r.output())]));
    const testIds = new Set(
      events
        .filter((e) => e.type === 'test.result')
        .map((e) => `${e.runId}/${(e.data as { id: string }).id}`),
    );
    const lastSeq = events[events.length - 1].seq;

    for (const [name, page] of Object.entries(pages) as [string, Page][]) {
      // Final counts: the runners' own.
      await until(`page ${name}: every run completed with the runners' counts`, async () => {
        const cards = await cardCounts(page);
        if (cards.length !== RUNNERS.length || cards.some((c) => c.outcome === 'running')) return undefined;
        for (const card of cards) {
          const runner = runnerOf.get(card.runId);
          const expected = runner && want.get(runner);
          if (!expected) throw new Error(`page ${name}: a card for an unknown run ${card.runId}`);
          const got = { passed: card.passed, failed: card.failed, notRun: card.skipped + card.todo };
          if (JSON.stringify(got) !== JSON.stringify(expected))
            throw new Error(
              `page ${name}, ${runner}: page shows ${JSON.stringify(got)}, the runner printed ${JSON.stringify(expected)}`,
            );
        }
        return true;
      });
      // Every test in the explorer.
      await until(`page ${name}: the explorer counts ${testIds.size} tests`, async () => {
        const shown = (await page.textContent('#explorer-count'))?.trim();
        if (shown !== String(testIds.size)) throw new Error(`it shows ${shown}`);
        return true;
      });
      // The Events history: the same rows as the page open from the start, up to the last event.
      await until(`page ${name}: the event log reaches seq ${lastSeq}`, async () =>
        (await logSeqs(page))[0] === `#${lastSeq}` ? true : undefined,
      );
    }
    const reference = await logSeqs(pages.A!);
    expect(reference.length).toBe(Math.min(200, events.length));
    const flaggedA = await pages.A!.$$eval('#slow li[data-flagged]', (els) => els.length);
    for (const name of ['B', 'C', 'D'] as const) {
      expect(await logSeqs(pages[name]!), `page ${name}'s Events`).toEqual(reference);
      // Slow-test marks come from performance.bottleneck events: replayed, so kept.
      expect(
        await pages[name]!.$$eval('#slow li[data-flagged]', (els) => els.length),
        `page ${name}'s slow marks`,
      ).toBe(flaggedA);
    }
    expect(flaggedA).toBeGreaterThan(0);
  });

  it('shows a failure with expected and received, found by search and opened with the keyboard', {
    timeout: WAIT_MS * 2,
  }, async () => {
    const page = pages.D!;
    const results = events
      .filter((e) => e.type === 'test.result')
      .map((e) => e.data as { testName: string; status: string; willRetry?: boolean; error?: TestError });
    // The values as the error has them: its fields, else the `Expected: …` / `Received: …` lines of a
    // jest or playwright message.
    const values = (error: TestError | undefined) => {
      if (typeof error?.expected === 'string' && typeof error.actual === 'string')
        return { expected: error.expected, received: error.actual };
      const expected = /^Expected: (.+)$/m.exec(error?.message ?? '')?.[1];
      const received = /^Received: (.+)$/m.exec(error?.message ?? '')?.[1];
      return expected && received ? { expected, received } : undefined;
    };
    const failure = results.find((r) => r.status === 'failed' && !r.willRetry && values(r.error));
    if (!failure) throw new Error('no failed test with expected and received values in the run');
    const want = values(failure.error)!;
    await openBySearch(page, failure.testName);
    expect((await page.textContent('[data-testid="detail-expected"]'))?.trim()).toBe(want.expected.trim());
    expect((await page.textContent('[data-testid="detail-received"]'))?.trim()).toBe(want.received.trim());
    // The stack is trimmed to the test's own frames, with a source location.
    expect(await page.textContent('.error-location code')).toMatch(/\.(?:js|ts):\d+$/);
    // The slowest list opens its tests in the detail too.
    const slowest = (await page.textContent('[data-testid="slow-tests"] li:first-child .slow-title'))
      ?.split(' › ')
      .pop();
    await page.click('[data-testid="slow-tests"] li:first-child .slow-title');
    await until(`the detail of the slowest test "${slowest}"`, async () =>
      (await page.textContent('#detail-title'))?.trim() === slowest ? true : undefined,
    );
  });

  it("shows a test's own output and every attempt with its duration and error", {
    timeout: WAIT_MS * 3,
  }, async () => {
    const page = pages.B!;
    const output = events.find((e) => e.type === 'test.output' && (e.data as { id?: string }).id);
    if (!output) throw new Error('no test.output tied to a test in the run');
    const o = output.data as { testName: string; output: string };
    await openBySearch(page, o.testName);
    await until('the output in the detail', async () =>
      (await page.textContent('[data-testid="detail-output"]'))?.includes(o.output.trim()) ? true : undefined,
    );

    const attempts = new Map<string, { testName: string; n: number }>();
    for (const e of events) {
      if (e.type !== 'test.result') continue;
      const d = e.data as { id: string; testName: string; attempt: number };
      const k = `${e.runId}/${d.id}`;
      attempts.set(k, { testName: d.testName, n: Math.max(attempts.get(k)?.n ?? 0, d.attempt) });
    }
    const retried = [...attempts.values()].find((a) => a.n > 1);
    if (!retried) throw new Error('no retried test in the run');
    await openBySearch(page, retried.testName);
    const shown = await page.$$eval('[data-testid="detail-attempt"]', (els) =>
      els.map((e) => e.querySelector('.attempt-head')?.textContent ?? ''),
    );
    expect(shown.length).toBe(retried.n);
    expect(shown[0]).toMatch(/^Attempt 1 of \d+ · failed, retried · \d+/);
    expect(
      await page.$$eval(
        '[data-testid="detail-attempt"]:first-child [data-testid="detail-error"]',
        (els) => els.length,
      ),
    ).toBe(1);
  });

  it('reads at 420 px and in dark mode', async () => {
    const page = pages.D!;
    await page.setViewportSize({ width: 420, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const widths = await page.$$eval('.failure-title', (els) =>
      els.map((e) => e.getBoundingClientRect().width),
    );
    expect(widths.length).toBeGreaterThan(0);
    // A title gets most of the row, not a one-syllable column.
    for (const w of widths) expect(w).toBeGreaterThan(200);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(421);
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r, g, bl] = (bg.match(/\d+/g) ?? []).map(Number);
    expect(r + g + bl).toBeLessThan(3 * 60);
  });

  it('says the endpoint is gone when it stops, and keeps the last state', async () => {
    const page = pages.A!;
    const before = await cardCounts(page);
    await watcher.close();
    await b.close({ timeoutMs: 500 });
    await page.waitForSelector('[data-testid="connection-indicator"][data-status="gone"]', {
      timeout: WAIT_MS,
    });
    expect(await cardCounts(page)).toEqual(before);
    expect(pageErrors).toEqual([]);
  });
});

/** Types the name in the explorer's search, moves to the test's row with the keyboard and opens it with Enter. */
async function openBySearch(page: Page, name: string): Promise<void> {
  await page.fill('[data-testid="explorer-search"]', name);
  const row = page.locator('.tree-row[data-kind="test"]', { hasText: name }).first();
  await row.waitFor({ timeout: WAIT_MS });
  await row.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="test-detail"]:not([hidden])', { timeout: WAIT_MS });
  await until(`the detail of "${name}"`, async () =>
    (await page.textContent('#detail-title'))?.trim() === name ? true : undefined,
  );
}
