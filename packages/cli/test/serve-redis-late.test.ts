/**
 * `testwire serve --redis` started before its Redis (a CI aggregator whose Redis service comes up later, or is
 * down): it binds its port at once, says on stderr and in /status that Redis is not reachable yet (the URL
 * without its password), takes subscribers meanwhile, and serves the group once a real redis-server comes
 * up on that port: a real mocha shard's run reaches the tail that connected before Redis did.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort as freeRedisPort, RedisServer } from '../../redis/test/redis-server.js';
import {
  assertBuilt,
  cli,
  parseNdjson,
  type Running,
  runMocha,
  type Serve,
  startServe,
  status,
  subscribed,
  until,
} from './helpers.js';

beforeAll(assertBuilt);

const PASSWORD = 'pw-serve-late-4711';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('serve --redis before Redis answers', () => {
  it('binds at once, says why it has no events yet, and serves the group to a subscriber that came meanwhile once Redis is up', async () => {
    const redis = new RedisServer(await freeRedisPort(), PASSWORD);
    cleanups.push(async () => {
      await redis.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    });
    // The URL in the environment, as the README says (a command line is visible to every user).
    const serve: Serve = await startServe(['--group', 'g-late', '--port', '0'], {
      TESTWIRE_REDIS_URL: redis.url,
    });
    cleanups.push(async () => void (await serve.stop()));
    const where = `redis://***@127.0.0.1:${redis.port}`;
    await until(serve.output, (text) => text.includes('is not reachable yet'), 30_000);
    expect(serve.output()).toMatch(
      new RegExp(`Redis ${where.replace(/[*.]/g, '\\$&')} is not reachable yet: .*ECONNREFUSED`),
    );
    const waiting = await status(serve.url);
    expect(waiting.source.redis).toMatchObject({ url: where, state: 'unreachable', joined: false });
    expect(waiting.group).toMatchObject({ id: 'g-late', state: 'waiting' });

    // A subscriber that comes now is taken (it used to find nothing listening).
    const tail: Running = cli(['tail', '--url', serve.url, '--json'], { timeoutMs: 90_000 });
    cleanups.push(async () => {
      if (tail.child.exitCode === null) tail.child.kill('SIGINT');
      await tail;
    });
    await subscribed(serve.url);

    await redis.start();
    await until(serve.output, (text) => /answers: serving group g-late/.test(text), 30_000);
    // A real shard: mocha with @testwire/mocha, its events to the group's Redis stream.
    const shard = await runMocha('', {
      env: { TESTWIRE_REDIS_URL: redis.url, TESTWIRE_GROUP: 'g-late', TESTWIRE_SHARD: '1/1' },
    });
    expect(shard.code, shard.stderr).toBe(1); // the fixture's one failure
    const events = await until(
      () => parseNdjson(tail.stdout()),
      (all) => all.filter((e) => e.type === 'test.completed').length === 2,
      30_000,
    );
    const shardRun = events.find((e) => e.type === 'test.started' && !e.runId.startsWith('group:'))!.runId;
    const results = events.filter((e) => e.type === 'test.result' && e.runId === shardRun);
    expect(results).toHaveLength(6);
    expect(
      events.find((e) => e.type === 'test.completed' && e.runId === shardRun)?.data.summary,
    ).toMatchObject({ total: 6, passed: 4, failed: 1, skipped: 1 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await status(serve.url)).source.redis).toMatchObject({ state: 'connected', joined: true });

    tail.child.kill('SIGINT');
    await tail;
    expect(serve.output() + tail.stderr() + shard.stderr).not.toContain(PASSWORD);
  }, 120_000);

  it('--until-done: Redis refusing the credentials ends serve at once, exit 3, saying what to check (not the password)', async () => {
    const redis = await RedisServer.start(PASSWORD);
    cleanups.push(async () => {
      await redis.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    });
    const wrong = 'pw-wrong-0815';
    // Bounded far above what it takes (Redis answers at once): a serve that waited would be killed here.
    const serve: Running = cli(['serve', '--group', 'g-refused', '--port', '0', '--until-done'], {
      env: { TESTWIRE_REDIS_URL: `redis://:${wrong}@127.0.0.1:${redis.port}` },
      timeoutMs: 60_000,
    });
    const exit = await serve;
    const output = `${exit.stdout}\n${exit.stderr}`;
    expect(exit.signal, output).toBeNull();
    expect(exit.code, output).toBe(3);
    expect(exit.stderr).toMatch(/refuses this serve: .*WRONGPASS.*check the credentials in the Redis URL/);
    expect(output).not.toContain(wrong);
  }, 90_000);
});
