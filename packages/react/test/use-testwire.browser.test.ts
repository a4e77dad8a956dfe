/**
 * useTestwire in a real page: headless Chromium (playwright-core) loads a react-dom/client page (React 19
 * and React 18, development builds) bundled from the built package, served by a real broadcaster through a
 * proxy that counts the page's WebSocket handshakes. Events are published on the broadcaster; the test reads
 * what the hook returned, and checks connections on the broadcaster's side (`/status`) and on the wire.
 *
 * Skips when /usr/bin/chromium is absent, except in CI (env CI set), where it fails: CI installs it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import type { PublishedEvent } from '@testwire/protocol';
import type { UseTestwireOptions } from '@testwire/react';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completedEvent, outputEvent, resultEvent, startedEvent } from '../../client/test/helpers/events.js';
import { startProxy, type TcpProxy } from '../../client/test/helpers/proxy.js';

const CHROMIUM = process.env.TESTWIRE_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const API_KEY = 'react-test-key';
const WAIT_MS = 15_000;
const root = fileURLToPath(new URL('..', import.meta.url));

if (!HAVE_CHROMIUM) {
  if (process.env.CI) {
    describe('useTestwire in Chromium', () => {
      it('needs Chromium', () => {
        throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
      });
    });
  } else {
    console.warn(`[@testwire/react] browser tests SKIPPED: ${CHROMIUM} not found. They run in CI.`);
  }
}

type Latest = {
  isConnected: boolean;
  connectionState: string;
  events: { type: string; seq: number; testName?: string }[];
  droppedEvents: number;
  runs: { runId: string; status: string; counts: Record<string, number>; tests: string[] }[];
  error: { code: string; message: string } | null;
  renders: number;
  subscriptions: number;
};

/** Bundles the harness page against React `alias` (none: React 19 of this package's devDependencies). */
async function bundle(dir: string, name: string, alias?: Record<string, string>): Promise<void> {
  await build({
    entryPoints: [join(root, 'test/fixtures/harness.tsx')],
    outfile: join(dir, `${name}.js`),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    jsx: 'automatic',
    // Development React: StrictMode double-mounts only there.
    define: { 'process.env.NODE_ENV': '"development"' },
    alias,
    logLevel: 'silent',
  });
  writeFileSync(
    join(dir, `${name}.html`),
    `<!doctype html><meta charset="utf-8"><div id="root"></div><script src="${name}.js"></script>`,
  );
}

