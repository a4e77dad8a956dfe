/** WebSocketTester against a plain `ws` server written here and against the testwire broadcaster. */
import type { AddressInfo } from 'node:net';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { WebSocketTester } from '../src/index.js';

let server: WebSocketServer;
let url: string;
let upgrades = 0;
const testers: WebSocketTester[] = [];
const tester = (options?: ConstructorParameters<typeof WebSocketTester>[0]) => {
  const t = new WebSocketTester({ timeout: 1000, ...options });
  testers.push(t);
  return t;
};

beforeAll(async () => {
  // Greets, echoes JSON as {type:'echo', payload}, and obeys a few commands.
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: (info, done) => {
      upgrades++;
      if (info.req.url?.includes('deny')) done(false, 401, 'Unauthorized');
      else done(true);
    },
  });
  server.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'welcome' }));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.send(data, { binary: true });
      const text = data.toString();
      if (text === 'close-me') return socket.close(4001, 'asked to');
      if (text === 'kill-me') return socket.terminate();
      if (text === 'burst') {
        for (let i = 0; i < 5; i++) socket.send(JSON.stringify({ type: 'tick', data: { n: i } }));
        return;
      }
      if (text === 'later') {
        setTimeout(() => socket.send(JSON.stringify({ type: 'late' })), 150);
        return;
      }
      try {
        socket.send(JSON.stringify({ type: 'echo', payload: JSON.parse(text) }));
      } catch {
        socket.send(`plain:${text}`);
      }
    });
  });
  await new Promise((r) => server.once('listening', r));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const t of testers.splice(0)) await t.disconnect();
});
afterAll(() => new Promise((r) => server.close(r)));

describe('WebSocketTester (plain ws server)', () => {
  it('connects, sends objects as JSON and strings as-is, waits for messages', async () => {
    const ws = tester();
    await ws.connectWebSocket(url);
    expect(ws.isConnectionActive()).toBe(true);
    ws.assertConnected();
    // The greeting arrived before we waited: waitForMessage sees queued messages.
    await new Promise((r) => setTimeout(r, 30));
    expect(await ws.waitForMessage()).toEqual({ type: 'welcome' });
    await ws.sendMessage({ type: 'subscribe', channel: 'x' });
    expect(await ws.waitForMessage((m) => m.type === 'echo')).toEqual({
      type: 'echo',
      payload: { type: 'subscribe', channel: 'x' },
    });
    await ws.sendMessage('{"type": "ping"}');
    expect((await ws.waitForMessage((m) => m.type === 'echo')).payload).toEqual({ type: 'ping' });
    await ws.sendMessage('not json');
    expect(await ws.waitForMessage((m) => typeof m === 'string')).toBe('plain:not json');
    await ws.sendMessage(Buffer.from([1, 2, 3]));
    expect([...(await ws.waitForMessage((m) => Buffer.isBuffer(m)))]).toEqual([1, 2, 3]);
    expect(ws.getMessages().length).toBe(5);
  });

  it('walks forward: each message is returned by one wait; waitForMessages(count)', async () => {
    const ws = tester();
    await ws.connectWebSocket(url);
    await ws.waitForMessage((m) => m.type === 'welcome');
    await ws.sendMessage('burst');
    const first = await ws.waitForMessage((m) => m.type === 'tick');
    const second = await ws.waitForMessage((m) => m.type === 'tick');
    expect([first.data.n, second.data.n]).toEqual([0, 1]);
    const rest = await ws.waitForMessages(3);
    expect(rest.map((m) => m.data.n)).toEqual([2, 3, 4]);
    // A predicate that throws on other shapes counts as no match.
    await ws.sendMessage('later');
    expect(await ws.waitForMessage((m) => m.type === 'late' && m.data === undefined)).toEqual({
      type: 'late',
    });
  });

  it('times out with the reference messages', async () => {
    const ws = tester();
    await ws.connectWebSocket(url);
    await expect(ws.waitForMessage((m) => m.type === 'never', 100)).rejects.toThrow(
      'Message timeout (100ms)',
    );
    await expect(ws.waitForMessages(5, 100)).rejects.toThrow(
      /Message timeout \(100ms\): received 1 of 5 messages/,
    );
    const blackhole = await import('node:net').then((net) => net.createServer(() => {}));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as AddressInfo).port;
    try {
      await expect(
        tester().connectWebSocket(`ws://127.0.0.1:${port}`, { connectTimeout: 150 }),
      ).rejects.toThrow('WebSocket connection timeout (150ms)');
    } finally {
      blackhole.close();
    }
  });

  it('positive and negative message assertions', async () => {
    const ws = tester();
    await ws.connectWebSocket(url);
    await ws.assertMessageReceived('welcome');
    await ws.assertMessageReceived('welcome'); // assertions do not consume
    await expect(ws.assertMessageReceived('nope', 100)).rejects.toThrow(
      /Expected message of type 'nope' was not received within 100ms \(received welcome\)/,
    );
    await ws.assertMessageNotReceived('error', 100);
    await expect(ws.assertMessageNotReceived('welcome', 100)).rejects.toThrow(
      /Unexpected message of type 'welcome'/,
    );
    const pending = ws.assertMessageNotReceived('late', 500);
    await ws.sendMessage('later');
    await expect(pending).rejects.toThrow(/Unexpected message of type 'late'/);
  });

  it('connection assertions, listeners and close codes', async () => {
    const ws = tester();
    const seen: string[] = [];
    let closes = 0;
    ws.onMessage((m) => seen.push(m.type));
    ws.onClose(() => closes++);
    await ws.connectWebSocket(url);
    await ws.assertMessageReceived('welcome');
    await expect(ws.assertConnectionClosed(100)).rejects.toThrow('Connection did not close within 100ms');
    await ws.sendMessage('close-me');
    await ws.assertConnectionClosed(1000);
    expect(ws.lastClose).toEqual({ code: 4001, reason: 'asked to' });
    expect(closes).toBe(1);
    expect(seen).toEqual(['welcome']);
    expect(() => ws.assertConnected()).toThrow('WebSocket is not connected');
    await expect(ws.sendMessage({})).rejects.toThrow(/not connected/);
  });

  it('listener exceptions go to onError; a refused upgrade is a clear error', async () => {
    const ws = tester();
    const errors: string[] = [];
    ws.onError((e) => errors.push(e.message));
    ws.onMessage(() => {
      throw new Error('listener broke');
    });
    await ws.connectWebSocket(url);
    await ws.assertMessageReceived('welcome');
    expect(errors).toEqual(['listener broke']);
    await expect(tester().connectWebSocket(`${url}/?deny=1`)).rejects.toThrow(
      'WebSocket error: Unexpected server response: 401',
    );
  });

  it('auto-reconnects after a drop, up to reconnectAttempts', async () => {
    const ws = tester({ autoReconnect: true, reconnectAttempts: 3, reconnectDelay: 20 });
    await ws.connectWebSocket(url);
    await ws.waitForMessage((m) => m.type === 'welcome');
    const before = upgrades;
    await ws.sendMessage('kill-me');
    await ws.waitForMessage((m) => m.type === 'welcome', 2000); // the second greeting
    expect(upgrades).toBe(before + 1);
    await ws.waitForConnection(500);
    expect(ws.isConnectionActive()).toBe(true);
    // disconnect() is not a drop: no reconnect, pending waits fail at once.
    const waiting = expect(ws.waitForMessage((m) => m.type === 'never', 5000)).rejects.toThrow(
      /disconnected while waiting/,
    );
    await ws.disconnect();
    await waiting;
    // A reconnect would wait reconnectDelay from the close, which came before disconnect() resolved: a timer
    // of that delay made now fires after it, and a connection opened then upgrades after its would have.
    await new Promise((r) => setTimeout(r, 20));
    const sentinel = tester();
    await sentinel.connectWebSocket(url);
    await sentinel.waitForMessage((m) => m.type === 'welcome');
    await sentinel.disconnect();
    expect(upgrades).toBe(before + 2);
    expect(ws.isConnectionActive()).toBe(false);
  });

  it('clearMessages empties the queue', async () => {
    const ws = tester();
    await ws.connectWebSocket(url);
    await ws.assertMessageReceived('welcome');
    ws.clearMessages();
    expect(ws.getMessages()).toEqual([]);
    await expect(ws.waitForMessage(undefined, 50)).rejects.toThrow('Message timeout (50ms)');
  });
});

