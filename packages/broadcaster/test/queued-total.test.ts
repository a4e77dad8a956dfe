/**
 * The bound on bytes queued for all the subscribers of one broadcaster (`subscriberQueue.totalMaxBytes`):
 * subscribers that never read (a hung or hostile local process) cost at most that in all, not each their own
 * bound. Real sockets on loopback; the broadcaster runs in this process, as it does in a test runner.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client, getJson, type Msg, testOutput, waitFor, waitForAsync } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let broadcaster: Broadcaster | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await broadcaster?.close();
  broadcaster = undefined;
});

/** An SSE stream whose reader is paused from the start; `resume()` reads what the socket still delivers. */
function pausedSse(url: string): Promise<{ text: () => string; resume: () => void; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.pause();
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      closers.push(() => req.destroy());
      resolve({ text: () => text, resume: () => res.resume(), ended });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Seqs of the events (seq > 0) a WebSocket client received, in the order received. */
const seqs = (client: Client): number[] => client.events().map((e) => e.seq as number);

/**
 * Seqs of the complete events in an SSE stream's text (`id: <epoch>:<seq>`), in the order received. An event
 * cut short by the end of the stream is not one (an EventSource dispatches it only at its blank line).
 */
const sseSeqs = (text: string): number[] =>
  text
    .split('\n\n')
    .slice(0, -1)
    .flatMap((event) => {
      const id = /^id: [^:\n]+:(\d+)$/m.exec(event);
      return id ? [Number(id[1])] : [];
    });

const contiguousFrom = (first: number, list: number[]): boolean => list.every((seq, i) => seq === first + i);

describe('subscriberQueue.totalMaxBytes: the bound on what all subscribers hold together', () => {
  it('non-readers are made to lag once together they hold the bound; a reader that keeps up gets everything', async () => {
    const maxBytes = 1 * MiB;
    const totalMaxBytes = 3 * MiB;
    const b = await startBroadcaster({
      port: 0,
      subscriberQueue: { maxBytes, totalMaxBytes },
      // No heartbeat during the test: only the bounds make a subscriber lag here.
      heartbeatMs: 600_000,
    });
    broadcaster = b;

    const reader = await Client.open(`${b.wsUrl}?events=*`);
    closers.push(() => reader.close());
    // Eight WebSocket and two SSE subscribers that stop reading: together they could hold 10x the per-subscriber
    // bound, over three times the total.
    const slowWs: Client[] = [];
    for (let i = 0; i < 8; i++) {
      const client = await Client.open(`${b.wsUrl}?events=*`);
      closers.push(() => client.close());
      client.ws.pause();
      slowWs.push(client);
    }
    const slowSse = [await pausedSse(`${b.url}/events`), await pausedSse(`${b.url}/events`)];
    await waitForAsync(
      async () => (await getJson(`${b.url}/status`)).subscribers === 11,
      'the eleven subscribers',
    );
    const status0 = await getJson(`${b.url}/status`);
    expect(status0.subscriberQueues).toMatchObject({ maxBytes: totalMaxBytes });

    // More than the loopback socket buffers of ten readers absorb (several MB each), in rounds, reading the
    // broadcaster's own accounting of what is queued as it goes.
    const EVENTS = 16_000;
    const payload = 'y'.repeat(2000);
    let peakSeen = 0;
    for (let round = 0; round < 16; round++) {
      for (let i = 0; i < EVENTS / 16; i++) b.publish(testOutput(`${round * 1000 + i} ${payload}`));
      await b.flush();
      const status = await getJson(`${b.url}/status`);
      peakSeen = Math.max(peakSeen, status.subscriberQueues.bytes);
    }
    b.publish(testOutput('sentinel'));
    await b.flush();
    const last = EVENTS + 1;

    // The reader that keeps up: every event, in order, once, up to the sentinel; never told to lag.
    await waitFor(
      () => reader.events().at(-1)?.data.output === 'sentinel',
      'the reader to get the sentinel',
      60_000,
    );
    expect(seqs(reader)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(reader.messages.some((m) => m.type === 'system.error')).toBe(false);
    expect(reader.closeCode).toBeUndefined();

    // What was queued for all subscribers never went over the bound (the broadcaster's high-water mark, and
    // every figure read while publishing).
    const status = await getJson(`${b.url}/status`);
    expect(peakSeen).toBeLessThanOrEqual(totalMaxBytes);
    expect(status.subscriberQueues.peakBytes).toBeLessThanOrEqual(totalMaxBytes);
    expect(status.subscriberQueues.peakBytes).toBeGreaterThan(totalMaxBytes / 2); // the bound was what held them
    // The ten non-readers were made to lag (most of them for the total, before their own bound), the reader stays.
    expect(status.subscriberQueues.shed).toBeGreaterThanOrEqual(1);
    expect(status.lagged).toBe(10);
    expect(status.subscribers).toBe(1);

    // The slow ones, reading again: what they were sent is a prefix of the stream, in order; a WebSocket then
    // gets the lag notice naming the gap right after it and close 4008, or (when what it held had to be let
    // go with its socket) the socket's end. Either way, resuming from the last seq read yields all the rest.
    for (const slow of slowWs) slow.ws.resume();
    for (const slow of slowSse) slow.resume();
    for (const slow of slowWs) await slow.closed;
    await Promise.all(slowSse.map((s) => s.ended));

    const resumeFrom: number[] = [];
    for (const slow of slowWs) {
      const got = seqs(slow);
      expect(contiguousFrom(1, got)).toBe(true);
      expect(got.length).toBeLessThan(last);
      expect([4008, 1006]).toContain(slow.closeCode);
      const notice = slow.messages.find((m: Msg) => m.type === 'system.error');
      if (slow.closeCode === 4008) {
        expect(slow.messages.at(-1)).toBe(notice);
        expect(notice?.data).toMatchObject({ error: { code: 'SUBSCRIBER_LAGGING' }, epoch: b.epoch });
        expect(notice?.data.gap.fromSeq).toBe(got.length + 1);
      }
      resumeFrom.push(got.length);
    }
    for (const slow of slowSse) {
      const got = sseSeqs(slow.text());
      expect(contiguousFrom(1, got)).toBe(true);
      expect(got.length).toBeLessThan(last);
      resumeFrom.push(got.length);
    }
    for (const since of resumeFrom) {
      const back = await Client.open(`${b.wsUrl}?events=*&epoch=${b.epoch}&since=${since}`);
      closers.push(() => back.close());
      await back.next((m) => m.type === 'resumed', 60_000);
      expect(seqs(back)).toEqual(Array.from({ length: last - since }, (_, i) => since + 1 + i));
      back.close();
    }
  }, 180_000);

  it('is resolved with the other limits: 8x the per-subscriber bound by default, never below it', async () => {
    const { resolveOptions } = await import('../src/options.js');
    expect(resolveOptions({}, {}).subscriberTotalMaxBytes).toBe(64 * MiB);
    expect(resolveOptions({ subscriberQueue: { maxBytes: MiB } }, {}).subscriberTotalMaxBytes).toBe(8 * MiB);
    expect(resolveOptions({ subscriberQueue: { totalMaxBytes: 32 * MiB } }, {}).subscriberTotalMaxBytes).toBe(
      32 * MiB,
    );
    expect(() => resolveOptions({ subscriberQueue: { maxBytes: 2 * MiB, totalMaxBytes: MiB } }, {})).toThrow(
      'The "subscriberQueue.totalMaxBytes" option must be at least subscriberQueue.maxBytes (2097152), got 1048576',
    );
  });
});
