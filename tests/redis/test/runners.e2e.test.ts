/**
 * More than vitest through Redis: a real `jest --shard=k/2`, `playwright test --shard=k/2` and two mocha jobs
 * (TESTWIRE_SHARD=k/2) — each shard a host of its own (hosts.ts) reaching a password-protected redis-server
 * through its unix socket — and one `testwire serve --redis --until-done` per runner. A subscriber of it must
 * end with every test of every shard exactly once, the group's counts equal to the unsharded run's own JSON
 * report, each shard's host name in the events, and serve's verdict the group's (a test fails).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  fixtureCopy,
  freePort,
  type Proc,
  RedisServer,
  Subscriber,
  start,
  startServe,
  until,
} from './helpers.js';
import { expectedHostname } from './hosts.js';
import { countsOf, jest, mocha, playwright, type RunnerCase, resultKey } from './runner-cases.js';

const SHARDS = 2;
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
let redis: RedisServer;
const procs: Proc[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  redis = await RedisServer.start(PASSWORD);
});

afterAll(async () => {
  for (const proc of procs) proc.kill('SIGKILL');
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (redis) rmSync(redis.dir, { recursive: true, force: true });
});

function run(runner: RunnerCase, dir: string, report: string, shard?: { k: number; n: number; env: object }) {
  const { bin, args, env } = runner.command(dir, report, shard);
  const proc = start(bin, args, {
    cwd: dir,
    env: { ...env, ...shard?.env },
    ...(shard ? { host: `${runner.name}-shard-${shard.k}` } : {}),
  });
  procs.push(proc);
  return proc;
}

describe.concurrent('jest, playwright and mocha shards through Redis', () => {
  test.for([jest, playwright, mocha])(
    '$name: every test of every shard once, counts of the unsharded run',
    async (runner) => {
      const dir = fixtureCopy(runner.fixture);
      dirs.push(dir);
      const reference = run(runner, dir, join(dir, 'reference.json'));
      expect((await reference.exited).code, reference.stderr).toBe(1); // gamma > fails
      const expected = runner.read(join(dir, 'reference.json'), dir);
      expect(expected.length).toBeGreaterThanOrEqual(22);

      const group = `${runner.name}-${Date.now().toString(36)}`;
      const serve = await startServe(redis.url, group, await freePort(), ['--until-done']);
      procs.push(serve);
      const subscriber = new Subscriber(`ws://${new URL(serve.url).host}/ws`);
      subscriber.connect();
      await until('the subscriber to connect', () => subscriber.connections > 0);

      const env = { TESTWIRE_REDIS_URL: redis.socketUrl, TESTWIRE_GROUP: group };
      const shards = Array.from({ length: SHARDS }, (_, i) =>
        run(runner, dir, join(dir, `shard-${i + 1}.json`), { k: i + 1, n: SHARDS, env }),
      );
      const exits = await Promise.all(shards.map((s) => s.exited));
      const shardTests = shards.map((_, i) => runner.read(join(dir, `shard-${i + 1}.json`), dir));
      // The shards' own reports: the reference's tests, split, same statuses; exit 1 exactly where a test failed.
      const brief = (t: { key: string; status: string }) => `${t.key}: ${t.status}`;
      expect(shardTests.flat().map(brief).sort()).toEqual(expected.map(brief).sort());
      exits.forEach((exit, i) => {
        expect(exit.code, shards[i]?.stderr).toBe(shardTests[i]?.some((t) => t.status === 'failed') ? 1 : 0);
        expect(shardTests[i]?.length).toBeGreaterThan(0);
      });

      const groupRun = `group:${group}`;
      const completed = await until(
        'the group test.completed',
        () => subscriber.events.find((e) => e.type === 'test.completed' && e.runId === groupRun),
        60_000,
      );
      expect(completed.data.summary).toMatchObject({ ...countsOf(expected), success: false });

      // Every test of every shard exactly once.
      const results = subscriber.events.filter((e) => e.type === 'test.result');
      expect(results.map((e) => resultKey(e.data as { file: string; titlePath: string[] })).sort()).toEqual(
        expected.map((t) => t.key).sort(),
      );
      // Each shard's run, and the group's summary of it, say the host it ran on.
      const hosts = shards.map((_, i) => [i + 1, expectedHostname(`${runner.name}-shard-${i + 1}`)]);
      const started = subscriber.events.filter((e) => e.type === 'test.started' && e.runId !== groupRun);
      expect(started.map((e) => [e.data.run.shard.current, e.data.run.hostname]).sort()).toEqual(hosts);
      expect(
        completed.data.shards.map((s: { shard: number; hostname: string }) => [s.shard, s.hostname]).sort(),
      ).toEqual(hosts);

      subscriber.close();
      expect((await serve.exited).code).toBe(1);
      expect(serve.stdout).toContain(`group ${group} completed: failed`);
      const seen = [
        JSON.stringify(subscriber.events),
        serve.stdout,
        serve.stderr,
        ...shards.flatMap((s) => [s.stdout, s.stderr]),
      ].join('\n');
      expect(seen).not.toContain(PASSWORD);
    },
  );
});
