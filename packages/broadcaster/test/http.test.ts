/** Plain HTTP endpoints: /status, /ws/status, /health, /, dashboardDir, 404. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PublishedEvent, validatePublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster, VERSION } from '../src/index.js';
import { Client, getJson, type Msg, testResult, testStarted } from './helpers.js';

let broadcaster: Broadcaster | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await broadcaster?.close();
  broadcaster = undefined;
});

describe('HTTP endpoints', () => {
  it('/status (and /ws/status) report server, epoch, seq, connections and runs', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const c = await Client.open(`${b.wsUrl}?events=*`);
    cleanups.push(() => c.close());
    b.publish(testStarted());
    b.publish(testResult(1));
    await b.flush();
    for (const path of ['/status', '/ws/status']) {
      const res = await fetch(`${b.url}${path}`);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const status = (await res.json()) as Msg;
      expect(status).toMatchObject({
        server: 'testwire',
        version: VERSION,
        protocol: 1,
        epoch: b.epoch,
        seq: 2,
        activeConnections: 1,
        subscribers: 1,
        publishers: 0,
        runs: [{ runId: 'r_test', framework: 'vitest', project: 'web', status: 'running' }],
      });
      expect(status.uptime).toBeGreaterThanOrEqual(0);
    }
    // A run that ended interrupted says so, and by what.
    b.publish({
      type: 'test.completed',
      runId: 'r_test',
      data: {
        framework: 'vitest',
        project: 'web',
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, todo: 0, duration: 5, success: false },
        interrupted: true,
        interruptedBy: 'SIGTERM',
      },
    } as PublishedEvent);
    await b.flush();
    expect((await getJson(`${b.url}/status`)).runs).toEqual([
      {
        runId: 'r_test',
        framework: 'vitest',
        project: 'web',
        status: 'completed',
        interrupted: true,
        interruptedBy: 'SIGTERM',
      },
    ]);
  });

  it('/health is system.health data (validated against the protocol schema)', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const health = await getJson(`${b.url}/health`);
    expect(validatePublishedEvent({ type: 'system.health', runId: '', data: health })).toMatchObject({
      ok: true,
    });
    expect(health.status).toBe('healthy');
    expect(health.components.map((c: { name: string }) => c.name)).toEqual([
      'http',
      'history',
      'subscribers',
    ]);
    expect(health.metrics.cpu.cores).toBeGreaterThan(0);
  });

  it('/ names the endpoints without a dashboard (dashboardDir: false); unknown paths are 404 JSON; non-GET is 405', async () => {
    const b = await startBroadcaster({ port: 0, dashboardDir: false });
    broadcaster = b;
    const index = await fetch(`${b.url}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('x-testwire')).toBe(VERSION);
    const html = await index.text();
    expect(html).toContain(b.wsUrl);
    expect(html).toContain('testwire broadcaster');
    for (const endpoint of ['/ws', '/events', '/status', '/health']) expect(html).toContain(endpoint);
    // The dashboard's files are not served either.
    expect((await fetch(`${b.url}/app.js`)).status).toBe(404);
    const missing = await fetch(`${b.url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Msg).error).toBe('NOT_FOUND');
    expect((await fetch(`${b.url}/status`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${b.url}/ws`)).status).toBe(426);
  });

  it('serves the installed @testwire/dashboard at / by default', async () => {
    // Linked into this package's node_modules as the optional peer, exactly as a user installs it.
    const { dashboardDir } = (await import('@testwire/dashboard' as string)) as { dashboardDir: string };
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const index = await fetch(`${b.url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toBe(readFileSync(join(dashboardDir, 'index.html'), 'utf8'));
    // Another site may not frame it (its buttons would be clickjacked).
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(index.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect((await fetch(`${b.url}/app.js`)).status).toBe(200);
  });

  it('serves dashboardDir at / without escaping it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'testwire-dash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'index.html'), '<h1>dash</h1>');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}-secret.txt`), 'secret');
    cleanups.push(() => rmSync(join(dir, '..', `${dir.split('/').pop()}-secret.txt`), { force: true }));
    const b = await startBroadcaster({ port: 0, dashboardDir: dir });
    broadcaster = b;
    expect(await (await fetch(`${b.url}/`)).text()).toBe('<h1>dash</h1>');
    const js = await fetch(`${b.url}/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
    const traversal = await fetch(`${b.url}/%2e%2e/${dir.split('/').pop()}-secret.txt`);
    expect(traversal.status).toBe(404);
    // Endpoints still win over files.
    expect((await getJson(`${b.url}/status`)).server).toBe('testwire');
  });
});
