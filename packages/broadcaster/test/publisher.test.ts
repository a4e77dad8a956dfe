/** Publisher role in one process: join, batches and acks, ingress validation, flush, takeover, bounded queue. */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type Broadcaster,
  getBroadcaster,
  PUBLISHER_HEADER,
  resetBroadcasterSingleton,
  secretPath,
  startBroadcaster,
} from '../src/index.js';
import { readSecret } from '../src/join/secret.js';
import {
  Client,
  freePort,
  getJson,
  type Msg,
  RUN,
  recordingLogger,
  startCuttingProxy,
  startHoldingProxy,
  testCompleted,
  testResult,
  testStarted,
  waitFor,
} from './helpers.js';

const open: Broadcaster[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of open.splice(0).reverse()) await b.close();
  resetBroadcasterSingleton();
});

/** A publisher connection of our own (the secret header), and every reply it gets. */
async function publisherSocket(
  owner: Broadcaster,
  publisherId: string,
): Promise<{ ws: WebSocket; replies: Msg[] }> {
  const secret = readSecret(owner.port).secret ?? '';
  const ws = new WebSocket(`${owner.wsUrl}?role=publisher&publisherId=${publisherId}`, {
    headers: { [PUBLISHER_HEADER]: secret },
  });
  const replies: Msg[] = [];
  ws.on('message', (d) => replies.push(JSON.parse(String(d))));
  await waitFor(() => replies.find((m) => m.type === 'connection.established'), 'established');
  return { ws, replies };
}

describe('publisher ingress', () => {
  it('validates each event of a batch, acks with the seq and lists the rejected ones', async () => {
    const owner = await startBroadcaster({ port: 0 });
    open.push(owner);
    const sub = await Client.open(`${owner.wsUrl}?events=*`);
    clients.push(sub);
    const secret = readSecret(owner.port).secret ?? '';
    const ws = new WebSocket(`${owner.wsUrl}?role=publisher`, { headers: { [PUBLISHER_HEADER]: secret } });
    const replies: Msg[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d))));
    await waitFor(() => replies.find((m) => m.type === 'connection.established'), 'established');
    ws.send(
      JSON.stringify({
        type: 'publish',
        id: 1,
        events: [
          testResult(1),
          { type: 'test.nope', runId: 'r', data: {} },
          { ...testResult(2), data: { id: 'x' } },
          testResult(3),
        ],
      }),
    );
    const ack = await waitFor(() => replies.find((m) => m.type === 'published'), 'ack');
    ws.terminate();
    expect(ack.id).toBe(1);
    expect(ack.seq).toBe(2);
    expect(ack.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2]);
    expect(ack.rejected[0].error).toContain('unknown event type');
    await waitFor(() => sub.events().length === 2, 'two accepted events');
    expect(sub.events().map((e) => e.data.id)).toEqual(['t1', 't3']);
  });

  it('an event laid out one a line keeps its text only in the envelope form: a seq or a field of its own is not passed on', async () => {
    const owner = await startBroadcaster({ port: 0 });
    open.push(owner);
    const sub = await Client.open(`${owner.wsUrl}?events=*`);
    clients.push(sub);
    const { ws, replies } = await publisherSocket(owner, 'pub-lines-1');
    const timestamp = '2026-11-21T10:30:16.000Z';
    const lines = [
      JSON.stringify({ type: 'test.result', timestamp, runId: 'r', data: testResult(1).data }),
      JSON.stringify({ type: 'test.result', timestamp, runId: 'r', data: testResult(2).data, seq: 99 }),
      JSON.stringify({ type: 'test.result', timestamp, seq: 98, runId: 'r', data: testResult(3).data }),
      JSON.stringify({ type: 'test.result', timestamp, runId: 'r', data: testResult(4).data, admin: true }),
    ];
    ws.send(`{"type":"publish","id":1,"events":[\n${lines.join(',\n')}\n]}`);
    await waitFor(() => replies.find((m) => m.type === 'published'), 'ack');
    ws.terminate();
    await waitFor(() => sub.events().length === 4, 'four events');
    expect(sub.events().map((e) => [e.seq, e.data.id, Object.keys(e).join()])).toEqual(
      [1, 2, 3, 4].map((i) => [i, `t${i}`, 'type,timestamp,seq,runId,data']),
    );
  });
  it('refuses a malformed run of a runs message with why, merges the others, and loses nothing already stored', async () => {
    const owner = await startBroadcaster({ port: 0 });
    open.push(owner);
    const sub = await Client.open(`${owner.wsUrl}?events=*`);
    clients.push(sub);
    const { ws, replies } = await publisherSocket(owner, 'pub-runs-1');
    ws.send(
      JSON.stringify({ type: 'publish', id: 1, events: [testStarted(), testResult(1), testResult(2)] }),
    );
    await waitFor(() => replies.find((m) => m.type === 'published' && m.id === 1), 'the events acked');
    const before = await sub.request({ type: 'snapshot' }, 'snapshot');
    const stored = before.runs.find((r: Msg) => r.runId === RUN);
    const { testFiles, ...withoutFiles } = { ...stored, runId: 'r_no_files' };
    ws.send(
      JSON.stringify({
        type: 'runs',
        id: 2,
        runs: [
          withoutFiles,
          { ...stored, runId: 'r_null_test', tests: [null] },
          { ...stored, runId: 'r_fine' },
        ],
      }),
    );
    const ack = await waitFor(
      () => replies.find((m) => m.type === 'published' && m.id === 2),
      'the runs acked',
    );
    expect(ack.rejected).toEqual([
      { index: 0, error: 'run.testFiles: required' },
      { index: 1, error: 'run.tests[0]: expected object, got null' },
    ]);
    // The owner is still up and took the rest: a later event arrives, and the snapshot has both good runs.
    ws.send(JSON.stringify({ type: 'publish', id: 3, events: [testResult(3)] }));
    await waitFor(() => sub.events().some((e) => e.data.id === 't3'), 'an event published after the runs');
    const after = await sub.request({ type: 'snapshot' }, 'snapshot');
    ws.terminate();
    expect(after.runs.map((r: Msg) => r.runId).sort()).toEqual(['r_fine', RUN]);
    expect(after.runs.find((r: Msg) => r.runId === RUN).tests.map((t: Msg) => t.id)).toEqual([
      't1',
      't2',
      't3',
    ]);
  });
});

