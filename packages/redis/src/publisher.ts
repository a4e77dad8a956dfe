/**
 * A shard's side: its reporter's events, appended to the group's Redis stream. It has the members of a
 * broadcaster that a reporter uses (publish, flush, close), so reporter-core delivers to it as to one.
 *
 *   publish(event) ─> JSON, into a bounded buffer (full: a sample or output line makes room, else drop+count)
 *     └─> one batch in flight at a time ─> append script (numbered, de-duplicated, trimmed) ─> stream
 *          ├─ error: one warning, retry with backoff (unref'd timers); the batch keeps its number, so a batch
 *          │  whose reply was lost is stored once
 *          └─ an error waiting will not cure (a host name that does not resolve, refused credentials, a refused
 *             TLS certificate): one warning naming it, and the publisher gives up — what it holds, and every
 *             later event, is dropped and counted, so the final flush returns at once and says why
 *
 * Redis slow or away never fails the run nor holds it: the buffer is bounded, the final flush is bounded by
 * its caller's budget, and nothing here keeps the process alive.
 */
import { randomBytes } from 'node:crypto';
import type { Broadcaster, FlushResult } from '@testwire/broadcaster';
import { type EventCounts, EventTally, type PublishedEvent } from '@testwire/protocol';
import type { Redis } from 'ioredis';
import { withAppend } from './append-script.js';
import {
  connectRedis,
  errorText,
  permanentFailure,
  redactUrl,
  UNRESOLVED_HOST_FIX,
  unresolvedHost,
} from './connection.js';
import { groupKeys } from './group.js';

export interface ShardPublisherOptions {
  /** `redis://…`, `rediss://…`, `unix:///…` (credentials and TLS as ioredis reads them from the URL). */
  url: string;
  /** The CI run group (see ciGroup). */
  group: string;
  /** Stream bound, `MAXLEN ~` (default 100 000 entries). */
  maxLen?: number;
  /** The group's keys expire this long after the last write (default 86 400 s). */
  ttlSeconds?: number;
  /** Events held while Redis is slow or away (default 20 000); beyond it they are dropped and counted. */
  maxBufferedEvents?: number;
  /** Events per append (default 512). */
  maxBatch?: number;
  /** A command (or connect) that takes longer fails and is retried (default 3000 ms). */
  commandTimeoutMs?: number;
  /**
   * How long a host name that does not resolve is tried again before the publisher gives up on Redis (default
   * 15 000 ms): a CI service's name can appear a few seconds after the job starts, or vanish in a DNS blip.
   */
  unresolvedHostGraceMs?: number;
  logger?: { warn(message: string): void };
  /** Key prefix (default `testwire`). */
  prefix?: string;
}

/**
 * A flush's result: `dropReason` when this publisher gave up on Redis (an error waiting will not cure),
 * `pendingReason` (Redis' last error) when events are still pending at the bound.
 */
export type ShardFlushResult = FlushResult;

interface Buffered {
  json: string;
  runId: string;
  type: string;
}

/** Samples and output: when the buffer is full, these make room for a result first. */
const YIELDS = new Set(['test.progress', 'performance.metrics', 'test.output']);

export class ShardPublisher implements Pick<Broadcaster, 'url' | 'publish' | 'flush' | 'close'> {
  readonly role = 'publisher' as const;
  /** Where events go, without credentials (`redis://host:port#group`). */
  readonly url: string;
  private readonly keys: { stream: string; meta: string };
  private readonly writer = `w:${randomBytes(8).toString('base64url')}`;
  private readonly epoch = randomBytes(6).toString('base64url');
  private readonly maxLen: number;
  private readonly ttlSeconds: number;
  private readonly maxBuffered: number;
  private readonly maxBatch: number;
  private readonly commandTimeoutMs: number;
  private readonly unresolvedGraceMs: number;
  private readonly logger: { warn(message: string): void };
  private redis?: Redis;
  private append?: ReturnType<typeof withAppend>;
  private buffer: Buffered[] = [];
  /** The batch being sent: it keeps its number and contents until Redis stored it. */
  private inflight?: { no: number; events: Buffered[] };
  private nextBatch = 0;
  private sending = false;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  /** When the failures in a row began (Date.now()), while they last. */
  private failingSince = 0;
  private warned = false;
  /** The connection's last error, until a failed append reports it. */
  private connectionError: unknown;
  /** The last failed append's cause, until one succeeds. */
  private lastError: unknown;
  /** Set when this publisher gave up on Redis: why (see giveUp). */
  private gaveUp?: string;
  private closed = false;
  private readonly droppedEvents = new EventTally();
  private waiters: (() => void)[] = [];
  /** Events dropped (buffer full, or published after close). */
  dropped = 0;
  /** Events Redis stored. */
  delivered = 0;

