/**
 * The security guarantees (issue 14, R5) over real sockets and real processes: the Host check on every
 * endpoint, other-origin pages refused, a fake owner on the port gets nothing from a joiner, planted secret
 * directories skipped (said, not silent), the secret file gone after SIGTERM/SIGINT, publishing refused to
 * read credentials, JWTs without exp refused, the per-address bounds (slowloris, lockout, connection cap,
 * request rate). The browser half (DNS rebinding in Chromium) is security.browser.test.ts; credentials in
 * printed output are checked in security-output.test.ts.
 *
 * Every test here runs with TMPDIR set to a directory of its own, so the secret directories it plants never
 * touch those of other processes on the machine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type Broadcaster,
  getBroadcaster,
  PUBLISH_SCOPE,
  resetBroadcasterSingleton,
  resolveOptions,
  secretPath,
  startBroadcaster,
} from '../src/index.js';
import { candidateDirs, readSecret, removeSecret, writeSecret } from '../src/join/secret.js';
import { TIMED_OUT, untilDeadline } from '../src/timers.js';
import {
  Client,
  freePort,
  getJson,
  type Msg,
  rawRequest,
  recordingLogger,
  testResult,
  testStarted,
  tryUpgrade,
  waitFor,
} from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const JWT_SECRET = 'security-test-jwt-secret-0123456789';
const WAIT_MS = 15_000;

/** `promise`, or a failure naming `what` after `ms`: a step that hangs says which one it was. */
async function within<T>(what: string, promise: Promise<T>, ms = WAIT_MS): Promise<T> {
  const value = await untilDeadline(promise, Date.now() + ms, { ref: true });
  if (value === TIMED_OUT) throw new Error(`${what}: nothing within ${ms} ms`);
  return value;
}

let savedTmp: string | undefined;
let privateTmp: string;
beforeAll(() => {
  savedTmp = process.env.TMPDIR;
  privateTmp = mkdtempSync(join(tmpdir(), 'testwire-sec-'));
  process.env.TMPDIR = privateTmp;
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(privateTmp, { recursive: true, force: true });
});

const open: Broadcaster[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const b of open.splice(0).reverse()) await b.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  resetBroadcasterSingleton();
});

async function owner(options: Parameters<typeof startBroadcaster>[0] = {}): Promise<Broadcaster> {
  const b = await startBroadcaster({ port: 0, logger: recordingLogger(), ...options });
  open.push(b);
  return b;
}

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT with `claims`, expiring in 10 minutes (`exp: null`: no exp at all). */
async function jwt(claims: Record<string, unknown>, exp: number | null = now() + 600): Promise<string> {
  let builder = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (exp !== null) builder = builder.setExpirationTime(exp);
  return builder.sign(new TextEncoder().encode(JWT_SECRET));
}

describe('Host check (DNS rebinding) on every endpoint', () => {
  it('403 FORBIDDEN_HOST for a foreign Host on HTTP, SSE, /status, the dashboard and both upgrades; loopback names, IPs and allowedHosts pass', async () => {
    const b = await owner({ allowedHosts: ['ci.example.com', '.corp.example'] });
    const evil = { host: `rebind.test:${b.port}` };
    for (const path of ['/status', '/ws/status', '/health', '/events', '/', '/index.html', '/ws', '/nope']) {
      const res = await rawRequest(b.port, path, evil);
      expect(res.status, path).toBe(403);
      expect(JSON.parse(res.body), path).toMatchObject({ server: 'testwire', error: 'FORBIDDEN_HOST' });
      expect(JSON.parse(res.body).message).toContain('allowedHosts');
    }
    for (const url of [b.wsUrl, `${b.wsUrl}?role=publisher`]) {
      const refused = await tryUpgrade(url, evil);
      expect(refused.status, url).toBe(403);
      expect(refused.body?.error).toBe('FORBIDDEN_HOST');
    }
    // Names that cannot be rebound, and the configured ones.
    for (const host of [
      `localhost:${b.port}`,
      `127.0.0.1:${b.port}`,
      `[::1]:${b.port}`,
      `dash.localhost:${b.port}`,
      `10.1.2.3:${b.port}`,
      `ci.example.com:${b.port}`,
      `build.corp.example:${b.port}`,
      'LOCALHOST.',
    ]) {
      expect((await rawRequest(b.port, '/status', { host })).status, host).toBe(200);
    }
    expect((await tryUpgrade(b.wsUrl, { host: `localhost:${b.port}` })).status).toBe(101);
    // allowedHosts: true turns the check off (a proxy in front checks Host).
    const open = await owner({ allowedHosts: true });
    expect((await rawRequest(open.port, '/status', { host: 'anything.example' })).status).toBe(200);
  });

  it('TESTWIRE_ALLOWED_HOSTS is read as a comma-separated list; bad allowedHosts is a clear error', () => {
    expect(resolveOptions({}, { TESTWIRE_ALLOWED_HOSTS: 'A.example, b.example. ,' }).allowedHosts).toEqual([
      'a.example',
      'b.example',
    ]);
    expect(() => resolveOptions({ allowedHosts: 'x' as never })).toThrow(
      /"allowedHosts" option must be an array/,
    );
  });
});

