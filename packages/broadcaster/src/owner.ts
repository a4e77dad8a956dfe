/**
 * The owner: binds the port, takes events in, keeps its peers alive, and shuts down, bounded. What it
 * serves is elsewhere, one job a file:
 *
 *   http-routes.ts     which request goes where          introspection.ts   /status, /health
 *   ws-connection.ts   /ws subscribers                   sse-connection.ts  /events subscribers
 *   join/ingress.ts    /ws?role=publisher (other processes publishing here)
 *   hub.ts             history, run state, fan-out       (every event goes through hub.ingest)
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type PublishedEvent, type RunSnapshot, validatePublishedEvent } from '@testwire/protocol';
import { admit, type SerializedEvent } from './admit.js';
import { Authenticator } from './auth.js';
import { FLUSH_BUDGET_MS } from './budget.js';
import { Drops } from './drops.js';
import { createHttpServer } from './http-routes.js';
import { endpointUrls, rejectUpgrade } from './http-util.js';
import { Hub } from './hub.js';
import { type HealthComponent, Introspection } from './introspection.js';
import { PublisherIngress } from './join/ingress.js';
import { AddressLimits } from './limits.js';
import type { ResolvedOptions } from './options.js';
import { Shutdown } from './shutdown.js';
import { SseEndpoint } from './sse-connection.js';
import { settledBy } from './timers.js';
import type { Broadcaster, FlushResult } from './types.js';
import { WsEndpoint } from './ws-connection.js';

/** Local publishes waiting for the next ingest tick; beyond this they are dropped and counted. */
const MAX_PENDING = 100_000;

export interface OwnerInternals {
  /** Runs to hold before the first subscriber connects (a publisher taking over the port). */
  seedRuns?: RunSnapshot[];
  /**
   * A mirror (mirror.ts): the epoch and seqs come from elsewhere, so no other process may publish here (its
   * events would take seqs the source gives); `status` adds fields to `/status`.
   */
  mirror?: { epoch: string; status?: () => Record<string, unknown>; health?: () => HealthComponent[] };
}

export class Owner implements Broadcaster {
  readonly role = 'owner' as const;
  readonly hub: Hub;
  readonly server: Server;
  private readonly ws: WsEndpoint;
  private readonly sse: SseEndpoint;
  private readonly publishers: PublisherIngress;
  /** Local publishes, validated and serialized, waiting for the next ingest slice. */
  private pending: SerializedEvent[] = [];
  /** Adopted events of `pending` not validated yet (see adopt). */
  private readonly unchecked = new Set<SerializedEvent>();
  private ingestScheduled = false;
  private heartbeat?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private boundPort = 0;
  private readonly drops: Drops;
  private readonly shutdown = new Shutdown();
  private readonly mirror: OwnerInternals['mirror'];

  private constructor(
    readonly options: ResolvedOptions,
    internals: OwnerInternals,
  ) {
    this.hub = new Hub({
      historyMaxEvents: options.historyMaxEvents,
      historyMaxBytes: options.historyMaxBytes,
      subscriberTotalMaxBytes: options.subscriberTotalMaxBytes,
      ...(internals.mirror ? { epoch: internals.mirror.epoch } : {}),
      maxTestsPerRun: options.maxTestsPerRun,
    });
    this.mirror = internals.mirror;
    if (internals.seedRuns?.length) this.hub.mergeRuns(internals.seedRuns);
    this.drops = new Drops(options.logger);
    const limits = new AddressLimits(options);
    const auth = new Authenticator(options, limits);
    this.ws = new WsEndpoint(this.hub, options);
    this.sse = new SseEndpoint(this.hub, options);
    this.publishers = new PublisherIngress(this, options, auth);
    if (internals.mirror) this.publishers.upgrade = refusePublisher;
    this.server = createHttpServer({
      options,
      auth,
      limits,
      introspection: new Introspection(this),
      ws: this.ws,
      sse: this.sse,
      publishers: this.publishers,
      url: () => this.url,
      closing: () => this.closed,
    });
  }

