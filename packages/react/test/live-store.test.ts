/**
 * The hook's store in Node against real broadcasters, through a TCP proxy (the client package's): what a live
 * view needs beyond the client's defaults.
 *
 *   - it keeps reconnecting, past the client's default of 10 attempts, unless the options set a limit
 *   - `eventKey` tells apart events of two broadcaster epochs that share a seq (the endpoint changed hands)
 */
import { startBroadcaster } from '@testwire/broadcaster';
import { afterEach, describe, expect, it } from 'vitest';
import { outputEvent, startedEvent } from '../../client/test/helpers/events.js';
import { startProxy, type TcpProxy } from '../../client/test/helpers/proxy.js';
import { liveReconnect } from '../src/live-reconnect.js';
import { normalizeOptions } from '../src/options-key.js';
import { type TestwireState, TestwireStore } from '../src/store.js';
import type { UseTestwireOptions } from '../src/types.js';

const WAIT_MS = 20_000;

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    last = value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
}

describe('the hook’s store, live', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A store as useTestwire makes it, subscribed (connected) until the test ends. */
  function open(options: UseTestwireOptions): { store: TestwireStore; state: () => TestwireState } {
    const store = new TestwireStore(normalizeOptions(options), 100, 0);
    const unsubscribe = store.subscribe(() => {});
    cleanup.push(async () => {
      unsubscribe();
      // The store closes its client one macrotask after the last listener left, and starts over from idle.
      await until('the store to let its client go', () => store.getSnapshot().connectionState === 'idle');
    });
    return { store, state: store.getSnapshot };
  }

  it('keeps reconnecting past the client’s 10 attempts when the options set delays but no limit', async () => {
    // An endpoint that accepts and hangs up at once: every attempt fails.
    const a = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    const proxy: TcpProxy = await startProxy(a.port);
    cleanup.push(
      () => a.close({ timeoutMs: 500 }),
      () => proxy.close(),
    );
    proxy.refuse(true);
    const { state } = open({ url: proxy.url, reconnect: { baseDelayMs: 1, maxDelayMs: 5 } });
    await until(
      '25 connection attempts, or the store giving up',
      () => proxy.connections >= 25 || state().connectionState === 'closed',
    );
    expect(state().connectionState, state().error?.message).toBe('reconnecting');
    expect(proxy.connections).toBeGreaterThanOrEqual(25);
    // What the last attempt ran into, while it retries: a page can say why it has no data.
    expect(state().error?.code).toBe('CONNECTION_FAILED');
    // And it connects when the endpoint answers again: the error is cleared.
    proxy.refuse(false);
    await until('connected', () => state().isConnected);
    expect(state().error).toBeNull();
  });

  it('still gives up where the options say so', async () => {
    const a = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    const proxy = await startProxy(a.port);
    cleanup.push(
      () => a.close({ timeoutMs: 500 }),
      () => proxy.close(),
    );
    proxy.refuse(true);
    const { state } = open({ url: proxy.url, reconnect: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    await until('closed', () => state().connectionState === 'closed');
    expect(state().error?.code).toBe('CONNECTION_FAILED');
    expect(proxy.connections).toBe(3);
  });

  it('defaults to no attempt limit; `false` and an explicit limit are kept', () => {
    expect(liveReconnect(undefined)).toEqual({ attempts: Number.POSITIVE_INFINITY });
    expect(liveReconnect(true)).toEqual({ attempts: Number.POSITIVE_INFINITY });
    expect(liveReconnect(false)).toBe(false);
    expect(liveReconnect({ attempts: 3, maxDelayMs: 100 })).toEqual({ attempts: 3, maxDelayMs: 100 });
    expect(liveReconnect({ initialAttempts: 0 })).toEqual({
      attempts: Number.POSITIVE_INFINITY,
      initialAttempts: 0,
    });
  });

  it('gives each event a key unique across broadcaster epochs, though their seqs repeat', async () => {
    const a = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    const b = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    const proxy = await startProxy(a.port);
    cleanup.push(
      () => a.close({ timeoutMs: 500 }),
      () => b.close({ timeoutMs: 500 }),
      () => proxy.close(),
    );
    const { store, state } = open({ url: proxy.url, reconnect: { baseDelayMs: 1, maxDelayMs: 20 } });
    await until('connected to A', () => state().isConnected);
    a.publish(startedEvent('ra', 2));
    a.publish(outputEvent('ra', 1));
    await a.flush();
    await until('A’s 2 events', () => state().events.length === 2);

    // The endpoint changes hands: B, a new epoch, whose seqs start over at 1.
    proxy.retarget(b.port);
    proxy.dropAll();
    b.publish(startedEvent('rb', 2));
    b.publish(outputEvent('rb', 1));
    await b.flush();
    const events = await until('4 events', () => state().events.length === 4 && state().events);

    expect(events.map((e) => e.seq)).toEqual([1, 2, 1, 2]);
    const keys = events.map(store.eventKey);
    expect(new Set(keys).size).toBe(4);
    expect(keys.map((k) => k.split(':').pop())).toEqual(['1', '2', '1', '2']);
    const epochs = keys.map((k) => k.slice(0, k.lastIndexOf(':')));
    expect(epochs[0]).toBe(epochs[1]);
    expect(epochs[2]).toBe(epochs[3]);
    expect(epochs[0]).not.toBe(epochs[2]);
    // The same event, the same key, on every read.
    expect(state().events.map(store.eventKey)).toEqual(keys);
  });
});
