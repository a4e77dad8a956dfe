/** The shard publisher and the append script against a real redis-server. */
import { rmSync } from 'node:fs';
import type { PublishedEvent } from '@testwire/protocol';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { withAppend } from '../src/append-script.js';
import { groupKeys } from '../src/group.js';
import { ShardPublisher } from '../src/publisher.js';
import { freePort, RedisServer, redisOfFile } from './redis-server.js';

const local = redisOfFile();

const event = (n: number, type: PublishedEvent['type'] = 'test.output'): PublishedEvent =>
  ({
    type,
    runId: 'r_1',
    timestamp: new Date().toISOString(),
    data: { framework: 'vitest', n },
  }) as unknown as PublishedEvent;

/** The stream's entries as [seq, event]. */
async function entries(group: string): Promise<[number, any][]> {
  const rows = await local.redis.xrange(groupKeys(group).stream, '-', '+');
  return rows.map(([, fields]) => [Number(fields[1]), JSON.parse(fields[3] as string)]);
}

describe('append script', () => {
  test('numbers entries contiguously, stores a re-sent batch once, and a `once` event once', async () => {
    const keys = groupKeys('script');
    const append = withAppend(local.redis);
    const base = { keys, maxLen: 1000, ttlSeconds: 60, epoch: 'E1' };
    expect(await append({ ...base, writer: 'w:a', batch: 0, events: ['{"a":1}', '{"a":2}'] })).toBe(2);
    expect(await append({ ...base, writer: 'w:a', batch: 0, events: ['{"a":1}', '{"a":2}'] })).toBe(0); // lost reply, re-sent
    expect(await append({ ...base, writer: 'w:b', batch: 0, epoch: 'E2', events: ['{"b":1}'] })).toBe(3);
    expect(await append({ ...base, writer: 'w:d1', batch: 3, once: 'completed', events: ['{"c":1}'] })).toBe(
      4,
    );
    expect(await append({ ...base, writer: 'w:d2', batch: 4, once: 'completed', events: ['{"c":1}'] })).toBe(
      0,
    );
    expect((await entries('script')).map(([seq]) => seq)).toEqual([1, 2, 3, 4]);
    expect(await local.redis.hget(keys.meta, 'epoch')).toBe('E1'); // the first writer's
    expect(await local.redis.ttl(keys.stream)).toBeGreaterThan(0);
  });
});

