/**
 * Sharded CI end to end: a real redis-server (password-protected), `vitest run --shard=k/3` shards as separate
 * hosts (own network + UTS namespace as root, reaching Redis through its unix socket; else separate process
 * groups) appending to it, `testwire serve --redis` serving the group, a WebSocket subscriber of it.
 * Mid-run, serve is killed and restarted (the subscriber resumes), and Redis is stopped for 5 s (the shards
 * run on unchanged; the merged view catches up). The subscriber must end with every test of every shard
 * exactly once, and the group's counts must equal the unsharded run's own JSON report.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CLI,
  fixtureCopy,
  freePort,
  type JsonTest,
  loopbackFrom,
  type Proc,
  RedisServer,
  readReport,
  runVitest,
  Subscriber,
  start,
  startServe,
  status,
  until,
} from './helpers.js';
import { expectedHostname, namespaces } from './hosts.js';

const SHARDS = 3;
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
let redis: RedisServer;
let dir: string;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = fixtureCopy('sharded');
  redis = await RedisServer.start(PASSWORD);
});

afterAll(async () => {
  for (const proc of procs) proc.kill('SIGKILL');
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (redis) rmSync(redis.dir, { recursive: true, force: true });
});

const key = (t: { file: string; titlePath: string[] }) => `${t.file} > ${t.titlePath.join(' > ')}`;

/** Vitest JSON statuses as testwire counts them. */
function countsOf(tests: JsonTest[]) {
  const by = (s: string[]) => tests.filter((t) => s.includes(t.status)).length;
  return {
    passed: by(['passed']),
    failed: by(['failed']),
    skipped: by(['skipped', 'pending', 'disabled']),
    todo: by(['todo']),
  };
}

