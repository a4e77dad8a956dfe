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
 */
import { randomBytes } from 'node:crypto';
import { type Mirror, startMirror } from '@testwire/broadcaster';
import type { PublishedEvent } from '@testwire/protocol';
import type { Redis } from 'ioredis';
import { withAppend } from './append-script.js';
import { connectRedis, errorText, redactUrl } from './connection.js';
import { groupKeys } from './group.js';
import { GroupView } from './merge.js';

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
  readonly epoch: string;
  readonly group: string;
  /** The last seq served. */
  readonly seq: number;
  /** Resolves when the group's test.completed is in the stream: whether every shard passed. */
  readonly done: Promise<{ success: boolean }>;
  /** Stops reading and closes the endpoint (bounded). */
  close(): Promise<void>;
}

/**
 * Connects to Redis (waiting for it, warning once, while it does not answer), takes the group's epoch, binds
 * the endpoint and serves the group. Rejects for a bad URL or when the port cannot be bound.
 */
export async function serveGroup(options: ServeGroupOptions): Promise<GroupServer> {
  const logger = options.logger ?? { warn: (m: string) => process.stderr.write(`${m}\n`) };
  const where = redactUrl(options.redisUrl);
  const keys = groupKeys(options.group, options.prefix);
  const clientOptions = {
    // Serve is long-lived: ioredis reconnects on its own (and holds commands meanwhile).
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(1000, 50 * times),
  };
  const reader = connectRedis(options.redisUrl, clientOptions);
  const writer = connectRedis(options.redisUrl, clientOptions);
  let outage = false;
  // The endpoint serves the group's epoch, which is in Redis: until Redis answered once, there is none to bind.
  let bound = false;
  const onError = (error: unknown) => {
    if (outage) return;
    outage = true;
    logger.warn(
      bound
        ? `testwire serve: Redis ${where}: ${errorText(error)}; retrying (the endpoint keeps serving)`
        : `testwire serve: Redis ${where}: ${errorText(error)}; waiting for it: the endpoint is bound once Redis answers (the group's epoch is kept there)`,
    );
  };
  reader.on('error', onError);
  writer.on('error', onError);
  const recovered = () => {
    if (!outage) return;
    outage = false;
    logger.warn(`testwire serve: Redis ${where} answers again`);
  };
  reader.on('ready', recovered);

  let mirror: Mirror | undefined;
  try {
    let offset = await clockOffset(writer);
    const { epoch, waitingSince } = await claimGroup(writer, keys.meta, Date.now() + offset);
    const view = new GroupView(options.group, {
      ...(options.silenceMs !== undefined ? { silenceMs: options.silenceMs } : {}),
      ...(options.lostAfterMs !== undefined ? { lostAfterMs: options.lostAfterMs } : {}),
      ...(options.expected !== undefined ? { expected: options.expected } : {}),
      waitingSince,
    });
    reader.on(
      'ready',
      () =>
        void clockOffset(writer).then(
          (o) => (offset = o),
          () => {},
        ),
    );
    mirror = await startMirror({
      epoch,
      keepAlive: true,
      ...(options.port !== undefined ? { port: options.port } : {}),
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
        source: { kind: 'redis', group: options.group },
        group: view.status(Date.now() + offset),
      }),
    });
    const served = mirror;
    bound = true;
    let finish: (result: { success: boolean }) => void = () => {};
    const done = new Promise<{ success: boolean }>((resolve) => (finish = resolve));
    const loop = new ReadLoop(
      reader,
      writer,
      keys,
      served,
      view,
      options.readCount ?? 1000,
      logger,
      finish,
      () => Date.now() + offset,
    );
    void loop.run();
    return {
      get url() {
        return served.url;
      },
      get wsUrl() {
        return served.wsUrl;
      },
      epoch,
      group: options.group,
      done,
      get seq() {
        return served.seq;
      },
      async close() {
        loop.stop();
        reader.disconnect();
        await served.close({ timeoutMs: 3000 });
        await writer.quit().catch(() => writer.disconnect());
      },
    };
  } catch (error) {
    reader.disconnect();
    writer.disconnect();
    await mirror?.close({ timeoutMs: 1000 });
    throw error;
  }
}

/**
 * The group's epoch and since when a serve has waited for it, each set by the first serve (or, for the epoch,
 * the first shard): every serve of the group gives the same. A group that has only these fields yet expires
 * like one that has events (append-script.ts), unless events come to keep it.
 */
async function claimGroup(
  redis: Redis,
  meta: string,
  now: number,
): Promise<{ epoch: string; waitingSince: number }> {
  const [, , [, epoch], [, waitingSince]] = (await redis
    .multi()
    .hsetnx(meta, 'epoch', randomBytes(6).toString('base64url'))
    .hsetnx(meta, 'waitingSince', String(now))
    .hget(meta, 'epoch')
    .hget(meta, 'waitingSince')
    .exec()) as [unknown, unknown, [unknown, string], [unknown, string]];
  if ((await redis.ttl(meta)) === -1) await redis.expire(meta, GROUP_TTL_SECONDS);
  return { epoch, waitingSince: Number(waitingSince) };
}

