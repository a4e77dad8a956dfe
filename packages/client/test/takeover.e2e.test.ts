/**
 * The owner process is SIGKILLed mid-run while two separate publisher processes publish: one of them takes
 * the port over, the other joins it, and a client that resumes as documented (a new epoch: replay it from
 * its start, drop repeats by `origin`) ends with every event exactly once, in each publisher's order.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClient, type ResyncInfo } from '../src/index.js';
import { type Child, startChild } from './helpers/child.js';
import { useCleanup } from './helpers/cleanup.js';
import { until } from './helpers/events.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const later = useCleanup();

function child(name: string, args: string[]): Child {
  const c = startChild(fixture(name), args);
  later(() => c.stop());
  return c;
}

const COUNT = 3000;

describe('takeover after the owner is SIGKILLed', () => {
  it('nothing lost, no duplicates, for a client resuming as documented', async () => {
    const owner = child('owner.mjs', ['0']);
    const [, port, epoch] = (await owner.line((l) => l.startsWith('ready '), 30_000, 'the owner')).split(' ');
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      events: ['test.output'],
      reconnect: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 20, maxDelayMs: 250 },
    });
    later(() => client.close());
    const got: string[] = [];
    const resyncs: ResyncInfo[] = [];
    client.on('test.output', (data) => got.push(data.output));
    client.onResync((info) => resyncs.push(info));
    await client.connect();

    const publishers = ['a', 'b'].map((tag) =>
      child('publisher.mjs', [String(port), String(COUNT), tag, '100', '10', String(COUNT / 3)]),
    );
    for (const p of publishers) expect(await p.line((l) => l.startsWith('role '))).toBe('role publisher');
    // Mid-run: both have published a third of their events and hold until their owner is gone.
    await Promise.all(publishers.map((p) => p.line((l) => l === 'holding')));
    owner.process.kill('SIGKILL');

    const results = await Promise.all(
      publishers.map((p) => p.line((l) => l.startsWith('done '), 60_000, 'done')),
    );
    for (const line of results) {
      const result = JSON.parse(line.slice(5));
      expect(result.delivered).toBe(true);
      expect(result.dropped).toEqual({});
    }
    expect(results.map((l) => JSON.parse(l.slice(5)).role).sort()).toEqual(['owner', 'publisher']);

    await until(() => got.length >= 2 * COUNT && client.epoch !== epoch, 60_000, 'every event at the client');
    // A sentinel-free end: both publishers flushed everything to the new owner, and the client is in sync
    // with it; a duplicate would make got longer than 2 * COUNT, a loss would leave a number missing.
    for (const tag of ['a', 'b']) {
      const lines = got.filter((o) => o.startsWith(`${tag} `)).map((o) => Number(o.split(' ')[1]));
      expect(lines).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    }
    expect(got.length).toBe(2 * COUNT);
    expect(resyncs.map((r) => [r.reason, r.replayed])).toEqual([['EPOCH_CHANGED', true]]);
  }, 60_000);
});