describe('publisher batches are stored once', () => {
  it('a batch re-sent by the same publisherId on a new connection is acked again, not ingested twice', async () => {
    const owner = await startBroadcaster({ port: 0 });
    open.push(owner);
    const sub = await Client.open(`${owner.wsUrl}?events=*`);
    clients.push(sub);
    const batch = (id: number, from: number) =>
      JSON.stringify({
        type: 'publish',
        id,
        events: [testResult(from), { type: 'nope' }, testResult(from + 1)],
      });

    const first = await publisherSocket(owner, 'pub-aaaaaaaa');
    first.ws.send(batch(1, 1));
    const ack = await waitFor(() => first.replies.find((m) => m.type === 'published'), 'ack');
    first.ws.terminate(); // as if the ack had been lost with the connection

    const second = await publisherSocket(owner, 'pub-aaaaaaaa');
    second.ws.send(batch(1, 1));
    second.ws.send(batch(2, 3));
    await waitFor(() => second.replies.filter((m) => m.type === 'published').length === 2, 'two acks');
    const [again, next] = second.replies.filter((m) => m.type === 'published');
    expect(again).toEqual(ack); // the same ack, rejected list included
    expect(next).toMatchObject({ id: 2, seq: 4 });
    // Another publisher may use the same batch ids.
    const other = await publisherSocket(owner, 'pub-bbbbbbbb');
    other.ws.send(batch(1, 5));
    await waitFor(() => other.replies.find((m) => m.type === 'published'), 'ack of the other publisher');
    second.ws.terminate();
    other.ws.terminate();
    await waitFor(() => sub.events().length === 6, 'six events');
    await new Promise((r) => setTimeout(r, 20));
    expect(sub.events().map((e) => e.data.id)).toEqual(['t1', 't2', 't3', 't4', 't5', 't6']);
  });

  it('a publisher whose connection drops between the owner storing a batch and the ack re-sends it; it appears once', async () => {
    const owner = await startBroadcaster({ port: 0, apiKey: 'k', publishKey: 'pk' });
    open.push(owner);
    const sub = await Client.open(`${owner.wsUrl}?events=*&apiKey=k`);
    clients.push(sub);
    // Joining through the proxy: the owner's first ack never reaches the publisher, its socket is cut.
    const proxy = await startCuttingProxy(owner.port, (chunk) => chunk.includes('"type":"published"'));
    // A secret left on the proxy's port by an owner killed earlier (ports are reused) would make the publisher
    // ask the proxy's far end to prove it holds that secret, and rightly refuse it: these tests are about the
    // publish key.
    rmSync(secretPath(proxy.port), { force: true });
    const logger = recordingLogger();
    const joined = await getBroadcaster({ url: `http://127.0.0.1:${proxy.port}`, publishKey: 'pk', logger });
    open.push(joined);
    expect(joined.role).toBe('publisher');
    joined.publish(testStarted());
    for (let i = 1; i <= 20; i++) joined.publish(testResult(i));
    // A generous bound (a loaded CI machine): the flush ends when the re-sent batch is acked.
    expect((await joined.flush(60_000)).delivered).toBe(true);
    await proxy.close();
    expect(proxy.cuts()).toBe(1);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2); // it came back through the proxy
    const status = await getJson(`${owner.url}/status?apiKey=k`);
    expect(status.seq).toBe(21);
    await waitFor(() => sub.events().length >= 21, '21 events');
    expect(sub.events().map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(sub.events().filter((e) => e.type === 'test.started')).toHaveLength(1);
    expect(joined.dropped).toBe(0);
  });
});

