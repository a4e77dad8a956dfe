/**
 * `testwire serve --redis`: one group's stream, read from the start and then live, served as a testwire
 * endpoint (WS, SSE, /status, dashboard) through a broadcaster mirror.
 *
 *   Redis stream ──XREAD BLOCK──> entries (seq, event) ──> mirror.append(seq)  ─> subscribers
 *                                                     └──> GroupView.apply ─> derive() ─> append script ─┐
 *         ▲                                                                                            │
 *         └───────────────── the group's own events, once per group, read back like any other ─────────┘
 *
 * Epoch and seqs are the group's (the meta hash's `epoch`, the entries' `s`), so every serve of the group,
 * and a serve restarted, gives each event the same `<epoch>:<seq>`: a subscriber resumes on any of them.
 *
 * The endpoint is bound at once, whether Redis answers or not (a CI aggregator started before its Redis
 * service, or during an outage, must not leave the port to whoever comes next nor refuse its subscribers):
 *
 *   start ─ offer an epoch of our own to the group (HSETNX), read the group's
 *     ├─ answered at once (the usual start, a serve restarted) ─> bind with the group's epoch, serve
 *     └─ an error, or no answer in EARLY_CLAIM_MS ─> bind with ours (nothing served; /status source.redis
 *        says why), retry with backoff ─ Redis answers ─┬─ the group took ours (it was new): serve on
 *                                                       └─ it had one (a shard or a serve wrote first, Redis
 *                                                          came back with it): bind again on the same port
 *                                                          with the group's epoch, then serve
 *
 * Until then subscribers get an endpoint with no events (as during a later outage, which is said on stderr
 * and in /status, not in the stream: a notice there would take a seq that is the group's). One that resumes
 * from another serve's position then gets resume.failed (another epoch) and, after the second bind, the
 * group from its first event: a serve restarted while Redis is away cannot do better without the group.
 */
import { randomBytes } from 'node:crypto';
import { type Mirror, type MirrorOptions, startMirror } from '@testwire/broadcaster';
import { type Backoff, backoffDelay } from '@testwire/protocol';
import type { Redis } from 'ioredis';
import { connectRedis, errorText, redactUrl } from './connection.js';
import { groupKeys } from './group.js';
import { GroupView, type GroupViewOptions } from './merge.js';
import { GROUP_TTL_SECONDS, ReadLoop } from './read-loop.js';
import { RedisLink, type RedisRefusal } from './redis-link.js';

export interface ServeGroupOptions {
  /** `redis://…`, `rediss://…`, `unix:///…`. */
  redisUrl: string;
  group: string;
  port?: number;
  host?: string;
  apiKey?: string;
  /** A running shard silent this long (ms) shows as `silent`. Default 30 000. */
  silenceMs?: number;
  /** A running shard silent this long (ms) is lost: the group no longer waits for it. Default 600 000; 0 = never. */
  lostAfterMs?: number;
  /** Shards expected when the runs do not say. */
  expected?: number;
  /** Key prefix (default `testwire`). */
  prefix?: string;
  logger?: { warn(message: string): void; info?(message: string): void };
  /** Entries per read (default 1000). */
  readCount?: number;
}

export interface GroupServer {
  readonly url: string;
  readonly wsUrl: string;
  /**
   * The epoch served: the group's once `joined` resolved. Before, one of this serve's own, which becomes the
   * group's if the group is new in Redis (the first writer's epoch stands).
   */
  readonly epoch: string;
  readonly group: string;
  /** The last seq served. */
  readonly seq: number;
  /** Resolves once Redis answered and the endpoint serves the group's epoch and stream (pending if closed first). */
  readonly joined: Promise<{ epoch: string }>;
  /** Resolves when the group's test.completed is in the stream: whether every shard passed. */
  readonly done: Promise<{ success: boolean }>;
  /**
   * Resolves when Redis refused this serve before it joined, for a reason waiting will not cure (it goes on
   * retrying: an operator may still fix the credentials); pending otherwise.
   */
  readonly refused: Promise<RedisRefusal>;
  /** Stops reading and closes the endpoint (bounded). */
  close(): Promise<void>;
}

/**
 * Retries to reach Redis, and to bind the port again: testwire's backoff (full jitter), up to 1 s apart, so
 * that serve joins within a second of Redis answering.
 */
const REDIS_BACKOFF: Backoff = { baseDelayMs: 50, maxDelayMs: 1000 };

/**
 * How long serve waits, at its start, for Redis to give the group's epoch before binding without it: a
 * refused connection or credentials end the wait at once; a host that does not answer (a firewall dropping
 * packets, a name still resolving) ends it here.
 */
const EARLY_CLAIM_MS = 2000;

