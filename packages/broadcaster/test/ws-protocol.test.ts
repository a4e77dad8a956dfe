/** WebSocket protocol: subscription matching, unsubscribe, ping/pong, errors, abuse limits, heartbeat. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client, type Msg, metrics, testOutput, testResult, testStarted, waitFor } from './helpers.js';

let broadcaster: Broadcaster | undefined;
const clients: Client[] = [];

async function start(options: Parameters<typeof startBroadcaster>[0] = {}): Promise<Broadcaster> {
  broadcaster = await startBroadcaster({ port: 0, ...options });
  return broadcaster;
}
async function connect(query = ''): Promise<Client> {
  const client = await Client.open(`${broadcaster?.wsUrl}${query}`);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await broadcaster?.close();
  broadcaster = undefined;
});

/** Publishes a mixed batch: 10 results (every 5th failed), 3 outputs, 2 metrics, 1 start. */
async function publishMix(b: Broadcaster): Promise<void> {
  b.publish(testStarted());
  for (let i = 1; i <= 10; i++) b.publish(testResult(i));
  for (let i = 0; i < 3; i++) b.publish(testOutput(`line ${i}`));
  b.publish(metrics(50, 10));
  b.publish(metrics(500, 90));
  await b.flush();
}

describe('connection', () => {
  it('sends connection.established first, with epoch, seq and the server version', async () => {
    const b = await start();
    b.publish(testStarted());
    await b.flush();
    const ws = new WebSocket(b.wsUrl);
    const first = await new Promise<Record<string, unknown>>((resolve) =>
      ws.once('message', (d) => resolve(JSON.parse(String(d)))),
    );
    ws.terminate();
    expect(first).toMatchObject({
      type: 'connection.established',
      server: 'testwire',
      protocol: 1,
      epoch: b.epoch,
      seq: 1,
    });
    expect(first.runs).toEqual([{ runId: 'r_test', framework: 'vitest', project: 'web', status: 'running' }]);
  });
});

describe('subscriptions', () => {
  it('events, patterns and filters deliver exactly the matching events', async () => {
    const b = await start();
    const exact = await connect();
    const pattern = await connect();
    const filtered = await connect();
    const threshold = await connect();
    const query = await connect('?events=test.output');
    await exact.request({ type: 'subscribe', events: ['test.result'] }, 'subscribed');
    await pattern.request({ type: 'subscribe', patterns: ['performance.*'] }, 'subscribed');
    await filtered.request(
      { type: 'subscribe', events: ['test.result'], filters: { status: 'failed' } },
      'subscribed',
    );
    await threshold.request(
      { type: 'subscribe', events: ['performance.metrics'], filters: { memoryThreshold: 100 } },
      'subscribed',
    );
    await publishMix(b);
    const done = (c: Client, n: number) => waitFor(() => c.events().length >= n, `${n} events`);
    await Promise.all([
      done(exact, 10),
      done(pattern, 2),
      done(filtered, 2),
      done(threshold, 1),
      done(query, 3),
    ]);
    // Nothing else may arrive: a pong is queued behind every event the flush sent each of them.
    await Promise.all(
      [exact, pattern, filtered, threshold, query].map((c) => c.request({ type: 'ping' }, 'pong')),
    );
    expect(exact.events().map((e) => e.data.id)).toEqual([
      't1',
      't2',
      't3',
      't4',
      't5',
      't6',
      't7',
      't8',
      't9',
      't10',
    ]);
    expect(pattern.events().map((e) => e.data.memory.heapUsed)).toEqual([50, 500]);
    expect(filtered.events().map((e) => e.data.id)).toEqual(['t5', 't10']);
    expect(threshold.events().map((e) => e.data.memory.heapUsed)).toEqual([500]);
    expect(query.events().map((e) => e.data.output)).toEqual(['line 0', 'line 1', 'line 2']);
    // Envelopes carry seq in publish order.
    const seqs = exact.events().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b2) => a - b2));
    expect(exact.events()[0]).toMatchObject({ type: 'test.result', runId: 'r_test', seq: 2 });
    expect(typeof exact.events()[0]?.timestamp).toBe('string');
  });

  it('a wildcard query subscription is described in connection.established', async () => {
    const b = await start();
    const ws = new WebSocket(`${b.wsUrl}?events=*&status=failed`);
    const first = await new Promise<Record<string, any>>((resolve) =>
      ws.once('message', (d) => resolve(JSON.parse(String(d)))),
    );
    ws.terminate();
    expect(first.subscription.entries).toEqual([
      { events: [], patterns: ['*'], filters: { status: 'failed' } },
    ]);
  });

  it('unsubscribe stops delivery of those types only', async () => {
    const b = await start();
    const c = await connect();
    await c.request({ type: 'subscribe', patterns: ['test.*'] }, 'subscribed');
    const reply = await c.request({ type: 'unsubscribe', events: ['test.output'] }, 'unsubscribed');
    expect(reply.excluded).toEqual(['test.output']);
    await publishMix(b);
    await waitFor(() => c.events().length >= 11, '11 events');
    // A pong is queued behind every event the flush sent this subscriber.
    await c.request({ type: 'ping' }, 'pong');
    expect(c.events().some((e) => e.type === 'test.output')).toBe(false);
    expect(c.events()).toHaveLength(11); // started + 10 results
    await c.request({ type: 'unsubscribe', events: ['*'] }, 'unsubscribed');
    b.publish(testResult(99));
    await b.flush();
    await c.request({ type: 'ping' }, 'pong');
    expect(c.events()).toHaveLength(11);
  });

  it('an invalid subscription is an INVALID_SUBSCRIPTION error and changes nothing', async () => {
    await start();
    const c = await connect();
    const error = await c.request({ type: 'subscribe', events: ['not a type!'] }, 'error');
    expect(error.code).toBe('INVALID_SUBSCRIPTION');
    const sub = await c.request({ type: 'subscribe', events: ['test.result'] }, 'subscribed');
    expect(sub.events).toEqual(['test.result']);
  });

  it('one subscription cannot grow past its bound: new event types are refused with why, and it still works', async () => {
    const b = await start();
    const c = await connect();
    let next = 0;
    const fresh = (n: number) => Array.from({ length: n }, () => `x${(next++).toString(36)}.y`);
    // 255 new types over a few messages: merged into one entry, each reply describes all of them.
    for (let i = 0; i < 5; i++) await c.request({ type: 'subscribe', events: fresh(51) }, 'subscribed');
    const full = await c.request({ type: 'subscribe', events: ['test.result'] }, 'subscribed');
    expect(full.events).toHaveLength(256);
    const error = await c.request({ type: 'subscribe', events: fresh(1) }, 'error');
    expect(error).toMatchObject({
      code: 'INVALID_SUBSCRIPTION',
      message: expect.stringContaining('too many event types and patterns on one connection (max 256'),
    });
    // Unchanged, and still delivering.
    b.publish(testResult(1));
    await b.flush();
    await waitFor(() => c.events().some((e) => e.data.id === 't1'), 'the subscribed event');
    const again = await c.request({ type: 'unsubscribe', events: ['x0.y'] }, 'unsubscribed');
    expect(again.events).toHaveLength(255);
  });

  it('an invalid query subscription is a 400 before the upgrade', async () => {
    const b = await start();
    const ws = new WebSocket(`${b.wsUrl}?events=bad!type`);
    const status = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(400);
  });
});

