/**
 * Progress whatever the link speed: a replay that takes several connectTimeoutMs to cross a throttled link
 * still completes, exactly once and in order; and 20 clients that all lose their connections at once, with
 * a backlog waiting, all come back in sync. Real broadcaster, real sockets, a real TCP proxy that limits
 * bytes per second.
 */
import type { Broadcaster } from '@testwire/broadcaster';
import { describe, expect, it } from 'vitest';
import { createClient, type TestwireError } from '../src/index.js';
import { quietBroadcaster, useCleanup } from './helpers/cleanup.js';
import { outputEvent, until } from './helpers/events.js';
import { startProxy } from './helpers/proxy.js';

const later = useCleanup();
const broadcaster = () => quietBroadcaster(later);

/** A client of test.output that records the line numbers it is given, in order. */
function follower(url: string, options: Parameters<typeof createClient>[0] = {}) {
  const client = createClient({
    url,
    events: ['test.output'],
    reconnect: { attempts: 50, baseDelayMs: 20, maxDelayMs: 300 },
    ...options,
  });
  later(() => client.close());
  const lines: number[] = [];
  const seqs: number[] = [];
  const errors: TestwireError[] = [];
  client.on('test.output', (data, envelope) => {
    lines.push(Number(data.output.split(' ')[1]?.replace(/\.+$/, '')));
    seqs.push(envelope.seq);
  });
  client.onError((error) => errors.push(error));
  const state = { reconnects: 0 };
  client.onState((next) => {
    if (next === 'reconnecting') state.reconnects++;
  });
  return { client, lines, seqs, errors, state };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publish(b: Broadcaster, from: number, to: number, padding: number): Promise<void> {
  for (let i = from; i <= to; i++) b.publish(outputEvent('r_slow', i, padding));
  await b.flush();
}

describe('progress whatever the link speed', () => {
  it('a replay several connectTimeoutMs long over a throttled link arrives exactly once, in order', async () => {
    const b = await broadcaster();
    const proxy = await startProxy(b.port, { bytesPerSecond: 256 * 1024 });
    later(() => proxy.close());
    const f = follower(proxy.url, { connectTimeoutMs: 1000 });
    await f.client.connect();
    // Away while ~1.1 MB of events happen: about 4.5 s over this link, 4.5 times connectTimeoutMs.
    proxy.refuse(true);
    proxy.dropAll();
    await publish(b, 1, 3000, 300);
    proxy.refuse(false);
    // The sentinel: when it is delivered, everything before it was too (or the order check fails).
    await publish(b, 3001, 3001, 0);
    await until(() => f.lines.includes(3001), 40_000, 'the catch-up over the slow link');
    expect(f.lines).toEqual(range(1, 3001));
    expect(f.seqs).toEqual([...f.seqs].sort((x, y) => x - y));
    expect(new Set(f.seqs).size).toBe(f.seqs.length);
    // Each attempt made progress: no attempt was wasted on a replay thrown away at a timer.
    expect(f.errors.filter((e) => e.code === 'RESYNC_STALLED')).toEqual([]);
  }, 60_000);

  it('20 clients that all lose their connections at once, a backlog waiting, all converge', async () => {
    const b = await broadcaster();
    const proxy = await startProxy(b.port);
    later(() => proxy.close());
    const followers = Array.from({ length: 20 }, () =>
      follower(proxy.url, {
        reconnect: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 50, maxDelayMs: 1000 },
      }),
    );
    await Promise.all(followers.map((f) => f.client.connect()));
    await publish(b, 1, 500, 200);
    // Stalled readers while a backlog builds, then every connection cut at once (an eviction of all), and
    // events keep coming while they all come back.
    proxy.stall(true);
    await publish(b, 501, 2500, 200);
    proxy.dropAll();
    proxy.stall(false);
    for (let from = 2501; from <= 3500; from += 100) {
      await publish(b, from, from + 99, 200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(() => followers.every((f) => f.lines.includes(3500)), 45_000, 'all 20 clients in sync');
    for (const f of followers) expect(f.lines).toEqual(range(1, 3500));
    // They did reconnect (jittered backoff), not just read a stalled socket to its end.
    const reconnected = followers.filter((f) => f.state.reconnects > 0).length;
    expect(reconnected).toBe(20);
  }, 60_000);
});