/** What serve reads of the group's meta hash when it joins. */
interface Claim {
  epoch: string;
  waitingSince: number;
}

/**
 * Binds the endpoint at once and serves the group once Redis answers (retrying meanwhile, said on stderr and
 * in `/status`). Rejects for a bad URL or when the port cannot be bound.
 */
export async function serveGroup(options: ServeGroupOptions): Promise<GroupServer> {
  const logger = options.logger ?? { warn: (m: string) => process.stderr.write(`${m}\n`) };
  const where = redactUrl(options.redisUrl);
  const keys = groupKeys(options.group, options.prefix);
  const link = new RedisLink(where, logger);
  const clientOptions = {
    // Serve is long-lived: ioredis reconnects on its own (and holds commands meanwhile).
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.max(10, backoffDelay(REDIS_BACKOFF, times)),
  };
  const reader = connectRedis(options.redisUrl, clientOptions);
  const writer = connectRedis(options.redisUrl, clientOptions);
  for (const client of [reader, writer]) {
    client.on('error', (error: unknown) => link.failed(error));
    client.on('ready', () => link.ready());
  }

  let offset = 0;
  const viewOptions: GroupViewOptions = {
    ...(options.silenceMs !== undefined ? { silenceMs: options.silenceMs } : {}),
    ...(options.lostAfterMs !== undefined ? { lostAfterMs: options.lostAfterMs } : {}),
    ...(options.expected !== undefined ? { expected: options.expected } : {}),
  };
  // Until the join, a view of no shard (`waiting`): /status has the group's shape from the start, and `watch`
  // keeps polling it. The join replaces it with one that counts from the group's own waitingSince.
  let view = new GroupView(options.group, { ...viewOptions, waitingSince: Date.now() });
  const mirrorOptions = (epoch: string, port: number | undefined): MirrorOptions => ({
    epoch,
    keepAlive: true,
    ...(port !== undefined ? { port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    logger,
    // A shard's publisher bounds the stream (MAXLEN ~, publisher.ts): entries this serve had not read yet
    // when a publisher trimmed them are gone.
    gapNotice: ({ fromSeq, toSeq }) => ({
      message: `events ${fromSeq}..${toSeq} of group ${options.group} were trimmed from its Redis stream (the publishers' MAXLEN bound) before this serve read them`,
      code: 'SOURCE_GAP',
      severity: 'error',
      impact: "Those events are missing from the stream, and from the group's state this endpoint serves",
      recovery:
        'Start `testwire serve --redis` before the shards, or give the publishers a larger maxLen for runs this large',
    }),
    status: () => ({
      source: { kind: 'redis', group: options.group, redis: link.status() },
      group: view.status(Date.now() + offset),
    }),
    health: () => [link.health()],
  });

  // The epoch this serve offers the group (HSETNX): the group's if the group is new in Redis.
  let epoch = randomBytes(6).toString('base64url');
  const claim = async (): Promise<Claim> => {
    // Held by the client while Redis does not answer (maxRetriesPerRequest: null): this waits for it.
    offset = await clockOffset(writer);
    return claimGroup(writer, keys.meta, Date.now() + offset, epoch);
  };
  const firstClaim = claim();
  // Redis answering at once (the usual start, a serve restarted): bound with the group's epoch from the
  // first, a subscriber of the serve before resumes here as on it. Redis failing or silent: bound at once.
  const early = await Promise.race([
    firstClaim.catch(() => undefined),
    failureOf([reader, writer], EARLY_CLAIM_MS),
  ]);
  if (early) epoch = early.epoch;
  let mirror: Mirror;
  try {
    mirror = await startMirror(mirrorOptions(epoch, options.port));
  } catch (error) {
    reader.disconnect();
    writer.disconnect();
    throw error;
  }

  let closed = false;
  let loop: ReadLoop | undefined;
  let finish: (result: { success: boolean }) => void = () => {};
  const done = new Promise<{ success: boolean }>((resolve) => (finish = resolve));

  /** Serves the group from its stream's first entry on: the view counts from the group's waitingSince. */
  const follow = (joined: Claim): { epoch: string } => {
    view = new GroupView(options.group, { ...viewOptions, waitingSince: joined.waitingSince });
    link.ready();
    link.markJoined();
    if (!early)
      logger.info?.(
        `testwire serve: Redis ${where} answers: serving group ${options.group} (epoch ${epoch})`,
      );
    reader.on(
      'ready',
      () =>
        void clockOffset(writer).then(
          (o) => (offset = o),
          () => {},
        ),
    );
    loop = new ReadLoop(
      reader,
      writer,
      keys,
      mirror,
      view,
      options.readCount ?? 1000,
      logger,
      finish,
      () => Date.now() + offset,
      link,
    );
    void loop.run();
    return { epoch };
  };

  /** Waits for Redis (retrying what it refuses), binds again if the group had another epoch, then follows. */
  const join = async (): Promise<{ epoch: string } | undefined> => {
    let pending = firstClaim;
    let joined: Claim | undefined;
    for (let attempt = 1; !joined; attempt++) {
      try {
        joined = await pending;
      } catch (error) {
        if (closed) return undefined;
        // Answered, but refused (NOAUTH, WRONGTYPE…): said like an outage, tried again.
        link.failed(error);
        await sleep(backoffDelay(REDIS_BACKOFF, attempt));
        // Closed meanwhile (`--until-done` ends a serve Redis refuses): its clients are gone, and a claim made
        // now would reject with nobody to hear it ("Connection is closed": the process died of it, exit 1).
        if (closed) return undefined;
        pending = claim();
      }
      if (closed) return undefined;
    }
    if (joined.epoch !== epoch) {
      logger.warn(
        `testwire serve: group ${options.group} already has its epoch in Redis (a shard or another serve wrote first): the endpoint binds again with it; its subscribers reconnect and get the group from its first event`,
      );
      const port = mirror.port;
      await mirror.close({ timeoutMs: 3000 });
      const group = joined.epoch;
      const again = await bindAgain(
        () => startMirror(mirrorOptions(group, port)),
        () => closed,
        logger,
      );
      if (!again) return undefined;
      if (closed) {
        await again.close({ timeoutMs: 1000 });
        return undefined;
      }
      mirror = again;
      epoch = group;
    }
    return follow(joined);
  };
  const joining = early
    ? Promise.resolve(follow(early))
    : join().catch((error: unknown) => {
        logger.warn(`testwire serve: cannot serve group ${options.group}: ${errorText(error)}`);
        return undefined;
      });

  return {
    get url() {
      return mirror.url;
    },
    get wsUrl() {
      return mirror.wsUrl;
    },
    get epoch() {
      return epoch;
    },
    group: options.group,
    joined: joining.then((joined) => joined ?? new Promise<never>(() => {})),
    done,
    refused: link.refused,
    get seq() {
      return mirror.seq;
    },
    async close() {
      closed = true;
      loop?.stop();
      reader.disconnect();
      // Before the join, commands may wait for a Redis that never comes: drop them.
      if (!link.joined) writer.disconnect();
      await joining;
      await mirror.close({ timeoutMs: 3000 });
      await writer.quit().catch(() => writer.disconnect());
    },
  };
}

/** Resolves (undefined) at the first error of any of `clients`, or after `ms`; cleans up after itself. */
function failureOf(clients: Redis[], ms: number): Promise<undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms).unref();
    function done(): void {
      clearTimeout(timer);
      for (const client of clients) client.off('error', done);
      resolve(undefined);
    }
    for (const client of clients) client.once('error', done);
  });
}

