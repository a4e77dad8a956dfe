/** SSETester in page mode: the stream is read inside headless Chromium (Playwright) and handed back. */
import { existsSync } from 'node:fs';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSETester } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';

// Skipped locally without Chromium (with a note); under CI it must run, so a missing browser fails.
if (!existsSync(CHROMIUM) && !process.env.CI)
  console.warn(`[testwire] SSETester page tests SKIPPED: ${CHROMIUM} not found`);
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('SSETester with a Playwright page', () => {
  let browser: Browser;
  let b: Broadcaster;
  beforeAll(async () => {
    b = await startBroadcaster({ port: 0, apiKey: 'pk', logger: { warn() {} } });
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
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await b?.close({ timeoutMs: 500 });
  });

  it('reads the broadcaster stream from inside the page, with headers, and reports refusals', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(b.url); // same origin as /events
      const sse = new SSETester(page, { timeout: 3000 });
      await expect(sse.connectSSE(`${b.url}/events`, { Authorization: 'Bearer nope' })).rejects.toThrow(
        /SSE connection failed: HTTP 401/,
      );
      await sse.connectSSE(`${b.url}/events?events=test.output`, { Authorization: 'Bearer pk' });
      expect(sse.isConnectionActive()).toBe(true);
      await sse.assertEventReceived('connection.established');
      b.publish({
        type: 'test.output',
        runId: 'r',
        data: { framework: 'vitest', output: 'one\ntwo', outputType: 'stdout', stream: 'stdout' },
      } as never);
      const event = await sse.waitForEvent('test.output');
      expect(event.parsedData).toMatchObject({ type: 'test.output', data: { output: 'one\ntwo' } });
      expect(event.id).toMatch(/^[\w-]+:1$/);
      await sse.disconnect();
      expect(sse.isConnectionActive()).toBe(false);
      // The in-page reader was aborted: nothing left running in the page.
      await expect
        .poll(() => page.evaluate('Object.keys(window.__testwireStreams || {}).length'), { timeout: 2000 })
        .toBe(0);
    } finally {
      await page.close();
    }
  });
});
