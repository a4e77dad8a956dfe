/** History, resume and snapshot over real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client, type Msg, testCompleted, testOutput, testResult, testStarted, waitFor } from './helpers.js';

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

/**
 * A reconnecting client's subscription and resume must take effect together: a live event sent between
 * them would overtake the replay. The review found the replay then skipped every missed event below it.
 */
describe('resume and live delivery', () => {
  /** Publishes `perTick` events every millisecond until stopped: live traffic racing the handshake. */
  function publishContinuously(b: Broadcaster, perTick = 3): { stop(): Promise<void>; count(): number } {
    let n = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) b.publish(testResult(1000 + ++n));
    }, 1);
    return {
      count: () => n,
      stop: async () => {
        clearInterval(timer);
        await b.flush();
      },
    };
  }

  /** The event seqs a client received, asserting they never go backwards and never repeat. */
  function strictSeqs(c: Client): number[] {
    const seqs = c.events().map((e) => e.seq as number);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
    return seqs;
  }

  it('a standalone resume after live delivery passed `since` answers ALREADY_LIVE + snapshot, never a silent gap', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    b.publish(testStarted());
    for (let i = 1; i <= 4; i++) b.publish(testResult(i));
    await b.flush();
    const c = await connect(b);
    await c.request({ type: 'subscribe', events: ['*'] }, 'subscribed');
    // The live event the owner publishes while the client's resume is still on its way.
    b.publish(testResult(5));
    await b.flush();
    await c.next((m) => m.seq === 6);
    c.send({ type: 'resume', id: 'r', epoch: b.epoch, since: 2 });
    const failed = await c.next((m) => m.type === 'resumed' || m.type === 'resume.failed');
    // `resumed` here would claim a complete replay without ever sending events 3..5.
    expect(failed.type).toBe('resume.failed');
    expect(failed).toMatchObject({ id: 'r', reason: 'ALREADY_LIVE', epoch: b.epoch, since: 2 });
    expect(failed.message).toContain('"resume"');
    const snapshot = c.messages[c.messages.indexOf(failed) + 1];
    expect(snapshot).toMatchObject({ type: 'snapshot', seq: 6 });
    expect(snapshot.runs[0].tests).toHaveLength(5);
    b.publish(testResult(6));
    await b.flush();
    await c.next((m) => m.seq === 7);
    // Events 3..5 were not sent after 6 (out of order), and not claimed as replayed either.
    expect(strictSeqs(c)).toEqual([6, 7]);
    expect(c.messages.some((m) => m.type === 'resumed')).toBe(false);
  });

  it('a standalone resume after live delivery is served when nothing before the live events was missed', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (let i = 1; i <= 4; i++) b.publish(testResult(i)); // not test.output: nothing to miss
    await b.flush();
    const c = await connect(b);
    await c.request({ type: 'subscribe', events: ['test.output'] }, 'subscribed');
    b.publish(testOutput('live'));
    await b.flush();
    await c.next((m) => m.seq === 5);
    const resumed = await c.request({ type: 'resume', epoch: b.epoch, since: 1 }, 'resumed');
    expect(resumed.replayed).toBe(0);
    b.publish(testOutput('after'));
    await b.flush();
    await c.next((m) => m.seq === 6);
    expect(strictSeqs(c)).toEqual([5, 6]);

    // A replay vouches for what it sent: after resuming from 0, a resume from inside that range is fine.
    const d = await connect(b);
    await d.request({ type: 'subscribe', events: ['test.output'] }, 'subscribed');
    expect((await d.request({ type: 'resume', epoch: b.epoch, since: 0 }, 'resumed')).replayed).toBe(2);
    b.publish(testOutput('live again'));
    await b.flush();
    await d.next((m) => m.seq === 7);
    const again = await d.request({ type: 'resume', epoch: b.epoch, since: 4 }, 'resumed');
    expect(again.replayed).toBe(0);
    expect(strictSeqs(d)).toEqual([5, 6, 7]);
  });

  it('subscribe with resume replays every missed event before any live one while events are published continuously', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (let i = 1; i <= 300; i++) b.publish(testResult(i));
    await b.flush();
    const traffic = publishContinuously(b);
    try {
      const c = await connect(b);
      await waitFor(() => traffic.count() > 30, 'live traffic');
      c.send({
        type: 'subscribe',
        id: 's',
        events: ['test.result'],
        filters: { status: 'passed' },
        resume: { epoch: b.epoch, since: 100 },
      });
      const resumed = await c.next((m) => m.type === 'resumed');
      // Keep publishing well past the replay: live events follow it.
      await waitFor(() => traffic.count() > resumed.seq - 300 + 30, 'live events after the replay');
      await traffic.stop();
      const last = await seqOf(b);
      await waitFor(() => (c.events().at(-1)?.seq ?? 0) >= lastPassed(last), 'every event', 10_000);
      expect(c.messages.findIndex((m) => m.type === 'subscribed' && m.id === 's')).toBeGreaterThan(0);
      expect(resumed).toMatchObject({ id: 's', since: 100 });
      // Every passed result after seq 100, once each, in order: the replay, then live.
      const expected = Array.from({ length: last - 100 }, (_, i) => i + 101).filter(isPassedSeq);
      expect(strictSeqs(c)).toEqual(expected);
      const at = c.messages.indexOf(resumed);
      const events = (list: Msg[]) => list.filter((m) => m.type === 'test.result');
      expect(events(c.messages.slice(0, at)).every((m) => m.seq <= resumed.seq)).toBe(true);
      expect(events(c.messages.slice(at)).every((m) => m.seq > resumed.seq)).toBe(true);
      expect(events(c.messages.slice(at)).length).toBeGreaterThan(10);
    } finally {
      await traffic.stop();
    }
  });

  it('a /ws URL with a subscription and lastEventId (or epoch+since) resumes atomically too', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    for (let i = 1; i <= 200; i++) b.publish(testResult(i));
    await b.flush();
    const traffic = publishContinuously(b);
    const clientsHere: Client[] = [];
    try {
      await waitFor(() => traffic.count() > 30, 'live traffic');
      clientsHere.push(await connect(b, `?events=test.result&lastEventId=${b.epoch}:50`));
      clientsHere.push(await connect(b, `?events=*&epoch=${b.epoch}&since=60`));
      clientsHere.push(await connect(b, '?events=test.result&lastEventId=70')); // a bare seq: this epoch
      for (const c of clientsHere) await c.next((m) => m.type === 'resumed');
      const seen = traffic.count();
      await waitFor(() => traffic.count() > seen + 30, 'more live events');
      await traffic.stop();
      const last = await seqOf(b);
      for (const [index, since] of [50, 60, 70].entries()) {
        const c = clientsHere[index] as Client;
        await waitFor(() => c.events().at(-1)?.seq === last, `client ${index} up to seq ${last}`, 10_000);
        expect(strictSeqs(c)).toEqual(Array.from({ length: last - since }, (_, i) => i + since + 1));
      }
    } finally {
      await traffic.stop();
    }
    const bad = new WebSocket(`${b.wsUrl}?events=*&lastEventId=not-an-id!`);
    const status = await new Promise<number | undefined>((resolve) => {
      bad.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      bad.on('error', () => resolve(undefined));
    });
    expect(status).toBe(400);
  });

  it('subscribe with resume: a bad subscription changes nothing; a gone epoch answers resume.failed + snapshot', async () => {
    const b = await startBroadcaster({ port: 0 });
    broadcaster = b;
    b.publish(testStarted());
    await b.flush();
    const c = await connect(b);
    const error = await c.request(
      { type: 'subscribe', events: ['no such!'], resume: { epoch: b.epoch, since: 0 } },
      'error',
    );
    expect(error.code).toBe('INVALID_SUBSCRIPTION');
    const parseError = await c.request({ type: 'subscribe', events: ['*'], resume: { since: 0 } }, 'error');
    expect(parseError.code).toBe('INVALID_MESSAGE');
    // Neither subscribed: a pong is queued behind anything either would have sent.
    await c.request({ type: 'ping' }, 'pong');
    expect(c.events()).toEqual([]);
    const failed = await c.request(
      { type: 'subscribe', events: ['*'], resume: { epoch: 'gone', since: 1 } },
      'resume.failed',
    );
    expect(failed.reason).toBe('EPOCH_CHANGED');
    const snapshot = await c.next((m) => m.type === 'snapshot' && m.id === failed.id);
    expect(snapshot.seq).toBe(1);
  });
});

/** Seq of the last test.result published with status passed in the continuous traffic, up to `last`. */
function lastPassed(last: number): number {
  for (let seq = last; seq > 0; seq--) if (isPassedSeq(seq)) return seq;
  return 0;
}
/** testResult(i) fails every 5th i; the traffic's i is 1000 + seq - 300 (after 300 initial events). */
function isPassedSeq(seq: number): boolean {
  const i = seq <= 300 ? seq : 1000 + seq - 300;
  return i % 5 !== 0;
}
async function seqOf(b: Broadcaster): Promise<number> {
  const res = await fetch(`${b.url}/status`);
  return ((await res.json()) as { seq: number }).seq;
}