  /** Binds `options.host:options.port`. Rejects with the listen error (EADDRINUSE, EACCES…). */
  static async start(options: ResolvedOptions, internals: OwnerInternals = {}): Promise<Owner> {
    const owner = new Owner(options, internals);
    await new Promise<void>((resolvePromise, reject) => {
      const onError = (error: Error): void => reject(error);
      owner.server.once('error', onError);
      owner.server.listen({ host: options.host, port: options.port }, () => {
        owner.server.off('error', onError);
        resolvePromise();
      });
    });
    owner.server.on('error', (error) => options.logger.warn(`testwire: server error: ${error.message}`));
    const address = owner.server.address();
    owner.boundPort = typeof address === 'object' && address ? address.port : options.port;
    if (!options.keepAlive) owner.server.unref();
    if (!owner.mirror) owner.publishers.advertise(owner.boundPort);
    owner.heartbeat = setInterval(() => owner.beat(), options.heartbeatMs);
    owner.heartbeat.unref();
    owner.keepAliveTimer = setInterval(() => owner.sse.keepAlive(), options.sseKeepAliveMs);
    owner.keepAliveTimer.unref();
    return owner;
  }

  get host(): string {
    return this.options.host;
  }
  get port(): number {
    return this.boundPort;
  }
  get url(): string {
    return endpointUrls(this.options.host, this.boundPort).url;
  }
  get wsUrl(): string {
    return endpointUrls(this.options.host, this.boundPort).wsUrl;
  }
  get epoch(): string {
    return this.hub.epoch;
  }
  get dropped(): number {
    return this.drops.count;
  }
  get closed(): boolean {
    return this.shutdown.started;
  }

  /** What a mirror adds to `/status` (introspection). */
  statusExtra(): Record<string, unknown> {
    return this.mirror?.status?.() ?? {};
  }

  /** What a mirror adds to `/health`'s components (introspection). */
  healthExtra(): HealthComponent[] {
    return this.mirror?.health?.() ?? [];
  }