/**
 * Binds the endpoint again on its port, retrying (with backoff) while another process holds it — it was free
 * for a moment between the two binds. Undefined when serve closed meanwhile.
 */
async function bindAgain(
  start: () => Promise<Mirror>,
  closed: () => boolean,
  logger: { warn(message: string): void },
): Promise<Mirror | undefined> {
  let told = false;
  for (let attempt = 1; !closed(); attempt++) {
    try {
      return await start();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      if (!told)
        logger.warn(
          'testwire serve: another process took the port while the endpoint bound it again; retrying until it is free',
        );
      told = true;
      await sleep(backoffDelay(REDIS_BACKOFF, attempt));
    }
  }
  return undefined;
}

/**
 * The group's epoch and since when a serve has waited for it, each set by the first serve (or, for the epoch,
 * the first shard): every serve of the group gives the same. `epoch` is the one this serve offers (the one
 * it already serves). A group that has only these fields yet expires like one that has events
 * (append-script.ts), unless events come to keep it.
 */
async function claimGroup(redis: Redis, meta: string, now: number, epoch: string): Promise<Claim> {
  const [, , [, groupEpoch], [, waitingSince]] = (await redis
    .multi()
    .hsetnx(meta, 'epoch', epoch)
    .hsetnx(meta, 'waitingSince', String(now))
    .hget(meta, 'epoch')
    .hget(meta, 'waitingSince')
    .exec()) as [unknown, unknown, [unknown, string], [unknown, string]];
  if ((await redis.ttl(meta)) === -1) await redis.expire(meta, GROUP_TTL_SECONDS);
  return { epoch: groupEpoch, waitingSince: Number(waitingSince) };
}

/** Redis' clock minus ours (ms): silence is measured on the clock that stamped the entries. */
async function clockOffset(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
