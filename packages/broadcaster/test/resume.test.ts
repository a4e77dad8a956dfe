/** History, resume and snapshot over real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client, sleep, testCompleted, testResult, testStarted, waitFor } from './helpers.js';

let broadcaster: Broadcaster | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await broadcaster?.close();
  broadcaster = undefined;
});
async function connect(b: Broadcaster, query = ''): Promise<Client> {
  const c = await Client.open(`${b.wsUrl}${query}`);
  clients.push(c);
  return c;
}

describe('resume', () => {
  it('after a forced disconnect replays every missed matching event once, in order, then goes live', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const first = await connect(b);
    await first.request(
      { type: 'subscribe', events: ['test.result'], filters: { status: 'passed' } },
      'subscribed',
    );
    const established = first.messages[0];
    b.publish(testStarted());
    for (let i = 1; i <= 20; i++) b.publish(testResult(i));
    await b.flush();
    await waitFor(() => first.events().length === 16, '16 passed results');
    const lastSeq = first.events().at(-1)?.seq as number;
    first.close(); // forced: no close handshake

    for (let i = 21; i <= 60; i++) b.publish(testResult(i));
    await b.flush();

    const second = await connect(b);
    second.send({ type: 'subscribe', events: ['test.result'], filters: { status: 'passed' } });
    second.send({ type: 'resume', id: 7, epoch: established.epoch, since: lastSeq });
    const resumed = await second.next((m) => m.type === 'resumed');
    // Live event after the replay.
    b.publish(testResult(61));
    await b.flush();
    await waitFor(() => second.events().some((e) => e.data.id === 't61'), 'live event after resume');

    const missed = Array.from({ length: 40 }, (_, i) => i + 21)
      .filter((i) => i % 5 !== 0)
      .map((i) => `t${i}`);
    const ids = second.events().map((e) => e.data.id);
    expect(ids).toEqual([...missed, 't61']);
    expect(resumed).toMatchObject({
      id: 7,
      epoch: b.epoch,
      since: lastSeq,
      replayed: missed.length,
      seq: 61,
    });
    // `resumed` comes after the replayed events and before the live one.
    const resumedIndex = second.messages.indexOf(resumed);
    expect(second.messages.slice(resumedIndex + 1).map((m) => m.data?.id)).toEqual(['t61']);
  });

  it('resume via the URL query (?epoch=&since=) works like the message', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (let i = 1; i <= 5; i++) b.publish(testResult(i));
    await b.flush();
    const c = await connect(b, `?events=test.result&epoch=${b.epoch}&since=2`);
    await c.next((m) => m.type === 'resumed');
    expect(c.events().map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it('beyond the history: resume.failed (HISTORY_EVICTED) and a snapshot that is still complete', async () => {
    const b = await startBroadcaster({ port: 0, history: { maxEvents: 10 } });
    broadcaster = b;
    b.publish(testStarted('r_a', 30));
    for (let i = 1; i <= 30; i++) b.publish(testResult(i, {}, 'r_a'));
    b.publish(testCompleted(24, 6, 'r_a'));
    b.publish(testStarted('r_b', 5));
    for (let i = 1; i <= 3; i++) b.publish(testResult(100 + i, {}, 'r_b'));
    await b.flush();
    const c = await connect(b);
    c.send({ type: 'subscribe', events: ['*'] });
    c.send({ type: 'resume', epoch: b.epoch, since: 3 });
    const failed = await c.next((m) => m.type === 'resume.failed');
    expect(failed).toMatchObject({ reason: 'HISTORY_EVICTED', epoch: b.epoch, since: 3, oldestSeq: 27 });
    const snapshot = await c.next((m) => m.type === 'snapshot');
    expect(c.messages.indexOf(snapshot)).toBe(c.messages.indexOf(failed) + 1);
    expect(snapshot.seq).toBe(36);
    const [a, r] = snapshot.runs;
    expect(a).toMatchObject({
      runId: 'r_a',
      status: 'completed',
      totalTests: 30,
      counts: { passed: 24, failed: 6, completed: 30 },
    });
    expect(a.tests).toHaveLength(30);
    expect(r).toMatchObject({ runId: 'r_b', status: 'running', counts: { completed: 3 } });
    // Then live.
    b.publish(testResult(104, {}, 'r_b'));
    await b.flush();
    const live = await c.next((m) => m.data?.id === 't104');
    expect(live.seq).toBe(37);
  });

  it('another epoch: resume.failed (EPOCH_CHANGED) + snapshot; a future seq: FUTURE_SEQ', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    b.publish(testResult(1));
    await b.flush();
    const c = await connect(b);
    c.send({ type: 'resume', epoch: 'gone', since: 1 });
    expect((await c.next((m) => m.type === 'resume.failed')).reason).toBe('EPOCH_CHANGED');
    await c.next((m) => m.type === 'snapshot');
    const future = await c.request({ type: 'resume', epoch: b.epoch, since: 99 }, 'resume.failed');
    expect(future.reason).toBe('FUTURE_SEQ');
  });

  it('snapshot on request reflects every event up to its seq', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    const c = await connect(b);
    b.publish(testStarted());
    for (let i = 1; i <= 4; i++) b.publish(testResult(i));
    await b.flush();
    await sleep(10);
    const snapshot = await c.request({ type: 'snapshot' }, 'snapshot');
    expect(snapshot).toMatchObject({ epoch: b.epoch, seq: 5 });
    expect(snapshot.runs[0].tests.map((t: { id: string }) => t.id)).toEqual(['t1', 't2', 't3', 't4']);
  });

  it('a slow replay larger than the subscriber bound is paced, not dropped', async () => {
    const b = await startBroadcaster({ port: 0, subscriberQueue: { maxBytes: 64 * 1024 } });
    broadcaster = b;
    const filler = 'x'.repeat(900);
    for (let i = 1; i <= 2000; i++) b.publish(testResult(i, { suite: filler }));
    await b.flush();
    const c = await connect(b, '?events=test.result');
    c.send({ type: 'resume', epoch: b.epoch, since: 0 });
    const resumed = await c.next((m) => m.type === 'resumed', 10_000);
    expect(resumed.replayed).toBe(2000);
    expect(c.events().map((e) => e.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});