describe('ShardPublisher', () => {
  test('delivers every event in order, and flush confirms it', async () => {
    const publisher = new ShardPublisher({ url: local.server.url, group: 'order', maxBatch: 7 });
    for (let i = 0; i < 50; i++) publisher.publish(event(i));
    const result = await publisher.flush(10_000);
    expect(result).toMatchObject({ delivered: true, pending: {}, dropped: {} });
    expect((await entries('order')).map(([, e]) => e.data.n)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(publisher.url).not.toContain(local.server.password);
    await publisher.close();
  });

  test('reaches Redis through its unix socket, the password in the URL or its query', async () => {
    for (const [group, url] of [
      ['unix-auth', local.server.socketUrl],
      ['unix-query', `unix://${local.server.socket}?password=${local.server.password}`],
    ] as const) {
      const publisher = new ShardPublisher({ url, group });
      for (let i = 0; i < 5; i++) publisher.publish(event(i));
      expect(await publisher.flush(10_000)).toMatchObject({ delivered: true });
      expect((await entries(group)).map(([, e]) => e.data.n)).toEqual([0, 1, 2, 3, 4]);
      expect(publisher.url).toBe(`unix://${local.server.socket}#${group}`);
      await publisher.close();
    }
    const warnings: string[] = [];
    const wrong = new ShardPublisher({
      url: `unix://:not-${local.server.password}@localhost${local.server.socket}`,
      group: 'unix-wrong',
      logger: { warn: (m) => warnings.push(m) },
    });
    wrong.publish(event(0));
    expect((await wrong.flush(30_000)).delivered).toBe(false);
    expect(warnings.join('\n')).toMatch(/cannot append to Redis unix:\/\/\/.*redis\.sock#unix-wrong/);
    // Redis' own answer, not "Connection is closed"
    expect(warnings.join('\n')).toMatch(/WRONGPASS.*: check the credentials in the Redis URL/);
    expect(warnings.join('\n')).not.toContain(local.server.password);
    await wrong.close({ timeoutMs: 100 });
  });

  test('with Redis away: flush returns at its bound, one warning, events held and sent when Redis answers', async () => {
    const away = new RedisServer(await freePort(), 'pw-away');
    const warnings: string[] = [];
    const publisher = new ShardPublisher({
      url: away.url,
      group: 'away',
      commandTimeoutMs: 500,
      logger: { warn: (m) => warnings.push(m) },
    });
    for (let i = 0; i < 20; i++) publisher.publish(event(i, i % 2 ? 'test.output' : 'test.result'));
    const started = Date.now();
    const result = await publisher.flush(1500);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.delivered).toBe(false);
    expect(result.pending.r_1).toEqual({ 'test.result': 10, 'test.output': 10 });
    // Redis may come back: nothing is given up, and the cause is said.
    expect(result.dropReason).toBeUndefined();
    expect(result.pendingReason).toMatch(
      /did not take them: .*(ECONNREFUSED|Connection is closed|timed? ?out)/i,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cannot append to Redis');
    expect(warnings.join('')).not.toContain('pw-away');

    await away.start();
    try {
      publisher.publish(event(20));
      expect((await publisher.flush(15_000)).delivered).toBe(true);
      const client = new Redis(away.url);
      const rows = await client.xrange(groupKeys('away').stream, '-', '+');
      client.disconnect();
      expect(rows.map(([, f]) => JSON.parse(f[3] as string).data.n)).toEqual(
        Array.from({ length: 21 }, (_, i) => i),
      );
      await publisher.close();
    } finally {
      await away.stop();
      rmSync(away.dir, { recursive: true, force: true });
    }
  });

  test('an error waiting will not cure (refused credentials, a host name that does not resolve): one warning naming it, the publisher gives up, and flush does not wait for Redis', async () => {
    for (const [group, url, cause, fix] of [
      [
        'wrongpass',
        `redis://:not-${local.server.password}@127.0.0.1:${local.server.port}`,
        /WRONGPASS/,
        /check the credentials in the Redis URL/,
      ],
      ['nohost', 'redis://:hush-hush@no-such-host.invalid:6379', /ENOTFOUND/, /check the host name/],
      ['wrongtype', local.server.url, /WRONGTYPE/, /another program uses them/],
    ] as const) {
      // The group's keys taken by something else: its meta key is a string.
      if (group === 'wrongtype') await local.redis.set(groupKeys(group).meta, 'not a hash');
      const warnings: string[] = [];
      const publisher = new ShardPublisher({
        url,
        group,
        unresolvedHostGraceMs: 1000,
        logger: { warn: (m) => warnings.push(m) },
      });
      publisher.publish(event(0, 'test.result'));
      publisher.publish(event(1, 'test.output'));
      publisher.publish(event(2, 'test.completed'));
      // A bound far past what it takes: without giving up, flush holds the run for all of it and reports them
      // pending ("raise flushTimeoutMs").
      const result = await publisher.flush(30_000);
      expect(result).toMatchObject({
        delivered: false,
        pending: {},
        dropped: { r_1: { 'test.result': 1, 'test.output': 1, 'test.completed': 1 } },
      });
      expect(result.dropReason).toMatch(cause);
      expect(result.dropReason).toMatch(fix);
      // A name that does not resolve is tried for a while first (said once), then given up on.
      const unresolved = group === 'nohost';
      expect(warnings).toHaveLength(unresolved ? 2 : 1);
      if (unresolved)
        expect(warnings[0]).toMatch(/it is tried for 1000 ms, in case the name is about to exist/);
      expect(warnings.at(-1)).toMatch(cause);
      expect(warnings.at(-1)).toMatch(/Waiting will not change that/);
      // What comes later is dropped at once, counted, said nowhere else.
      publisher.publish(event(3, 'test.result'));
      expect((await publisher.flush(30_000)).dropped.r_1?.['test.result']).toBe(2);
      expect(warnings).toHaveLength(unresolved ? 2 : 1);
      expect(`${warnings.join('')}${result.dropReason}`).not.toMatch(/hush-hush|not-pw/);
      expect(`${warnings.join('')}${result.dropReason}`).not.toContain(local.server.password);
      await publisher.close({ timeoutMs: 100 });
    }
  }, 90_000);

  test('a host name that does not resolve is not given up on at once (a CI service name can appear seconds after the job starts): events stay pending while it is tried', async () => {
    const warnings: string[] = [];
    const publisher = new ShardPublisher({
      url: 'redis://no-such-host.invalid:6379',
      group: 'soon',
      unresolvedHostGraceMs: 600_000,
      logger: { warn: (m) => warnings.push(m) },
    });
    publisher.publish(event(0, 'test.result'));
    // Until the name has failed to resolve at least twice: given up at the first, the events were dropped.
    const tried = Date.now();
    let result = await publisher.flush(500);
    while (Date.now() - tried < 60_000 && !result.dropReason && !/ENOTFOUND/.test(result.pendingReason ?? ''))
      result = await publisher.flush(500);
    result = await publisher.flush(1500);
    expect(result).toMatchObject({ delivered: false, pending: { r_1: { 'test.result': 1 } }, dropped: {} });
    expect(result.dropReason).toBeUndefined();
    expect(result.pendingReason).toMatch(/ENOTFOUND/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/check the host name in the Redis URL.*tried for 600000 ms/);
    await publisher.close({ timeoutMs: 100 });
  }, 90_000);

  test('a full buffer drops samples and output first, and counts what it dropped', async () => {
    const publisher = new ShardPublisher({
      url: 'redis://127.0.0.1:1',
      group: 'full',
      maxBufferedEvents: 4,
      commandTimeoutMs: 200,
      logger: { warn() {} },
    });
    publisher.publish(event(0, 'test.output'));
    publisher.publish(event(1, 'test.result'));
    publisher.publish(event(2, 'test.output'));
    publisher.publish(event(3, 'test.result'));
    publisher.publish(event(4, 'test.result')); // makes room: the first output line goes
    publisher.publish(event(5, 'test.output')); // no room for output: dropped
    const result = await publisher.flush(300);
    expect(result.dropped.r_1).toEqual({ 'test.output': 2 });
    expect(publisher.dropped).toBe(2);
    await publisher.close({ timeoutMs: 100 });
  });
});
