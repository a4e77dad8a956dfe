/**
 * The browser build: bundles for the browser with no Node built-ins, resolves through the `browser`
 * export condition, and works end to end on WHATWG WebSocket / EventSource implementations.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { build } from 'esbuild';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { resultEvent, until } from './helpers/events.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const NODE_ONLY = [
  /require\(["']ws["']\)/,
  /from\s*["']ws["']/,
  /["']node:/,
  /require\(["'](net|http|https|tls|crypto|fs|stream|events)["']\)/,
];

describe('browser build', () => {
  it('bundles dist/browser.js for platform browser without Node built-ins or ws', async () => {
    const result = await build({
      entryPoints: [`${root}dist/browser.js`],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).toContain('connection.established');
    for (const pattern of NODE_ONLY) expect(code).not.toMatch(pattern);
  });

  it('the `browser` export condition picks the browser build', async () => {
    const result = await build({
      stdin: {
        contents: "export { createClient } from '@testwire/client';",
        resolveDir: `${root}../testkit`,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    // metafile paths are relative to the working directory
    const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(p));
    expect(inputs).toContain(resolve(root, 'dist/browser.js'));
    expect(inputs).not.toContain(resolve(root, 'dist/index.js'));
    expect(readFileSync(`${root}dist/browser.js`, 'utf8')).not.toMatch(/["']ws["']/);
  });
});

describe('browser build at run time (WHATWG WebSocket and EventSource)', () => {
  let b: Broadcaster;
  beforeAll(async () => {
    b = await startBroadcaster({ port: 0, apiKey: 'browser-key', logger: { warn() {} } });
  });
  afterAll(() => b.close({ timeoutMs: 500 }));

  for (const transport of ['ws', 'sse'] as const) {
    it(`receives events over ${transport}`, async () => {
      const { createClient } = await import('../dist/browser.js');
      const c = createClient({
        url: b.url,
        apiKey: 'browser-key',
        transport,
        WebSocket: WebSocket as never,
        EventSource: EventSource as never,
      });
      try {
        const names: string[] = [];
        c.on('test.result', (data: { testName: string }) => names.push(data.testName));
        await c.connect();
        b.publish(resultEvent('r', 1));
        await until(() => names.length === 1, 5000, 'event');
        expect(names).toEqual(['test 1']);
      } finally {
        await c.close();
      }
    });

    it(`reports a wrong key over ${transport} as AUTH_FAILED (status probe)`, async () => {
      const { createClient } = await import('../dist/browser.js');
      const c = createClient({
        url: b.url,
        apiKey: 'wrong',
        transport,
        WebSocket: WebSocket as never,
        EventSource: EventSource as never,
        reconnect: { attempts: 3, baseDelayMs: 10 },
      });
      await expect(c.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', status: 401 });
    });
  }
});
