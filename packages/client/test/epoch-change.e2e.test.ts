/**
 * A broadcaster that changes while the client is away (the test process owning the port exited and another
 * started its own, or a publisher took the port over): the client delivers every event of the new epoch,
 * exactly once and in order, and its run state matches the new broadcaster's without double counting.
 * Real broadcasters on loopback; a TCP proxy in front keeps the clients out while the gap's events happen.
 */

import {
  type Broadcaster,
  getBroadcaster,
  resetBroadcasterSingleton,
  startBroadcaster,
} from '@testwire/broadcaster';
import type { AnyEventEnvelope, PublishedEvent, RunSnapshot } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ResyncInfo } from '../src/index.js';
import { completedEvent, outputEvent, resultEvent, startedEvent, until } from './helpers/events.js';
import { startProxy, type TcpProxy } from './helpers/proxy.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function broadcaster(options: Parameters<typeof startBroadcaster>[0] = {}): Promise<Broadcaster> {
  const b = await startBroadcaster({ port: 0, logger: { warn() {} }, ...options });
  cleanup.push(() => b.close({ timeoutMs: 500 }));
  return b;
}
async function proxy(port: number): Promise<TcpProxy> {
  const p = await startProxy(port);
  cleanup.push(() => p.close());
  return p;
}

/** A client that records everything it is told. */
/** An owner and this process's broadcaster joined to it as a publisher (it takes the port over if the owner goes). */
async function ownerAndPublisher() {
  const owner = await broadcaster();
  const joined = await getBroadcaster({ port: owner.port, logger: { warn() {} } });
  cleanup.push(async () => {
    await joined.close({ timeoutMs: 500 });
    resetBroadcasterSingleton();
  });
  expect(joined.role).toBe('publisher');
  return { owner, joined };
}

function recorder(options: Parameters<typeof createClient>[0]) {
  const client = createClient({ reconnect: { baseDelayMs: 20, maxDelayMs: 100, attempts: 200 }, ...options });
  cleanup.push(() => client.close());
  const events: AnyEventEnvelope[] = [];
  const resyncs: ResyncInfo[] = [];
  const runStates: string[] = [];
  client.on('*', (_data, envelope) => events.push(envelope));
  client.onResync((info) => resyncs.push(info));
  client.onRunState((update) => update.reason !== 'event' && runStates.push(update.reason));
  return { client, events, resyncs, runStates };
}

function fileFailure(runId: string): PublishedEvent {
  return {
    type: 'test.failed',
    runId,
    data: {
      framework: 'vitest',
      scope: 'file',
      file: 'broken.test.ts',
      testName: 'broken.test.ts',
      // What reporter-core sends for a file that could not run: the schema requires these.
      suite: '',
      status: 'failed',
      duration: 0,
      error: { message: 'SyntaxError: Unexpected token' },
    },
  } as PublishedEvent;
}

/** Run state without the fields that legitimately differ between two observers. */
const comparable = (runs: RunSnapshot[]) => runs.map(({ lastSeq: _ignored, ...run }) => run);

const keyOf = (e: AnyEventEnvelope) => `${e.seq}:${e.type}:${e.runId}`;