  constructor(private readonly options: ShardPublisherOptions) {
    this.url = `${redactUrl(options.url)}#${options.group}`;
    this.keys = groupKeys(options.group, options.prefix);
    this.maxLen = options.maxLen ?? 100_000;
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    this.maxBuffered = options.maxBufferedEvents ?? 20_000;
    this.maxBatch = options.maxBatch ?? 512;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 3000;
    this.unresolvedGraceMs = options.unresolvedHostGraceMs ?? 15_000;
    this.logger = options.logger ?? { warn: (message) => process.stderr.write(`${message}\n`) };
  }

  /** Queues the event (never throws, never blocks). */
  publish(event: PublishedEvent): void {
    if (this.closed || this.gaveUp) {
      this.drop(event.runId, event.type);
      return;
    }
    let json: string;
    try {
      json = JSON.stringify({
        type: event.type,
        timestamp: event.timestamp ?? new Date().toISOString(),
        runId: event.runId,
        data: event.data ?? {},
      });
    } catch {
      this.drop(event.runId, event.type);
      return;
    }
    if (this.buffer.length >= this.maxBuffered && !this.makeRoom(event.type)) {
      this.drop(event.runId, event.type);
      return;
    }
    this.buffer.push({ json, runId: event.runId, type: event.type });
    if (!this.sending && !this.retryTimer) {
      this.sending = true;
      queueMicrotask(() => void this.pump());
    }
  }

  private makeRoom(type: string): boolean {
    if (YIELDS.has(type)) return false;
    const index = this.buffer.findIndex((e) => YIELDS.has(e.type));
    if (index < 0) return false;
    const [removed] = this.buffer.splice(index, 1);
    if (removed) this.drop(removed.runId, removed.type);
    return true;
  }

  private drop(runId: string, type: string): void {
    this.dropped++;
    this.droppedEvents.add(runId, type);
  }

  /** Events not yet stored by Redis. */
  get pending(): number {
    return this.buffer.length + (this.inflight?.events.length ?? 0);
  }

