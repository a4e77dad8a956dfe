/**
 * SSE streams share the events' frames (sse-frame.ts): what the broadcaster hands to N SSE responses for the
 * same events is the same memory, not a copy per stream. Streams that do not read hold what they were handed
 * until their socket goes, so a private copy each made N of them cost N times what was queued (up to the
 * total bound); shared, they cost it once.
 *
 * Real SSE streams on 127.0.0.1; the Buffers each response is given are recorded (a wrapper on its `write`)
 * and where they lie in memory compared: shared frames are the same bytes of the same ArrayBuffers.
 */

import type { ServerResponse } from 'node:http';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { testCompleted, testOutput, testResult, testStarted, waitFor } from './helpers.js';

const MiB = 1024 * 1024;

let broadcaster: Broadcaster | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await broadcaster?.close();
  broadcaster = undefined;
});

/** An SSE stream that reads everything; `done` once it has seen `event: test.completed`. */
function sse(url: string): Promise<{ done: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let tail = '';
      const done = new Promise<void>((r) =>
        res.on('data', (chunk: Buffer) => {
          tail = (tail + chunk.toString('latin1')).slice(-4096);
          if (tail.includes('event: test.completed\n')) r();
        }),
      );
      closers.push(() => req.destroy());
      resolve({ done });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes handed to one response, and where they lie. */
interface Written {
  bytes: number;
  chunks: Buffer[];
}

/** Records every Buffer given to `res.write` (what its socket then holds until the peer reads it). */
function record(res: ServerResponse): Written {
  const written: Written = { bytes: 0, chunks: [] };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk)) {
      written.bytes += chunk.length;
      written.chunks.push(chunk);
    }
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  return written;
}

/** Bytes of memory the chunks occupy together: overlapping ranges of one ArrayBuffer count once. */
function distinctBytes(chunks: Buffer[]): number {
  const ranges = new Map<ArrayBufferLike, [number, number][]>();
  for (const chunk of chunks) {
    const list = ranges.get(chunk.buffer) ?? [];
    list.push([chunk.byteOffset, chunk.byteOffset + chunk.length]);
    ranges.set(chunk.buffer, list);
  }
  let total = 0;
  for (const list of ranges.values()) {
    list.sort((a, b) => a[0] - b[0]);
    let [start, end] = list[0] as [number, number];
    for (const [from, to] of list.slice(1)) {
      if (from > end) {
        total += end - start;
        start = from;
      }
      if (to > end) end = to;
    }
    total += end - start;
  }
  return total;
}

describe('SSE streams share the frames of the events', () => {
  it('N streams of the same events are handed the same bytes, in bursts and in small batches', async () => {
    const b = await startBroadcaster({
      port: 0,
      heartbeatMs: 600_000,
      // Nobody lags here: only what is handed to the streams is looked at.
      subscriberQueue: { maxBytes: 256 * MiB, totalMaxBytes: 1024 * MiB },
    });
    broadcaster = b;
    const N = 3;
    const streams = await Promise.all(Array.from({ length: N }, () => sse(`${b.url}/events?events=*`)));
    // The responses on the server's side (SseEndpoint.streams), once every stream is open.
    const endpoint = (b as unknown as { sse: { streams: Set<{ res: ServerResponse }> } }).sse;
    await waitFor(() => endpoint.streams.size === N, `${N} SSE streams`);
    const written = [...endpoint.streams].map(({ res }) => record(res));

    b.publish(testStarted());
    // A burst (one synchronous loop: queues pass 256 KiB and are written at once, each by itself)…
    for (let i = 0; i < 4000; i++) {
      b.publish(testOutput(`line ${i} ${'x'.repeat(400)}`));
      b.publish(testResult(i));
    }
    await b.flush?.();
    // …then small batches, one per turn of the event loop (a few events per write).
    for (let i = 0; i < 200; i++) {
      b.publish(testResult(4000 + i));
      await new Promise((r) => setImmediate(r));
    }
    b.publish(testCompleted(4200, 0));
    await Promise.all(streams.map((s) => s.done));

    const perStream = Math.max(...written.map((w) => w.bytes));
    expect(perStream).toBeGreaterThan(3 * MiB);
    const all = written.flatMap((w) => w.chunks);
    const total = written.reduce((sum, w) => sum + w.bytes, 0);
    const distinct = distinctBytes(all);
    // Shared: the N streams' bytes are one stream's (plus each one's own connection.established). A copy
    // per stream: N times that.
    expect(
      distinct,
      `${N} streams were handed ${total} bytes lying in ${distinct} bytes of memory`,
    ).toBeLessThan(perStream * 1.05);
  });
});
