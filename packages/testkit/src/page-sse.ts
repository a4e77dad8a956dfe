/**
 * SSE read inside a Playwright page: the request is the browser's own (cookies, Origin, CORS), events come
 * back through an exposed function. The page runs the same SSEParser class as Node (its source is injected),
 * over fetch so that custom headers work (EventSource cannot send them).
 */
import { SSEParser } from '@testwire/client';
import type { StreamCallbacks } from './stream-callbacks.js';

/** The part of a Playwright `Page` this uses (structural, so no dependency on playwright). */
export interface PageLike {
  evaluate(expression: string): Promise<unknown>;
  exposeFunction(name: string, callback: (...args: any[]) => unknown): Promise<unknown>;
}

type PageMessage =
  | { stream: number; kind: 'open' }
  | { stream: number; kind: 'event'; event: string; data: string; id: string }
  | { stream: number; kind: 'retry'; ms: number }
  | { stream: number; kind: 'end'; error?: string };

const bindings = new WeakMap<
  PageLike,
  { name: string; ready: Promise<unknown>; streams: Map<number, StreamCallbacks> }
>();
let nextStream = 1;

function binding(page: PageLike) {
  let entry = bindings.get(page);
  if (!entry) {
    const name = `__testwireSSE_${Math.random().toString(36).slice(2)}`;
    const streams = new Map<number, StreamCallbacks>();
    const ready = page.exposeFunction(name, (message: PageMessage) => {
      const callbacks = streams.get(message.stream);
      if (!callbacks) return;
      if (message.kind === 'open') callbacks.open();
      else if (message.kind === 'event') callbacks.event(message);
      else if (message.kind === 'retry') callbacks.retry(message.ms);
      else {
        streams.delete(message.stream);
        callbacks.end(message.error ? new Error(message.error) : undefined);
      }
    });
    entry = { name, ready, streams };
    bindings.set(page, entry);
  }
  return entry;
}

/** Runs in the page. Plain JS in a string so no bundler helper can sneak in. */
const IN_PAGE = (parserSource: string) => `async (args) => {
  const SSEParser = (${parserSource});
  const send = (m) => window[args.binding](Object.assign({ stream: args.stream }, m));
  const controller = new AbortController();
  const streams = (window.__testwireStreams ||= {});
  streams[args.stream] = controller;
  try {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, args.connectTimeout);
    let res;
    try {
      res = await fetch(args.url, { headers: args.headers, signal: controller.signal, cache: 'no-store' });
    } catch (e) {
      send({ kind: 'end', error: timedOut ? 'SSE connection timeout (' + args.connectTimeout + 'ms)' : 'SSE connection failed: ' + e.message });
      return;
    } finally {
      clearTimeout(timer);
    }
    const type = res.headers.get('content-type') || '';
    if (res.status !== 200 || !type.startsWith('text/event-stream')) {
      const body = (await res.text().catch(() => '')).trim().slice(0, 200);
      send({ kind: 'end', error: 'SSE connection failed: HTTP ' + res.status + ' ' + (type || '(no content-type)') + (body ? ': ' + body : '') });
      return;
    }
    send({ kind: 'open' });
    const parser = new SSEParser({
      onEvent: (m) => send({ kind: 'event', event: m.event, data: m.data, id: m.id }),
      onRetry: (ms) => send({ kind: 'retry', ms }),
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
      send({ kind: 'end' });
    } catch (e) {
      send({ kind: 'end', error: controller.signal.aborted ? undefined : 'SSE stream error: ' + e.message });
    }
  } finally {
    delete streams[args.stream];
  }
}`;

export function readInPage(
  page: PageLike,
  url: string,
  headers: Record<string, string>,
  connectTimeout: number,
  callbacks: StreamCallbacks,
): { close(): Promise<void> } {
  const entry = binding(page);
  const stream = nextStream++;
  entry.streams.set(stream, callbacks);
  const args = JSON.stringify({ url, headers, connectTimeout, binding: entry.name, stream });
  // Not awaited by the page call: evaluate returns at once and the reader keeps running in the page.
  void entry.ready
    .then(() => page.evaluate(`void (${IN_PAGE(SSEParser.toString())})(${args})`))
    .catch((error: Error) => {
      entry.streams.delete(stream);
      callbacks.end(new Error(`SSE connection failed: could not run in the page: ${error.message}`));
    });
  return {
    async close() {
      entry.streams.delete(stream);
      await page
        .evaluate(
          `window.__testwireStreams && window.__testwireStreams[${stream}] && window.__testwireStreams[${stream}].abort()`,
        )
        .catch(() => {}); // the page may be gone already
    },
  };
}
