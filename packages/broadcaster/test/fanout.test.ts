/** Fan-out: many subscribers, ordering, the per-subscriber bound and SUBSCRIBER_LAGGING. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client, getJson, recordingLogger, sleep, testOutput, testResult, waitFor } from './helpers.js';

let broadcaster: Broadcaster | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await broadcaster?.close();
  broadcaster = undefined;
});

describe('fan-out', () => {
  it('100 concurrent subscribers each receive all of 10,000 events in order', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const SUBSCRIBERS = 100;
    const EVENTS = 10_000;
    // Lean receivers: check order from the seq field without keeping 1M parsed messages.
    const received = new Array<number>(SUBSCRIBERS).fill(0);
    const outOfOrder = new Array<number>(SUBSCRIBERS).fill(0);
    await Promise.all(
      Array.from({ length: SUBSCRIBERS }, (_, i) => {
        const ws = new WebSocket(`${b.wsUrl}?events=test.result`);
        sockets.push(ws);
        let expected = 1;
        ws.on('message', (data) => {
          const text = String(data);
          const at = text.indexOf('"seq":');
          const seq = Number.parseInt(text.slice(at + 6), 10);
          if (seq === 0) return; // connection.established
          if (seq !== expected) outOfOrder[i]++;
          expected = seq + 1;
          received[i]++;
        });
        return new Promise((resolve) => ws.once('message', resolve));
      }),
    );
    // Publish in slices so the test models a run rather than one 10k-event tick.
    for (let i = 1; i <= EVENTS; i++) {
      b.publish(testResult(i));
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await b.flush();
    await waitFor(
      () => received.every((n) => n >= EVENTS),
      'every subscriber to receive every event',
      30_000,
    );
    expect(received).toEqual(new Array(SUBSCRIBERS).fill(EVENTS));
    expect(outOfOrder).toEqual(new Array(SUBSCRIBERS).fill(0));
  }, 60_000);

  it('an event larger than a subscriber queue is refused at the gate, saying why; live subscribers do not lag', async () => {
    const logger = recordingLogger();
    const b = await startBroadcaster({ port: 0, logger });
    broadcaster = b;
    const subscribers = await Promise.all(
      [0, 1, 2].map(() => Client.open(`${b.wsUrl}?events=*`, { maxPayload: 64 * 1024 * 1024 })),
    );
    for (const c of subscribers) sockets.push(c.ws);
    b.publish(testOutput('z'.repeat(9 * 1024 * 1024)));
    b.publish(testOutput('sentinel'));
    await b.flush();
    for (const c of subscribers) await c.next((m) => m.data?.output === 'sentinel');
    for (const c of subscribers) expect(c.events().map((e) => e.data.output)).toEqual(['sentinel']);
    expect(subscribers.map((c) => c.closeCode)).toEqual([undefined, undefined, undefined]);
    expect((await getJson(`${b.url}/status`)).lagged).toBe(0);
    expect(b.dropped).toBe(1);
    expect(logger.warnings).toEqual([
      'testwire: dropped an event that cannot be sent (test.output: the event is 9.0 MiB of JSON, over the 2.0 MiB one event may be (MAX_EVENT_BYTES): cut its largest fields); further ones are dropped silently',
    ]);
  });

  it('a paused subscriber gets SUBSCRIBER_LAGGING with its gap, then close 4008; publish() is not blocked', async () => {
    const b = await startBroadcaster({ port: 0, subscriberQueue: { maxBytes: 64 * 1024 } });
    broadcaster = b;
    const slow = await Client.open(`${b.wsUrl}?events=*`);
    const fast = await Client.open(`${b.wsUrl}?events=test.output`);
    sockets.push(slow.ws, fast.ws);
    slow.ws.pause(); // stop reading: the server's socket buffer fills up

    // More than loopback socket buffers absorb (several MB each way), so the paused reader really lags.
    const EVENTS = 10_000;
    const payload = 'y'.repeat(2000);
    for (let i = 0; i < EVENTS; i++) b.publish(testOutput(`${i} ${payload}`));
    await b.flush();

    // Not blocked by the paused reader: everything reaches the other subscriber while it is still paused.
    await waitFor(() => fast.events().length === EVENTS, 'the fast subscriber to get everything', 30_000);
    const status = await getJson(`${b.url}/status`);
    expect(status.lagged).toBe(1);

    slow.ws.resume();
    const code = await slow.closed;
    expect(code).toBe(4008);
    const lag = slow.messages.find((m) => m.type === 'system.error');
    expect(lag).toMatchObject({
      seq: 0,
      runId: '',
      data: { error: { code: 'SUBSCRIBER_LAGGING' }, epoch: b.epoch },
    });
    const received = slow.events().map((e) => e.seq);
    // It got a prefix in order, then the gap starts right after it.
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => i + 1));
    expect(lag?.data.gap.fromSeq).toBe(received.length + 1);
    expect(lag?.data.gap.toSeq).toBeGreaterThanOrEqual(lag?.data.gap.fromSeq);
    // The lag notice is the last thing sent.
    expect(slow.messages.at(-1)).toBe(lag);

    // Resuming from the gap yields the rest, in order.
    const back = await Client.open(`${b.wsUrl}?events=*&epoch=${b.epoch}&since=${lag?.data.gap.fromSeq - 1}`);
    sockets.push(back.ws);
    await back.next((m) => m.type === 'resumed', 30_000);
    const rest = back.events().map((e) => e.seq);
    expect(rest[0]).toBe(lag?.data.gap.fromSeq);
    expect(rest.at(-1)).toBe(EVENTS);
    expect(rest.length).toBe(EVENTS - received.length);
  });

  it('memory stays bounded: a stalled subscriber does not hold more than its bound', async () => {
    const b = await startBroadcaster({ port: 0, subscriberQueue: { maxBytes: 256 * 1024 } });
    broadcaster = b;
    const stalled = await Client.open(`${b.wsUrl}?events=*`);
    sockets.push(stalled.ws);
    stalled.ws.pause();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) b.publish(testOutput('z'.repeat(1000)));
      await b.flush();
      await sleep(5);
    }
    const status = await getJson(`${b.url}/status`);
    expect(status.lagged).toBe(1);
    expect(status.subscribers).toBe(0);
  });
});