  /** Open connections by kind (introspection). */
  connections(): { webSocket: number; sse: number; publishers: number } {
    return {
      webSocket: this.ws.connections.size,
      sse: this.sse.streams.size,
      publishers: this.publishers.peers.size,
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Ingest

  /**
   * Validates and serializes the event now (later changes by the caller do not leak in) and queues it for the
   * next ingest slice. Never throws: what cannot be kept is dropped, counted and told once.
   */
  publish(event: PublishedEvent): void {
    this.take(event);
  }

  /**
   * publish(), returning the event as queued (its envelope's `seq` is set once it is ingested), or undefined
   * when it was dropped. A publisher that took the port over follows its events this way (publisher.ts).
   */
  take(event: PublishedEvent): SerializedEvent | undefined {
    const admitted = this.drops.screen(event, this.closed, admit);
    if (!admitted) return undefined;
    if (this.pending.length >= MAX_PENDING) {
      this.drops.add(event);
      this.drops.warnOnce(
        'full',
        `testwire: dropping events: more than ${MAX_PENDING} were published before the broadcaster could take them in; they will be missing from the stream`,
      );
      return undefined;
    }
    this.pending.push(admitted);
    if (!this.ingestScheduled) {
      this.ingestScheduled = true;
      setImmediate(this.ingestPending);
    }
    return admitted;
  }

  /**
   * A joined publisher that took the port over hands its events here (publisher.ts becomeOwner), in order and
   * ahead of anything published after them. `validated` ones (accepted by the previous owner's admit(): the
   * recently acked events it re-publishes) are queued as they are, with their text; the others (made by the
   * publisher's serialize(), never checked) are validated as their ingest slice comes (checked()), not here:
   * a takeover with a backlog of thousands binds at once, and /status answers between the slices.
   */
  adopt(events: readonly SerializedEvent[], validated: boolean): void {
    if (events.length === 0) return;
    for (const event of events) {
      this.pending.push(event);
      if (!validated) this.unchecked.add(event);
    }
    if (!this.ingestScheduled) {
      this.ingestScheduled = true;
      setImmediate(this.ingestPending);
    }
  }

  /**
   * Ingests queued local events in slices of about a quarter of the subscriber bound, yielding to the
   * event loop between slices: a burst published in one tick then reaches sockets as it is ingested
   * instead of piling up in every subscriber's queue (which would lag healthy subscribers).
   */
  private ingestPending = (): void => {
    this.ingestScheduled = false;
    if (this.pending.length === 0) return;
    let budget = this.sliceBytes;
    let count = 0;
    while (count < this.pending.length && budget > 0)
      budget -= (this.pending[count++] as SerializedEvent).json.length + 32; // + seq and frame header
    const batch = count >= this.pending.length ? this.pending : this.pending.slice(0, count);
    this.pending = count >= this.pending.length ? [] : this.pending.slice(count);
    this.hub.ingest(this.checked(batch));
    if (this.pending.length > 0 && !this.ingestScheduled) {
      this.ingestScheduled = true;
      setImmediate(this.ingestPending);
    }
  };

  /** `batch` without the adopted events that fail validation (dropped, counted and told once). */
  private checked(batch: SerializedEvent[]): SerializedEvent[] {
    if (this.unchecked.size === 0) return batch;
    return batch.filter((event) => {
      if (!this.unchecked.delete(event)) return true;
      const result = validatePublishedEvent(event.envelope);
      if (result.ok) return true;
      this.drops.add(event.envelope);
      this.drops.warnOnce('invalid', `testwire: dropped an event that cannot be sent (${result.error})`);
      return false;
    });
  }

  private get sliceBytes(): number {
    return Math.max(16 * 1024, Math.min(256 * 1024, this.options.subscriberMaxBytes / 4));
  }

  /** Ingests every queued local event now: before a publisher's batch (the order they came in), or at close. */
  ingestQueued(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.hub.ingest(this.checked(batch));
  }

  /**
   * Resolves once every event published so far is in the history (ingest slices run meanwhile; at the
   * deadline the rest is ingested at once), so it is always delivered.
   */
  async flush(timeoutMs = FLUSH_BUDGET_MS): Promise<FlushResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0) {
      if (Date.now() > deadline) {
        this.ingestQueued();
        break;
      }
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending.length > 0 && !this.ingestScheduled) this.ingestPending();
    }
    return { delivered: true, pending: {}, dropped: this.drops.counts() };
  }

  // ---------------------------------------------------------------------------------------------------
  // Heartbeat

  /**
   * Pings every WebSocket peer. A subscriber that did not answer the previous ping stopped reading: it is
   * told so (SUBSCRIBER_LAGGING after what it was sent, close 4008; `ws` ends it if it never reads again).
   * A publisher that did not is terminated.
   */
  private beat(): void {
    for (const connection of this.ws.connections) {
      if (!connection.alive) {
        // Told at an earlier beat and still not reading: what it holds is released now.
        if (connection.told) connection.ws.terminate();
        else if (connection.subscriber.mode !== 'closed')
          this.hub.stalled(
            connection.subscriber,
            `Subscriber stopped reading (no answer to a heartbeat ping within ${this.options.heartbeatMs} ms)`,
          );
        connection.told = true;
        continue;
      }
      connection.alive = false;
      try {
        connection.ws.ping();
      } catch {}
    }
    for (const peer of this.publishers.peers) {
      if (!peer.alive) {
        peer.ws.terminate();
        continue;
      }
      peer.alive = false;
      try {
        peer.ws.ping();
      } catch {}
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Shutdown

  /** Calls `listener` once close() has finished (getBroadcaster forgets its instance). Returns the unbind function. */
  onClose(listener: () => void): () => void {
    return this.shutdown.onDone(listener);
  }

  /**
   * Close 1001 to every WebSocket, end SSE streams, wait for pending frames (bounded), then terminate what
   * is left and close the server. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.shutdown.run(() => this.doClose(options.timeoutMs ?? this.options.closeTimeoutMs));
  }

  private async doClose(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.ingestQueued();
    this.hub.flushAll();
    clearInterval(this.heartbeat);
    clearInterval(this.keepAliveTimer);
    const serverClosed = new Promise<void>((r) => this.server.close(() => r()));
    // Whether a subscriber may follow the endpoint to its next owner: publishers wait for one only then.
    const followers = [...this.hub.subscribers].some(
      (subscriber) => subscriber.mode !== 'closed' && subscriber.transport.isOpen(),
    );
    const endpoints = [this.ws.close(), this.publishers.close(followers), this.sse.close()];
    // In-flight HTTP requests (/status…) may finish; idle keep-alive connections go now.
    this.server.closeIdleConnections();
    await settledBy(Promise.allSettled([...endpoints, serverClosed]), deadline);
    this.ws.terminate();
    this.publishers.terminate();
    this.sse.terminate();
    this.server.closeAllConnections();
    await settledBy(serverClosed, deadline);
  }
}

/** A mirror's answer to `/ws?role=publisher`: its events come from its source, never from a publisher. */
async function refusePublisher(_req: unknown, socket: Duplex): Promise<void> {
  rejectUpgrade(socket, 403, {
    error: 'FORBIDDEN',
    message: 'This endpoint mirrors another source (testwire serve --redis); publish to that source instead',
  });
}