/** Resolves when `check` is true, polling; the error says what was last seen. */
async function until<T>(read: () => Promise<T> | T, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out after ${WAIT_MS}ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

describe.skipIf(!HAVE_CHROMIUM)('useTestwire in Chromium', () => {
  let browser: Browser;
  let b: Broadcaster;
  let proxy: TcpProxy;
  let dir: string;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'testwire-react-'));
    await Promise.all([
      bundle(dir, 'react19'),
      bundle(dir, 'react18', { react: 'react-18', 'react-dom': 'react-dom-18' }),
    ]);
    b = await startBroadcaster({ port: 0, apiKey: API_KEY, dashboardDir: dir, logger: { warn() {} } });
    proxy = await startProxy(b.port);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await b?.close({ timeoutMs: 500 });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The broadcaster's own view of its subscribers. */
  async function status(): Promise<{ activeConnections: number; subscribers: number }> {
    const res = await fetch(`${b.url}/status`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return (await res.json()) as { activeConnections: number; subscribers: number };
  }

  const latest = () => page.evaluate(() => (window as any).harness.latest()) as Promise<Latest | undefined>;
  const mount = (options: UseTestwireOptions, strict = false) =>
    page.evaluate(([o, s]) => (window as any).harness.mount(o, s), [options, strict] as const);
  const rerender = (options: UseTestwireOptions) =>
    page.evaluate((o) => (window as any).harness.rerender(o), options);
  const unmount = () => page.evaluate(() => (window as any).harness.unmount());
  const hasTest = (name: string) => (l: Latest | undefined) => !!l?.events.some((e) => e.testName === name);

  // Every test ends unmounted, and unmounting closes the connection: the next test starts from none.
  afterEach(async () => {
    await unmount();
    await until(status, (s) => s.subscribers === 0, 'no subscriber left after unmount');
    await until(
      () => proxy.webSockets.open,
      (n) => n === 0,
      'the page to close its WebSockets',
    );
    expect(pageErrors).toEqual([]);
  });

  for (const react of ['19', '18'] as const) {
    describe(`React ${react}`, () => {
      let run = 0;
      let runId = '';
      let options: UseTestwireOptions;

      // One page per React version; each test mounts its own root, on its own run id.
      beforeAll(async () => {
        page = await browser.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await page.goto(`${proxy.url}/react${react}.html`);
        const version = await page.evaluate(() => (window as any).harness.version as string);
        expect(version.split('.')[0]).toBe(react);
      });
      afterAll(() => page?.close());

      async function newRun(): Promise<void> {
        runId = `react${react}-${++run}`;
        options = { url: proxy.url, apiKey: API_KEY, events: ['test.*'], filters: { runId } };
      }

      it('delivers events and counts runs from the client run state, seeded mid-run', async () => {
        await newRun();
        // Two results before the page subscribes: they reach `runs` through the snapshot, not `events`.
        b.publish(startedEvent(runId, 4));
        b.publish(resultEvent(runId, 1));
        b.publish(resultEvent(runId, 2, 'failed'));
        await b.flush();
        await mount(options);
        const ours = (l: Latest | undefined) => l?.runs.find((r) => r.runId === runId);
        const seeded = await until(latest, (l) => l?.isConnected === true && !!ours(l), 'connected');
        // The broadcaster's snapshot lists the earlier tests' runs too; the runId filter leaves them out.
        expect(seeded?.runs.map((r) => r.runId)).toEqual([runId]);
        expect(ours(seeded)).toMatchObject({ counts: { passed: 1, failed: 1, completed: 2 } });
        expect(seeded?.events).toEqual([]);

        b.publish(resultEvent(runId, 3));
        b.publish(resultEvent(runId, 4, 'skipped'));
        b.publish(completedEvent(runId, 2, 1));
        const done = await until(latest, (l) => ours(l)?.status === 'completed', 'the run to complete');
        expect(ours(done)?.counts).toMatchObject({ passed: 2, failed: 1, skipped: 1, completed: 4 });
        expect(ours(done)?.tests).toEqual([
          'test 1:passed',
          'test 2:failed',
          'test 3:passed',
          'test 4:skipped',
        ]);
        expect(done?.events.map((e) => `${e.type}:${e.testName ?? ''}`)).toEqual([
          'test.result:test 3',
          'test.result:test 4',
          'test.completed:',
        ]);
        expect(done?.error).toBeNull();
        await expect(page.textContent('#probe')).resolves.toContain(`${runId}: 2 passed, 1 failed`);

        const pong = await page.evaluate(() => (window as any).harness.send({ type: 'ping' }));
        expect(pong).toMatchObject({ ok: true });
        expect(typeof pong.answer).toBe('number');
        const bad = await page.evaluate(() => (window as any).harness.send({ type: 'resume' }));
        expect(bad).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
      });

      it('keeps one connection across re-renders with equal options, resubscribes once on a change, closes on unmount', async () => {
        await newRun();
        const before = proxy.webSockets.opened;
        await mount(options);
        await until(latest, (l) => l?.isConnected === true, 'connected');
        // Equal by value, never by identity: fresh objects each time, selectors and filters reordered.
        for (let i = 0; i < 5; i++) {
          await rerender({ ...options, events: [...(options.events ?? [])], filters: { runId } });
        }
        await rerender({ filters: { runId }, events: ['test.*', 'test.*'], apiKey: API_KEY, url: proxy.url });
        b.publish(resultEvent(runId, 1));
        const same = await until(latest, hasTest('test 1'), 'the sentinel on the first subscription');
        expect(same?.renders).toBeGreaterThanOrEqual(7);
        expect(same?.subscriptions).toBe(1);
        expect(proxy.webSockets.opened - before).toBe(1);
        expect(await status()).toMatchObject({ subscribers: 1 });

        // A changed filter: one new subscription, the old connection closed.
        const failedOnly = { ...options, filters: { runId, status: 'failed' } };
        await rerender(failedOnly);
        await until(latest, (l) => l?.subscriptions === 2 && l.isConnected, 'the new subscription');
        b.publish(resultEvent(runId, 2)); // passed: the new filter must drop it
        b.publish(resultEvent(runId, 3, 'failed'));
        const changed = await until(latest, hasTest('test 3'), 'the sentinel on the new subscription');
        expect(changed?.events.map((e) => e.testName)).toEqual(['test 3']);
        await until(status, (s) => s.subscribers === 1, 'the old subscription to close');
        expect(proxy.webSockets.opened - before).toBe(2);

        // A changed key: one more. A wrong key is an AUTH_FAILED error, not a retry loop.
        await rerender({ ...failedOnly, apiKey: 'wrong-key' });
        const refused = await until(latest, (l) => l?.error?.code === 'AUTH_FAILED', 'AUTH_FAILED');
        expect(refused?.isConnected).toBe(false);
        expect(refused?.subscriptions).toBe(3);
        expect(proxy.webSockets.opened - before).toBe(3);
        await rerender(failedOnly);
        await until(latest, (l) => l?.subscriptions === 4 && l.isConnected, 'reconnected with the right key');
        expect((await latest())?.error).toBeNull();
        expect(proxy.webSockets.opened - before).toBe(4);

        await unmount();
        await until(status, (s) => s.subscribers === 0 && s.activeConnections === 0, 'no subscriber left');
        await until(
          () => proxy.webSockets.open,
          (n) => n === 0,
          'the page to close its WebSocket',
        );
      });

      it('under StrictMode opens one connection', async () => {
        await newRun();
        const before = proxy.webSockets.opened;
        await mount(options, true);
        await until(latest, (l) => l?.isConnected === true, 'connected');
        b.publish(resultEvent(runId, 1));
        await until(latest, hasTest('test 1'), 'the sentinel');
        expect(proxy.webSockets.open).toBe(1);
        expect(proxy.webSockets.opened - before).toBe(1);
        expect(await status()).toMatchObject({ subscribers: 1 });
        await unmount();
        await until(status, (s) => s.subscribers === 0, 'no subscriber left');
      });

      it('hydrates server markup without a mismatch, then connects', async () => {
        await newRun();
        const consoleErrors: string[] = [];
        const onConsole = (m: { type(): string; text(): string }) => {
          if (m.type() === 'error') consoleErrors.push(m.text());
        };
        page.on('console', onConsole);
        try {
          const { html } = await page.evaluate((o) => (window as any).harness.hydrate(o), options);
          expect(html).toBe('<div id="probe" data-state="idle"></div>');
          await until(latest, (l) => l?.isConnected === true, 'connected after hydration');
          b.publish(resultEvent(runId, 1));
          await until(latest, hasTest('test 1'), 'an event after hydration');
          await expect(page.evaluate(() => (window as any).harness.hydrationErrors())).resolves.toEqual([]);
          expect(consoleErrors).toEqual([]);
        } finally {
          page.off('console', onConsole);
        }
      });

      it("renders the README's dashboard example: progress, failures, metrics", async () => {
        await newRun();
        await page.evaluate(([u, k]) => (window as any).harness.mountDashboard(u, k), [proxy.url, API_KEY]);
        await page.waitForFunction(
          () => document.querySelector('[role=status]')?.textContent === 'Connected',
        );
        b.publish(startedEvent(runId, 3));
        b.publish(resultEvent(runId, 1));
        b.publish(resultEvent(runId, 2, 'failed'));
        b.publish(resultEvent(runId, 3, 'skipped'));
        b.publish({
          type: 'performance.metrics',
          runId,
          data: {
            framework: 'vitest',
            memory: { heapUsed: 45.64, heapTotal: 67.2, external: 8.1, rss: 89.3 },
            cpu: { usage: 37.4, load: [1, 1, 1] },
            uptime: 1,
          },
        } as PublishedEvent);
        const section = page.locator(`[data-run="${runId}"]`);
        await section.waitFor({ timeout: WAIT_MS });
        await until(
          () => section.textContent(),
          (text) => !!text?.includes('1 passed, 1 failed, 1 skipped'),
          'the run counts on the page',
        );
        await expect(section.locator('li').allTextContents()).resolves.toEqual(['✗ suite › test 2: boom 2']);
        await until(
          () => page.locator('[data-metrics]').textContent({ timeout: WAIT_MS }),
          (text) => text === 'Memory: 45.6 MB, CPU: 37%',
          'the metrics line',
        );
      });
      // What follows is the store's behaviour, the same whatever React's version: tested once.
      if (react === '19') {
        it('keeps at most maxEvents events, counting the rest, in few renders; a new maxEvents keeps the connection', async () => {
          await newRun();
          await mount({ ...options, maxEvents: 5 });
          const connected = await until(latest, (l) => l?.isConnected === true, 'connected');
          for (let i = 1; i <= 20; i++) b.publish(outputEvent(runId, i));
          b.publish(resultEvent(runId, 99));
          const full = await until(latest, hasTest('test 99'), 'the sentinel');
          // A burst is handed to React in a few renders (renderIntervalMs), not one per event.
          expect(full!.renders - connected!.renders).toBeLessThan(8);
          expect(full?.events).toHaveLength(5);
          expect(full?.droppedEvents).toBe(16);
          expect(full?.events.map((e) => e.type)).toEqual([...Array(4).fill('test.output'), 'test.result']);
          await rerender({ ...options, maxEvents: 2 });
          const shrunk = await until(latest, (l) => l?.events.length === 2, 'the smaller buffer');
          expect(shrunk?.droppedEvents).toBe(19);
          expect(shrunk?.subscriptions).toBe(1);
          await unmount();
        });

        it('reports bad options as an error instead of throwing in React, and opens nothing', async () => {
          await newRun();
          const before = proxy.webSockets.opened;
          await mount({ url: 'ftp://127.0.0.1:1', events: ['test.*'] });
          const bad = await until(latest, (l) => l?.error != null, 'the error');
          expect(bad).toMatchObject({ isConnected: false, connectionState: 'closed' });
          expect(bad?.error?.code).toBe('INVALID_ARGUMENT');
          expect(bad?.error?.message).toContain('unsupported protocol ftp:');
          // Fixing the options connects.
          await rerender(options);
          await until(latest, (l) => l?.isConnected === true && l.error === null, 'connected');
          expect(proxy.webSockets.opened - before).toBe(1);
        });

        it('opens nothing while enabled is false', async () => {
          await newRun();
          const before = proxy.webSockets.opened;
          await mount({ ...options, enabled: false });
          expect(await latest()).toMatchObject({ connectionState: 'idle', isConnected: false, error: null });
          const refused = await page.evaluate(() => (window as any).harness.send({ type: 'ping' }));
          expect(refused).toMatchObject({ ok: false, code: 'CONNECTION_FAILED' });
          await rerender(options);
          await until(latest, (l) => l?.isConnected === true, 'connected once enabled');
          // Had the disabled render connected, its effect would have run before this one's: two handshakes.
          expect(proxy.webSockets.opened - before).toBe(1);
        });

        it('connects from a page of another origin (a dev server) that TESTWIRE_ALLOWED_ORIGINS allows', async () => {
          await newRun();
          // The page's origin is the proxy's; this broadcaster listens on another port.
          const saved = process.env.TESTWIRE_ALLOWED_ORIGINS;
          process.env.TESTWIRE_ALLOWED_ORIGINS = proxy.url;
          let other: Broadcaster;
          try {
            other = await startBroadcaster({ port: 0, logger: { warn() {} } });
          } finally {
            if (saved === undefined) delete process.env.TESTWIRE_ALLOWED_ORIGINS;
            else process.env.TESTWIRE_ALLOWED_ORIGINS = saved;
          }
          try {
            await mount({ url: other.url, events: ['test.*'] });
            await until(latest, (l) => l?.isConnected === true, 'connected across origins');
            other.publish(resultEvent(runId, 1));
            await until(latest, hasTest('test 1'), 'an event across origins');
            await unmount();
          } finally {
            await other.close({ timeoutMs: 500 });
          }
        });
      }
    });
  }
});
