/** startMirror: the source's epoch and seqs, resume across mirrors, gaps, invalid events, no publishers. */
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Mirror, startMirror } from '../src/index.js';
import { Client, testResult, testStarted } from './helpers.js';

const mirrors: Mirror[] = [];
afterEach(async () => {
  for (const m of mirrors.splice(0)) await m.close({ timeoutMs: 500 });
});

async function mirror(extra: Record<string, unknown> = {}): Promise<Mirror> {
  const m = await startMirror({ epoch: 'GROUP1', port: 0, dashboardDir: false, ...extra });
  mirrors.push(m);
  return m;
}

describe('startMirror', () => {
  test("serves the source's seqs under its epoch; a second mirror of the source resumes a subscriber without loss", async () => {
    const a = await mirror({ status: () => ({ source: { kind: 'test' } }) });
    expect(a.epoch).toBe('GROUP1');
    expect(a.append(5, testStarted())).toBe('appended'); // the first entry left after trimming
    for (let i = 6; i <= 8; i++) expect(a.append(i, testResult(i))).toBe('appended');
    expect(a.append(7, testResult(7))).toBe('duplicate');
    const client = await Client.open(`${a.wsUrl}`);
    client.send({ type: 'subscribe', events: ['*'], resume: { epoch: 'GROUP1', since: 6 } });
    await client.next((m) => m.type === 'resumed');
    expect(client.events().map((e) => e.seq)).toEqual([7, 8]);
    const status = await (await fetch(`${a.url}/status`)).json();
    expect(status).toMatchObject({ epoch: 'GROUP1', seq: 8, source: { kind: 'test' } });
    client.close();

    // Another mirror of the same source, fed the same entries: the resume position means the same there.
    const b = await mirror();
    for (let i = 5; i <= 10; i++) b.append(i, i === 5 ? testStarted() : testResult(i));
    const resumed = await Client.open(b.wsUrl);
    resumed.send({ type: 'subscribe', events: ['*'], resume: { epoch: 'GROUP1', since: 8 } });
    await resumed.next((m) => m.type === 'resumed');
    expect(resumed.events().map((e) => e.seq)).toEqual([9, 10]);
    resumed.close();
  });

  test("the source's health components are in /health; one not healthy makes the whole degraded", async () => {
    let redis: 'healthy' | 'unhealthy' = 'unhealthy';
    const m = await mirror({
      health: () => [
        {
          name: 'redis',
          status: redis,
          message: `Redis ${redis === 'healthy' ? 'answers' : 'does not answer'}`,
        },
      ],
    });
    const health = async (): Promise<any> => (await fetch(`${m.url}/health`)).json();
    const down = await health();
    expect(down.status).toBe('degraded');
    expect(down.components).toContainEqual(
      expect.objectContaining({
        name: 'redis',
        status: 'unhealthy',
        message: 'Redis does not answer',
        lastCheck: expect.any(String),
      }),
    );
    expect(down.components.map((c: { name: string }) => c.name)).toEqual([
      'http',
      'history',
      'subscribers',
      'redis',
    ]);
    redis = 'healthy';
    expect(await health()).toMatchObject({ status: 'healthy' });
    // a plain mirror: the owner's own components only
    const plain: any = await (await fetch(`${(await mirror()).url}/health`)).json();
    expect(plain.components).toHaveLength(3);
  });

  test('a gap empties the history (a resume across it fails); an invalid event keeps its seq as a system.error', async () => {
    const m = await mirror();
    m.append(1, testStarted());
    m.append(2, testResult(2));
    expect(m.append(3, { type: 'test.result', runId: 'r', data: {} } as never)).toBe('invalid');
    m.append(6, testResult(6)); // 4 and 5 never arrived
    const client = await Client.open(m.wsUrl);
    client.send({ type: 'subscribe', events: ['*'], resume: { epoch: 'GROUP1', since: 2 } });
    const failed = await client.next((m) => m.type === 'resume.failed');
    expect(failed.reason).toBe('HISTORY_EVICTED');
    client.close();
    const fresh = await Client.open(m.wsUrl);
    fresh.send({ type: 'subscribe', events: ['*'], resume: { epoch: 'GROUP1', since: 5 } });
    await fresh.next((m) => m.type === 'resumed');
    expect(fresh.events().map((e) => e.seq)).toEqual([6]);
    fresh.close();
  });

  test('a subscriber connected across a gap is told of it (seq 0, the gap, the source’s words) before the event after it', async () => {
    const m = await mirror({
      gapNotice: (gap: { fromSeq: number; toSeq: number }) => ({
        message: `trimmed ${gap.fromSeq}..${gap.toSeq}`,
        code: 'SOURCE_GAP',
        severity: 'error',
        impact: 'missing',
      }),
    });
    m.append(1, testStarted());
    const client = await Client.open(m.wsUrl);
    client.send({ type: 'subscribe', events: ['*'], id: 1 });
    await client.next((msg) => msg.type === 'subscribed');
    m.append(2, testResult(2));
    m.append(5, testResult(5)); // 3 and 4 were lost by the source
    await client.next((msg) => msg.seq === 5);
    const seen = client.messages.filter(
      (msg) => typeof msg.seq === 'number' && msg.type !== 'connection.established',
    );
    expect(seen.map((msg) => [msg.type, msg.seq])).toEqual([
      ['test.result', 2],
      ['system.error', 0],
      ['test.result', 5],
    ]);
    expect(seen[1]!.data).toMatchObject({
      component: 'mirror',
      error: { code: 'SOURCE_GAP', message: 'trimmed 3..4', severity: 'error' },
      gap: { fromSeq: 3, toSeq: 4 },
      epoch: 'GROUP1',
    });
    client.close();
  });

  test('publishers are refused: its events come from the source only', async () => {
    const m = await mirror();
    const ws = new WebSocket(`${m.wsUrl}?role=publisher`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
  });
});
