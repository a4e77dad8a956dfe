/** The SSE transport (Node: fetch reader) against a real broadcaster: delivery, resume, resync, auth. */

import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type TestwireClient } from '../src/index.js';
import { outputEvent, resultEvent, startedEvent, until } from './helpers/events.js';
import { startProxy } from './helpers/proxy.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
async function broadcaster(options: Parameters<typeof startBroadcaster>[0] = {}): Promise<Broadcaster> {
  const b = await startBroadcaster({ port: 0, logger: { warn() {} }, ...options });
  cleanup.push(() => b.close({ timeoutMs: 500 }));
  return b;
}
function client(options: Parameters<typeof createClient>[0]): TestwireClient {
  const c = createClient({
    transport: 'sse',
    reconnect: { baseDelayMs: 20, maxDelayMs: 100, attempts: 50 },
    ...options,
  });
  cleanup.push(() => c.close());
  return c;
}

describe('SSE transport', () => {
  it('receives the subscribed events with their envelopes', async () => {
    const b = await broadcaster();
    const c = client({ url: b.url, events: ['test.result'], filters: { status: 'failed' } });
    const got: AnyEventEnvelope[] = [];
    c.on('*', (_d, e) => got.push(e));
    await c.connect();
    b.publish(resultEvent('r', 1, 'passed'));
    b.publish(outputEvent('r', 1));
    b.publish(resultEvent('r', 2, 'failed'));
    await until(() => got.length === 1, 5000, 'failed result');
    expect(got[0]).toMatchObject({
      type: 'test.result',
      runId: 'r',
      data: { testName: 'test 2', status: 'failed' },
    });
    expect(got[0].seq).toBe(3);
    await expect(c.subscribe({ events: ['test.output'] })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(c.snapshot()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('resumes with Last-Event-ID after dropped connections: every event once, in order', async () => {
    const b = await broadcaster();
    const p = await startProxy(b.port);
    cleanup.push(() => p.close());
    const c = client({ url: p.url });
    const seqs: number[] = [];
    c.on('test.output', (_d, e) => seqs.push(e.seq));
    // Counted, not polled: the first reconnect can take less than a poll interval.
    let drops = 0;
    c.onState((state) => state === 'reconnecting' && drops++);
    await c.connect();
    for (let batch = 0; batch < 12; batch++) {
      for (let i = 0; i < 250; i++) b.publish(outputEvent('r', batch * 250 + i));
      await b.flush();
      if (batch % 4 === 1) {
        await until(() => c.connectionState === 'open', 5000, 'open');
        const before = drops;
        p.dropAll();
        // The next batches are published while the client is away.
        await until(() => drops > before, 5000, 'drop noticed');
      }
    }
    await until(() => seqs.length >= 3000, 15_000, '3000 events');
    await new Promise((r) => setTimeout(r, 50));
    expect(seqs).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(p.connections).toBeGreaterThanOrEqual(4);
  });

  it('rebuilds state from the snapshot after a broadcaster restart (resume.failed over SSE)', async () => {
    let b = await broadcaster();
    const port = b.port;
    const c = client({ url: b.url });
    const resyncs: string[] = [];
    c.onResync((info) => resyncs.push(info.reason));
    await c.connect();
    b.publish(startedEvent('old', 1));
    await until(() => c.state.has('old'), 5000, 'old run');
    await b.close({ timeoutMs: 200 });
    cleanup.splice(0, 1);
    b = await broadcaster({ port });
    b.publish(startedEvent('new', 2));
    b.publish(resultEvent('new', 1, 'failed'));
    await b.flush();
    await until(() => resyncs.length === 1, 10_000, 'resync');
    expect(resyncs).toEqual(['EPOCH_CHANGED']);
    expect(c.state.has('old')).toBe(false);
    expect(c.state.get('new')?.counts.failed).toBe(1);
    b.publish(resultEvent('new', 2));
    await until(() => c.state.get('new')?.counts.passed === 1, 5000, 'live after resync');
  });

  it.each(['sse', 'ws'] as const)(
    'a blackholed connection (open, silent) is dropped once the keep-alive is overdue, and resumed (%s)',
    async (transport) => {
      const b = await broadcaster({ heartbeatMs: 200, sseKeepAliveMs: 200 });
      const p = await startProxy(b.port);
      cleanup.push(() => p.close());
      const c = client({ url: p.url, transport, sseKeepAliveMs: 200 });
      const seqs: number[] = [];
      const errors: string[] = [];
      c.on('test.output', (_d, e) => seqs.push(e.seq));
      let drops = 0;
      c.onState((state, info) => {
        if (state !== 'reconnecting') return;
        drops++;
        errors.push(info.error?.message ?? '');
      });
      await c.connect();
      b.publish(outputEvent('r', 1));
      await until(() => seqs.length === 1, 5000, 'first event');
      // The link goes dark with the connection open on both ends: these events go nowhere.
      p.blackhole();
      for (let i = 2; i <= 5; i++) b.publish(outputEvent('r', i));
      await b.flush();
      // No byte for 2.5 keep-alive intervals: dropped, then resumed on a new connection without a loss.
      await until(() => drops >= 1, 10_000, 'the dead connection noticed');
      expect(errors[0]).toMatch(
        transport === 'sse' ? /No keep-alive .* for 500ms/ : /No heartbeat .* for 500ms/,
      );
      await until(() => seqs.length === 5, 10_000, 'the events published while it was dark');
      b.publish(outputEvent('r', 6));
      await until(() => seqs.length === 6, 5000, 'live again');
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
      expect(c.connectionState).toBe('open');
    },
  );

  it('sseKeepAliveMs must be a positive number', () => {
    expect(() => createClient({ transport: 'sse', sseKeepAliveMs: 0 })).toThrow(/sseKeepAliveMs/);
  });

  it('a wrong API key is a TestwireAuthError without retries', async () => {
    const b = await broadcaster({ apiKey: 'k1' });
    const p = await startProxy(b.port);
    cleanup.push(() => p.close());
    const c = client({ url: p.url, apiKey: 'nope' });
    await expect(c.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', status: 401 });
    expect(p.connections).toBe(1);
  });
});