describe('a new broadcaster epoch', () => {
  it('restart on the same port mid-run: every event of the new epoch arrives once, in order, over WS and SSE', async () => {
    const first = await broadcaster();
    const port = first.port;
    const p = await proxy(port);
    const ws = recorder({ url: p.url });
    const stale = recorder({ url: p.url, keepStaleRuns: true });
    const sse = recorder({ url: p.url, transport: 'sse' });
    for (const r of [ws, stale, sse]) await r.client.connect();
    const firstEpoch = ws.client.epoch;

    // A run of the first broadcaster, still going when it dies.
    first.publish(startedEvent('one', 4));
    first.publish(resultEvent('one', 1));
    first.publish(resultEvent('one', 2, 'failed'));
    await first.flush();
    for (const r of [ws, stale, sse]) await until(() => r.events.length === 3, 5000, 'first epoch events');

    // The broadcaster goes away and another starts on the same port; while the clients cannot get in, a
    // new run starts on it and gets well under way (a file failure included: it must not be counted twice).
    p.refuse(true);
    p.dropAll();
    await first.close({ timeoutMs: 200 });
    cleanup.splice(0, 1); // closed already
    const second = await broadcaster({ port });
    second.publish(startedEvent('two', 5));
    second.publish(resultEvent('two', 1));
    second.publish(fileFailure('two'));
    second.publish(resultEvent('two', 2, 'failed'));
    second.publish(resultEvent('two', 3));
    await second.flush();
    p.refuse(false);

    for (const r of [ws, stale, sse]) await until(() => r.resyncs.length === 1, 10_000, 'resync');
    // Live again: the rest of the run.
    second.publish(resultEvent('two', 4));
    second.publish(resultEvent('two', 5, 'skipped'));
    second.publish(completedEvent('two', 3, 1));
    await second.flush();
    for (const r of [ws, stale, sse]) await until(() => r.events.length === 3 + 8, 10_000, 'all events');
    await new Promise((r) => setTimeout(r, 50)); // a duplicate would arrive now

    const broadcasterState = (await ws.client.snapshot()).runs;
    for (const [name, r] of Object.entries({ ws, stale, sse })) {
      // The old epoch's three, then the new epoch's eight from seq 1: none lost, none twice, in order.
      expect(r.events.map(keyOf), name).toEqual([
        '1:test.started:one',
        '2:test.result:one',
        '3:test.result:one',
        '1:test.started:two',
        '2:test.result:two',
        '3:test.failed:two',
        '4:test.result:two',
        '5:test.result:two',
        '6:test.result:two',
        '7:test.result:two',
        '8:test.completed:two',
      ]);
      expect(r.resyncs, name).toEqual([
        expect.objectContaining({
          reason: 'EPOCH_CHANGED',
          previousEpoch: firstEpoch,
          epoch: r.client.epoch,
          replayed: true,
          seq: 5,
          staleRuns: name === 'stale' ? ['one'] : [],
        }),
      ]);
      expect(r.client.epoch, name).not.toBe(firstEpoch);
      // SSE cannot ask for a snapshot when it connects: its state starts from the events.
      expect(r.runStates, name).toEqual(name === 'sse' ? ['resync'] : ['snapshot', 'resync']);
      // The state is the new broadcaster's, counted once: the replayed events were not applied again.
      const two = r.client.state.get('two')!;
      expect(two.counts, name).toEqual({
        passed: 3,
        failed: 1,
        skipped: 1,
        todo: 0,
        flaky: 0,
        completed: 5,
        retrying: 0,
      });
      expect(two.errors, name).toHaveLength(1);
      expect(two.status, name).toBe('completed');
      const own = r.client.state.snapshot().filter((run) => run.runId === 'two');
      expect(comparable(own), name).toEqual(comparable(broadcasterState));
    }
    // The old run died with its broadcaster: every client says so (interruptedRuns); it is dropped by
    // default, kept with keepStaleRuns — completed as interrupted, counts as last seen.
    for (const r of [ws, stale, sse])
      expect(r.resyncs[0]!.interruptedRuns.map((run) => [run.runId, run.interruptedBy])).toEqual([
        ['one', 'owner_lost'],
      ]);
    expect(ws.client.state.has('one')).toBe(false);
    expect(sse.client.state.has('one')).toBe(false);
    expect(stale.client.state.get('one')).toMatchObject({
      status: 'completed',
      interrupted: true,
      interruptedBy: 'owner_lost',
      counts: { passed: 1, failed: 1, completed: 2 },
    });
  });

  it('a new broadcaster whose history lost its first events: resync from the snapshot, then live', async () => {
    const first = await broadcaster();
    const port = first.port;
    const p = await proxy(port);
    const r = recorder({ url: p.url });
    await r.client.connect();
    const firstEpoch = r.client.epoch;
    p.refuse(true);
    p.dropAll();
    await first.close({ timeoutMs: 200 });
    cleanup.splice(0, 1);
    const second = await broadcaster({ port, history: { maxEvents: 10 } });
    second.publish(startedEvent('big', 40));
    for (let i = 1; i <= 30; i++) second.publish(resultEvent('big', i, i % 10 === 0 ? 'failed' : 'passed'));
    await second.flush();
    p.refuse(false);
    await until(() => r.resyncs.length === 1, 10_000, 'resync');
    expect(r.resyncs[0]).toMatchObject({
      reason: 'EPOCH_CHANGED',
      previousEpoch: firstEpoch,
      replayed: false,
      seq: 31,
    });
    expect(r.resyncs[0].message).toMatch(/history no longer holds its first events/);
    expect(r.events).toEqual([]); // nothing could be replayed: the snapshot carries it
    expect(r.client.state.get('big')?.counts).toMatchObject({ passed: 27, failed: 3, completed: 30 });
    second.publish(resultEvent('big', 31));
    await until(() => r.events.length === 1, 5000, 'live after resync');
    expect(r.events[0]).toMatchObject({ seq: 32, type: 'test.result' });
    expect(r.client.state.get('big')?.counts.passed).toBe(28);
  });

  it('takeover: a run re-seeded by the publisher that took the port over stays whole and counted once', async () => {
    const { owner, joined } = await ownerAndPublisher();
    const r = recorder({ url: owner.url, events: ['test.*'] });
    await r.client.connect();
    joined.publish(startedEvent('kept', 10));
    for (let i = 1; i <= 5; i++) joined.publish(resultEvent('kept', i));
    await joined.flush();
    await until(() => r.events.length === 6, 5000, 'events before the takeover');

    await owner.close({ timeoutMs: 200 });
    await until(() => joined.role === 'owner', 5000, 'the takeover');
    for (let i = 6; i <= 10; i++) joined.publish(resultEvent('kept', i, i === 8 ? 'failed' : 'passed'));
    joined.publish(completedEvent('kept', 9, 1));
    await joined.flush();

    await until(() => r.resyncs.length === 1 && r.events.length === 12, 10_000, 'resync and new events');
    expect(r.resyncs[0]).toMatchObject({ reason: 'EPOCH_CHANGED', replayed: true });
    // t1..t5 from the old epoch, t6..t10 and the completion from the new one: each once.
    const results = r.events
      .filter((e) => e.type === 'test.result')
      .map((e) => (e.data as { id: string }).id);
    expect(results).toEqual(['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 't10']);
    const kept = r.client.state.get('kept')!;
    expect(kept.status).toBe('completed');
    expect(kept.totalTests).toBe(10);
    expect(kept.counts).toMatchObject({ passed: 9, failed: 1, completed: 10 });
    expect(comparable([kept])).toEqual(comparable((await r.client.snapshot()).runs));
  });
});

describe('the owner dies with a run going', () => {
  it('clients complete the owner’s run as interrupted (owner_lost), counts as they were, and say so in the resync', async () => {
    const { owner, joined } = await ownerAndPublisher();
    const ws = recorder({ url: owner.url });
    const stale = recorder({ url: owner.url, keepStaleRuns: true });
    const sse = recorder({ url: owner.url, transport: 'sse' });
    for (const r of [ws, stale, sse]) await r.client.connect();

    // The owner's own run (its reporter published in the owner's process), and a joined process's run.
    owner.publish(startedEvent('dead', 10));
    owner.publish(resultEvent('dead', 1));
    owner.publish(resultEvent('dead', 2, 'failed'));
    joined.publish(startedEvent('alive', 2));
    joined.publish(resultEvent('alive', 1));
    await joined.flush();
    await owner.flush();
    for (const r of [ws, stale, sse]) await until(() => r.events.length === 5, 5000, 'the runs under way');

    // The owner goes away without the dead run's test.completed; the joined process takes the port over.
    await owner.close({ timeoutMs: 200 });
    await until(() => joined.role === 'owner', 5000, 'the takeover');
    for (const r of [ws, stale, sse]) await until(() => r.resyncs.length === 1, 10_000, 'resync');

    for (const [name, r] of Object.entries({ ws, stale, sse })) {
      const info = r.resyncs[0]!;
      expect(info.reason, name).toBe('EPOCH_CHANGED');
      expect(
        info.runs.map((run) => run.runId),
        name,
      ).toEqual(['alive']);
      expect(
        info.interruptedRuns.map((run) => run.runId),
        name,
      ).toEqual(['dead']);
      expect(info.interruptedRuns[0], name).toMatchObject({
        status: 'completed',
        interrupted: true,
        interruptedBy: 'owner_lost',
        counts: { passed: 1, failed: 1, completed: 2 },
        summary: { total: 2, passed: 1, failed: 1, success: false },
      });
      expect(r.client.state.get('alive')?.status, name).toBe('running');
    }
    // keepStaleRuns keeps it, completed; otherwise the state is the new broadcaster's.
    expect(stale.resyncs[0]!.staleRuns).toEqual(['dead']);
    expect(stale.client.state.get('dead')).toMatchObject({
      status: 'completed',
      interrupted: true,
      interruptedBy: 'owner_lost',
      totalTests: 10,
      counts: { passed: 1, failed: 1, completed: 2 },
    });
    expect(ws.client.state.has('dead')).toBe(false);
    expect(sse.client.state.has('dead')).toBe(false);

    joined.publish(resultEvent('alive', 2));
    joined.publish(completedEvent('alive', 2, 0));
    await joined.flush();
    for (const r of [ws, stale, sse])
      await until(() => r.client.state.get('alive')?.status === 'completed', 5000, 'alive completed');
    // Nothing is left running: a monitor waiting for every run to end is done.
    expect(stale.client.state.snapshot().map((run) => [run.runId, run.status, run.interruptedBy])).toEqual([
      ['dead', 'completed', 'owner_lost'],
      ['alive', 'completed', undefined],
    ]);
  });

  it('a run the new owner does not carry ended when the old one stopped serving, not when the new one answered', async () => {
    const owner = await broadcaster();
    const port = owner.port;
    const r = recorder({ url: owner.url, keepStaleRuns: true });
    let attempts = 0;
    r.client.onState((state) => {
      if (state === 'reconnecting') attempts++;
    });
    await r.client.connect();
    owner.publish(startedEvent('gone', 3));
    owner.publish(resultEvent('gone', 1));
    await owner.flush();
    await until(() => r.events.length === 2, 10_000, 'the run under way');
    await owner.close({ timeoutMs: 200 });
    // Nothing listens for a while: the client retries; only then does a new owner answer on the port.
    await until(() => attempts >= 5, 10_000, 'five reconnect attempts');
    const nextOwnerAt = Date.now();
    await broadcaster({ port });
    await until(() => r.resyncs.length === 1, 10_000, 'resync');
    const [gone] = r.resyncs[0]!.interruptedRuns;
    expect(gone).toMatchObject({ runId: 'gone', interruptedBy: 'owner_lost' });
    // Its end is when the connection was lost, before the retries and the new owner.
    expect(Date.parse(gone!.completedAt!)).toBeLessThan(nextOwnerAt);
    expect(gone!.summary!.duration).toBeLessThan(nextOwnerAt - Date.parse(gone!.startedAt!));
  });

  it('a run known only from a replay cut short ended when that connection was lost, not when the new owner answered', async () => {
    const owner = await broadcaster();
    const port = owner.port;
    owner.publish(startedEvent('gone', 3));
    for (let i = 1; i <= 200; i++) owner.publish(outputEvent('gone', i, 500));
    await owner.flush();
    // Its ~100 KB of history take seconds over this link: the client replays it from the start (as the
    // dashboard does) and is never live with this owner before it dies.
    const link = await startProxy(port, { bytesPerSecond: 20_000 });
    cleanup.push(() => link.close());
    const r = recorder({
      url: link.url,
      keepStaleRuns: true,
      replay: true,
      connectTimeoutMs: 60_000,
      reconnect: { baseDelayMs: 20, maxDelayMs: 100, attempts: 200, initialAttempts: 200 },
    });
    let attempts = 0;
    r.client.onState((state) => {
      if (state === 'reconnecting') attempts++;
    });
    r.client.connect().catch(() => {});
    await until(() => r.client.state.get('gone')?.status === 'running', 20_000, 'the run, from the replay');
    expect(r.client.connectionState).toBe('connecting');
    // The owner dies mid-replay; nothing answers for a while (the client retries), then a new owner does.
    link.refuse(true);
    link.dropAll();
    await owner.close({ timeoutMs: 200 });
    await until(() => attempts >= 5, 20_000, 'five reconnect attempts');
    const nextOwnerAt = Date.now();
    await broadcaster({ port });
    link.refuse(false);
    await until(() => r.resyncs.length === 1, 20_000, 'resync');
    const [gone] = r.resyncs[0]!.interruptedRuns;
    expect(gone).toMatchObject({ runId: 'gone', interruptedBy: 'owner_lost' });
    // The old owner served the replay until its connection was lost, before the retries and the new owner.
    expect(Date.parse(gone!.completedAt!)).toBeLessThan(nextOwnerAt);
  }, 60_000);

  it('a run completed as owner_lost that sends an event after all (re-seeded late) is running again', async () => {
    const owner = await broadcaster();
    const joined = await getBroadcaster({ port: owner.port, logger: { warn() {} } });
    cleanup.push(async () => {
      await joined.close({ timeoutMs: 500 });
      resetBroadcasterSingleton();
    });
    const stale = recorder({ url: owner.url, keepStaleRuns: true });
    await stale.client.connect();
    owner.publish(startedEvent('late', 3));
    owner.publish(resultEvent('late', 1));
    joined.publish(startedEvent('other', 1));
    await joined.flush();
    await owner.flush();
    await until(() => stale.events.length === 3, 5000, 'events before the takeover');
    await owner.close({ timeoutMs: 200 });
    await until(() => stale.resyncs.length === 1, 10_000, 'resync');
    expect(stale.resyncs[0]!.interruptedRuns.map((run) => run.runId)).toEqual(['late']);
    // A process that still runs it (it had not joined the new owner yet when we got its snapshot).
    joined.publish(resultEvent('late', 2));
    await joined.flush();
    await until(() => stale.client.state.get('late')?.status === 'running', 5000, 'running again');
    const late = stale.client.state.get('late')!;
    expect(late).not.toHaveProperty('interrupted');
    expect(late.counts).toMatchObject({ passed: 2, completed: 2 });
  });

  it('a new epoch that lists every running run interrupts none; a resync on the same epoch never does', async () => {
    const b = await broadcaster({ history: { maxEvents: 5 } });
    const p = await proxy(b.port);
    const r = recorder({ url: p.url, keepStaleRuns: true });
    await r.client.connect();
    b.publish(startedEvent('going', 50));
    await until(() => r.events.length === 1, 5000, 'started');
    // Away while the history evicts what it missed: HISTORY_EVICTED, same epoch, the run still going.
    p.refuse(true);
    p.dropAll();
    for (let i = 1; i <= 20; i++) b.publish(resultEvent('going', i));
    await b.flush();
    p.refuse(false);
    await until(() => r.resyncs.length === 1, 10_000, 'resync');
    expect(r.resyncs[0]).toMatchObject({ reason: 'HISTORY_EVICTED', interruptedRuns: [] });
    expect(r.client.state.get('going')).toMatchObject({ status: 'running', counts: { passed: 20 } });
  });
});

describe('reconnect policy before the first connection', () => {
  it('initialAttempts 0 fails at once when nothing listens; Infinity waits for the endpoint to appear', async () => {
    const probe = await startProxy(1);
    const port = probe.port;
    await probe.close();
    const url = `http://127.0.0.1:${port}`;
    const script = createClient({ url, reconnect: { attempts: Infinity, initialAttempts: 0 } });
    const error = await script.connect().catch((e) => e);
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(error.message).toMatch(/after 1 attempt: .*ECONNREFUSED/);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    const waiting = recorder({
      url,
      reconnect: { attempts: Infinity, initialAttempts: Infinity, baseDelayMs: 20, maxDelayMs: 50 },
    });
    const states: string[] = [];
    waiting.client.onState((s) => states.push(s));
    const connected = waiting.client.connect();
    await until(() => states.filter((s) => s === 'reconnecting').length >= 3, 5000, 'retries');
    const b = await broadcaster({ port });
    await connected;
    b.publish(startedEvent('late', 1));
    await until(() => waiting.events.length === 1, 5000, 'event after waiting');
  });

  it.each(['ws', 'sse'] as const)(
    'a client that waited for the endpoint gets its whole history, published before it got in (%s)',
    async (transport) => {
      const probe = await startProxy(1);
      const port = probe.port;
      await probe.close();
      const waiting = recorder({
        url: `http://127.0.0.1:${port}`,
        transport,
        reconnect: { attempts: Infinity, initialAttempts: Infinity, baseDelayMs: 20, maxDelayMs: 50 },
      });
      const states: string[] = [];
      waiting.client.onState((s) => states.push(s));
      const connected = waiting.client.connect();
      await until(() => states.includes('reconnecting'), 5000, 'a first failed try');
      // The run starts its own endpoint and publishes at once, before the waiting client can get in: it all
      // happened after the client began waiting, so it is all news to it.
      const b = await broadcaster({ port });
      b.publish(startedEvent('early', 2));
      b.publish(resultEvent('early', 1, 'passed'));
      await connected;
      b.publish(resultEvent('early', 2, 'passed'));
      await until(() => waiting.events.length === 3, 5000, 'the whole run');
      expect(waiting.events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'test.started'],
        [2, 'test.result'],
        [3, 'test.result'],
      ]);
      expect(waiting.client.state.get('early')?.counts).toMatchObject({ passed: 2, completed: 2 });
    },
  );
});
