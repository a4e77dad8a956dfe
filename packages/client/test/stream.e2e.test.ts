/**
 * The client against a real broadcaster on loopback: delivery, handlers, iterator, and exactly-once
 * delivery through forced disconnects, lag, restarts and evicted history.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createClient, type TestwireClient } from '../src/index.js';
import { completedEvent, outputEvent, resultEvent, startedEvent, until } from './helpers/events.js';
import { type ProxyOptions, startProxy, type TcpProxy } from './helpers/proxy.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function broadcaster(options: Parameters<typeof startBroadcaster>[0] = {}): Promise<Broadcaster> {
  const b = await startBroadcaster({ port: 0, logger: { warn() {} }, ...options });
  cleanup.push(() => b.close({ timeoutMs: 500 }));
  return b;
}
async function proxy(port: number, options?: ProxyOptions): Promise<TcpProxy> {
  const p = await startProxy(port, options);
  cleanup.push(() => p.close());
  return p;
}
function client(options: Parameters<typeof createClient>[0]): TestwireClient {
  const c = createClient({ reconnect: { baseDelayMs: 20, maxDelayMs: 200 }, ...options });
  cleanup.push(() => c.close());
  return c;
}

/** Publishes `count` events in batches, yielding between batches; calls `between(batch)` after each. */
async function publishMany(
  b: Broadcaster,
  count: number,
  make: (i: number) => Parameters<Broadcaster['publish']>[0],
  between?: (batch: number) => void | Promise<void>,
) {
  const batch = 250;
  for (let i = 0; i < count; i += batch) {
    for (let j = i; j < Math.min(count, i + batch); j++) b.publish(make(j));
    await b.flush();
    await between?.(i / batch);
    await new Promise((r) => setImmediate(r));
  }
}

