/** close(): 1001 to WebSocket clients, SSE streams ended, bounded with stuck peers; publish/flush semantics. */
import { type IncomingMessage, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startBroadcaster } from '../src/index.js';
import { Client, recordingLogger, testOutput, testResult } from './helpers.js';

describe('close()', () => {
  it('sends 1001 to WebSocket clients (after pending frames) and ends SSE responses', async () => {
    const b = await startBroadcaster({ port: 0 });
    const ws = await Client.open(`${b.wsUrl}?events=*`);
    // Connected before anything is published or closed: a request still connecting when the server closes is
    // reset, and the events it should end with were never its own.
    const sse = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${b.url}/events`, resolve).on('error', reject).end();
    });
    const sseEnded = new Promise<string>((resolve, reject) => {
      let text = '';
      sse.on('data', (d) => {
        text += d;
      });
      sse.on('end', () => resolve(text));
      sse.on('error', reject);
    });
    for (let i = 1; i <= 50; i++) b.publish(testResult(i));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 51; i <= 100; i++) b.publish(testResult(i));
    await b.close();
    expect(await ws.closed).toBe(1001);
    expect(ws.events()).toHaveLength(100); // published before close() -> delivered before the close frame
    const text = await sseEnded;
    expect(text.split('\nevent: test.result\n').length - 1).toBeGreaterThan(0);
    expect(await fetch(`${b.url}/status`).catch((e) => e)).toBeInstanceOf(Error);
  });

  it('is bounded by timeoutMs when a peer never answers the close handshake', async () => {
    const b = await startBroadcaster({ port: 0 });
    const stuck = await Client.open(`${b.wsUrl}?events=*`);
    stuck.ws.pause(); // never reads the close frame
    const started = Date.now();
    await b.close({ timeoutMs: 300 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1500);
    stuck.ws.resume();
    await stuck.closed;
  });

  it('drops and counts events published after close(); publish never throws', async () => {
    const logger = recordingLogger();
    const b = await startBroadcaster({ port: 0, logger });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => b.publish({ type: 'test.output', runId: 'r', data: circular } as never)).not.toThrow();
    expect(() => b.publish(null as never)).not.toThrow();
    expect(() => b.publish({ type: 'no.such', runId: 'r', data: {} } as never)).not.toThrow();
    expect(b.dropped).toBe(3);
    expect(logger.warnings).toHaveLength(1);
    await b.close();
    b.publish(testOutput('late'));
    expect(b.dropped).toBe(4);
    await b.flush(); // resolves, does not hang
  });
});