describe('WebSocketTester (testwire broadcaster)', () => {
  let b: Broadcaster;
  beforeAll(async () => {
    b = await startBroadcaster({ port: 0, apiKey: 'tk', logger: { warn() {} } });
  });
  afterAll(() => b.close({ timeoutMs: 500 }));

  it('speaks the testwire protocol: established, subscribe, events, errors', async () => {
    const ws = tester();
    await ws.connectWebSocket(`${b.wsUrl}?apiKey=tk`);
    const established = await ws.waitForMessage((m) => m.type === 'connection.established');
    expect(established).toMatchObject({ server: 'testwire', protocol: 1 });
    await ws.sendMessage({ type: 'subscribe', id: 1, events: ['test.result'] });
    await ws.assertMessageReceived('subscribed');
    b.publish({
      type: 'test.output',
      runId: 'r',
      data: { framework: 'vitest', output: 'x', outputType: 'stdout', stream: 'stdout' },
    } as never);
    b.publish({
      type: 'test.result',
      runId: 'r',
      data: {
        framework: 'vitest',
        id: 't',
        titlePath: ['t'],
        testName: 't',
        suite: '',
        status: 'passed',
        duration: 1,
        file: 'a.ts',
        attempt: 1,
      },
    } as never);
    const result = await ws.waitForMessage((m) => m.type === 'test.result');
    expect(result).toMatchObject({ runId: 'r', data: { status: 'passed' } });
    await ws.assertMessageNotReceived('test.output', 100);
    await ws.sendMessage('{"type":"bogus"}');
    expect(await ws.waitForMessage((m) => m.type === 'error')).toMatchObject({
      code: 'UNKNOWN_MESSAGE_TYPE',
    });
  });

  it('a wrong key is refused before the upgrade', async () => {
    await expect(tester().connectWebSocket(`${b.wsUrl}?apiKey=bad`)).rejects.toThrow(/401/);
  });
});