describe('getBroadcaster', () => {
  it('returns one instance per process, and a new one after close()', async () => {
    const [a, b] = await Promise.all([getBroadcaster({ port: 0 }), getBroadcaster({ port: 0 })]);
    expect(a).toBe(b);
    expect(a.role).toBe('owner');
    await a.close();
    const c = await getBroadcaster({ port: 0 });
    open.push(c);
    expect(c).not.toBe(a);
    expect(c.epoch).not.toBe(a.epoch);
  });
});

describe('getBroadcaster as publisher', () => {
  it('joins an owner on the same port; flush() resolves once the owner has every event', async () => {
    const port = await freePort();
    const owner = await startBroadcaster({ port });
    open.push(owner);
    const joined = await getBroadcaster({ port });
    open.push(joined);
    expect(joined.role).toBe('publisher');
    expect(joined.url).toBe(owner.url);
    expect(joined.epoch).toBe(owner.epoch);
    expect(await getBroadcaster({ port })).toBe(joined);
    joined.publish(testStarted());
    for (let i = 1; i <= 2500; i++) joined.publish(testResult(i));
    await joined.flush();
    const status = await getJson(`${owner.url}/status`);
    expect(status.seq).toBe(2501);
    expect(status.publishers).toBe(1);
  });

  it('gathers events published one per tick into a few publish messages; flush() sends at once', async () => {
    // A stand-in owner that records every publish message (with a zero mask the payload still arrives intact).
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const batches: { events: { data: { id: string } }[] }[] = [];
    server.on('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'connection.established', epoch: 'e1', seq: 0, runs: [] }));
      ws.on('message', (raw) => {
        const message = JSON.parse(String(raw));
        if (message.type !== 'publish') return;
        batches.push(message);
        ws.send(JSON.stringify({ type: 'published', id: message.id, seq: batches.length }));
      });
    });
    try {
      const port = (server.address() as { port: number }).port;
      // The stand-in is no testwire owner: a secret file a killed owner of this port left in an older format
      // (without its pid, so never swept) would make the joiner ask it for a proof it cannot give.
      rmSync(secretPath(port), { force: true });
      const joined = await getBroadcaster({ url: `http://127.0.0.1:${port}`, logger: recordingLogger() });
      open.push(joined);
      // One test per macrotask, as mocha and jest (in band) deliver them.
      for (let i = 1; i <= 300; i++) {
        joined.publish(testResult(i));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await joined.flush(2000);
      const ids = batches.flatMap((batch) => batch.events.map((event) => (event.data as { id?: string }).id));
      expect(ids).toEqual(
        Array.from({ length: 300 }, (_, i) => (testResult(i + 1).data as { id?: string }).id),
      );
      // Sent every tick this was 300 messages (and 300 acks).
      expect(batches.length).toBeLessThan(30);

      // Nothing waits for the batching delay once flush() is called.
      const before = batches.length;
      joined.publish(testResult(301));
      await joined.flush(2000);
      expect(batches.length).toBe(before + 1);
    } finally {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('takes over when the owner closes, seeded with its open runs, and keeps publishing', async () => {
    const port = await freePort();
    const owner = await startBroadcaster({ port });
    const logger = recordingLogger();
    const joined = await getBroadcaster({ port, logger });
    open.push(joined);
    joined.publish(testStarted('r_open', 10));
    for (let i = 1; i <= 5; i++) joined.publish(testResult(i, {}, 'r_open'));
    joined.publish(testStarted('r_done', 1));
    joined.publish(testResult(99, {}, 'r_done'));
    joined.publish(testCompleted(1, 0, 'r_done'));
    await joined.flush();
    const oldEpoch = owner.epoch;
    await owner.close();
    await waitFor(() => joined.role === 'owner', 'the takeover', 3000);
    expect(joined.port).toBe(port);
    expect(joined.epoch).not.toBe(oldEpoch);
    // A subscriber back on the new owner before the rest of the run: the flush has it written out at once.
    const sub = await Client.open(`${joined.wsUrl}?events=*`);
    clients.push(sub);
    for (let i = 6; i <= 10; i++) joined.publish(testResult(i, {}, 'r_open'));
    const started = Date.now();
    expect(await joined.flush()).toEqual({ delivered: true, pending: {}, dropped: {} });
    expect(Date.now() - started).toBeLessThan(1000);
    const snapshot = await sub.request({ type: 'snapshot' }, 'snapshot');
    // The open run is complete (5 seeded + 5 new). The completed run is there as completed: its events were
    // among the recently acked ones, re-published (with their origin) for subscribers that had not read them.
    expect(snapshot.runs.map((r: Msg) => [r.runId, r.status]).sort()).toEqual([
      ['r_done', 'completed'],
      ['r_open', 'running'],
    ]);
    const openRun = snapshot.runs.find((r: Msg) => r.runId === 'r_open');
    expect(openRun.tests.map((t: Msg) => t.id)).toEqual([
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
    expect(openRun.totalTests).toBe(10);
  });

  it("a publisher that takes the port over keeps the owner's access policy: its API key, publish key, JWT requirement, Origins", async () => {
    const port = await freePort();
    const owner = await startBroadcaster({
      port,
      apiKey: 'read-key',
      publishKey: 'pub-key',
      jwtSecret: 'jwt-secret-of-the-owner',
      allowedOrigins: ['http://127.0.0.1:7466'],
    });
    // The joiner itself is configured with nothing: it joins through the secret file.
    const joined = await getBroadcaster({ port, logger: recordingLogger() });
    open.push(joined);
    joined.publish(testStarted('r_policy', 1));
    await joined.flush();
    await owner.close();
    await waitFor(() => joined.role === 'owner', 'the takeover');
    const status = (headers: Record<string, string> = {}, query = '') =>
      fetch(`http://127.0.0.1:${port}/status${query}`, { headers });
    expect((await status()).status).toBe(401);
    expect((await status({}, '?apiKey=wrong')).status).toBe(401);
    expect((await status({}, '?apiKey=read-key')).status).toBe(200);
    expect((await status({ authorization: 'Bearer pub-key' })).status).toBe(200);
    // A JWT cannot be verified without the owner's secret: refused, saying why.
    const token = await new (await import('jose')).SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('jwt-secret-of-the-owner'));
    const refused = await status({}, `?token=${token}`);
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toContain('took the endpoint over');
    // The Origin the owner allowed is still allowed (with a key).
    const cors = await status({ origin: 'http://127.0.0.1:7466' }, '?apiKey=read-key');
    expect(cors.status).toBe(200);
    expect(cors.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:7466');
  });

  it('a process with no key that binds the port after the owner died gets nothing of a publisher that held its policy', async () => {
    // The owner goes; a process configured with no key binds the port before the publisher retries: the
    // owner stops listening at once (its publishers are told after), the publisher waits a backoff first.
    // On a loaded machine the publisher's retry can still bind first: then the scene is set again on another
    // port (the test's subject is what happens once the keyless process holds it).
    const scene = async () => {
      const port = await freePort();
      const owner = await startBroadcaster({ port, apiKey: 'read-key' });
      const logger = recordingLogger();
      const joined = await getBroadcaster({ port, logger });
      open.push(joined);
      joined.publish(testStarted('r_guarded', 1));
      await joined.flush();
      const closing = owner.close();
      let keyless: Broadcaster | undefined;
      for (let i = 0; !keyless && i < 500; i++) {
        keyless = await startBroadcaster({ port }).catch(() => undefined);
        if (!keyless) await new Promise((r) => setTimeout(r, 2));
      }
      await closing;
      if (keyless) open.push(keyless);
      return keyless && joined.role !== 'owner' ? { port, logger, joined } : undefined;
    };
    let set: Awaited<ReturnType<typeof scene>>;
    for (let tries = 0; !set && tries < 5; tries++) set = await scene();
    if (!set) throw new Error('the publisher took the port first, 5 times: no keyless owner');
    const { port, logger, joined } = set;

    // The publisher owns a port of its own, with the policy it held.
    await waitFor(() => joined.role === 'owner', 'the publisher owning a port of its own', 30_000);
    expect(joined.port).not.toBe(port);
    expect(logger.warnings.join('\n')).toContain('lets in more than the one this process published to');
    const status = (at: number, query = '') => fetch(`http://127.0.0.1:${at}/status${query}`);
    expect((await status(joined.port)).status).toBe(401);
    const guarded = await status(joined.port, '?apiKey=read-key');
    expect(guarded.status).toBe(200);
    expect(JSON.stringify(await guarded.json())).toContain('r_guarded');
    // The keyless owner was sent nothing: its runs do not include the publisher's.
    const keylessStatus = await status(port);
    expect(keylessStatus.status).toBe(200);
    expect(JSON.stringify(await keylessStatus.json())).not.toContain('r_guarded');
  });

  it('tells the access policy only to publishers that proved the secret, not to one with a publish key alone', async () => {
    const owner = await startBroadcaster({ port: 0, apiKey: 'read-key', publishKey: 'pub-key' });
    open.push(owner);
    const bySecret = await publisherSocket(owner, 'p_secret');
    const established = (replies: Msg[]) => replies.find((m) => m.type === 'connection.established');
    expect(established(bySecret.replies)?.policy?.apiKeyDigests).toHaveLength(1);
    bySecret.ws.close();
    const byKey = new WebSocket(`${owner.wsUrl}?role=publisher&publisherId=p_key`, {
      headers: { authorization: 'Bearer pub-key' },
    });
    const replies: Msg[] = [];
    byKey.on('message', (d) => replies.push(JSON.parse(String(d))));
    await waitFor(() => established(replies), 'established');
    expect(established(replies)).not.toHaveProperty('policy');
    byKey.close();
  });

  it('joins TESTWIRE_URL-style endpoints; while unreachable it queues within a bound and drops + counts beyond it', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const joined = await getBroadcaster({
      url: `https://127.0.0.1:${port}`,
      logger,
      publisherQueue: { maxEvents: 1000 },
    });
    open.push(joined);
    expect(joined.role).toBe('publisher');
    expect(logger.warnings[0]).toContain('cannot reach');
    for (let i = 0; i < 1010; i++) joined.publish(testResult(i));
    // Run boundaries go beyond the bound: a run that never ends is worse than a gap.
    joined.publish(testCompleted(1000, 0));
    expect(joined.dropped).toBe(10);
    expect(logger.warnings.filter((w) => w.includes('dropping'))).toHaveLength(1);
    expect(logger.warnings.find((w) => w.includes('dropping'))).toContain('the queue to');
    const started = Date.now();
    const result = await joined.flush(200);
    expect(Date.now() - started).toBeLessThan(1000);
    // What is missing, by run and type: the reporter names it.
    expect(result).toEqual({
      delivered: false,
      pending: { r_test: { 'test.result': 1000, 'test.completed': 1 } },
      dropped: { r_test: { 'test.result': 10 } },
    });
  });

  it('flush() names what the owner has not acknowledged at its bound; once it answers, all of it arrives once', async () => {
    // Through the proxy the publisher cannot prove it is the owner's OS user (the secret file is per port):
    // it authenticates with its publish key instead (a read-only API key may not publish).
    const owner = await startBroadcaster({ port: 0, apiKey: 'k', publishKey: 'pk' });
    open.push(owner);
    const proxy = await startHoldingProxy(owner.port);
    rmSync(secretPath(proxy.port), { force: true }); // as above: no stale secret on the proxy's port
    const sub = await Client.open(`${owner.wsUrl}?events=*&apiKey=k`);
    clients.push(sub);
    const joined = await getBroadcaster({
      url: `http://127.0.0.1:${proxy.port}`,
      publishKey: 'pk',
      logger: recordingLogger(),
    });
    open.push(joined);
    try {
      joined.publish(testStarted());
      expect(await joined.flush(5000)).toEqual({ delivered: true, pending: {}, dropped: {} });
      // The owner takes nothing in and acks nothing (a starved or stopped process).
      proxy.hold();
      for (let i = 0; i < 5; i++) joined.publish(testResult(i));
      joined.publish(testCompleted(4, 1));
      const started = Date.now();
      const result = await joined.flush(150);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(result).toEqual({
        delivered: false,
        pending: { r_test: { 'test.result': 5, 'test.completed': 1 } },
        dropped: {},
      });
      proxy.release();
      expect(await joined.flush(10_000)).toMatchObject({ delivered: true, pending: {} });
      await waitFor(() => sub.events().some((e) => e.type === 'test.completed'), 'test.completed', 10_000);
      expect(sub.events().map((e) => e.type)).toEqual([
        'test.started',
        ...Array(5).fill('test.result'),
        'test.completed',
      ]);
    } finally {
      await proxy.close();
    }
  });
});
