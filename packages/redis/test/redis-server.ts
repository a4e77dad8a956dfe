/**
 * A redis-server of a test's own: a free port on loopback and a unix socket in its own data directory (a
 * process in another network namespace reaches it there), a password, AOF on (a stop and start keeps the
 * data). Also used by tests/redis (the sharded end-to-end tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Waits until `check` returns a truthy value (polling), or fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 45_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port nothing listens on (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export class RedisServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly dir = mkdtempSync(join(tmpdir(), 'testwire-redis-'));
  constructor(
    readonly port: number,
    readonly password: string,
  ) {}

  static async start(password = `pw-${Math.random().toString(36).slice(2)}`): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), password);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  /** The unix socket's path (owner-only permissions). */
  get socket(): string {
    return join(this.dir, 'redis.sock');
  }

  /** The same server through its unix socket, the password in the URL. */
  get socketUrl(): string {
    return `unix://:${this.password}@localhost${this.socket}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--requirepass',
        this.password,
        '--logfile',
        '',
      ],
      { stdio: 'ignore', detached: true },
    );
    this.child = child;
    this.exited = new Promise((r) => child.on('close', () => r()));
    await until(`redis-server on ${this.port}`, () => this.ping());
  }

  /** SHUTDOWN through SIGTERM (the AOF is complete), waiting for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    await this.exited;
  }

  /** True when the server answers AUTH + PING. */
  ping(): Promise<boolean> {
    return new Promise((resolvePing) => {
      const socket = createConnection({ port: this.port, host: '127.0.0.1' });
      let text = '';
      socket.on('connect', () => socket.write(`AUTH ${this.password}\r\nPING\r\n`));
      socket.on('data', (c) => {
        text += c;
        if (text.includes('+PONG')) {
          socket.destroy();
          resolvePing(true);
        }
      });
      socket.on('error', () => resolvePing(false));
      socket.setTimeout(2000, () => {
        socket.destroy();
        resolvePing(false);
      });
    });
  }
}

/**
 * A redis-server of this test file and a client of it: started before the file's tests, stopped (and its
 * folder removed) after them. Read `server` and `redis` inside tests.
 */
export function redisOfFile(): { server: RedisServer; redis: Redis } {
  const started = {} as { server: RedisServer; redis: Redis };
  beforeAll(async () => {
    started.server = await RedisServer.start();
    started.redis = new Redis(started.server.url);
  });
  afterAll(async () => {
    started.redis?.disconnect();
    await started.server?.stop();
    if (started.server) rmSync(started.server.dir, { recursive: true, force: true });
  });
  return started;
}