/** Redis' clock minus ours (ms): silence is measured on the clock that stamped the entries. */
async function clockOffset(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
}

/** How long a group's keys live after their last write (the derived events' writes; a shard's publisher sets its own). */
const GROUP_TTL_SECONDS = 86_400;

class ReadLoop {
  private stopped = false;
  private lastId = '0-0';
  /**
   * Added to the group's seqs to give the mirror's: 0 until the group's numbering starts again (Redis lost its
   * data), then what puts the new numbers after the last one served (see take).
   */
  private shift = 0;
  private readonly append: ReturnType<typeof withAppend>;

  constructor(
    private readonly reader: Redis,
    writer: Redis,
    private readonly keys: { stream: string; meta: string },
    private readonly mirror: Mirror,
    private readonly view: GroupView,
    private readonly count: number,
    private readonly logger: { warn(message: string): void },
    private readonly finish: (result: { success: boolean }) => void,
    /** Redis' clock: the entries' times are Redis', so is the group's duration. */
    private readonly now: () => number,
  ) {
    this.append = withAppend(writer);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const reply = await this.reader.xread(
          'COUNT',
          this.count,
          'BLOCK',
          1000,
          'STREAMS',
          this.keys.stream,
          this.lastId,
        );
        if (this.stopped) return;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) this.take(id, fields);
        // After a quiet second too: a shard that went quiet for good is lost after a while (GroupView).
        await this.derive();
      } catch (error) {
        if (this.stopped) return;
        // The client reconnects by itself; wait a little so a persistent error does not spin.
        await new Promise((r) => setTimeout(r, 250).unref());
        void error;
      }
    }
  }

  private take(id: string, fields: string[]): void {
    this.lastId = id;
    let seq = 0;
    let json: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === 's') seq = Number(fields[i + 1]);
      else if (fields[i] === 'e') json = fields[i + 1];
    }
    if (!seq || json === undefined) return;
    const at = Number(id.slice(0, id.indexOf('-')));
    // Read past `lastId`, every entry is new to this serve: one numbered at or below the last seq served
    // means the group's numbering started again — Redis lost the group's data (a restart without
    // persistence, an eviction under maxmemory: the meta hash and its seq went too). Its events go on, after
    // a notice that says so, numbered after the last one served; dropped as duplicates, they were lost
    // without a word.
    if (seq + this.shift <= this.mirror.seq) {
      const notice = this.mirror.notice('serve', {
        message: `the group's stream in Redis started again at its seq ${seq} (served from seq ${this.mirror.seq + 2}): Redis lost the group's data, by a restart without persistence or an eviction`,
        code: 'SOURCE_RESET',
        severity: 'error',
        impact: "Events the group's shards wrote before it may be missing",
        recovery: 'Give Redis persistence (appendonly) or a noeviction policy for the group keys',
      });
      this.shift = notice + 1 - seq;
      this.logger.warn(
        `testwire serve: the group's stream in Redis started again at seq ${seq}: Redis lost its data (a restart without persistence, or an eviction); events written before it may be missing`,
      );
    }
    const served = seq + this.shift;
    let event: PublishedEvent;
    try {
      event = JSON.parse(json) as PublishedEvent;
    } catch {
      this.mirror.append(served, { type: 'not json' } as unknown as PublishedEvent);
      return;
    }
    // An event that failed validation stands as a notice at its seq: it is no shard's event.
    if (this.mirror.append(served, event) !== 'appended') return;
    this.view.apply(served, event, at);
    if (event.runId === this.view.runId && event.type === 'test.completed')
      this.finish({ success: (event.data as { summary?: { success?: boolean } }).summary?.success === true });
  }

  /** Writes the group's events the stream lacks (each kind once per read position, across every serve). */
  private async derive(): Promise<void> {
    const batch = this.mirror.seq;
    for (const write of this.view.derive(this.now())) {
      try {
        await this.append({
          keys: this.keys,
          maxLen: 100_000,
          ttlSeconds: GROUP_TTL_SECONDS,
          epoch: 'unused',
          // One writer per once-key: two shards lost in one read are two writes of the same batch.
          writer: `derive:${write.once ?? write.kind}`,
          batch,
          ...(write.once ? { once: write.once } : {}),
          events: [JSON.stringify(write.event)],
        });
        this.view.wrote(write);
      } catch (error) {
        this.logger.warn(`testwire serve: cannot write the group's ${write.kind} event: ${errorText(error)}`);
        return;
      }
    }
  }
}
