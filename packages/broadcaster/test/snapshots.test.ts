/**
 * Snapshots streamed from a shared, time-sliced build (src/snapshots.ts), replies under the subscriber
 * bound, runState.maxTestsPerRun, and the stalled-reader notice (issue 14 items 1, 4, 5).
 */
import { describe, expect, it } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { getJson, type Msg, RUN, testCompleted, testResult, testStarted, waitFor } from './helpers.js';
import { useBroadcaster } from './use-broadcaster.js';

const { start, connect } = useBroadcaster();

async function publishRun(b: Broadcaster, tests: number, from = 1): Promise<void> {
  if (from === 1) b.publish(testStarted(RUN, tests));
  for (let i = from; i < from + tests; i++) b.publish(testResult(i));
  await b.flush();
}

describe('snapshot', () => {
  it('streams a large snapshot in fragments: one message, every test, the counts', async () => {
    const b = await start();
    await publishRun(b, 5_000);
    const frames: number[] = [];
    const c = await connect();
    // ws reassembles fragments; count the frames on the socket to see the snapshot was streamed.
    (c.ws as unknown as { _socket: NodeJS.EventEmitter })._socket.on('data', (d: Buffer) =>
      frames.push(d.length),
    );
    const snapshot = await c.request({ type: 'snapshot' }, 'snapshot');
    const run = snapshot.runs.find((r: Msg) => r.runId === RUN);
    expect(snapshot.seq).toBe(5_001);
    expect(run.tests).toHaveLength(5_000);
    expect(run.tests[4_999].id).toBe('t5000');
    expect(run.counts.completed).toBe(5_000);
    expect(run.counts.failed).toBe(1_000);
    expect(run.omittedTests).toBeUndefined();
    const status = await getJson(`${b.url}/status`);
    expect(status.snapshots.builds).toBe(1);
    expect(status.snapshots.latest.bytes).toBeGreaterThan(64 * 1024); // more than one part
    expect(frames.length).toBeGreaterThan(1);
  });

  it('shares one build between clients asking at once, and reuses it while the run state is unchanged', async () => {
    const b = await start();
    await publishRun(b, 2_000);
    const many = await Promise.all(Array.from({ length: 8 }, () => connect()));
    const snapshots = await Promise.all(many.map((c) => c.request({ type: 'snapshot' }, 'snapshot')));
    for (const s of snapshots) expect(s.runs[0].tests).toHaveLength(2_000);
    expect((await getJson(`${b.url}/status`)).snapshots.builds).toBe(1);
    // An event that changes no run state: the same build serves, labelled with the latest seq.
    b.publish({ type: 'test.output', runId: '', data: { output: 'x', outputType: 'stdout', stream: 'log' } });
    await b.flush();
    const again = await many[0]?.request({ type: 'snapshot' }, 'snapshot');
    expect(again?.seq).toBe(2_002);
    expect((await getJson(`${b.url}/status`)).snapshots.builds).toBe(1);
    // A result changes it: a new build.
    await publishRun(b, 1, 2_001);
    const third = await many[0]?.request({ type: 'snapshot' }, 'snapshot');
    expect(third?.runs[0].tests).toHaveLength(2_001);
    expect((await getJson(`${b.url}/status`)).snapshots.builds).toBe(2);
  });

  it('events go on after a snapshot from its seq: each once, in order, none missing', async () => {
    const b = await start();
    await publishRun(b, 3_000);
    const c = await connect('?events=*');
    // Publish while the snapshot is being built and streamed.
    const publishing = (async () => {
      for (let i = 3_001; i <= 4_000; i++) {
        b.publish(testResult(i));
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      b.publish(testCompleted(3_200, 800));
      await b.flush();
    })();
    c.send({ type: 'snapshot', id: 's' });
    await publishing;
    const completed = await c.next((m) => m.type === 'test.completed', 20_000);
    const at = c.messages.findIndex((m) => m.type === 'snapshot');
    const snapshot = c.messages[at] as Msg;
    const before = c.messages.slice(0, at).filter((m) => m.type === 'test.result');
    const after = c.messages
      .slice(at + 1)
      .filter((m) => m.type === 'test.result' || m.type === 'test.completed');
    const seqs = [...before, ...after].map((m) => m.seq);
    // Before the snapshot: what it includes; after: from its seq on, contiguous to the end.
    for (const m of before) expect(m.seq).toBeLessThanOrEqual(snapshot.seq);
    expect(after[0]?.seq ?? completed.seq + 1).toBe(snapshot.seq + 1);
    expect(after.map((m) => m.seq)).toEqual(
      Array.from({ length: completed.seq - snapshot.seq }, (_, i) => snapshot.seq + 1 + i),
    );
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(snapshot.runs[0].counts.completed + after.filter((m) => m.type === 'test.result').length).toBe(
      4_000,
    );
  });

  it('answers resume.failed with a streamed snapshot on SSE too', async () => {
    const b = await start();
    await publishRun(b, 1_500);
    const res = await fetch(`${b.url}/events?lastEventId=gone:3`);
    const reader = res.body?.getReader();
    let text = '';
    while (!text.includes('event: snapshot') || !/event: snapshot\n(?:.*\n)*?data: .*\n\n/.test(text)) {
      const { value, done } = (await reader?.read()) ?? { done: true };
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    await reader?.cancel();
    const block = /id: ([^\n]+)\nevent: snapshot\ndata: (.*)\n\n/.exec(text);
    expect(block).not.toBeNull();
    const snapshot = JSON.parse(block?.[2] ?? '{}');
    expect(block?.[1]).toBe(`${snapshot.epoch}:${snapshot.seq}`);
    expect(snapshot.runs[0].tests).toHaveLength(1_500);
    expect(text.indexOf('event: resume.failed')).toBeLessThan(text.indexOf('event: snapshot'));
  });

  it('a third snapshot request waiting behind a stalled one is refused (RATE_LIMITED), not queued', async () => {
    const b = await start({ subscriberQueue: { maxBytes: 256 * 1024 } });
    await publishRun(b, 5_000);
    const c = await connect();
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    for (let i = 1; i <= 4; i++) c.send({ type: 'snapshot', id: i });
    await waitFor(async () => (await getJson(`${b.url}/status`)).snapshots.builds === 1, 'a build');
    socket.resume();
    await c.next((m) => m.type === 'error' && m.id === 4, 20_000);
    const refused = c.messages.filter((m) => m.type === 'error');
    expect(refused.map((m) => [m.id, m.code])).toEqual([[4, 'RATE_LIMITED']]);
    // The three others are answered, in order.
    for (let i = 1; i <= 3; i++) await c.next((m) => m.type === 'snapshot' && m.id === i, 20_000);
  });
});

describe('runState.maxTestsPerRun', () => {
  it('compacts the earliest finished tests out of snapshots; counts stay complete', async () => {
    const b = await start({ runState: { maxTestsPerRun: 100 } });
    await publishRun(b, 1_000);
    const c = await connect();
    const snapshot = await c.request({ type: 'snapshot' }, 'snapshot');
    const run = snapshot.runs[0];
    expect(run.tests).toHaveLength(100);
    expect(run.omittedTests).toBe(900);
    expect(run.counts.completed).toBe(1_000);
    expect(run.counts.failed).toBe(200);
    // Passed ones go first: the 200 failures outlive the passes (the last 100 kept are all failures).
    expect(run.tests.every((t: Msg) => t.status === 'failed')).toBe(true);
  });

  it('is validated', async () => {
    await expect(startBroadcaster({ port: 0, runState: { maxTestsPerRun: 0 } })).rejects.toThrow(
      /runState.maxTestsPerRun/,
    );
  });
});

describe('a stalled WebSocket reader', () => {
  it('is told its gap (SUBSCRIBER_LAGGING, 4008) after what it was sent, even when it reads again after ws’s 5 s close timeout', async () => {
    const b = await start({ heartbeatMs: 200 });
    const c = await connect('?events=*');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    for (let i = 1; i <= 20; i++) b.publish(testResult(i));
    await b.flush();
    // Wait until the heartbeat has told it and ended the connection on the server side, then 5 s more.
    await waitFor(async () => (await getJson(`${b.url}/status`)).lagged === 1, 'the lag', 10_000);
    await waitFor(async () => (await getJson(`${b.url}/status`)).activeConnections === 0, 'the end', 10_000);
    await new Promise((r) => setTimeout(r, 5_500));
    socket.resume();
    expect(await c.closed).toBe(4008);
    const events = c.events().filter((m) => m.type === 'test.result');
    expect(events.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const notice = c.messages.at(-1) as Msg;
    expect(notice.data.error.code).toBe('SUBSCRIBER_LAGGING');
    expect(notice.data.gap.fromSeq).toBe(21);
  }, 30_000);
});