/** The `line N` index of every received test.output, to compare with 0..count-1. */
const lines = (events: AnyEventEnvelope[]) =>
  events.map((e) => Number((e.data as { output: string }).output.split(' ')[1].replace(/\.+$/, '')));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('delivery', () => {
  it('delivers events to typed handlers, patterns and "*"; unbind stops a handler', async () => {
    const b = await broadcaster();
    const c = client({ url: b.url });
    await c.connect();
    expect(c.connectionState).toBe('open');
    expect(c.server?.server).toBe('testwire');
    const results: string[] = [];
    const tests: string[] = [];
    const all: number[] = [];
    const unbind = c.on('test.result', (data, envelope) => {
      results.push(data.testName);
      expect(envelope.type).toBe('test.result');
    });
    c.on('test.*', (_data, envelope) => tests.push(envelope.type));
    c.on('*', (_data, envelope) => all.push(envelope.seq));
    b.publish(startedEvent('r1', 2));
    b.publish(resultEvent('r1', 1));
    await until(() => results.length === 1, 5000, 'first result');
    unbind();
    b.publish(resultEvent('r1', 2));
    b.publish(completedEvent('r1', 2, 0));
    await until(() => all.length === 4, 5000, 'all events');
    expect(results).toEqual(['test 1']);
    expect(tests).toEqual(['test.started', 'test.result', 'test.result', 'test.completed']);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    const run = c.state.get('r1');
    expect(run?.status).toBe('completed');
    expect(run?.counts.passed).toBe(2);
  });

  it('filters server-side by the subscription; subscribe/unsubscribe at runtime', async () => {
    const b = await broadcaster();
    const c = client({ url: b.url, events: ['test.result'], filters: { status: 'failed' } });
    const got: string[] = [];
    c.on('*', (_d, e) => got.push(`${e.type}:${(e.data as { status?: string }).status ?? ''}`));
    await c.connect();
    b.publish(resultEvent('r', 1, 'passed'));
    b.publish(resultEvent('r', 2, 'failed'));
    b.publish(outputEvent('r', 1));
    await until(() => got.length === 1, 5000, 'filtered result');
    const description = await c.subscribe({ events: ['test.output'] });
    expect(description?.events).toContain('test.output');
    b.publish(outputEvent('r', 2));
    await until(() => got.length === 2, 5000, 'output after subscribe');
    await c.unsubscribe({ events: ['test.output'] });
    b.publish(outputEvent('r', 3));
    b.publish(resultEvent('r', 3, 'failed'));
    await until(() => got.length === 3, 5000, 'result after unsubscribe');
    expect(got).toEqual(['test.result:failed', 'test.output:', 'test.result:failed']);
    await expect(c.subscribe({ events: ['bad selector!'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('answers snapshot() and ping(); initial state comes from a snapshot of runs already going', async () => {
    const b = await broadcaster();
    b.publish(startedEvent('early', 3));
    b.publish(resultEvent('early', 1));
    b.publish(resultEvent('early', 2, 'failed'));
    await b.flush();
    const c = client({ url: b.url });
    await c.connect();
    // The state reflects what happened before we connected.
    expect(c.state.get('early')?.counts).toMatchObject({ passed: 1, failed: 1, completed: 2 });
    const snapshot = await c.snapshot();
    expect(snapshot.runs.map((r) => r.runId)).toEqual(['early']);
    expect(snapshot.epoch).toBe(c.epoch);
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
  });

  it("a snapshot's run that is not a run snapshot is left out and said, never thrown from the state", async () => {
    const b = await broadcaster();
    b.publish(startedEvent('early', 3));
    b.publish(resultEvent('early', 1));
    await b.flush();
    // Between the client and the broadcaster: every snapshot also lists a run the state cannot take.
    const relay = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => new Promise((r) => relay.close(r)));
    relay.on('connection', (downstream, req) => {
      const upstream = new WebSocket(`${b.wsUrl}${new URL(req.url ?? '/', 'http://x').search}`);
      const pending: string[] = [];
      downstream.on('message', (data) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(String(data));
        else pending.push(String(data));
      });
      upstream.on('open', () => {
        for (const text of pending.splice(0)) upstream.send(text);
      });
      upstream.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'snapshot') message.runs.push({ runId: 'bad', tests: [null] });
        downstream.send(JSON.stringify(message));
      });
      downstream.on('close', () => upstream.close());
      upstream.on('close', () => downstream.close());
    });
    await new Promise((r) => relay.once('listening', r));
    const errors: string[] = [];
    const c = client({ url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}` });
    c.onError((error) => errors.push(error.message));
    await c.connect();
    await until(() => c.state.get('early') !== undefined, 10_000, 'the snapshot');
    expect(c.state.get('early')?.counts).toMatchObject({ passed: 1 });
    expect(c.state.get('bad')).toBeUndefined();
    expect(errors.some((message) => /Ignored a run of a snapshot: run\.\w+/.test(message))).toBe(true);
    expect(c.connectionState).toBe('open');
  });

  it('iterates with for await, ends the loop on close, and fails loudly on buffer overflow', async () => {
    const b = await broadcaster();
    const c = client({ url: b.url });
    await c.connect();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const event of c) {
        seen.push(event.seq);
        if (seen.length === 5) break;
      }
    })();
    const overflow = c.events('test.output', { bufferSize: 3 })[Symbol.asyncIterator]();
    for (let i = 0; i < 6; i++) b.publish(outputEvent('r', i));
    await loop;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await expect(overflow.next()).rejects.toMatchObject({ code: 'BUFFER_OVERFLOW' });
    const late = c.events()[Symbol.asyncIterator]();
    const pending = late.next();
    await c.close();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('exactly once, in order', () => {
  it('survives forced disconnects during a 10,000-event stream', async () => {
    const b = await broadcaster();
    const p = await proxy(b.port);
    const c = client({ url: p.url });
    const received: AnyEventEnvelope[] = [];
    const states: string[] = [];
    c.on('test.output', (_d, e) => received.push(e));
    c.onState((s) => states.push(s));
    await c.connect();
    let drops = 0;
    await publishMany(
      b,
      10_000,
      (i) => outputEvent('run', i),
      async (batch) => {
        if (batch % 8 !== 3) return; // 5 drops spread over the stream, each of a live connection
        await until(() => c.connectionState === 'open', 5000, 'reconnected');
        p.dropAll();
        drops++;
      },
    );
    await until(() => received.length >= 10_000, 20_000, '10,000 events');
    await new Promise((r) => setTimeout(r, 50)); // a duplicate would arrive now
    expect(received.length).toBe(10_000);
    expect(lines(received)).toEqual(range(10_000));
    expect(drops).toBe(5);
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(5);
    expect(p.connections).toBeGreaterThanOrEqual(6);
  });

  it('resumes after the broadcaster reports it as lagging (close 4008)', async () => {
    const b = await broadcaster({ subscriberQueue: { maxBytes: 64 * 1024 } });
    const p = await proxy(b.port);
    const c = client({ url: p.url });
    const received: AnyEventEnvelope[] = [];
    const notices: string[] = [];
    c.on('test.output', (_d, e) => received.push(e));
    c.onError((e) => notices.push(e.serverCode ?? e.code));
    await c.connect();
    await publishMany(b, 500, (i) => outputEvent('run', i));
    await until(() => received.length === 500, 5000, 'first 500');
    p.stall(true);
    // ~7 MB while the consumer is stalled: more than loopback socket buffers plus the 64 KiB bound.
    await publishMany(b, 3500, (i) => outputEvent('run', 500 + i, 2000));
    p.stall(false);
    await until(() => received.length >= 4000, 20_000, '4000 events after lag');
    expect(notices).toContain('SUBSCRIBER_LAGGING');
    expect(lines(received)).toEqual(range(4000));
  });
});

describe('resume.failed', () => {
  it('follows a restarted broadcaster (new epoch): state from its snapshot, its events from the start', async () => {
    let b = await broadcaster();
    const port = b.port;
    const c = client({ url: b.url, reconnect: { baseDelayMs: 20, maxDelayMs: 100, attempts: 50 } });
    const resyncs: { reason: string; previousEpoch?: string; epoch: string }[] = [];
    c.onResync((info) => resyncs.push(info));
    const after: string[] = [];
    c.on('test.result', (d) => after.push(d.testName));
    await c.connect();
    const firstEpoch = c.epoch;
    b.publish(startedEvent('old', 1));
    b.publish(resultEvent('old', 1, 'failed'));
    await until(() => after.length === 1, 5000, 'old run');
    await b.close({ timeoutMs: 200 });
    cleanup.pop();
    b = await broadcaster({ port });
    b.publish(startedEvent('new', 3));
    b.publish(resultEvent('new', 1));
    b.publish(resultEvent('new', 2, 'failed'));
    await b.flush();
    await until(() => resyncs.length === 1, 10_000, 'resync');
    expect(resyncs[0]).toMatchObject({
      reason: 'EPOCH_CHANGED',
      previousEpoch: firstEpoch,
      epoch: c.epoch,
      replayed: true,
    });
    expect(c.epoch).not.toBe(firstEpoch);
    // State is replaced: the old run is gone, the new one is whole (events before the reconnect included).
    expect(c.state.has('old')).toBe(false);
    expect(c.state.get('new')?.counts).toMatchObject({ passed: 1, failed: 1 });
    b.publish(resultEvent('new', 3));
    b.publish(completedEvent('new', 2, 1));
    await until(() => c.state.get('new')?.status === 'completed', 5000, 'new run completed');
    expect(c.state.get('new')?.counts).toMatchObject({ passed: 2, failed: 1, completed: 3 });
    // The new broadcaster's events published while the client was away are delivered too, in order.
    expect(after).toEqual(['test 1', 'test 1', 'test 2', 'test 3']);
  });

  it('rebuilds state when the history no longer holds the missed events', async () => {
    const b = await broadcaster({ history: { maxEvents: 50 } });
    const p = await proxy(b.port);
    const c = client({ url: p.url, reconnect: { baseDelayMs: 20, maxDelayMs: 50, attempts: 100 } });
    const resyncs: string[] = [];
    c.onResync((info) => resyncs.push(info.reason));
    await c.connect();
    b.publish(startedEvent('r', 300));
    await until(() => c.state.has('r'), 5000, 'run start');
    p.refuse(true);
    p.dropAll();
    for (let i = 0; i < 300; i++) b.publish(resultEvent('r', i, i % 10 === 0 ? 'failed' : 'passed'));
    await b.flush();
    p.refuse(false);
    await until(() => resyncs.length === 1, 10_000, 'resync');
    expect(resyncs).toEqual(['HISTORY_EVICTED']);
    expect(c.state.get('r')?.counts).toMatchObject({ passed: 270, failed: 30, completed: 300 });
    expect(c.seq).toBe(301);
  });
});

describe('failures', () => {
  it('a wrong API key is a TestwireAuthError after one attempt, not a retry storm', async () => {
    const b = await broadcaster({ apiKey: 'right-key' });
    const p = await proxy(b.port);
    const wrong = client({ url: p.url, apiKey: 'wrong-key', reconnect: { attempts: 5, baseDelayMs: 10 } });
    const error = await wrong.connect().catch((e) => e);
    expect(error).toMatchObject({ name: 'TestwireAuthError', code: 'AUTH_FAILED', status: 401 });
    expect(error.message).toMatch(/refused the credentials \(HTTP 401\)/);
    expect(error.message).not.toContain('wrong-key');
    // Closed for good when it rejects: no retry is scheduled.
    expect(wrong.connectionState).toBe('closed');
    expect(p.connections).toBe(1);
    // A sentinel: the next connection through the proxy is the right key's, the second one.
    const right = client({ url: p.url, apiKey: 'right-key' });
    await right.connect();
    expect(right.connectionState).toBe('open');
    expect(p.connections).toBe(2);
    expect(wrong.connectionState).toBe('closed');
  });

  it('in Node the credentials go in an Authorization header, never on the URL (WS and SSE)', async () => {
    // A real HTTP server that records what each request carried, then refuses it.
    const seen: { url: string; authorization?: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(401).end('no');
    });
    server.on('upgrade', (req, socket) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const attempt = async (options: Parameters<typeof createClient>[0]) => {
      const error = await client({ url, reconnect: false, ...options })
        .connect()
        .catch((e) => e);
      expect(error).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
      return seen.pop();
    };
    for (const transport of ['ws', 'sse'] as const) {
      const key = await attempt({ transport, apiKey: 'k-secret' });
      expect(key?.authorization).toBe('Bearer k-secret');
      expect(key?.url).not.toContain('k-secret');
      const token = await attempt({ transport, token: 'a.b.c' });
      expect(token?.authorization).toBe('Bearer a.b.c');
      expect(token?.url).not.toContain('token=');
      // one header: the key takes it, the token stays in the query
      const both = await attempt({ transport, apiKey: 'k-secret', token: 'a.b.c' });
      expect(both?.authorization).toBe('Bearer k-secret');
      expect(new URL(both?.url ?? '', url).searchParams.get('token')).toBe('a.b.c');
      const none = await client({ url, transport, reconnect: false })
        .connect()
        .catch((e) => e);
      expect(none).toMatchObject({ status: 401 });
      expect(seen.pop()?.authorization).toBeUndefined();
    }
  });

  it('connection refused: retries per policy, then a clear CONNECTION_FAILED error', async () => {
    const b = await broadcaster();
    const p = await proxy(b.port);
    p.refuse(true);
    const c = client({ url: p.url, reconnect: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    const states: string[] = [];
    c.onState((s) => states.push(s));
    const error = await c.connect().catch((e) => e);
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(error.message).toMatch(/after 4 attempts/);
    expect(p.connections).toBe(4);
    expect(states).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'closed']);
  });

  it('a port with nothing listening fails with the socket error in the message', async () => {
    const p = await startProxy(1);
    const port = p.port;
    await p.close();
    const c = client({ url: `http://127.0.0.1:${port}`, reconnect: false });
    await expect(c.connect()).rejects.toThrow(/ECONNREFUSED/);
  });
});

/**
 * On every (re)connect the client subscribes and resumes in one message. Sent apart, a live event published
 * between the two would reach the client before the replay of the events it missed (the broadcaster then
 * answers `resume.failed` ALREADY_LIVE and the client can only resync from a snapshot). The proxy forwards
 * the client's frames 25 ms apart while a timer publishes every 2 ms, so any such window is hit.
 */
describe('subscribe and resume in one message', () => {
  function publishContinuously(b: Broadcaster, make: (i: number) => Parameters<Broadcaster['publish']>[0]) {
    let n = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 3; i++) b.publish(make(n++));
    }, 2);
    cleanup.push(() => clearInterval(timer));
    return {
      count: () => n,
      stop: async () => {
        clearInterval(timer);
        await b.flush();
        return n;
      },
    };
  }

  /** Drops the live connection `times` times, each after some live traffic, waiting for the client to be back. */
  async function dropRepeatedly(c: TestwireClient, p: TcpProxy, traffic: { count(): number }, times: number) {
    for (let k = 0; k < times; k++) {
      await until(() => c.connectionState === 'open', 5000, 'in sync');
      const seen = traffic.count();
      await until(() => traffic.count() > seen + 60, 5000, 'live traffic');
      p.dropAll();
      await until(() => c.connectionState !== 'open', 5000, 'the drop noticed');
    }
    await until(() => c.connectionState === 'open', 5000, 'in sync at the end');
  }

  it('every event once, in order, with no resync, through reconnects while events are published continuously', async () => {
    const b = await broadcaster();
    const p = await proxy(b.port, { frameGapMs: 25 });
    const traffic = publishContinuously(b, (i) => outputEvent('run', i));
    const c = client({ url: p.url, events: ['test.output'] });
    const received: AnyEventEnvelope[] = [];
    const resyncs: string[] = [];
    c.on('test.output', (_d, e) => received.push(e));
    c.onResync((info) => resyncs.push(`${info.reason}: ${info.message}`));
    await c.connect();
    const first = lines(received)[0] ?? traffic.count();
    await dropRepeatedly(c, p, traffic, 3);
    const total = await traffic.stop();
    await until(() => received.length > 0 && lines(received).at(-1) === total - 1, 10_000, 'every event');
    expect(resyncs).toEqual([]);
    expect(p.connections).toBeGreaterThanOrEqual(4);
    // From the seq the broadcaster had when the client arrived: nothing missed, nothing twice.
    expect(lines(received)).toEqual(range(total).slice(first));
    expect(received.map((e) => e.seq)).toEqual([...received.map((e) => e.seq)].sort((x, y) => x - y));
  });

  it('subscriptions that do not fold into one subscribe (different filters) resume atomically and deliver exactly what they select', async () => {
    const b = await broadcaster();
    const p = await proxy(b.port, { frameGapMs: 25 });
    // Results fail every third; an output in between (subscribed by no one); a completed every 30th.
    const make = (i: number) =>
      i % 30 === 29
        ? completedEvent('run', 1, 0)
        : i % 2 === 1
          ? outputEvent('run', i)
          : resultEvent('run', i, i % 3 === 0 ? 'failed' : 'passed');
    const selected = (i: number) => i % 30 === 29 || (i % 2 === 0 && i % 3 === 0);
    const traffic = publishContinuously(b, make);
    const c = client({ url: p.url, events: ['test.result'], filters: { status: 'failed' } });
    const received: AnyEventEnvelope[] = [];
    const resyncs: string[] = [];
    c.on('*', (_d, e) => received.push(e));
    c.onResync((info) => resyncs.push(info.reason));
    await c.connect();
    await c.subscribe({ events: ['test.completed'] });
    await until(() => received.some((e) => e.type === 'test.completed'), 5000, 'a completed event');
    // Both subscriptions hold from the first completed event on (before it, only the first one did).
    const from = received.find((e) => e.type === 'test.completed')?.seq as number;
    await dropRepeatedly(c, p, traffic, 2);
    const total = await traffic.stop();
    const lastSelected = range(total).filter(selected).at(-1) as number;
    // seq = index + 1: the broadcaster's only events are the traffic's.
    await until(() => received.at(-1)?.seq === lastSelected + 1, 10_000, 'every selected event');
    expect(resyncs).toEqual([]);
    const expected = range(total)
      .filter((i) => selected(i) && i + 1 >= from)
      .map((i) => i + 1);
    expect(received.filter((e) => e.seq >= from).map((e) => e.seq)).toEqual(expected);
    const before = received.filter((e) => e.seq < from);
    expect(before.every((e) => e.type === 'test.result' && e.data.status === 'failed')).toBe(true);
    expect(before.map((e) => e.seq)).toEqual([...before.map((e) => e.seq)].sort((x, y) => x - y));
  });
});
