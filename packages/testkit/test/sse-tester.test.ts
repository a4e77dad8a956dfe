/** SSETester (Node mode) against a plain http SSE server written here and against the testwire broadcaster. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SSETester } from '../src/index.js';

let server: http.Server;
let base: string;
const requests: { path: string; lastEventId?: string; auth?: string }[] = [];
const testers: SSETester[] = [];
const tester = (options?: ConstructorParameters<typeof SSETester>[0]) => {
  const t = new SSETester(options ?? { timeout: 1000 });
  testers.push(t);
  return t;
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({
      path,
      lastEventId: req.headers['last-event-id'] as string | undefined,
      auth: req.headers.authorization,
    });
    if (path === '/hang') return; // never answers
    if (path === '/auth' && req.headers.authorization !== 'Bearer good') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
      return;
    }
    if (path === '/not-sse') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (path === '/drop') {
      // Sends one event, then cuts the connection; on reconnect, continues after Last-Event-ID.
      const last = Number(req.headers['last-event-id'] ?? 0);
      res.write(`retry: 30\nid: ${last + 1}\nevent: step\ndata: {"n":${last + 1}}\n\n`);
      if (last + 1 < 3) setTimeout(() => res.destroy(), 20);
      return;
    }
    // CRLF line ends, a comment, multi-line data, a split write across chunks, a default-type event.
    res.write(': hello\r\n\r\n');
    res.write(
      'id: 1\r\nevent: training_progress\r\ndata: {"type":"training_progress",\r\ndata: "status":"running","progress":5}\r\n\r\n',
    );
    res.write('event: risk_al');
    setTimeout(() => {
      res.write('ert\ndata: {"type":"risk_alert","level":"critical","nested":{"a":1,"b":[1,2]}}\n\n');
      res.write('data: plain text line\n\n');
    }, 30);
    if (path === '/slow') setTimeout(() => res.write('event: late\ndata: {"type":"late"}\n\n'), 200);
    if (path === '/end') setTimeout(() => res.end(), 60);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const t of testers.splice(0)) await t.disconnect();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('SSETester (plain http server)', () => {
  it('parses events (CRLF, multi-line data, split chunks, comments) and waits for them', async () => {
    const sse = tester();
    await sse.connectSSE(`${base}/stream`);
    expect(sse.isConnectionActive()).toBe(true);
    const progress = await sse.waitForEvent('training_progress');
    expect(progress).toMatchObject({
      event: 'training_progress',
      id: '1',
      parsedData: { type: 'training_progress', status: 'running', progress: 5 },
    });
    expect(progress.data).toBe('{"type":"training_progress",\n"status":"running","progress":5}');
    const alert = await sse.waitForData((e) => (e.parsedData as { type?: string })?.type === 'risk_alert');
    expect(alert).toMatchObject({ type: 'risk_alert', level: 'critical' });
    const plain = await sse.waitForEvent('message');
    expect(plain.data).toBe('plain text line');
    expect(plain.parsedData).toBeUndefined();
    expect(sse.getEvents().map((e) => e.event)).toEqual(['training_progress', 'risk_alert', 'message']);
    expect(sse.getEventsByType('risk_alert')).toHaveLength(1);
    await sse.assertNoError();
  });

  it('assertDataMatches: RegExp on raw data, object as deep partial match', async () => {
    const sse = tester();
    await sse.connectSSE(`${base}/stream`);
    await sse.assertDataMatches(/training|progress/);
    await sse.assertDataMatches({ type: 'training_progress', status: 'running' });
    await sse.assertDataMatches({ nested: { b: [1, 2] } });
    await expect(sse.assertDataMatches({ type: 'training_progress', status: 'done' }, 150)).rejects.toThrow(
      /No event data matched \{"type":"training_progress","status":"done"\} within 150ms/,
    );
    await expect(sse.assertDataMatches({ nested: { b: [1] } }, 50)).rejects.toThrow(/No event data matched/);
  });

  it('assertEventReceived waits for late events and fails with the reference message', async () => {
    const sse = tester();
    await sse.connectSSE(`${base}/slow`);
    await sse.assertEventReceived('late', 1000);
    await expect(sse.assertEventReceived('never', 100)).rejects.toThrow(
      /Expected event 'never' was not received within 100ms/,
    );
    await expect(sse.waitForEvent('never', 100)).rejects.toThrow(/Event timeout \(100ms\)/);
    await expect(sse.waitForData((e) => e.event === 'never', 100)).rejects.toThrow(/Event timeout \(100ms\)/);
  });

  it('sends custom headers; a refused request is a clear error', async () => {
    const sse = tester();
    await expect(sse.connectSSE(`${base}/auth`, { Authorization: 'Bearer bad' })).rejects.toThrow(
      'SSE connection failed: HTTP 401 application/json: {"error":"bad token"}',
    );
    await expect(sse.assertNoError()).rejects.toThrow(/SSE error detected: SSE connection failed: HTTP 401/);
    await sse.connectSSE(`${base}/auth`, { Authorization: 'Bearer good' });
    expect(requests.at(-1)?.auth).toBe('Bearer good');
    await sse.assertNoError(); // connectSSE starts afresh
    await expect(tester().connectSSE(`${base}/not-sse`)).rejects.toThrow(/HTTP 200 text\/html/);
  });

  it('times out a server that never answers', async () => {
    const sse = tester({ connectTimeout: 150 });
    await expect(sse.connectSSE(`${base}/hang`)).rejects.toThrow('SSE connection timeout (150ms)');
    expect(sse.isConnectionActive()).toBe(false);
  });

  it('reports the end of the stream through onClose', async () => {
    const sse = tester();
    let closes = 0;
    sse.onClose(() => closes++);
    await sse.connectSSE(`${base}/end`);
    await sse.waitForEvent('message');
    // The server ends the stream 60 ms after its event.
    for (const deadline = Date.now() + 10_000; closes === 0 && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 5));
    expect(closes).toBe(1);
    expect(sse.isConnectionActive()).toBe(false);
    // Ended once: a disconnect() after the end does not end it again.
    await sse.disconnect();
    expect(closes).toBe(1);
    await sse.assertNoError();
  });

  it('auto-reconnects with Last-Event-ID, honouring retry:', async () => {
    const sse = tester({ autoReconnect: true, reconnectDelay: 5000, timeout: 2000 });
    const seen: unknown[] = [];
    sse.onEvent((e) => seen.push(e.parsedData));
    const before = requests.length;
    await sse.connectSSE(`${base}/drop`);
    await sse.waitForData((e) => (e.parsedData as { n: number }).n === 3);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const drops = requests.slice(before).filter((r) => r.path === '/drop');
    expect(drops.map((r) => r.lastEventId)).toEqual([undefined, '1', '2']);
    expect(sse.getErrors().length).toBe(2); // the two cut streams
  });

  it('clearEvents empties the queue; disconnect fails pending waits', async () => {
    const sse = tester();
    await sse.connectSSE(`${base}/stream`);
    await sse.waitForEvent('risk_alert');
    sse.clearEvents();
    expect(sse.getEvents()).toEqual([]);
    const pending = expect(sse.waitForEvent('never', 5000)).rejects.toThrow(/disconnected while waiting/);
    await sse.disconnect();
    await pending;
    expect(sse.isConnectionActive()).toBe(false);
  });
});

describe('SSETester (testwire broadcaster)', () => {
  let b: Broadcaster;
  beforeAll(async () => {
    b = await startBroadcaster({ port: 0, apiKey: 'k', logger: { warn() {} } });
  });
  afterAll(() => b.close({ timeoutMs: 500 }));

  it('receives connection.established and filtered test events with epoch:seq ids', async () => {
    const sse = tester();
    await sse.connectSSE(`${b.url}/events?events=test.result&status=failed`, { Authorization: 'Bearer k' });
    const established = await sse.waitForEvent('connection.established');
    const epoch = (established.parsedData as { epoch: string }).epoch;
    for (const status of ['passed', 'failed']) {
      b.publish({
        type: 'test.result',
        runId: 'r',
        data: {
          framework: 'jest',
          id: status,
          titlePath: [status],
          testName: status,
          suite: '',
          status,
          duration: 1,
          file: 'a.ts',
          attempt: 1,
        },
      } as never);
    }
    const failed = await sse.waitForEvent('test.result');
    expect(failed.id).toBe(`${epoch}:2`);
    await sse.assertDataMatches({ type: 'test.result', data: { status: 'failed' } });
    expect(sse.getEventsByType('test.result')).toHaveLength(1);
  });

  it('a wrong key is refused with 401', async () => {
    await expect(tester().connectSSE(`${b.url}/events?apiKey=wrong`)).rejects.toThrow(
      /SSE connection failed: HTTP 401/,
    );
  });
});