  private client(): { redis: Redis; append: ReturnType<typeof withAppend> } {
    if (!this.redis || !this.append) {
      const redis = connectRedis(this.options.url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        // Reconnecting is ours (unref'd timers); ioredis' own timers would keep the process alive.
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        commandTimeout: this.commandTimeoutMs,
        connectTimeout: this.commandTimeoutMs,
        enableReadyCheck: false,
      });
      // Every failure surfaces as a rejected command, handled in pump(); the connection's own error says more
      // (WRONGPASS, NOAUTH) than the command's ("Connection is closed").
      redis.on('error', (error) => {
        this.connectionError = error;
      });
      redis.on('connect', () => (redis as unknown as { stream?: { unref?(): void } }).stream?.unref?.());
      this.redis = redis;
      this.append = withAppend(redis);
    }
    return { redis: this.redis, append: this.append };
  }

  /** Sends batches while there are any; one in flight at a time (the stream keeps each writer's order). */
  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (this.inflight || this.buffer.length > 0) {
        if (!this.inflight) {
          const events = this.buffer.splice(0, this.maxBatch);
          this.inflight = { no: this.nextBatch++, events };
        }
        const { redis, append } = this.client();
        if (redis.status === 'wait' || redis.status === 'end' || redis.status === 'close')
          await redis.connect();
        const batch = this.inflight;
        await append({
          keys: this.keys,
          maxLen: this.maxLen,
          ttlSeconds: this.ttlSeconds,
          epoch: this.epoch,
          writer: this.writer,
          batch: batch.no,
          events: batch.events.map((e) => e.json),
        });
        this.delivered += batch.events.length;
        this.inflight = undefined;
        this.lastError = undefined;
        if (this.failures > 0 && this.warned)
          this.logger.warn(`testwire: Redis ${this.url} answers again; buffered events are being sent`);
        this.failures = 0;
        this.failingSince = 0;
      }
      this.sending = false;
      this.wake();
    } catch (error) {
      this.sending = false;
      if (this.failures++ === 0) this.failingSince = Date.now();
      const cause = this.connectionError ?? error;
      this.connectionError = undefined;
      this.lastError = cause;
      const unresolved = unresolvedHost(cause);
      const fix =
        permanentFailure(cause) ??
        (unresolved && Date.now() - this.failingSince >= this.unresolvedGraceMs
          ? UNRESOLVED_HOST_FIX
          : undefined);
      if (fix) {
        this.giveUp(cause, fix);
        return;
      }
      if (!this.warned) {
        this.warned = true;
        const hint = unresolved
          ? ` (${UNRESOLVED_HOST_FIX}); it is tried for ${this.unresolvedGraceMs} ms, in case the name is about to exist, and`
          : ';';
        this.logger.warn(
          `testwire: cannot append to Redis ${this.url} (${errorText(cause)})${hint} events are held (up to ${this.maxBuffered}) and sent when it answers; the test run is not affected`,
        );
      }
      // A connection that failed is dropped; the next try opens a new one.
      this.redis?.disconnect();
      this.redis = undefined;
      this.append = undefined;
      if (this.closed) {
        this.wake();
        return;
      }
      const delay = Math.min(2000, 100 * 2 ** Math.min(this.failures, 5));
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.pump();
      }, delay);
      this.retryTimer.unref();
    }
  }

  /**
   * Redis failed in a way waiting will not cure: one warning naming the cause and its fix; what is held, and
   * every later event, is dropped and counted (the run's loss line says so), so no flush waits for Redis.
   */
  private giveUp(cause: unknown, fix: string): void {
    const held = [...(this.inflight?.events ?? []), ...this.buffer];
    this.inflight = undefined;
    this.buffer = [];
    for (const e of held) this.drop(e.runId, e.type);
    this.gaveUp = `Redis ${this.url} cannot take this shard's events (${errorText(cause)}): ${fix}`;
    this.logger.warn(
      `testwire: cannot append to Redis ${this.url} (${errorText(cause)}): ${fix}. Waiting will not change that: this process sends it nothing more, and drops its events (${held.length} so far); the test run is not affected`,
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.redis?.disconnect();
    this.redis = undefined;
    this.append = undefined;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Resolves once every event published so far is in Redis, or at `timeoutMs`, saying what is still pending.
   * Never rejects. At the bound, the connection is dropped (nothing of it may hold the process); what is
   * pending stays buffered and is sent on the next publish.
   */
  async flush(timeoutMs = 10_000): Promise<ShardFlushResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, Math.min(deadline - Date.now(), 250)));
        timer.unref();
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Given up: nothing is pending, and what was published is not in Redis either.
    const delivered = this.pending === 0 && !this.gaveUp;
    if (this.pending > 0) {
      this.redis?.disconnect();
      this.redis = undefined;
      this.append = undefined;
    }
    return {
      delivered,
      pending: this.pendingCounts(),
      dropped: this.droppedEvents.toJSON(),
      ...(this.gaveUp ? { dropReason: this.gaveUp } : {}),
      ...(this.pending > 0 && this.lastError !== undefined
        ? { pendingReason: `Redis ${this.url} did not take them: ${errorText(this.lastError)}` }
        : {}),
    };
  }

  private pendingCounts(): EventCounts {
    const tally = new EventTally();
    for (const e of this.inflight?.events ?? []) tally.add(e.runId, e.type);
    for (const e of this.buffer) tally.add(e.runId, e.type);
    return tally.toJSON();
  }

  /** Flushes (bounded) and closes the connection. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.flush(options.timeoutMs ?? 3000);
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const redis = this.redis;
    this.redis = undefined;
    if (redis) await redis.quit().catch(() => redis.disconnect());
  }
}
