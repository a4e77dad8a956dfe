/**
 * DNS rebinding and other-origin pages in a real browser: headless Chromium (playwright-core) against a real
 * broadcaster. `--host-resolver-rules=MAP rebind.test 127.0.0.1` plays the attacker's DNS after the
 * rebind: a document of origin http://rebind.test:<port> (loaded from 127.0.0.1, so Chromium's own
 * private-network checks do not step in) talks to the broadcaster under the attacker's name. It must read
 * neither /status nor the stream (SSE, WebSocket); the control is a broadcaster that lists rebind.test in
 * allowedHosts, where the same probe reads everything.
 * A page on another loopback origin (another port, *.localhost) must not either; the endpoint's own page
 * and an origin listed in allowedOrigins can (the controls: the same probe succeeds there).
 *
 * Skips when /usr/bin/chromium is absent, except in CI (env CI set), where it fails: CI installs it.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';

const CHROMIUM = process.env.TESTWIRE_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);

if (!HAVE_CHROMIUM) {
  if (process.env.CI) {
    describe('security in Chromium', () => {
      it('needs Chromium', () => {
        throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
      });
    });
  } else {
    console.warn(
      `[@testwire/broadcaster] browser tests SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium). They run in CI.`,
    );
  }
}

/** What a page could read from `base`: /status, an SSE stream, a WebSocket. Every branch ends on an event. */
interface Probe {
  status: string;
  body: string;
  sse: 'open' | 'error';
  ws: 'open' | 'error';
}

async function probe(page: Page, base: string): Promise<Probe> {
  return page.evaluate(async (base) => {
    let status: string;
    let body = '';
    try {
      const response = await fetch(`${base}/status`);
      status = String(response.status);
      body = await response.text();
    } catch (error) {
      status = `blocked (${(error as Error).message})`;
    }
    const sse = await new Promise<'open' | 'error'>((resolve) => {
      const source = new EventSource(`${base}/events`);
      source.addEventListener('connection.established', () => {
        source.close();
        resolve('open');
      });
      source.onerror = () => {
        source.close();
        resolve('error');
      };
    });
    const ws = await new Promise<'open' | 'error'>((resolve) => {
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`);
      socket.onopen = () => {
        socket.close();
        resolve('open');
      };
      socket.onerror = () => resolve('error');
    });
    return { status, body, sse, ws };
  }, base);
}

describe.skipIf(!HAVE_CHROMIUM)('security in Chromium', () => {
  let browser: Browser;
  let b: Broadcaster;
  let pages: Server;
  let pagePort: number;
  let page: Page;

  beforeAll(async () => {
    // Another local web app: any page, any Host.
    pages = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>another local app</title>');
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    pagePort = (pages.address() as { port: number }).port;
    b = await startBroadcaster({
      port: 0,
      allowedOrigins: [`http://localhost:${pagePort}`],
      logger: { warn() {} },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--host-resolver-rules=MAP rebind.test 127.0.0.1',
      ],
    });
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await b?.close();
    pages?.closeAllConnections();
    await new Promise((r) => pages?.close(r));
  });

  it('a DNS-rebinding page (rebind.test -> 127.0.0.1) reads neither /status nor SSE nor the WebSocket', async () => {
    const origin = `http://rebind.test:${b.port}`;
    await page.goto(`${origin}/`);
    const got = await probe(page, origin);
    expect(got.status).toBe('403');
    expect(JSON.parse(got.body)).toMatchObject({ error: 'FORBIDDEN_HOST' });
    expect(got.body).not.toContain('"epoch"');
    expect(got.sse).toBe('error');
    expect(got.ws).toBe('error');
    // Control: where the name is allowed, the same page reads it all (the probe can see a leak).
    const lax = await startBroadcaster({ port: 0, allowedHosts: ['rebind.test'], logger: { warn() {} } });
    try {
      const laxOrigin = `http://rebind.test:${lax.port}`;
      await page.goto(`${laxOrigin}/`);
      const read = await probe(page, laxOrigin);
      expect(read).toMatchObject({ status: '200', sse: 'open', ws: 'open' });
      expect(JSON.parse(read.body).epoch).toBe(lax.epoch);
    } finally {
      await lax.close();
    }
  });

  it('pages on other loopback origins (another port, *.localhost) are refused; the own page and allowedOrigins read', async () => {
    for (const other of [`http://127.0.0.1:${pagePort}`, `http://app.localhost:${pagePort}`]) {
      await page.goto(`${other}/`);
      const got = await probe(page, b.url);
      expect(got.status, other).toMatch(/^blocked/); // no CORS for it
      expect(got.sse, other).toBe('error');
      expect(got.ws, other).toBe('error');
    }
    // Controls: the same probe reads everything from the endpoint's own page and from an allowed origin.
    await page.goto(`${b.url}/`);
    const own = await probe(page, b.url);
    expect(own).toMatchObject({ status: '200', sse: 'open', ws: 'open' });
    expect(JSON.parse(own.body).epoch).toBe(b.epoch);
    await page.goto(`http://localhost:${pagePort}/`);
    const allowed = await probe(page, b.url);
    expect(allowed).toMatchObject({ status: '200', sse: 'open', ws: 'open' });
  });
});
