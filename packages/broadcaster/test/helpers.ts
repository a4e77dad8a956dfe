/** Test helpers: real ws clients on loopback, event factories, a free port, a cutting TCP proxy. */
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PublishedEvent } from '@testwire/protocol';
import WebSocket from 'ws';

/** A free port: bind 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

export type Msg = Record<string, any>;

/** A real ws client that records every text frame (parsed) and the close code. */
export class Client {
  readonly messages: Msg[] = [];
  closeCode?: number;
  closeReason?: string;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(
    readonly ws: WebSocket,
    parse = true,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = String(data);
      this.messages.push(parse ? JSON.parse(text) : { raw: text });
    });
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = String(reason);
        resolve(code);
      }),
    );
    ws.on('error', () => {});
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const client = new Client(new WebSocket(url, options));
    await client.opened;
    await client.next((m) => m.type === 'connection.established');
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits for the first message (from index `from`) matching `predicate`. */
  next(predicate: (m: Msg) => boolean, timeoutMs = 15_000, from = 0): Promise<Msg> {
    return waitFor(
      () => this.messages.slice(from).find(predicate),
      `a message matching ${predicate}`,
      timeoutMs,
    );
  }

  /** Sends a message with an id and waits for the reply carrying it. */
  async request(message: Msg, type: string): Promise<Msg> {
    const id = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...message, id });
    return this.next((m) => m.id === id && m.type === type);
  }

  events(): Msg[] {
    return this.messages.filter(
      (m) =>
        typeof m.seq === 'number' &&
        m.seq > 0 &&
        m.type !== 'snapshot' &&
        m.type !== 'connection.established' &&
        m.type !== 'resumed',
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

export const RUN = 'r_test';

export function testResult(i: number, extra: Partial<Msg> = {}, runId = RUN): PublishedEvent {
  return {
    type: 'test.result',
    runId,
    data: {
      framework: 'vitest',
      project: 'web',
      id: `t${i}`,
      titlePath: ['suite', `test ${i}`],
      testName: `test ${i}`,
      suite: 'suite',
      status: i % 5 === 0 ? 'failed' : 'passed',
      duration: i,
      file: 'src/a.test.ts',
      attempt: 1,
      ...extra,
    },
  } as PublishedEvent;
}

export function testStarted(runId = RUN, totalTests = 0): PublishedEvent {
  return {
    type: 'test.started',
    runId,
    data: { framework: 'vitest', project: 'web', totalTests, testFiles: ['src/a.test.ts'] },
  } as PublishedEvent;
}

export function testOutput(text: string, runId = RUN): PublishedEvent {
  return {
    type: 'test.output',
    runId,
    data: { framework: 'vitest', project: 'api', output: text, outputType: 'stdout', stream: 'log' },
  } as PublishedEvent;
}

export function testCompleted(passed: number, failed: number, runId = RUN): PublishedEvent {
  return {
    type: 'test.completed',
    runId,
    data: {
      framework: 'vitest',
      project: 'web',
      summary: { total: passed + failed, passed, failed, skipped: 0, duration: 10, success: failed === 0 },
    },
  } as PublishedEvent;
}

export function metrics(heapUsed: number, usage: number): PublishedEvent {
  return {
    type: 'performance.metrics',
    runId: RUN,
    data: {
      framework: 'vitest',
      memory: { heapUsed, heapTotal: 200, external: 1, rss: 300 },
      cpu: { usage, load: [1, 1, 1] },
      uptime: 1,
    },
  } as PublishedEvent;
}

/** A silent logger that records warnings. */
export function recordingLogger(): { warn(m: string): void; info(m: string): void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m), info: () => {} };
}

/** Like waitFor, for an async check (polls every 20 ms). */
export async function waitForAsync<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function getJson(url: string): Promise<Msg> {
  return (await fetch(url)).json() as Promise<Msg>;
}

/**
 * A TCP proxy on loopback to `targetPort` that cuts a connection, both ways, instead of forwarding the first
 * chunk from the target for which `cut(chunk)` is true (once per proxy). The network dropping a socket at
 * exactly that moment, without a hook in the code under test.
 */
export async function startCuttingProxy(
  targetPort: number,
  cut: (fromTarget: Buffer) => boolean,
): Promise<{ port: number; connections(): number; cuts(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let cuts = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (cuts === 0 && cut(chunk)) {
        cuts++;
        end();
      } else client.write(chunk);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return { ...(await listenLoopback(server, sockets)), connections: () => connections, cuts: () => cuts };
}

/** Listens on an ephemeral loopback port; close() destroys `sockets`, then closes the server. */
async function listenLoopback(
  server: Server,
  sockets: Set<Socket>,
): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP proxy on loopback to `targetPort` that forwards both ways until hold() is called, then keeps what
 * either side sends until release(): an owner that is alive but answers nothing (starved, or stopped), with
 * nothing lost in between.
 */
export async function startHoldingProxy(
  targetPort: number,
): Promise<{ port: number; hold(): void; release(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let held = false;
  const queued: (() => void)[] = [];
  const forward = (to: Socket) => (chunk: Buffer) => {
    if (held) queued.push(() => to.write(chunk));
    else to.write(chunk);
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return {
    ...(await listenLoopback(server, sockets)),
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const write of queued.splice(0)) write();
    },
  };
}

/** Tries a WebSocket upgrade; resolves with the HTTP status (101 when it opened) and the JSON body. */
export function tryUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.on('error', () => {});
  });
}

/** A plain HTTP request with the headers given (Host and Origin included): status, headers and body text. */
export function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      const sse = String(res.headers['content-type']).startsWith('text/event-stream');
      res.on('data', (d) => {
        body += d;
        // A stream stays open: its head is the answer.
        if (sse) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end();
  });
}