describe('sharded CI through Redis Streams', () => {
  test('every test of every shard reaches a resumed subscriber once, through a serve restart and a Redis outage', async () => {
    const group = `e2e-${Date.now().toString(36)}`;
    const gate = join(dir, `gate-${group}`);

    // The unsharded run, without testwire: the reference.
    const reference = runVitest(dir, join(dir, 'reference.json'), { env: { SHARD_GATE: '' } });
    procs.push(reference);
    expect((await reference.exited).code).toBe(1); // gamma > fails
    const expected = readReport(join(dir, 'reference.json'), dir);
    expect(expected.length).toBeGreaterThan(70);

    const servePort = await freePort();
    let serve = await startServe(redis.url, group, servePort);
    procs.push(serve);
    const subscriber = new Subscriber(`ws://127.0.0.1:${servePort}/ws`);
    subscriber.connect();
    await until('the subscriber to connect', () => subscriber.connections > 0);

    // A shard's host is a machine of its own: its loopback is not this one's (nothing answers on Redis' port).
    expect(await loopbackFrom(undefined, redis.port)).toBe('open');
    if (namespaces()) expect(await loopbackFrom('vitest-probe', redis.port)).toBe('ECONNREFUSED');

    // The shards reach Redis through its unix socket (no network path from their namespaces).
    const shardEnv = { TESTWIRE_REDIS_URL: redis.socketUrl, TESTWIRE_GROUP: group, SHARD_GATE: gate };
    const hosts = Array.from({ length: SHARDS }, (_, i) => `vitest-shard-${i + 1}`);
    const shards = Array.from({ length: SHARDS }, (_, i) => {
      const proc = runVitest(dir, join(dir, `shard-${i + 1}.json`), {
        shard: `${i + 1}/${SHARDS}`,
        env: shardEnv,
        testwire: true,
        host: hosts[i] as string,
      });
      procs.push(proc);
      return proc;
    });

    // Every shard started (held at the gate), as serve sees it, each with its own host name.
    const reporting = await until('3 shards reporting', async () => {
      const body = await status(serve.url);
      return body.group?.shards?.length === SHARDS && body;
    });
    expect(
      reporting.group.shards.map((s: { shard: number; hostname: string }) => [s.shard, s.hostname]),
    ).toEqual(hosts.map((h, i) => [i + 1, expectedHostname(h)]));
    const seenBefore = await until('events before the restart', () => subscriber.lastSeq);

    // Kill serve; the shards go on appending to Redis meanwhile. A new serve on the same port: the subscriber resumes.
    serve.kill('SIGKILL');
    await serve.exited;
    serve = await startServe(redis.url, group, servePort, ['--until-done']);
    procs.push(serve);
    await until('the subscriber to resume', () => subscriber.answers.length > 0);
    expect(subscriber.answers[0]).toEqual({ type: 'resumed', reason: undefined });
    expect(subscriber.lastSeq).toBeGreaterThanOrEqual(seenBefore);

    // Redis away for 5 s while the shards run their tests (the gate opens now).
    await redis.stop();
    writeFileSync(gate, '');
    const outageEnds = Date.now() + 5000;
    await until('the outage to last 5 s', () => Date.now() >= outageEnds, 10_000);
    await redis.start();

    const exits = await Promise.all(shards.map((s) => s.exited));
    const shardTests = shards.map((_, i) => readReport(join(dir, `shard-${i + 1}.json`), dir));
    // The shards' runs are what vitest alone makes of them: the reference's tests, split, same statuses;
    // exit code 1 exactly for the shard with the failing test.
    expect(
      shardTests
        .flat()
        .map((t) => `${key(t)}: ${t.status}`)
        .sort(),
    ).toEqual(expected.map((t) => `${key(t)}: ${t.status}`).sort());
    exits.forEach((exit, i) => {
      expect(exit.code, shards[i]?.stderr).toBe(shardTests[i]?.some((t) => t.status === 'failed') ? 1 : 0);
    });
    for (const shard of shards) expect(shard.stdout).not.toContain('testwire');
    // The outage did reach the shards (each said so once, on stderr), and changed nothing above.
    expect(shards.some((s) => s.stderr.includes('cannot append to Redis'))).toBe(true);
    for (const shard of shards)
      expect(shard.stderr.split('cannot append to Redis').length).toBeLessThanOrEqual(2);

    // The merged view caught up: the group completed, with the reference's counts.
    const groupRun = `group:${group}`;
    const completed = await until('the group test.completed', () =>
      subscriber.events.find((e) => e.type === 'test.completed' && e.runId === groupRun),
    );
    const ref = countsOf(expected);
    expect(completed.data.summary).toMatchObject({ ...ref, total: expected.length, success: false });
    expect(completed.data.shards).toHaveLength(SHARDS);

    // Every test of every shard exactly once; seqs contiguous (nothing missed across the restart).
    const results = subscriber.events.filter((e) => e.type === 'test.result');
    expect(results.map((e) => key(e.data as { file: string; titlePath: string[] })).sort()).toEqual(
      expected.map(key).sort(),
    );
    const seqs = subscriber.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const shardRuns = new Set(
      subscriber.events.filter((e) => e.type === 'test.started' && e.runId !== groupRun).map((e) => e.runId),
    );
    expect(shardRuns.size).toBe(SHARDS);
    // Each shard's run says the host it ran on.
    const started = subscriber.events.filter((e) => e.type === 'test.started' && e.runId !== groupRun);
    expect(started.map((e) => [e.data.run.shard.current, e.data.run.hostname]).sort()).toEqual(
      hosts.map((h, i) => [i + 1, expectedHostname(h)]),
    );

    subscriber.close();
    // --until-done: serve exits once the group completed, with the group's verdict (a shard failed).
    expect((await serve.exited).code).toBe(1);
    expect(serve.stdout).toContain(`group ${group} completed: failed`);

    // Another serve of the group gives every event the same <epoch>:<seq>: the subscriber moves to it and
    // resumes from halfway, receiving exactly the second half it already had.
    const other = await startServe(redis.url, group, await freePort());
    procs.push(other);
    const last = subscriber.lastSeq;
    await until('the other serve to read the group', async () => (await status(other.url)).seq >= last);
    const body = await status(other.url);
    expect(body.group).toMatchObject({
      state: 'completed',
      success: false,
      expected: SHARDS,
      finished: SHARDS,
    });
    expect(body.group.counts).toMatchObject(ref);

    // The Redis password is nowhere: not in events, /status, serve's or the shards' output.
    const seen = [
      JSON.stringify(subscriber.events),
      JSON.stringify(body),
      // Every process's output: both serves before and after the restart, the shards, the reference run.
      ...procs.flatMap((p) => [p.stdout, p.stderr]),
    ].join('\n');
    expect(serve.stderr).toContain('redis://***@127.0.0.1');
    expect(seen).not.toContain(PASSWORD);
    const half = Math.floor(last / 2);
    const moved = new Subscriber(`ws://${new URL(other.url).host}/ws`, {
      epoch: subscriber.epoch as string,
      since: half,
    });
    moved.connect();
    await until('the resume on the other serve', () => moved.answers.length > 0);
    expect(moved.answers[0]?.type).toBe('resumed');
    await until('the second half', () => moved.lastSeq >= last);
    const brief = (e: { seq: number; type: string; runId: string }) => `${e.seq} ${e.type} ${e.runId}`;
    expect(moved.events.filter((e) => e.seq <= last).map(brief)).toEqual(
      subscriber.events.filter((e) => e.seq > half).map(brief),
    );
    moved.close();
    other.kill('SIGTERM');
    await other.exited;
  });

  test('a shard killed mid-run shows as silent, one stopped (SIGTERM) as interrupted, in /status and in `testwire watch`; the group does not complete', async () => {
    const group = `kill-${Date.now().toString(36)}`;
    const open = join(dir, `gate-open-${group}`);
    writeFileSync(open, '');
    const serve = await startServe(redis.url, group, await freePort(), ['--silence', '3000']);
    procs.push(serve);
    const watch = start(process.execPath, [CLI, 'watch', '--plain', '--url', serve.url]);
    procs.push(watch);
    const env = { TESTWIRE_REDIS_URL: redis.socketUrl, TESTWIRE_GROUP: group };
    // Shard 1 runs through; shards 2 and 3 wait at a gate that never opens, until they are stopped.
    const [first, second, third] = [1, 2, 3].map((k) =>
      runVitest(dir, join(dir, `${group}-${k}.json`), {
        shard: `${k}/3`,
        env: { ...env, SHARD_GATE: k === 1 ? open : join(dir, 'never') },
        testwire: true,
        host: `kill-shard-${k}`,
      }),
    ) as [Proc, Proc, Proc];
    procs.push(first, second, third);

    const shardOf = (body: any, n: number) => body.group?.shards?.find((s: any) => s.shard === n);
    await until('shards 2 and 3 reporting', async () => {
      const body = await status(serve.url);
      return shardOf(body, 2)?.state === 'reporting' && shardOf(body, 3) !== undefined;
    });
    second.kill('SIGKILL'); // the machine died: no word from it again
    third.kill('SIGTERM'); // the CI job was cancelled: the reporter ends the run, interrupted
    await Promise.all([first.exited, second.exited, third.exited]);
    const body = await until('shard 2 silent, shard 3 interrupted, shard 1 finished', async () => {
      const b = await status(serve.url);
      return (
        shardOf(b, 2)?.state === 'silent' &&
        shardOf(b, 3)?.state === 'interrupted' &&
        shardOf(b, 1)?.state === 'finished' &&
        b
      );
    });
    expect(body.group).toMatchObject({
      state: 'running',
      expected: 3,
      silent: 1,
      finished: 2,
      success: false,
    });
    // watch shows each shard (and its host) as a run, the silent one as silent, the stopped one as interrupted.
    const host = (k: number) => expectedHostname(`kill-shard-${k}`);
    await until(
      'watch to show shard 2 silent and shard 3 interrupted',
      () =>
        watch.stdout.includes(`shard 2/3 @${host(2)} silent: no event for`) &&
        watch.stdout.includes(`shard 3/3 @${host(3)} interrupted`),
    );
    expect(watch.stdout).toContain(`shard 1/3 @${host(1)} started`);
    expect(watch.stdout).toMatch(new RegExp(`shard 1/3 @${host(1)} {2}(passed|failed)`));
    expect(watch.stdout).toMatch(
      /shard 2\/3 @\S+ silent: no event for [\d.]+ s \(\d reporting, \d finished, 1 silent\)/,
    );
    watch.kill('SIGTERM');
    serve.kill('SIGTERM');
    await serve.exited;
  });
  test("a shard whose CI job never ran its tests, and one killed mid-run: `serve --until-done --lost-after` stops waiting for them and exits 1; the killed shard's run is completed shard_lost, the group's completion names the missing shard", async () => {
    const group = `never-${Date.now().toString(36)}`;
    const open = join(dir, `gate-open-${group}`);
    writeFileSync(open, '');
    const servePort = await freePort();
    // 15 s: two vitest shards start cold at once on a loaded machine; shard 3 must not be counted missing first.
    const serve = await startServe(redis.url, group, servePort, ['--until-done', '--lost-after', '15000']);
    procs.push(serve);
    const subscriber = new Subscriber(`ws://127.0.0.1:${servePort}/ws`);
    subscriber.connect();
    await until('the subscriber connected', () => subscriber.connections > 0);
    const env = { TESTWIRE_REDIS_URL: redis.socketUrl, TESTWIRE_GROUP: group };
    // Shard 2's CI job failed before the runner started: no process at all. Shard 1 runs through; shard 3 waits
    // at a gate that never opens, and its machine dies.
    const [first, third] = [1, 3].map((k) =>
      runVitest(dir, join(dir, `${group}-${k}.json`), {
        shard: `${k}/3`,
        env: { ...env, SHARD_GATE: k === 1 ? open : join(dir, 'never') },
        testwire: true,
      }),
    ) as [Proc, Proc];
    procs.push(first, third);
    await until(
      'shard 3 reporting',
      async () =>
        (await status(serve.url)).group?.shards?.some((s: any) => s.shard === 3 && s.state === 'reporting'),
      60_000,
    );
    third.kill('SIGKILL');
    await Promise.all([first.exited, third.exited]);
    // Before the fix the group waited forever for shard 2 (never seen): serve never exited.
    const exit = await Promise.race([
      serve.exited,
      new Promise<'still serving'>((r) => setTimeout(() => r('still serving'), 60_000).unref()),
    ]);
    expect(exit).toMatchObject({ code: 1 });
    expect(serve.stdout).toContain(`group ${group} completed: failed`);
    await until('the subscriber to have the group completed', () =>
      subscriber.events.some((e) => e.runId === `group:${group}` && e.type === 'test.completed'),
    );
    subscriber.close();
    const completed = subscriber.events.filter((e) => e.type === 'test.completed');
    const runOf = (k: number) =>
      subscriber.events.find((e) => e.type === 'test.started' && (e.data as any).run?.shard?.current === k)
        ?.runId;
    const byRun = new Map(completed.map((e) => [e.runId, e.data as any]));
    // Shard 3's run ended with the group's verdict on it, not `running` forever.
    expect(byRun.get(runOf(3) as string)).toMatchObject({ interrupted: true, interruptedBy: 'shard_lost' });
    expect(byRun.get(runOf(1) as string)?.interruptedBy).toBeUndefined();
    const groupDone = byRun.get(`group:${group}`);
    expect(groupDone).toMatchObject({
      summary: { success: false },
      interrupted: true,
      interruptedBy: 'shard_lost',
    });
    const messages = groupDone.errors.map((e: any) => e.message).join('\n');
    expect(messages).toMatch(/shard 2 of 3 never reported/);
    expect(messages).toMatch(/shard 3 of 3 \(run \S+.*\) sent nothing for 15000 ms/);
    // Each run completed once: the group's own events and the lost shard's are written once per group.
    expect(completed.map((e) => e.runId).sort()).toEqual([runOf(1), runOf(3), `group:${group}`].sort());
  }, 180_000);
});
