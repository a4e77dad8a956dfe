/**
 * `watch` on a `serve --redis` endpoint: the group's shape polled from a real HTTP /status (silence is not an
 * event), and how a frame shows shards that are silent or interrupted, each with its host.
 */
import { createServer, type Server } from 'node:http';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus } from '../src/commands/status.js';
import { resolveEndpoint } from '../src/endpoint.js';
import { createColors } from '../src/format.js';
import { GroupPoller, type GroupView, groupOf, type ShardView } from '../src/group-status.js';
import { renderFrame, WatchModel } from '../src/monitor.js';
import { until } from './helpers.js';

const T0 = 1_700_000_000_000;

function shard(n: number, state: ShardView['state'], lastEventAt = T0): ShardView {
  return { shard: n, total: 3, runId: `r_${n}`, hostname: `ci-${n}`, state, lastEventAt };
}

function groupBody(shards: ShardView[], at = T0 + 40_000) {
  const count = (s: string) => shards.filter((x) => x.state === s).length;
  return {
    server: 'testwire',
    source: { kind: 'redis', group: 'gh-1-1' },
    group: {
      id: 'gh-1-1',
      runId: 'group:gh-1-1',
      expected: 3,
      reporting: count('reporting'),
      finished: count('finished') + count('interrupted'),
      silent: count('silent'),
      lost: count('lost'),
      shards,
      at,
    },
  };
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A real /status on loopback answering `body()`, counting requests. */
async function statusServer(body: () => unknown): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/status' ? body() : {}));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

describe('groupOf', () => {
  it('reads the group of a serve --redis /status, nothing from another endpoint', () => {
    const group = groupOf(groupBody([shard(1, 'silent'), { bad: true } as unknown as ShardView]));
    expect(group?.shards.map((s) => s.runId)).toEqual(['r_1']);
    expect(groupOf({ server: 'testwire', runs: [] })).toBeUndefined();
    expect(groupOf({ source: { kind: 'redis' } })).toBeUndefined();
  });
});

describe('GroupPoller', () => {
  it('reports each shard when first seen and whenever its state changes', async () => {
    let shards = [shard(1, 'reporting'), shard(2, 'reporting')];
    const { url } = await statusServer(() => groupBody(shards));
    const changes: string[][] = [];
    const poller = new GroupPoller(
      resolveEndpoint({ url }),
      fetchStatus,
      (_group, changed) => changes.push(changed.map((s) => `${s.shard}:${s.state}`)),
      50,
    );
    poller.start();
    await until(
      () => changes.length,
      (n) => n > 0,
    );
    expect(changes[0]).toEqual(['1:reporting', '2:reporting']);
    shards = [shard(1, 'finished'), shard(2, 'silent')];
    await until(
      () => changes.flat(),
      (all) => all.includes('2:silent'),
    );
    poller.stop();
    expect(changes.filter((c) => c.length > 0).slice(1)).toEqual([['1:finished', '2:silent']]);
    expect(poller.latest?.silent).toBe(1);
  });

  it('stops asking an endpoint that is not a serve of a group', async () => {
    const { url, requests } = await statusServer(() => ({ server: 'testwire', runs: [] }));
    const poller = new GroupPoller(resolveEndpoint({ url }), fetchStatus, () => {}, 50);
    poller.start();
    await until(
      () => requests() > 0 && !poller.polling,
      (stopped) => stopped,
    );
    expect(poller.latest).toBeUndefined();
  });
});

describe('the watch frame of a sharded group', () => {
  const c = createColors(false);
  const ev = (type: string, runId: string, data: Record<string, unknown>, seq: number) =>
    ({
      type,
      runId,
      seq,
      timestamp: new Date(T0 + seq).toISOString(),
      data: { framework: 'vitest', ...data },
    }) as AnyEventEnvelope;

  it('marks silent and interrupted shards, with hosts, and the group line says how many are silent', () => {
    const model = new WatchModel({ startedAt: T0 });
    let seq = 0;
    model.apply(
      ev(
        'test.started',
        'group:gh-1-1',
        {
          totalTests: 0,
          testFiles: [],
          run: {
            runId: 'group:gh-1-1',
            framework: 'vitest',
            startedAt: T0,
            group: { id: 'gh-1-1', expected: 3 },
          },
        },
        ++seq,
      ),
    );
    for (const n of [1, 2, 3])
      model.apply(
        ev(
          'test.started',
          `r_${n}`,
          {
            totalTests: 4,
            totalKnown: true,
            testFiles: [],
            run: {
              runId: `r_${n}`,
              framework: 'vitest',
              startedAt: T0,
              hostname: `ci-${n}`,
              shard: { current: n, total: 3 },
            },
          },
          ++seq,
        ),
      );
    const frame = (group?: GroupView) => {
      model.group = group;
      return renderFrame(model, {
        url: 'http://127.0.0.1:7357',
        connection: { state: 'connected' },
        colors: c,
        width: 200,
        height: 60,
        now: T0 + 41_000,
      }).join('\n');
    };
    const before = frame();
    expect(before).toContain('shard 2/3 @ci-2  running');
    expect(before).not.toContain('silent');
    const after = frame(
      groupOf(groupBody([shard(1, 'reporting', T0 + 39_000), shard(2, 'silent'), shard(3, 'interrupted')])),
    );
    expect(after).toContain('shard 1/3 @ci-1  running');
    expect(after).toMatch(/◌ vitest shard 2\/3 @ci-2 {2}silent, no event for 40\.0 s/);
    expect(after).toContain('✗ vitest shard 3/3 @ci-3  interrupted');
    expect(after).toContain('group gh-1-1 (3 shards)  running  1 reporting · 1 finished · 1 silent');
    // silent past serve's --lost-after: lost, and the group says how many
    const lost = frame(
      groupOf(groupBody([shard(1, 'finished', T0 + 39_000), shard(2, 'lost'), shard(3, 'interrupted')])),
    );
    expect(lost).toMatch(/✗ vitest shard 2\/3 @ci-2 {2}lost, no event for 40\.0 s/);
    expect(lost).toContain('· 1 lost');
  });
});