describe('Origin check', () => {
  it('TESTWIRE_ALLOWED_ORIGINS is read as a comma-separated list of origins; a bad one is a clear error', () => {
    expect(
      resolveOptions({}, { TESTWIRE_ALLOWED_ORIGINS: 'http://localhost:5173, https://CI.example.com/ ,' })
        .allowedOrigins,
    ).toEqual(['http://localhost:5173', 'https://ci.example.com']);
    expect(resolveOptions({}, {}).allowedOrigins).toEqual([]);
    // The option wins over the environment.
    expect(
      resolveOptions({ allowedOrigins: [] }, { TESTWIRE_ALLOWED_ORIGINS: 'http://localhost:5173' })
        .allowedOrigins,
    ).toEqual([]);
    expect(() => resolveOptions({}, { TESTWIRE_ALLOWED_ORIGINS: 'localhost:5173' })).toThrow(
      'TESTWIRE_ALLOWED_ORIGINS: "localhost:5173" is not an origin; write it like "http://localhost:5173"',
    );
  });

  it('pages of other loopback origins are refused everywhere, without CORS; the endpoint own origin and allowedOrigins pass', async () => {
    const b = await owner({ allowedOrigins: ['http://localhost:5173'] });
    for (const origin of [
      'http://localhost:3000',
      `http://localhost:${b.port + 1}`,
      `http://app.localhost:${b.port}`,
      'http://127.0.0.1:8080',
      'null',
    ]) {
      for (const path of ['/status', '/events', '/health']) {
        const res = await rawRequest(b.port, path, { origin });
        expect(res.status, `${origin} ${path}`).toBe(403);
        expect(JSON.parse(res.body).error).toBe('FORBIDDEN_ORIGIN');
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      }
      expect((await tryUpgrade(b.wsUrl, { origin })).status, origin).toBe(403);
    }
    const own = await rawRequest(b.port, '/status', { origin: `http://127.0.0.1:${b.port}` });
    expect(own.status).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined(); // same origin needs none
    const allowed = await rawRequest(b.port, '/events', { origin: 'http://localhost:5173' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });
});

describe('joining authenticates the owner first', () => {
  it('a fake owner on the port that answers /status like testwire gets no secret, no key, no event', async () => {
    // Another user's server on the port: it answers /status like testwire and accepts the upgrade with a
    // made-up proof. Everything it receives is recorded.
    const received: string[] = [];
    const messages: string[] = [];
    const fake = createServer((req, res) => {
      received.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { 'content-type': 'application/json', 'x-testwire': '0.1.0' });
      res.end(JSON.stringify({ server: 'testwire', epoch: 'fake', seq: 0 }));
    });
    servers.push(fake);
    const wss = new WebSocketServer({ noServer: true });
    const closed: Promise<void>[] = [];
    wss.on('headers', (headers) =>
      headers.push('x-testwire-owner-nonce: AAAAAAAAAAAAAAAAAAAAAA', 'x-testwire-owner-proof: forged'),
    );
    fake.on('upgrade', (req: IncomingMessage, socket, head) => {
      received.push(`UPGRADE ${req.url} ${JSON.stringify(req.headers)}`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        closed.push(new Promise((r) => ws.on('close', () => r())));
        ws.on('message', (d) => messages.push(String(d)));
        ws.send(
          JSON.stringify({ type: 'connection.established', server: 'testwire', epoch: 'fake', seq: 0 }),
        );
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as { port: number }).port;
    // A stale secret of an earlier owner of this port (killed), readable by the joiner.
    const stale = 'stale-secret-of-a-killed-owner-0123456789';
    writeSecret(port, stale);
    try {
      const logger = recordingLogger();
      const joiner = await getBroadcaster({
        port,
        apiKey: 'api-key-never-sent',
        publishKey: 'publish-key-never-sent',
        logger,
      });
      open.push(joiner);
      joiner.publish(testStarted());
      joiner.publish(testResult(1));
      await joiner.flush(5000);
      // It went elsewhere, and said why.
      expect(joiner.role).toBe('owner');
      expect(joiner.port).not.toBe(port);
      expect(logger.warnings.join('\n')).toContain('did not prove');
      // The fake was asked (the test can see what it got), and got nothing of value.
      expect(received.some((r) => r.startsWith('UPGRADE'))).toBe(true);
      await Promise.all(closed); // the joiner hung up: anything it sent has arrived
      expect(messages).toEqual([]);
      const everything = received.join('\n');
      for (const secret of [stale, 'api-key-never-sent', 'publish-key-never-sent', 'r_test'])
        expect(everything).not.toContain(secret);
      // The events reached the joiner's own endpoint instead.
      const status = await getJson(`${joiner.url}/status?apiKey=api-key-never-sent`);
      expect(status.seq).toBe(2);
    } finally {
      removeSecret(port, stale);
      wss.close();
    }
  });

  it('a real owner passes the handshake: the joiner publishes, and a wrong proof is refused with 1008', async () => {
    const b = await owner();
    const second = await getBroadcaster({ port: b.port, logger: recordingLogger() });
    open.push(second);
    expect(second.role).toBe('publisher');
    second.publish(testStarted());
    expect((await second.flush(5000)).delivered).toBe(true);
    expect((await getJson(`${b.url}/status`)).seq).toBe(1);
    // Someone who sends a nonce but cannot compute the proof: the upgrade happens, then close 1008, nothing
    // stored and nothing sent.
    const ws = new WebSocket(`${b.wsUrl}?role=publisher`, {
      headers: { 'x-testwire-nonce': 'BBBBBBBBBBBBBBBBBBBBBB' },
    });
    const got: string[] = [];
    ws.on('message', (d) => got.push(String(d)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', proof: 'guess' }));
    ws.send(JSON.stringify({ type: 'publish', id: 1, events: [testResult(9)] }));
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(1008);
    expect(got).toEqual([]);
    // A publish that was not preceded by a proof is not taken either.
    const bare = new WebSocket(`${b.wsUrl}?role=publisher`, {
      headers: { 'x-testwire-nonce': 'CCCCCCCCCCCCCCCCCCCCCC' },
    });
    await new Promise((r) => bare.once('open', r));
    bare.send(JSON.stringify({ type: 'publish', id: 1, events: [testResult(10)] }));
    expect(await new Promise<number>((r) => bare.once('close', (c) => r(c)))).toBe(1008);
    expect((await getJson(`${b.url}/status`)).seq).toBe(1);
  });

  it('a joiner that has not proven the secret is told nothing, is not counted, and may send 1 KiB at most', async () => {
    const b = await owner({ apiKey: 'read-key' });
    const status = () => getJson(`${b.url}/status?apiKey=read-key`);
    const joiner = netConnect(b.port, '127.0.0.1');
    joiner.on('error', () => {});
    let answer = Buffer.alloc(0);
    joiner.on('data', (d: Buffer) => {
      answer = Buffer.concat([answer, d]);
    });
    joiner.write(
      `GET /ws?role=publisher HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'x-testwire-nonce: DDDDDDDDDDDDDDDDDDDDDD\r\n\r\n',
    );
    await waitFor(() => answer.includes('\r\n\r\n'), 'the 101');
    const head = answer.toString('latin1');
    expect(head.startsWith('HTTP/1.1 101')).toBe(true);
    expect((await status()).publishers).toBe(0);
    // A text frame announcing 32 MiB less 16 bytes (all-zero mask), then 64 KiB of it: the owner ends the
    // socket without a word once 1 KiB has come, instead of buffering it all until a proof or the timeout.
    const frame = Buffer.alloc(14);
    frame[0] = 0x81;
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(32 * 1024 * 1024 - 16), 2);
    joiner.write(Buffer.concat([frame, Buffer.alloc(64 * 1024, 0x61)]));
    await new Promise((r) => joiner.once('close', r));
    expect(answer.length).toBe(Buffer.byteLength(head, 'latin1'));
    // A joiner with the secret still joins.
    const second = await getBroadcaster({ port: b.port, logger: recordingLogger() });
    open.push(second);
    expect(second.role).toBe('publisher');
    second.publish(testStarted());
    expect((await second.flush(5000)).delivered).toBe(true);
    expect(await status()).toMatchObject({ seq: 1, publishers: 1 });
  });
});

describe('the secret file', () => {
  it('lives in a per-user 0700 directory, as a 0600 file; a symlink in its place is refused by readers', async () => {
    const b = await owner();
    const path = secretPath(b.port);
    expect(path.startsWith(privateTmp)).toBe(true);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readSecret(b.port).secret).toBeTruthy();
    const file = join(privateTmp, 'elsewhere.secret');
    writeFileSync(file, 'planted', { mode: 0o600 });
    rmSync(path);
    symlinkSync(file, path);
    const read = readSecret(b.port);
    expect(read.secret).toBeUndefined();
    expect(read.why).toContain('symbolic link');
  });

  it('planted directories are skipped and named in a warning; joining still works through the next one', async () => {
    const dirs = candidateDirs();
    rmSync(dirs[0] as string, { recursive: true, force: true }); // ours, from the tests above
    const asRoot = process.getuid?.() === 0;
    // The first candidate: another user's directory (as root we can make one), else a file in its place.
    if (asRoot) {
      mkdirSync(dirs[0] as string, { mode: 0o700 });
      chownSync(dirs[0] as string, 65534, 65534);
    } else writeFileSync(dirs[0] as string, 'planted');
    // The second: a symbolic link to a directory the planter controls.
    const target = mkdtempSync(join(privateTmp, 'planter-'));
    symlinkSync(target, dirs[1] as string);
    try {
      const logger = recordingLogger();
      const first = await getBroadcaster({ port: 0, logger });
      open.push(first);
      const warning = logger.warnings.find((w) => w.includes('skipped secret directories'));
      expect(warning).toContain(asRoot ? 'belongs to uid 65534' : 'is not a directory');
      expect(warning).toContain('is a symbolic link');
      expect(secretPath(first.port).startsWith(dirs[2] as string)).toBe(true);
      expect(existsSync(join(target, `${first.port}.secret`))).toBe(false);
      resetBroadcasterSingleton();
      const joiner = await getBroadcaster({ port: first.port, logger: recordingLogger() });
      open.push(joiner);
      expect(joiner.role).toBe('publisher');
      joiner.publish(testStarted());
      expect((await joiner.flush(5000)).delivered).toBe(true);
    } finally {
      rmSync(dirs[0] as string, { recursive: true, force: true });
      rmSync(dirs[1] as string, { force: true });
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`is removed on ${signal}, and the process still ends by the signal`, async () => {
      const child = spawn(process.execPath, [join(FIXTURES, 'owner-wait.mjs')], {
        env: { ...process.env, TMPDIR: privateTmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const port = await firstLine(child);
      const path = secretPath(Number(port));
      expect(existsSync(path)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(existsSync(path)).toBe(false);
    });
  }

  it("is removed by a joiner that finds its owner gone, and by the next owner's sweep", async () => {
    // A pid that no process has any more: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    const b = await owner();
    const path = secretPath(b.port);
    const dir = dirname(path);
    // Left behind by owners killed with SIGKILL: one on a port nobody listens on, one on another port.
    const orphan = join(dir, '1.secret');
    writeFileSync(orphan, `killed-owner-secret\n${gone}\n`, { mode: 0o600 });
    const read = readSecret(1);
    expect(read.secret).toBeUndefined();
    expect(read.why).toContain(`pid ${gone}) has exited`);
    expect(existsSync(orphan)).toBe(false);
    writeFileSync(orphan, `killed-owner-secret\n${gone}\n`, { mode: 0o600 });
    const live = join(dir, '2.secret');
    writeFileSync(live, `a-live-owner-secret\n${process.pid}\n`, { mode: 0o600 });
    const next = await owner();
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readSecret(next.port).secret).toBeTruthy();
    rmSync(live);
  });

  it.runIf(process.platform === 'linux')(
    "sweeps files of the format before the owner's pid when nothing listens on their port, and fresh files of writers that died; leaves every other file",
    async () => {
      const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
      const b = await owner();
      const dir = dirname(secretPath(b.port));
      // A port nobody listens on, and one something (not an owner) listens on.
      const freed = await freePort();
      const held = createServer();
      servers.push(held);
      await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
      const heldPort = (held.address() as { port: number }).port;
      const file = (name: string, text: string): string => {
        const path = join(dir, name);
        writeFileSync(path, text, { mode: 0o600 });
        return path;
      };
      // Written by owners before 24c049b: the secret alone, no pid.
      const oldDead = file(`${freed}.secret`, 'old-format-secret-of-a-killed-owner');
      const oldHeld = file(`${heldPort}.secret`, 'old-format-secret-while-its-port-is-held');
      // Fresh files of writers killed before their rename, and one of a live writer.
      const tempDead = file(`${freed}.secret.${gone}.0badf00d`, `killed-mid-write\n${gone}\n`);
      const tempLive = file(`${freed}.secret.${process.pid}.0123abcd`, `being-written\n${process.pid}\n`);
      // Not ours by name, or by owner: left alone whatever they hold.
      const notOurs = file('notes.secret', 'not-a-port-file');
      const foreign = file(`${freed + 1 > 65535 ? freed - 1 : freed + 1}.secret`, 'another-users-file');
      chownSync(foreign, 4242, 4242);
      const link = join(dir, `${heldPort === 65535 ? 1 : heldPort + 1}.secret`);
      symlinkSync(oldHeld, link);

      await owner();
      expect(existsSync(oldDead), 'old format, nothing on its port').toBe(false);
      expect(existsSync(tempDead), 'fresh file of a writer that died').toBe(false);
      expect(existsSync(oldHeld), 'old format, its port held').toBe(true);
      expect(existsSync(tempLive), 'fresh file of a live writer').toBe(true);
      expect(existsSync(notOurs), 'not a port file').toBe(true);
      expect(existsSync(foreign), "another uid's file").toBe(true);
      expect(lstatSync(link).isSymbolicLink(), 'a link').toBe(true);
      for (const path of [oldHeld, tempLive, notOurs, foreign, link]) rmSync(path);
    },
  );

  it('is removed at close(); a stale one of a killed owner is replaced by the next owner', async () => {
    const b = await owner();
    const path = secretPath(b.port);
    const before = readSecret(b.port).secret;
    await b.close();
    open.length = 0;
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'stale', { mode: 0o600 });
    const next = await owner({ port: b.port });
    expect(readSecret(next.port).secret).not.toBe('stale');
    expect(readSecret(next.port).secret).not.toBe(before);
    expect(lstatSync(path).isFile()).toBe(true);
  });
});

/** The child's first stdout line. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (d) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing`)));
  });
}

describe('publishing needs a publish credential', () => {
  it('read API keys and JWTs without the publish scope get 403; a publish key or a scoped JWT publishes', async () => {
    const b = await owner({ apiKey: 'read-key', publishKey: 'publish-key', jwtSecret: JWT_SECRET });
    const publisher = `${b.wsUrl}?role=publisher`;
    const readOnly = await tryUpgrade(publisher, { authorization: 'Bearer read-key' });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body?.message).toContain('may read but not publish');
    expect((await tryUpgrade(`${publisher}&apiKey=read-key`)).status).toBe(403);
    const readJwt = await jwt({ sub: 'reader' });
    expect((await tryUpgrade(`${publisher}&token=${readJwt}`)).status).toBe(403);
    // Read credentials still read.
    expect((await tryUpgrade(`${b.wsUrl}?token=${readJwt}`)).status).toBe(101);
    expect((await tryUpgrade(b.wsUrl, { authorization: 'Bearer read-key' })).status).toBe(101);
    // Publish credentials: the events arrive.
    const sub = await Client.open(`${b.wsUrl}?events=*&apiKey=read-key`);
    for (const [n, headers] of [
      [1, { authorization: 'Bearer publish-key' }],
      [2, { authorization: `Bearer ${await jwt({ sub: 'ci', scope: `read ${PUBLISH_SCOPE}` })}` }],
      [3, { authorization: `Bearer ${await jwt({ sub: 'ci', scope: [PUBLISH_SCOPE] })}` }],
    ] as const) {
      const ws = new WebSocket(publisher, { headers });
      const replies: Msg[] = [];
      ws.on('message', (d) => replies.push(JSON.parse(String(d))));
      await waitFor(() => replies.find((m) => m.type === 'connection.established'), 'established', WAIT_MS);
      ws.send(JSON.stringify({ type: 'publish', id: 1, events: [testResult(n)] }));
      await waitFor(() => replies.find((m) => m.type === 'published'), 'ack', WAIT_MS);
      ws.close();
    }
    await waitFor(() => sub.events().length === 3, 'three events', WAIT_MS);
    sub.close();
  });

  it('a JWT without exp is refused unless allowJwtWithoutExp is set', async () => {
    const b = await owner({ jwtSecret: JWT_SECRET });
    const forever = await jwt({ sub: 'ci' }, null);
    const refused = await tryUpgrade(`${b.wsUrl}?token=${forever}`);
    expect(refused.status).toBe(401);
    expect(refused.body?.message).toContain('no expiry');
    const lenient = await owner({ jwtSecret: JWT_SECRET, allowJwtWithoutExp: true });
    expect((await tryUpgrade(`${lenient.wsUrl}?token=${forever}`)).status).toBe(101);
  });
});

describe('per-address bounds', () => {
  it('a slowloris socket is closed by the headers timeout; a normal request still works', async () => {
    const b = await owner({ limits: { headersTimeoutMs: 400 }, sseKeepAliveMs: 300 });
    const socket = netConnect(b.port, '127.0.0.1');
    const closedAt = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.on('error', () => {});
    // Read what the server sends (its 408/400, its end): a socket nobody reads may never see the end.
    socket.resume();
    await within('the slow socket connects', new Promise((r) => socket.once('connect', r)));
    const started = Date.now();
    socket.write('GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One header byte every 50 ms: never done.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('X');
    }, 50);
    try {
      const at = await within('the slow socket is closed', closedAt);
      expect(at - started).toBeLessThan(WAIT_MS);
      expect(at - started).toBeGreaterThanOrEqual(300);
    } finally {
      clearInterval(drip);
    }
    // A silent socket too.
    const silent = netConnect(b.port, '127.0.0.1');
    silent.on('error', () => {});
    silent.resume();
    await within('the silent socket is closed', new Promise((r) => silent.once('close', r)));
    expect((await within('GET /health', rawRequest(b.port, '/health'))).status).toBe(200);
    // A stream whose request is complete is not cut by the timeout: keep-alives keep coming past it.
    const stream = await within('GET /events answers', fetch(`${b.url}/events`));
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const opened = Date.now();
    let text = '';
    while ((text.match(/: keep-alive/g) ?? []).length < 3) {
      const { value, done } = await within('the next keep-alive', reader.read());
      if (done) throw new Error(`the stream ended after ${Date.now() - opened} ms`);
      text += Buffer.from(value).toString('utf8');
    }
    expect(Date.now() - opened).toBeGreaterThan(400);
    await reader.cancel();
  });

  it('locks out the wrong keys of an address after N of them, never a right one: 127.0.0.1 is every local client', async () => {
    const b = await owner({
      apiKey: 'right',
      publishKey: 'publish',
      limits: { badCredentials: 3, lockoutMs: 60_000 },
    });
    expect((await rawRequest(b.port, '/status?apiKey=right')).status).toBe(200);
    // No credential at all is not a wrong one.
    for (let i = 0; i < 5; i++) expect((await rawRequest(b.port, '/status')).status).toBe(401);
    for (let i = 0; i < 3; i++)
      expect((await rawRequest(b.port, `/status?apiKey=wrong${i}`)).status).toBe(401);
    // Locked out: wrong keys are refused as such, on every route.
    const locked = await rawRequest(b.port, '/status?apiKey=wrong3');
    expect(locked.status).toBe(429);
    expect(JSON.parse(locked.body)).toMatchObject({
      error: 'LOCKED_OUT',
      message: expect.stringMatching(
        /^Too many wrong credentials from this address: wrong ones are refused for \d+ s more \(a right one is accepted\)$/,
      ),
    });
    expect((await tryUpgrade(`${b.wsUrl}?apiKey=wrong4`)).status).toBe(429);
    expect((await tryUpgrade(`${b.wsUrl}?role=publisher&apiKey=wrong5`)).status).toBe(429);
    // The other clients on the address, with their right keys, still get in: reader, stream, publisher.
    expect((await rawRequest(b.port, '/status?apiKey=right')).status).toBe(200);
    expect((await rawRequest(b.port, '/events?apiKey=right')).status).toBe(200);
    expect((await tryUpgrade(`${b.wsUrl}?apiKey=right`)).status).toBe(101);
    expect((await tryUpgrade(`${b.wsUrl}?role=publisher`, { authorization: 'Bearer publish' })).status).toBe(
      101,
    );
    expect((await rawRequest(b.port, '/status')).status).toBe(401);
  });

  it('caps connections per address: one over the cap is closed at once, unanswered', async () => {
    const b = await owner({ limits: { connectionsPerAddress: 3 } });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = netConnect(b.port, '127.0.0.1');
        s.on('error', () => {});
        sockets.push(s);
        // Counted once the server has seen it: an answer on it proves that.
        s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await new Promise((r) => s.once('data', r));
      }
      const fourth = netConnect(b.port, '127.0.0.1');
      fourth.on('error', () => {});
      let got = '';
      fourth.on('data', (d) => {
        got += d;
      });
      fourth.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await new Promise((r) => fourth.once('close', r));
      expect(got).toBe('');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('makes room for a client that speaks by closing the oldest quiet socket: of its address, and of all (limits.connections)', async () => {
    const b = await owner({ limits: { connectionsPerAddress: 3, connections: 5 } });
    const sockets: Socket[] = [];
    /** A socket that connects and says nothing; resolves once the server has counted it (its own answer). */
    const quiet = async (address: string) => {
      const s = netConnect({ port: b.port, host: '127.0.0.1', localAddress: address });
      s.on('error', () => {});
      sockets.push(s);
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const closed = (s: Socket) => new Promise((r) => (s.destroyed ? r(undefined) : s.once('close', r)));
    try {
      const holds = [await quiet('127.0.0.1'), await quiet('127.0.0.1'), await quiet('127.0.0.1')];
      // The address is at its bound: a client of it that speaks still gets an answer, and the oldest quiet
      // socket of the address goes.
      const health = await rawRequest(b.port, '/health');
      expect(health.status).toBe(200);
      await within('the oldest quiet socket closed', closed(holds[0] as Socket));
      // The whole endpoint at its bound (5), held by quiet sockets of other addresses: a speaking client of
      // yet another address gets in, and the oldest quiet socket of all goes.
      const others = [await quiet('127.0.0.2'), await quiet('127.0.0.3'), await quiet('127.0.0.4')];
      expect((await rawRequest(b.port, '/health')).status).toBe(200);
      await within('the oldest quiet socket of all closed', closed(holds[1] as Socket));
      expect(others.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('closes the connection of a refused request: what it pipelined behind is not read and answered', async () => {
    const b = await owner();
    const s = netConnect(b.port, '127.0.0.1');
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    const request = `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nOrigin: https://evil.example\r\n\r\n`;
    s.write(request.repeat(50));
    await within('the refused connection closed', new Promise((r) => s.once('close', r)));
    expect(got.match(/HTTP\/1\.1 403/g)).toHaveLength(1);
    expect(got).toMatch(/connection: close/i);
  });

  it('rate-limits requests per address: 429 RATE_LIMITED with Retry-After once the burst is spent', async () => {
    const b = await owner({ limits: { requestsPerSecond: 1, requestBurst: 3 } });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof rawRequest>> | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await rawRequest(b.port, '/health');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(limited?.headers['retry-after']).toBe('1');
    expect(JSON.parse(limited?.body ?? '{}').error).toBe('RATE_LIMITED');
  });
});