describe('ping, errors and limits', () => {
  it('answers JSON ping and bare-text ping with pong', async () => {
    await start();
    const c = await connect();
    const pong = await c.request({ type: 'ping' }, 'pong');
    expect(typeof pong.timestamp).toBe('string');
    const before = c.messages.length;
    c.send('ping');
    const bare = await c.next((m) => m.type === 'pong', 2000, before);
    expect(bare.id).toBeUndefined();
  });

  it('malformed JSON and unknown types get an error and the connection keeps working', async () => {
    const b = await start();
    const c = await connect();
    c.send('{not json');
    expect((await c.next((m) => m.type === 'error')).code).toBe('INVALID_JSON');
    const unknown = await c.request({ type: 'dance' }, 'error');
    expect(unknown.code).toBe('UNKNOWN_MESSAGE_TYPE');
    const publish = await c.request({ type: 'publish', events: [] }, 'error');
    expect(publish.code).toBe('INVALID_MESSAGE');
    c.send('[1,2]');
    await c.next((m) => m.type === 'error' && m.code === 'INVALID_MESSAGE');
    await c.request({ type: 'subscribe', events: ['test.result'] }, 'subscribed');
    b.publish(testResult(1));
    await b.flush();
    const event = await c.next((m) => m.type === 'test.result');
    expect(event.data.id).toBe('t1');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 1003 on a binary frame', async () => {
    await start();
    const c = await connect();
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await c.closed).toBe(1003);
  });

  it('closes with 1009 on a frame over maxPayload', async () => {
    await start({ maxPayload: 1024 });
    const c = await connect();
    c.send({ type: 'subscribe', events: ['test.result'], pad: 'x'.repeat(2000) });
    expect(await c.closed).toBe(1009);
  });

  it('rate-limits with RATE_LIMITED, then closes with 1008 on repeated violations', async () => {
    await start({ rateLimit: { messagesPerSecond: 1, burst: 5 } });
    const c = await connect();
    for (let i = 0; i < 40; i++) c.send({ type: 'ping', id: i });
    expect(await c.closed).toBe(1008);
    const pongs = c.messages.filter((m) => m.type === 'pong');
    const limited = c.messages.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    expect(pongs.length).toBeGreaterThanOrEqual(5);
    expect(pongs.length).toBeLessThan(8);
    expect(limited.length).toBeGreaterThan(0);
  });

  it('closes with 1008 after more than 20 malformed messages in 10 s', async () => {
    await start();
    const c = await connect();
    for (let i = 0; i < 25; i++) c.send('garbage');
    expect(await c.closed).toBe(1008);
    expect(c.messages.filter((m) => m.type === 'error' && m.code === 'INVALID_JSON')).toHaveLength(21);
  });
});

describe('heartbeat', () => {
  it('pings peers; one that does not pong is told it lags (SUBSCRIBER_LAGGING, close 4008)', async () => {
    const b = await start({ heartbeatMs: 100 });
    const live = await connect();
    let pings = 0;
    live.ws.on('ping', () => pings++);
    const silent = new Client(new WebSocket(b.wsUrl, { autoPong: false } as WebSocket.ClientOptions));
    clients.push(silent);
    await silent.opened;
    const started = Date.now();
    const code = await silent.closed;
    expect(code).toBe(4008);
    const last = silent.messages.at(-1) as Msg;
    expect(last.data.error.code).toBe('SUBSCRIBER_LAGGING');
    expect(last.data.error.message).toMatch(/no answer to a heartbeat ping/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
  });
});
