/** serveGroup against a real redis-server: what it serves when the group's stream in Redis is not what it was. */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { withAppend } from '../src/append-script.js';
import { groupKeys } from '../src/group.js';
import { type GroupServer, serveGroup } from '../src/serve-group.js';
import { freePort, RedisServer, redisOfFile, until } from './redis-server.js';

const local = redisOfFile();

const output = (n: number) =>
  JSON.stringify({
    type: 'test.output',
    runId: 'r_1',
    timestamp: new Date().toISOString(),
    data: { framework: 'vitest', output: `line ${n}`, stream: 'stdout', outputType: 'stdout' },
  });

/** Every event `served` holds, replayed over SSE from its first. */
async function replay(served: GroupServer, count: number): Promise<any[]> {
  const abort = new AbortController();
  const response = await fetch(`${served.url}/events?patterns=*`, {
    headers: { 'last-event-id': `${served.epoch}:0` },
    signal: abort.signal,
  });
  const events: any[] = [];
  let text = '';
  const reader = response.body!.getReader();
  const deadline = Date.now() + 15_000;
  while (events.length < count && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const data = text
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('');
      const message = data ? JSON.parse(data) : undefined;
      // events only (not connection.established, resumed…)
      if (typeof message?.seq === 'number' && message.seq > 0 && typeof message.runId === 'string')
        events.push(message);
      text = text.slice(end + 2);
      end = text.indexOf('\n\n');
    }
  }
  abort.abort();
  return events;
}

