/** Auth (API keys, JWT), the Origin check and the publisher secret, over real HTTP and WebSocket. */
import { connect as netConnect } from 'node:net';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broadcaster, PUBLISHER_HEADER, startBroadcaster } from '../src/index.js';
import { Client, tryUpgrade } from './helpers.js';

const SECRET = 'test-jwt-secret-0123456789abcdef';
let broadcaster: Broadcaster | undefined;
afterEach(async () => {
  await broadcaster?.close();
  broadcaster = undefined;
});

async function jwt(claims: { exp?: number; nbf?: number } = {}, secret = SECRET): Promise<string> {
  let builder = new SignJWT({ sub: 'ci' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.exp !== undefined) builder = builder.setExpirationTime(claims.exp);
  if (claims.nbf !== undefined) builder = builder.setNotBefore(claims.nbf);
  return builder.sign(new TextEncoder().encode(secret));
}

const now = () => Math.floor(Date.now() / 1000);

describe('API keys', () => {
  it('401 JSON before the upgrade for a missing or wrong key; success with the right one (query or Bearer)', async () => {
    const b = await startBroadcaster({ port: 0, apiKey: ['key-one', 'key-two'] });
    broadcaster = b;
    const missing = await tryUpgrade(b.wsUrl);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ server: 'testwire', error: 'UNAUTHORIZED' });
    expect((await tryUpgrade(`${b.wsUrl}?apiKey=wrong`)).status).toBe(401);
    expect((await tryUpgrade(b.wsUrl, { authorization: 'Bearer key-on' })).status).toBe(401);
    expect((await tryUpgrade(`${b.wsUrl}?apiKey=key-two`)).status).toBe(101);
    expect((await tryUpgrade(b.wsUrl, { authorization: 'Bearer key-one' })).status).toBe(101);
    // The same for SSE and /status; /health stays open.
    expect((await fetch(`${b.url}/events?apiKey=nope`)).status).toBe(401);
    expect((await fetch(`${b.url}/status`)).status).toBe(401);
    expect((await fetch(`${b.url}/status?apiKey=key-one`)).status).toBe(200);
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
    const sse = await fetch(`${b.url}/events?apiKey=key-one`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
  });
});

describe('JWT', () => {
  it('accepts a valid HS256 token; 401 for an expired one, a not-yet-valid one and a bad signature', async () => {
    const b = await startBroadcaster({ port: 0, jwtSecret: SECRET });
    broadcaster = b;
    expect((await tryUpgrade(`${b.wsUrl}?token=${await jwt({ exp: now() + 60 })}`)).status).toBe(101);
    expect(
      (await tryUpgrade(b.wsUrl, { authorization: `Bearer ${await jwt({ exp: now() + 60 })}` })).status,
    ).toBe(101);
    const expired = await tryUpgrade(`${b.wsUrl}?token=${await jwt({ exp: now() - 10 })}`);
    expect(expired.status).toBe(401);
    expect(expired.body?.message).toContain('expired');
    expect((await tryUpgrade(`${b.wsUrl}?token=${await jwt({ nbf: now() + 3600 })}`)).status).toBe(401);
    expect(
      (await tryUpgrade(`${b.wsUrl}?token=${await jwt({}, 'another-secret-another-secret!!')}`)).status,
    ).toBe(401);
    expect((await tryUpgrade(`${b.wsUrl}?token=not.a.jwt`)).status).toBe(401);
    const sse = await fetch(`${b.url}/events?token=${await jwt({ exp: now() - 10 })}`);
    expect(sse.status).toBe(401);
  });
});

describe('Origin', () => {
  it('403 for a foreign browser Origin (WS and SSE), other loopback pages included; its own and allowed origins pass', async () => {
    const b = await startBroadcaster({
      port: 0,
      allowedOrigins: ['https://dash.example.com'],
    });
    broadcaster = b;
    const foreign = await tryUpgrade(b.wsUrl, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body?.error).toBe('FORBIDDEN_ORIGIN');
    expect((await fetch(`${b.url}/events`, { headers: { origin: 'https://evil.example' } })).status).toBe(
      403,
    );
    // DNS rebinding: a foreign name pointing at 127.0.0.1 is still foreign.
    expect(
      (
        await tryUpgrade(b.wsUrl, {
          origin: `http://rebind.example:${b.port}`,
          host: `rebind.example:${b.port}`,
        })
      ).status,
    ).toBe(403);
    // Pages on other loopback ports are other sites.
    expect((await tryUpgrade(b.wsUrl, { origin: 'http://localhost:5173' })).status).toBe(403);
    expect((await tryUpgrade(b.wsUrl, { origin: 'http://[::1]:3000' })).status).toBe(403);
    expect((await tryUpgrade(b.wsUrl, { origin: `http://127.0.0.1:${b.port}` })).status).toBe(101);
    expect((await tryUpgrade(b.wsUrl, { origin: 'https://dash.example.com' })).status).toBe(101);
    const sse = await fetch(`${b.url}/events`, { headers: { origin: 'https://dash.example.com' } });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    await sse.body?.cancel();
  });

  it('garbage Origin and Host headers are foreign, never a crash', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (const origin of ['null', '::::', 'http://', 'javascript:alert(1)', '%%%', 'http://a b']) {
      expect((await tryUpgrade(b.wsUrl, { origin })).status).toBe(403);
    }
    // Raw request with a mangled Host header.
    const raw = await new Promise<string>((resolve) => {
      const socket = netConnect(b.port, '127.0.0.1', () => {
        socket.write(
          'GET /ws HTTP/1.1\r\nHost: [[[:::\r\nOrigin: http://\u00ff\u00fe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (d) => {
        text += d;
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 40[03]/);
    const ok = await Client.open(b.wsUrl);
    ok.close();
  });
});

describe('publisher role', () => {
  it('rejects ?role=publisher without the secret and from browsers', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    expect((await tryUpgrade(`${b.wsUrl}?role=publisher`)).status).toBe(401);
    expect((await tryUpgrade(`${b.wsUrl}?role=publisher`, { [PUBLISHER_HEADER]: 'guess' })).status).toBe(401);
    expect((await tryUpgrade(`${b.wsUrl}?role=publisher`, { origin: 'http://localhost' })).status).toBe(403);
  });
});
