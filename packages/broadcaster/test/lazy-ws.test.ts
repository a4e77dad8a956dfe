import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Most runs never see a WebSocket peer: the owner loads `ws` (and the https, tls and zlib it requires) at the
// first upgrade, not when it starts (ws-module.ts; issue 13's B2 in a short run). Checked on the built
// CommonJS entry, the one the reporter's thread loads, in a process of its own.
describe('when the owner loads ws', () => {
  it('not to start, publish, flush or answer HTTP and SSE; at the first WebSocket upgrade, which then works', async () => {
    const dist = join(__dirname, '..', 'dist', 'index.cjs');
    const script = `
      const http = require('node:http');
      const { startBroadcaster } = require(${JSON.stringify(dist)});
      const loaded = () => Object.keys(require.cache).some((file) => /[\\\\/]node_modules[\\\\/]ws[\\\\/]/.test(file));
      const get = (url, path) => new Promise((resolve, reject) => {
        const req = http.get(url + path, (res) => { res.destroy(); resolve(res.statusCode); });
        req.on('error', reject);
      });
      (async () => {
        const broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1' });
        broadcaster.publish({ type: 'test.progress', runId: 'r1', timestamp: new Date().toISOString(),
          data: { framework: 'jest', total: 1, completed: 0, passed: 0, failed: 0, skipped: 0, todo: 0, percentage: 0 } });
        await broadcaster.flush(5000);
        const status = await get(broadcaster.url, '/status');
        const sse = await get(broadcaster.url, '/events');
        const before = loaded();
        const { WebSocket } = require(require.resolve('ws', { paths: [${JSON.stringify(dist)}] }));
        // The client's own require loaded ws in this process: the owner's server must still come up on demand.
        const message = await new Promise((resolve, reject) => {
          const ws = new WebSocket(broadcaster.url.replace('http', 'ws') + '/ws');
          ws.on('message', (data) => { resolve(JSON.parse(String(data)).type); ws.close(); });
          ws.on('error', reject);
        });
        await broadcaster.close();
        process.stdout.write(JSON.stringify({ status, sse, before, message }));
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      status: 200,
      sse: 200,
      before: false,
      message: 'connection.established',
    });
  }, 30_000);
});