describe('serveGroup', () => {
  test('the group started again in Redis (its data lost): later events are served after a notice, and an invalid event counts in no shard', async () => {
    const warnings: string[] = [];
    const served = await serveGroup({
      redisUrl: local.server.url,
      group: 'reset',
      port: 0,
      host: '127.0.0.1',
      logger: { warn: (m) => warnings.push(m) },
    });
    try {
      const append = withAppend(local.redis);
      const keys = groupKeys('reset');
      const base = { keys, maxLen: 1000, ttlSeconds: 60, epoch: 'E1', writer: 'w:a' };
      await append({ ...base, batch: 0, events: [output(0), output(1), output(2)] });
      await until('the first 3 events', () => served.seq === 3);
      // Redis loses the group's keys (a restart without persistence, an eviction): numbering starts at 1.
      await local.redis.flushall();
      await append({ ...base, batch: 0, epoch: 'E2', events: [output(3), output(4)] });
      await until('the notice and 2 events after the reset', () => served.seq === 6);
      // A test.started that fails validation: a notice at its seq, and no shard for it in the group.
      const invalid = JSON.stringify({
        type: 'test.started',
        runId: 'zz',
        timestamp: new Date().toISOString(),
      });
      await append({ ...base, batch: 1, events: [invalid] });
      await until('the invalid event', () => served.seq === 7);

      const events = await replay(served, 7);
      expect(events.map((e) => [e.seq, e.type, e.data?.output ?? e.data?.error?.code])).toEqual([
        [1, 'test.output', 'line 0'],
        [2, 'test.output', 'line 1'],
        [3, 'test.output', 'line 2'],
        [4, 'system.error', 'SOURCE_RESET'],
        [5, 'test.output', 'line 3'],
        [6, 'test.output', 'line 4'],
        [7, 'system.error', 'INVALID_EVENT'],
      ]);
      expect(warnings.join('\n')).toMatch(/started again at seq 1/);
      const status = (await (await fetch(`${served.url}/status`)).json()) as { group: unknown };
      expect(JSON.stringify(status.group)).not.toContain('zz');
    } finally {
      await served.close();
    }
  }, 60_000);

  test('entries trimmed from the stream before the serve read them: a live subscriber is told the gap, then gets what follows', async () => {
    const served = await serveGroup({
      redisUrl: local.server.url,
      group: 'trimmed',
      port: 0,
      host: '127.0.0.1',
      logger: { warn() {} },
    });
    const abort = new AbortController();
    try {
      const append = withAppend(local.redis);
      const base = { keys: groupKeys('trimmed'), ttlSeconds: 60, epoch: 'E1', writer: 'w:a' };
      await append({ ...base, maxLen: 1000, batch: 0, events: [output(0)] });
      await until('the first event', () => served.seq === 1);
      // A live subscriber (SSE), every message kept, seq-0 notices included.
      const messages = sse(served.url, abort.signal);
      await until('the subscriber connected', () =>
        messages.some((m) => m.type === 'connection.established'),
      );
      // One script call appends 1,000 entries and trims the stream to ~10 as it goes (MAXLEN ~ trims whole
      // nodes of 100): the serve, blocked in XREAD, wakes to find most of them gone.
      const many = Array.from({ length: 1000 }, (_, i) => output(i + 1));
      await append({ ...base, maxLen: 10, batch: 1, events: many });
      await until('the last event', () => messages.some((m) => m.seq === 1001));
      const events = messages.filter((m) => typeof m.seq === 'number' && m.type !== 'connection.established');
      const notice = events.find((m) => m.type === 'system.error');
      const after = events.filter((m) => m.seq > 1);
      expect(after.length).toBeLessThan(1000);
      expect(notice).toMatchObject({
        seq: 0,
        data: { error: { code: 'SOURCE_GAP' }, gap: { fromSeq: 2, toSeq: after[0].seq - 1 } },
      });
      expect(notice.data.error.message).toContain('trimmed from its Redis stream');
      // Told before the first event after the gap, and the events after it are contiguous.
      expect(events.indexOf(notice)).toBe(events.indexOf(after[0]) - 1);
      expect(after.map((m) => m.seq)).toEqual(after.map((_, i) => after[0].seq + i));
    } finally {
      abort.abort();
      await served.close();
    }
  }, 60_000);

  test('shards that go quiet for good are lost after lostAfterMs: their runs are completed shard_lost (once for every serve, same seqs), the group completes failed, done resolves', async () => {
    const served = await serveGroup({
      redisUrl: local.server.url,
      group: 'lost',
      port: 0,
      host: '127.0.0.1',
      silenceMs: 200,
      lostAfterMs: 5000,
      logger: { warn() {} },
    });
    let second: GroupServer | undefined;
    try {
      const append = withAppend(local.redis);
      const base = { keys: groupKeys('lost'), maxLen: 1000, ttlSeconds: 60, epoch: 'E1' };
      await append({ ...base, writer: 'w:1', batch: 0, events: [started(1, 3), result(1), completed(1)] });
      // shards 2 and 3 start, run one test each, and are never heard of again
      await append({ ...base, writer: 'w:2', batch: 0, events: [started(2, 3), result(2)] });
      await append({ ...base, writer: 'w:3', batch: 0, events: [started(3, 3), result(3)] });
      expect(await doneWithin(served)).toEqual({ success: false });
      const status = await statusOf(served);
      expect(status.group).toMatchObject({ state: 'completed', lost: 2, success: false });
      // Nothing of the group stays running: each lost shard's run is completed on its behalf.
      const runs = Object.fromEntries(status.runs.map((r: any) => [r.runId, r]));
      for (const runId of ['r_2', 'r_3'])
        expect(runs[runId]).toMatchObject({
          status: 'completed',
          interrupted: true,
          interruptedBy: 'shard_lost',
        });
      expect(runs['group:lost']).toMatchObject({ status: 'completed' });
      // A serve of the group started afterwards writes nothing more: the same events at the same seqs.
      second = await serveGroup({
        redisUrl: local.server.url,
        group: 'lost',
        port: 0,
        host: '127.0.0.1',
        lostAfterMs: 5000,
        logger: { warn() {} },
      });
      await until('the second serve read the group', () => second!.seq === served.seq);
      const key = (e: any) => [e.seq, e.runId, e.type, e.data?.interruptedBy ?? null];
      const events = await replay(served, served.seq);
      const first = events.map(key);
      // Its counts so far, as its summary.
      const r2 = events.find((e) => e.runId === 'r_2' && e.type === 'test.completed');
      expect(r2.data.summary).toMatchObject({ total: 1, passed: 1, success: false });
      expect(first.filter(([, , type, by]) => type === 'test.completed' && by === 'shard_lost')).toEqual([
        [expect.any(Number), 'r_2', 'test.completed', 'shard_lost'],
        [expect.any(Number), 'r_3', 'test.completed', 'shard_lost'],
        [expect.any(Number), 'group:lost', 'test.completed', 'shard_lost'],
      ]);
      // It derives after each read: once it read an event appended after everything, whatever it derived from
      // the group as it was is in the stream.
      const marker = await append({ ...base, writer: 'w:marker', batch: 0, events: [output(99)] });
      await until('the second serve read the marker', () => second!.seq >= marker);
      await until('the first serve read the marker', () => served.seq >= marker);
      const entries = (await local.redis.xrange(groupKeys('lost').stream, '-', '+')).map(([, f]) =>
        JSON.parse(f[3] as string),
      );
      expect(entries.filter((e) => e.type === 'test.completed').map((e) => e.runId)).toEqual([
        'r_1',
        'r_2',
        'r_3',
        'group:lost',
      ]);
      expect(marker).toBe(first.length + 1);
      expect((await replay(second, marker)).map(key)).toEqual([
        ...first,
        [marker, 'r_1', 'test.output', null],
      ]);
    } finally {
      await second?.close();
      await served.close();
    }
  }, 60_000);

  test('an expected shard that never appears (its CI job failed before the runner started) is lost lostAfterMs after the group started: the group completes failed, naming it', async () => {
    const served = await serveGroup({
      redisUrl: local.server.url,
      group: 'never',
      port: 0,
      host: '127.0.0.1',
      lostAfterMs: 5000,
      logger: { warn() {} },
    });
    try {
      const append = withAppend(local.redis);
      const base = { keys: groupKeys('never'), maxLen: 1000, ttlSeconds: 60, epoch: 'E1' };
      await append({ ...base, writer: 'w:1', batch: 0, events: [started(1, 3), result(1), completed(1)] });
      await append({ ...base, writer: 'w:3', batch: 0, events: [started(3, 3), result(3), completed(3)] });
      expect(await doneWithin(served)).toEqual({ success: false });
      const status = await statusOf(served);
      expect(status.group).toMatchObject({
        state: 'completed',
        lost: 1,
        success: false,
        missing: [{ shard: 2, total: 3, state: 'lost' }],
      });
      const group = (await replay(served, served.seq)).find(
        (e) => e.runId === 'group:never' && e.type === 'test.completed',
      );
      expect(group.data).toMatchObject({ interrupted: true, interruptedBy: 'shard_lost' });
      expect(group.data.errors[0].message).toMatch(/^shard 2 of 3 never reported/);
    } finally {
      await served.close();
    }
  }, 60_000);

  test('expected shards none of which ever appears: the group completes failed lostAfterMs after the serve began waiting, not never (a --until-done CI job ends)', async () => {
    const served = await serveGroup({
      redisUrl: local.server.url,
      group: 'nobody',
      port: 0,
      host: '127.0.0.1',
      expected: 2,
      lostAfterMs: 3000,
      logger: { warn() {} },
    });
    try {
      expect(await doneWithin(served)).toEqual({ success: false });
      expect((await statusOf(served)).group).toMatchObject({ state: 'completed', lost: 2, success: false });
      const group = (await replay(served, served.seq)).find(
        (e) => e.runId === 'group:nobody' && e.type === 'test.completed',
      );
      expect(group.data.errors[0].message).toMatch(/^none of the 2 expected shards reported/);
      // The group's keys expire like a group with events, though only the serve wrote to them.
      expect(await local.redis.ttl(groupKeys('nobody').meta)).toBeGreaterThan(0);
    } finally {
      await served.close();
    }
  }, 60_000);

  test('Redis not answering at the start: the endpoint is up at once and says why (no password), a subscriber connected meanwhile gets the group once Redis answers', async () => {
    const redis = new RedisServer(await freePort(), 'pw-late');
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), info: (m: string) => warnings.push(m) };
    const abort = new AbortController();
    let served: GroupServer | undefined;
    let client: Redis | undefined;
    try {
      served = await within(
        serveGroup({ redisUrl: redis.url, group: 'late', port: 0, host: '127.0.0.1', logger }),
        'serveGroup bound while Redis does not answer',
      );
      const before = served.epoch;
      await until('the warning', () => warnings.length > 0);
      expect(warnings[0]).toMatch(
        /Redis redis:\/\/\*\*\*@127\.0\.0\.1:\d+ is not reachable yet: .*ECONNREFUSED/,
      );
      expect(warnings[0]).toMatch(/retrying with backoff/);
      const waiting = await statusOf(served);
      expect(waiting.source).toEqual({
        kind: 'redis',
        group: 'late',
        redis: {
          url: `redis://***@127.0.0.1:${redis.port}`,
          state: 'unreachable',
          since: expect.any(Number),
          joined: false,
          error: expect.stringMatching(/ECONNREFUSED/),
        },
      });
      expect(waiting.group).toMatchObject({ id: 'late', state: 'waiting' });
      const health = async (): Promise<any> => (await fetch(`${served!.url}/health`)).json();
      // The endpoint serves, its source does not: degraded, the redis component saying why (no password).
      const down = await health();
      expect(down.status).toBe('degraded');
      expect(down.components.find((c: { name: string }) => c.name === 'redis')).toMatchObject({
        status: 'unhealthy',
        message: expect.stringMatching(
          /^Redis redis:\/\/\*\*\*@127\.0\.0\.1:\d+ is not reachable: .*ECONNREFUSED/,
        ),
      });
      // A subscriber now (a dashboard, watch) is taken, not refused; it stays connected through the join.
      const messages = sse(served.url, abort.signal);
      await until('connection.established', () => messages.find((m) => m.type === 'connection.established'));

      await redis.start();
      client = new Redis(redis.url);
      expect(await within(served.joined, 'the join once Redis answers')).toEqual({ epoch: before });
      // The group was new in Redis: it took this serve's epoch, so nothing moved under the subscriber.
      expect(await client.hget(groupKeys('late').meta, 'epoch')).toBe(before);
      const append = withAppend(client);
      const base = { keys: groupKeys('late'), maxLen: 1000, ttlSeconds: 60, epoch: 'E-shard', writer: 'w:a' };
      await append({ ...base, batch: 0, events: [output(0), output(1), output(2)] });
      await until('the 3 events, live', () => messages.filter((m) => m.seq > 0).length === 3);
      expect(messages.filter((m) => m.seq > 0).map((m) => [m.seq, m.data.output])).toEqual([
        [1, 'line 0'],
        [2, 'line 1'],
        [3, 'line 2'],
      ]);
      expect(messages.find((m) => m.type === 'connection.established').epoch).toBe(before);
      expect((await statusOf(served)).source.redis).toMatchObject({ state: 'connected', joined: true });
      expect(await health()).toMatchObject({ status: 'healthy' });
      expect(warnings.at(-1)).toMatch(/answers: serving group late/);
      expect(warnings.join('\n')).not.toContain('pw-late');
      expect(JSON.stringify(waiting)).not.toContain('pw-late');
    } finally {
      abort.abort();
      await served?.close();
      client?.disconnect();
      await redis.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }, 90_000);

  test('Redis comes back holding the group (its epoch another serve or shard set): the endpoint binds again on its port with that epoch and serves every event Redis holds', async () => {
    const redis = await RedisServer.start('pw-back');
    const before = new Redis(redis.url);
    const append = withAppend(before);
    const base = { keys: groupKeys('back'), maxLen: 1000, ttlSeconds: 60, epoch: 'E-shard', writer: 'w:a' };
    await append({ ...base, batch: 0, events: [output(0), output(1)] });
    before.disconnect();
    await redis.stop(); // its AOF keeps the group
    const warnings: string[] = [];
    const abort = new AbortController();
    let served: GroupServer | undefined;
    let after: Redis | undefined;
    try {
      served = await within(
        serveGroup({
          redisUrl: redis.url,
          group: 'back',
          port: 0,
          host: '127.0.0.1',
          logger: { warn: (m) => warnings.push(m) },
        }),
        'serveGroup bound while Redis is down',
      );
      const { port } = new URL(served.url);
      const messages = sse(served.url, abort.signal);
      await until('connection.established', () => messages.find((m) => m.type === 'connection.established'));
      await redis.start();
      expect(await within(served.joined, 'the join once Redis is back')).toEqual({ epoch: 'E-shard' });
      expect(new URL(served.url).port).toBe(port);
      // The subscriber of the first bind was closed: it reconnects to a new epoch, the group from its first.
      await until('the first subscriber closed', () => messages.closed);
      expect(messages.filter((m) => m.seq > 0)).toEqual([]);
      after = new Redis(redis.url);
      await withAppend(after)({ ...base, batch: 1, events: [output(2)] });
      await until('the third event', () => served!.seq === 3);
      expect((await replay(served, 3)).map((e) => [e.seq, e.data.output])).toEqual([
        [1, 'line 0'],
        [2, 'line 1'],
        [3, 'line 2'],
      ]);
      expect(warnings.join('\n')).toMatch(/already has its epoch in Redis/);
      expect(warnings.join('\n')).not.toContain('pw-back');
    } finally {
      abort.abort();
      await served?.close();
      after?.disconnect();
      await redis.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }, 90_000);

  test('Redis refusing the credentials: the endpoint is up, stderr and /status say what to check (not the password), and serve joins once Redis takes them', async () => {
    const redis = await RedisServer.start('pw-server');
    const warnings: string[] = [];
    let served: GroupServer | undefined;
    const admin = new Redis(redis.url);
    try {
      served = await within(
        serveGroup({
          redisUrl: `redis://:pw-serve@127.0.0.1:${redis.port}`,
          group: 'refused',
          port: 0,
          host: '127.0.0.1',
          logger: { warn: (m) => warnings.push(m) },
        }),
        'serveGroup bound while Redis refuses it',
      );
      await until('the warning', () => warnings.length > 0);
      expect(warnings[0]).toMatch(/not reachable yet: .*WRONGPASS.*check the credentials in the Redis URL/);
      const status = await statusOf(served);
      expect(status.source.redis).toMatchObject({
        state: 'unreachable',
        joined: false,
        fix: expect.stringMatching(/credentials/),
      });
      expect(JSON.stringify(status) + warnings.join('\n')).not.toContain('pw-serve');
      // Said to a serve that is a CI job of its own (`--until-done` ends on it), the password never in it.
      const refusal = await within(served.refused, 'the refusal');
      expect(refusal).toMatchObject({
        error: expect.stringMatching(/WRONGPASS/),
        fix: expect.stringMatching(/credentials/),
      });
      expect(JSON.stringify(refusal)).not.toContain('pw-serve');
      await admin.config('SET', 'requirepass', 'pw-serve');
      await within(served.joined, 'the join once Redis takes the password');
      expect((await statusOf(served)).source.redis).toMatchObject({ state: 'connected', joined: true });
    } finally {
      await served?.close();
      admin.disconnect();
      await redis.stop();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }, 90_000);
});

const at = () => new Date().toISOString();

/** A shard's test.started (`shard` of `total`), one passed result, and its test.completed. */
const started = (shard: number, total: number) =>
  JSON.stringify({
    type: 'test.started',
    runId: `r_${shard}`,
    timestamp: at(),
    data: {
      framework: 'vitest',
      totalTests: 1,
      testFiles: [],
      totalKnown: true,
      run: {
        runId: `r_${shard}`,
        framework: 'vitest',
        startedAt: Date.now(),
        shard: { current: shard, total },
      },
    },
  });
const result = (shard: number) =>
  JSON.stringify({
    type: 'test.result',
    runId: `r_${shard}`,
    timestamp: at(),
    data: {
      framework: 'vitest',
      id: `t_${shard}`,
      titlePath: ['t'],
      testName: 't',
      suite: '',
      file: `f${shard}.js`,
      status: 'passed',
      duration: 1,
      attempt: 1,
    },
  });
const completed = (shard: number) =>
  JSON.stringify({
    type: 'test.completed',
    runId: `r_${shard}`,
    timestamp: at(),
    data: {
      framework: 'vitest',
      summary: { total: 1, passed: 1, failed: 0, skipped: 0, todo: 0, flaky: 0, duration: 5, success: true },
    },
  });

/** `done`, or 'still waiting' after a generous bound. */
const doneWithin = (served: GroupServer) =>
  Promise.race([
    served.done,
    new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 20_000).unref()),
  ]);

/** `promise`, or a failure naming `what` after a generous bound (a hang is a failure, not a timeout of the file). */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A live SSE subscriber of `url` (every message, seq-0 notices included); `closed` once the server ended it. */
function sse(url: string, signal: AbortSignal): any[] & { closed: boolean } {
  const messages = Object.assign([] as any[], { closed: false });
  void (async () => {
    const response = await fetch(`${url}/events?patterns=*`, { signal });
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const data = text
          .slice(0, end)
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('');
        if (data) messages.push(JSON.parse(data));
        text = text.slice(end + 2);
      }
    }
    messages.closed = true;
  })().catch(() => {
    messages.closed = true;
  });
  return messages;
}

const statusOf = async (served: GroupServer): Promise<any> => (await fetch(`${served.url}/status`)).json();
