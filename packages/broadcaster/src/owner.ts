/**
 * The owner: binds the port and serves everything on one HTTP server.
 *
 *   GET /ws      WebSocket (subscribers; `?role=publisher` + secret header for joining processes)
 *   GET /events  SSE
 *   GET /status  (alias /ws/status)  epoch, seq, connections, runs
 *   GET /health  system.health data
 *   GET /        dashboard directory, or a page naming the endpoints
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  CloseCodes,
  EventTally,
  isEventType,
  PROTOCOL_VERSION,
  type PublishedEvent,
  type RunSnapshot,
  type SubscribeRequest,
  Subscription,
  SubscriptionError,
  subscribeRequestFromQuery,
  validatePublishedEvent,
} from '@testwire/protocol';
import WebSocket, { WebSocketServer } from 'ws';
import { Authenticator, isLoopbackHost, originAllowed, safeEqual } from './auth.js';
import { findDashboardDir } from './dashboard.js';
import { indexPage, rejectUpgrade, sendJson, serveStatic } from './http-util.js';
import { Hub, type PendingEvent } from './hub.js';
import type { ResolvedOptions } from './options.js';
import { newSecret, PUBLISHER_HEADER, removeSecret, writeSecret } from './secret.js';
import { formatSseComment, parseLastEventId } from './sse.js';
import { openSse } from './sse-connection.js';
import type { Subscriber } from './subscriber.js';
import type { Broadcaster, FlushResult } from './types.js';
import { VERSION } from './version.js';
import { WsConnection } from './ws-connection.js';

/** Local publishes waiting for the next ingest tick; beyond this they are dropped and counted. */
const MAX_PENDING = 100_000;
/** Publisher batches may be far larger than a subscriber's frames. */
const PUBLISHER_MAX_PAYLOAD = 32 * 1024 * 1024;
/** Publishers whose last batch id is remembered (least recently seen forgotten first). */
const MAX_PUBLISHER_RECORDS = 1024;
/** Acks kept per publisher to answer a re-sent batch exactly (a publisher has at most 8 batches in flight). */
const ACKS_KEPT = 32;
/** `publisherId` from the publisher's handshake URL. */
const PUBLISHER_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * What the owner remembers of one publisher across its connections: a publisher that lost its socket between
 * our storing a batch and its reading the ack sends that batch again (same id) on its next connection.
 */
interface PublisherRecord {
  /** Highest batch id processed; ids of one publisher only grow. */
  lastId: number;
  /** The acks of the latest batches, by id, re-sent verbatim for a duplicate. */
  acks: Map<number, string>;
}

export interface OwnerInternals {
  /** Runs to hold before the first subscriber connects (a publisher taking over the port). */
  seedRuns?: RunSnapshot[];
}

/** `host` as it goes in a URL: IPv6 in brackets, wildcard binds replaced by loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

interface PublisherPeer {
  ws: WebSocket;
  alive: boolean;
}

export class Owner implements Broadcaster {
  readonly role = 'owner' as const;
  readonly hub: Hub;
  readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly publisherWss: WebSocketServer;
  private readonly auth: Authenticator;
  private readonly connections = new Set<WsConnection>();
  private readonly publishers = new Set<PublisherPeer>();
  private readonly sse = new Set<{ subscriber: Subscriber; res: ServerResponse }>();
  private readonly secret = newSecret();
  private readonly publisherRecords = new Map<string, PublisherRecord>();
  private pending: PendingEvent[] = [];
  private ingestScheduled = false;
  private heartbeat?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private closing?: Promise<void>;
  private boundPort = 0;
  private droppedCount = 0;
  /** The dropped events by run and type, for flush() (the reporter names what its run lost). */
  private readonly droppedEvents = new EventTally();
  private warnedInvalid = false;
  private warnedFull = false;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = Date.now();
  /** Called once closed (getBroadcaster forgets its singleton). */
  onClose?: () => void;

  private constructor(
    readonly options: ResolvedOptions,
    internals: OwnerInternals,
  ) {
    this.hub = new Hub({
      historyMaxEvents: options.historyMaxEvents,
      historyMaxBytes: options.historyMaxBytes,
    });
    if (internals.seedRuns?.length) this.hub.mergeRuns(internals.seedRuns);
    this.hub.onLagging = (subscriber) => subscriber.transport.endLagging();
    this.auth = new Authenticator(options);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      // ws >= 8.19 (not yet in @types/ws): bound the closing handshake.
      ...({ closeTimeout: 5_000 } as object),
    });
    this.publisherWss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: PUBLISHER_MAX_PAYLOAD,
      perMessageDeflate: false,
      // ws >= 8.19 (not yet in @types/ws): bound the closing handshake.
      ...({ closeTimeout: 5_000 } as object),
    });
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'Internal error' });
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.onUpgrade(req as IncomingMessage, socket, head).catch(() => socket.destroy());
    });
    this.server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    if (!options.keepAlive) this.server.on('connection', (socket: Socket) => socket.unref());
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
    const written = writeSecret(owner.boundPort, owner.secret);
    if (written.error) {
      options.logger.warn(
        `testwire: could not write the publisher secret (${written.error}); other test processes will not be able to join this broadcaster`,
      );
    }
    owner.heartbeat = setInterval(() => owner.beat(), options.heartbeatMs);
    owner.heartbeat.unref();
    owner.keepAliveTimer = setInterval(() => owner.sseKeepAlive(), options.sseKeepAliveMs);
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
    return `http://${urlHost(this.options.host)}:${this.boundPort}`;
  }
  get wsUrl(): string {
    return `ws://${urlHost(this.options.host)}:${this.boundPort}/ws`;
  }
  get epoch(): string {
    return this.hub.epoch;
  }
  get dropped(): number {
    return this.droppedCount + this.hub.dropped;
  }
  get closed(): boolean {
    return this.closing !== undefined;
  }

  // ---------------------------------------------------------------------------------------------------
  // Ingest

  publish(event: PublishedEvent): void {
    try {
      const e = event as Partial<PublishedEvent> | null;
      if (this.closing) {
        this.countDropped(e);
        return;
      }
      if (!e || !isEventType(e.type) || typeof e.runId !== 'string') {
        this.dropInvalid(
          e,
          `expected {type: <event type>, runId: string, data}, got type ${JSON.stringify(e?.type)}`,
        );
        return;
      }
      const data = e.data ?? {};
      const dataJson = JSON.stringify(data);
      if (typeof dataJson !== 'string') {
        this.dropInvalid(e, `${e.type}: data is not JSON-serializable`);
        return;
      }
      if (this.pending.length >= MAX_PENDING) {
        this.countDropped(e);
        if (!this.warnedFull) {
          this.warnedFull = true;
          this.options.logger.warn(
            `testwire: dropping events: more than ${MAX_PENDING} were published before the broadcaster could take them in; they will be missing from the stream`,
          );
        }
        return;
      }
      this.pending.push({
        type: e.type,
        runId: e.runId,
        timestamp: typeof e.timestamp === 'string' ? e.timestamp : new Date().toISOString(),
        data,
        dataJson,
      });
      if (!this.ingestScheduled) {
        this.ingestScheduled = true;
        setImmediate(this.ingestPending);
      }
    } catch (error) {
      this.dropInvalid(event, `${(event as { type?: string })?.type}: ${(error as Error).message}`);
    }
  }

  private countDropped(event: Partial<PublishedEvent> | null | undefined): void {
    this.droppedCount++;
    this.droppedEvents.add(event?.runId, event?.type);
  }

  private dropInvalid(event: Partial<PublishedEvent> | null | undefined, why: string): void {
    this.countDropped(event);
    if (this.warnedInvalid) return;
    this.warnedInvalid = true;
    this.options.logger.warn(
      `testwire: dropped an event that cannot be sent (${why}); further ones are dropped silently`,
    );
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
      budget -= (this.pending[count++] as PendingEvent).dataJson.length + 128;
    if (count === 0) count = 1;
    const batch = count >= this.pending.length ? this.pending : this.pending.slice(0, count);
    this.pending = count >= this.pending.length ? [] : this.pending.slice(count);
    this.hub.ingest(batch);
    if (this.pending.length > 0 && !this.ingestScheduled) {
      this.ingestScheduled = true;
      setImmediate(this.ingestPending);
    }
  };

  private get sliceBytes(): number {
    return Math.max(16 * 1024, Math.min(256 * 1024, this.options.subscriberMaxBytes / 4));
  }

  /** Ingests every queued local event now (order before a publisher batch, close). */
  private ingestAll(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.hub.ingest(batch);
  }

  /** Ingests events from a publisher (already validated). Returns the seq of the last one. */
  ingestRemote(events: PublishedEvent[]): number {
    // Keep local order relative to what was published before this batch arrived.
    this.ingestAll();
    const pending: PendingEvent[] = [];
    for (const event of events) {
      const dataJson = JSON.stringify(event.data);
      pending.push({
        type: event.type,
        runId: event.runId,
        timestamp: event.timestamp ?? new Date().toISOString(),
        data: event.data,
        dataJson,
      });
    }
    return this.hub.ingest(pending);
  }

  /**
   * Resolves once every event published so far is in the history (ingest slices run meanwhile; at the
   * deadline the rest is ingested at once), so it is always delivered.
   */
  async flush(timeoutMs = 3000): Promise<FlushResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0) {
      if (Date.now() > deadline) {
        this.ingestAll();
        break;
      }
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending.length > 0 && !this.ingestScheduled) this.ingestPending();
    }
    return { delivered: true, pending: {}, dropped: this.droppedEvents.toJSON() };
  }

  // ---------------------------------------------------------------------------------------------------
  // HTTP

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'BAD_REQUEST', message: 'Malformed request URL' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, this.corsHeaders(req, 'GET, HEAD')).end();
        return;
      }
      sendJson(
        res,
        405,
        { error: 'METHOD_NOT_ALLOWED', message: `${req.method} is not supported; use GET` },
        { allow: 'GET, HEAD' },
      );
      return;
    }
    const path = url.pathname;
    if (path === '/status' || path === '/ws/status') {
      if (!(await this.authorizeHttp(req, res, url.searchParams))) return;
      sendJson(res, 200, this.status(), this.corsHeaders(req));
      return;
    }
    if (path === '/health') {
      sendJson(res, 200, this.health(), this.corsHeaders(req));
      return;
    }
    if (path === '/events') {
      await this.onSse(req, res, url);
      return;
    }
    if (path === '/ws') {
      sendJson(res, 426, {
        error: 'UPGRADE_REQUIRED',
        message: 'Connect with a WebSocket client to /ws (or use SSE at /events)',
      });
      return;
    }
    const dashboardDir =
      this.options.dashboardDir === false
        ? undefined
        : (this.options.dashboardDir ?? (await findDashboardDir()));
    if (dashboardDir && (await serveStatic(dashboardDir, path, req, res))) return;
    if (path === '/' || path === '/index.html') {
      const html = indexPage(this.url);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'x-testwire': VERSION,
      });
      res.end(req.method === 'HEAD' ? undefined : html);
      return;
    }
    sendJson(res, 404, {
      error: 'NOT_FOUND',
      message: `No route for ${path}; endpoints: /ws (WebSocket), /events (SSE), /status, /health, /`,
    });
  }

  private corsHeaders(req: IncomingMessage, methods?: string): Record<string, string> {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !originAllowed(req, this.options.allowedOrigins, this.boundToLoopback))
      return {};
    return {
      'access-control-allow-origin': origin,
      vary: 'Origin',
      ...(methods
        ? {
            'access-control-allow-methods': methods,
            'access-control-allow-headers': 'authorization, last-event-id',
          }
        : {}),
    };
  }

  private get boundToLoopback(): boolean {
    return isLoopbackHost(this.options.host);
  }

  private async authorizeHttp(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<boolean> {
    const result = await this.auth.check(req, query);
    if (result.ok) return true;
    sendJson(
      res,
      result.status,
      { server: 'testwire', error: result.code, message: result.message },
      this.corsHeaders(req),
    );
    return false;
  }

  private async onSse(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!originAllowed(req, this.options.allowedOrigins, this.boundToLoopback)) {
      sendJson(res, 403, {
        error: 'FORBIDDEN_ORIGIN',
        message: 'Origin not allowed: add it to allowedOrigins',
      });
      return;
    }
    if (!(await this.authorizeHttp(req, res, url.searchParams))) return;
    if (this.closing) {
      sendJson(res, 503, { error: 'SHUTTING_DOWN', message: 'The broadcaster is shutting down' });
      return;
    }
    let subscription: SubscribeRequest;
    try {
      subscription = subscribeRequestFromQuery(url.searchParams) ?? { events: ['*'] };
      // Validate now so a bad query is a 400, not a broken stream.
      new Subscription().subscribe(subscription);
    } catch (error) {
      const message = error instanceof SubscriptionError ? error.message : (error as Error).message;
      sendJson(res, 400, { error: 'INVALID_SUBSCRIPTION', message });
      return;
    }
    const header = req.headers['last-event-id'];
    const lastEventId =
      url.searchParams.get('lastEventId') ?? (typeof header === 'string' ? header : undefined);
    const resume = lastEventId !== undefined ? parseLastEventId(lastEventId) : undefined;
    if (lastEventId !== undefined && lastEventId !== '' && !resume) {
      sendJson(res, 400, {
        error: 'INVALID_LAST_EVENT_ID',
        message: 'Last-Event-ID must be "<epoch>:<seq>" as sent in the id: field',
      });
      return;
    }
    const origin = req.headers.origin;
    const subscriber = openSse(req, res, this.hub, subscription, resume, {
      maxBytes: this.options.subscriberMaxBytes,
      corsOrigin: typeof origin === 'string' ? origin : undefined,
    });
    const entry = { subscriber, res };
    this.sse.add(entry);
    res.on('close', () => this.sse.delete(entry));
  }

  private sseKeepAlive(): void {
    const comment = formatSseComment('keep-alive');
    for (const { subscriber } of this.sse) {
      subscriber.flush();
      subscriber.transport.write([Buffer.from(comment)]);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // WebSocket

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.closing) {
      rejectUpgrade(socket, 503, { error: 'SHUTTING_DOWN', message: 'The broadcaster is shutting down' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      rejectUpgrade(socket, 400, { error: 'BAD_REQUEST', message: 'Malformed request URL' });
      return;
    }
    if (url.pathname !== '/ws') {
      rejectUpgrade(socket, 404, {
        error: 'NOT_FOUND',
        message: `WebSocket endpoint is /ws, not ${url.pathname}`,
      });
      return;
    }
    const query = url.searchParams;
    if (query.get('role') === 'publisher') {
      await this.upgradePublisher(req, socket, head, query);
      return;
    }
    if (!originAllowed(req, this.options.allowedOrigins, this.boundToLoopback)) {
      rejectUpgrade(socket, 403, {
        error: 'FORBIDDEN_ORIGIN',
        message: 'Origin not allowed: add it to allowedOrigins',
      });
      return;
    }
    const auth = await this.auth.check(req, query);
    if (!auth.ok) {
      rejectUpgrade(socket, auth.status, { error: auth.code, message: auth.message });
      return;
    }
    let subscription: SubscribeRequest | undefined;
    try {
      subscription = subscribeRequestFromQuery(query);
      if (subscription) new Subscription().subscribe(subscription);
    } catch (error) {
      rejectUpgrade(socket, 400, { error: 'INVALID_SUBSCRIPTION', message: (error as Error).message });
      return;
    }
    // A resume in the URL is applied together with the URL's subscription, before any live event:
    // `lastEventId=<epoch>:<seq>` (as SSE), or `epoch=…&since=…`; a bare seq / `since` alone = this epoch.
    let resume: { epoch?: string; since: number } | undefined;
    const lastEventId = query.get('lastEventId');
    const since = query.get('since');
    if (lastEventId !== null && lastEventId !== '') {
      resume = parseLastEventId(lastEventId);
      if (!resume) {
        rejectUpgrade(socket, 400, {
          error: 'INVALID_LAST_EVENT_ID',
          message: 'lastEventId must be "<epoch>:<seq>" (the epoch and last seq received), or a bare seq',
        });
        return;
      }
    } else if (since !== null) {
      const n = since.trim() === '' ? Number.NaN : Number(since);
      if (!Number.isInteger(n) || n < 0) {
        rejectUpgrade(socket, 400, {
          error: 'INVALID_MESSAGE',
          message: 'since: expected the last seq received (integer >= 0)',
        });
        return;
      }
      resume = { epoch: query.get('epoch') ?? undefined, since: n };
    }
    if (socket.destroyed || this.closing) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new WsConnection(
        ws,
        socket as Socket,
        this.hub,
        {
          maxBytes: this.options.subscriberMaxBytes,
          rateLimitPerSecond: this.options.rateLimitPerSecond,
          rateLimitBurst: this.options.rateLimitBurst,
          heartbeatMs: this.options.heartbeatMs,
        },
        { subscription, resume },
      );
      this.connections.add(connection);
      ws.on('close', () => this.connections.delete(connection));
    });
  }

  private async upgradePublisher(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    query: URLSearchParams,
  ): Promise<void> {
    if (req.headers.origin !== undefined) {
      rejectUpgrade(socket, 403, {
        error: 'FORBIDDEN_ORIGIN',
        message: 'Publisher connections are not accepted from browsers',
      });
      return;
    }
    const presented = req.headers[PUBLISHER_HEADER];
    let ok = typeof presented === 'string' && safeEqual(presented, this.secret);
    if (!ok && this.auth.enabled) ok = (await this.auth.check(req, query)).ok;
    if (!ok) {
      rejectUpgrade(socket, 401, {
        error: 'UNAUTHORIZED',
        message: `Publisher connections need the ${PUBLISHER_HEADER} secret of this broadcaster (same OS user) or valid credentials`,
      });
      return;
    }
    if (socket.destroyed || this.closing) return;
    const publisherId = query.get('publisherId');
    this.publisherWss.handleUpgrade(req, socket, head, (ws) =>
      this.onPublisher(ws, publisherId !== null && PUBLISHER_ID.test(publisherId) ? publisherId : undefined),
    );
  }

  /** The record of a publisher id, most recently used last (the Map's order is the LRU order). */
  private publisherRecord(publisherId: string): PublisherRecord {
    let record = this.publisherRecords.get(publisherId);
    if (record) this.publisherRecords.delete(publisherId);
    else record = { lastId: 0, acks: new Map() };
    this.publisherRecords.set(publisherId, record);
    if (this.publisherRecords.size > MAX_PUBLISHER_RECORDS) {
      const oldest = this.publisherRecords.keys().next().value as string;
      this.publisherRecords.delete(oldest);
    }
    return record;
  }

  /**
   * `publisherId` (stable for the publisher's lifetime) lets us drop a batch we already stored: without it a
   * batch whose ack was lost with the connection would be ingested twice.
   */
  private onPublisher(ws: WebSocket, publisherId: string | undefined): void {
    const peer: PublisherPeer = { ws, alive: true };
    this.publishers.add(peer);
    const sendText = (text: string): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    };
    const send = (message: object): void => sendText(JSON.stringify(message));
    /** Sends the ack of a processed batch and remembers it for a re-send. */
    const ack = (record: PublisherRecord | undefined, id: number, message: object): void => {
      const text = JSON.stringify(message);
      if (record) {
        record.lastId = id;
        record.acks.set(id, text);
        if (record.acks.size > ACKS_KEPT) record.acks.delete(record.acks.keys().next().value as number);
      }
      sendText(text);
    };
    send({
      type: 'connection.established',
      server: 'testwire',
      protocol: PROTOCOL_VERSION,
      version: VERSION,
      epoch: this.hub.epoch,
      seq: this.hub.seq,
      connectionId: `p_${this.publishers.size}`,
      runs: [],
      heartbeatMs: this.options.heartbeatMs,
    });
    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('error', () => {});
    ws.on('close', () => this.publishers.delete(peer));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(CloseCodes.UNSUPPORTED_DATA, 'Binary frames are not supported');
        return;
      }
      let message: { type?: unknown; id?: unknown; events?: unknown; runs?: unknown };
      try {
        message = JSON.parse((data as Buffer).toString('utf8'));
      } catch {
        send({ type: 'error', code: 'INVALID_JSON', message: 'Publisher message is not valid JSON' });
        return;
      }
      const id = typeof message?.id === 'number' ? message.id : undefined;
      const batch = message?.type === 'publish' || message?.type === 'runs';
      const record = batch && id !== undefined && publisherId ? this.publisherRecord(publisherId) : undefined;
      if (record && id !== undefined && id <= record.lastId) {
        // Already stored (the ack was lost with the previous connection): ack again, ingest nothing.
        sendText(record.acks.get(id) ?? JSON.stringify({ type: 'published', id, seq: this.hub.seq }));
        return;
      }
      if (message?.type === 'publish' && id !== undefined && Array.isArray(message.events)) {
        const accepted: PublishedEvent[] = [];
        const rejected: { index: number; error: string }[] = [];
        message.events.forEach((event, index) => {
          const result = validatePublishedEvent(event);
          if (result.ok) accepted.push(result.value);
          else rejected.push({ index, error: result.error });
        });
        const seq = this.ingestRemote(accepted);
        ack(record, id, { type: 'published', id, seq, ...(rejected.length ? { rejected } : {}) });
      } else if (message?.type === 'runs' && id !== undefined && Array.isArray(message.runs)) {
        // A publisher re-seeding its open runs after the owner changed (see publisher.ts).
        const runs = message.runs.filter(isRunSnapshot);
        this.ingestAll();
        this.hub.mergeRuns(runs);
        ack(record, id, { type: 'published', id, seq: this.hub.seq });
      } else if (message?.type === 'ping') {
        send({ type: 'pong', timestamp: new Date().toISOString() });
      } else {
        send({
          type: 'error',
          code: 'INVALID_MESSAGE',
          message: 'Publishers send {type:"publish", id, events} or {type:"runs", id, runs}',
          ...(id !== undefined ? { id } : {}),
        });
      }
    });
  }

  /** Heartbeat: terminate peers that did not answer the previous ping, ping the rest. */
  private beat(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      try {
        connection.ws.ping();
      } catch {}
    }
    for (const peer of this.publishers) {
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
  // Introspection

  status(): Record<string, unknown> {
    let subscribers = 0;
    for (const s of this.hub.subscribers) if (!s.subscription.empty) subscribers++;
    return {
      server: 'testwire',
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      epoch: this.hub.epoch,
      seq: this.hub.seq,
      uptime: (Date.now() - this.hub.startedAt) / 1000,
      activeConnections: this.connections.size + this.sse.size + this.publishers.size,
      subscribers,
      publishers: this.publishers.size,
      runs: this.hub.runBriefs(),
      history: {
        events: this.hub.history.size,
        bytes: this.hub.history.byteSize,
        oldestSeq: this.hub.history.oldestSeq,
      },
      dropped: this.dropped,
      lagged: this.hub.lagged,
      pid: process.pid,
      url: this.url,
    };
  }

  /** `system.health` data (reference shape). */
  health(): Record<string, unknown> {
    const now = new Date().toISOString();
    const total = totalmem() / 1024 / 1024;
    const used = total - freemem() / 1024 / 1024;
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsed = Math.max(1, Date.now() - this.lastCpuAt);
    const cores = Math.max(1, cpus().length);
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = Date.now();
    const usage = Math.min(100, ((cpu.user + cpu.system) / 1000 / elapsed / cores) * 100);
    const historyFull = this.hub.history.byteSize > this.options.historyMaxBytes * 0.9;
    return {
      status: this.closing ? 'unhealthy' : 'healthy',
      uptime: (Date.now() - this.hub.startedAt) / 1000,
      version: VERSION,
      components: [
        {
          name: 'http',
          status: this.closing ? 'unhealthy' : 'healthy',
          message: `listening on ${this.url}`,
          lastCheck: now,
        },
        {
          name: 'history',
          status: 'healthy',
          message: `${this.hub.history.size} events, oldest seq ${this.hub.history.oldestSeq}${historyFull ? ' (full: oldest events are being evicted)' : ''}`,
          lastCheck: now,
        },
        {
          name: 'subscribers',
          status: 'healthy',
          message: `${this.connections.size} WebSocket, ${this.sse.size} SSE, ${this.publishers.size} publishers; ${this.hub.lagged} disconnected for lagging`,
          lastCheck: now,
        },
      ],
      metrics: {
        memory: { total: round(total), used: round(used), percentage: round((used / total) * 100) },
        cpu: { cores, usage: round(usage), load: loadavg().map(round) },
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Close 1001 to every WebSocket, end SSE streams, wait for pending frames (bounded), then terminate what
   * is left and close the server. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? this.options.closeTimeoutMs);
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.ingestAll();
    this.hub.flushAll();
    clearInterval(this.heartbeat);
    clearInterval(this.keepAliveTimer);
    removeSecret(this.boundPort, this.secret);
    const serverClosed = new Promise<void>((r) => this.server.close(() => r()));
    const sockets: Promise<void>[] = [];
    for (const connection of this.connections) {
      connection.subscriber.flush();
      sockets.push(closedPromise(connection.ws));
      try {
        connection.ws.close(CloseCodes.GOING_AWAY, 'Broadcaster shutting down');
      } catch {
        connection.ws.terminate();
      }
    }
    for (const peer of this.publishers) {
      sockets.push(closedPromise(peer.ws));
      peer.ws.close(CloseCodes.GOING_AWAY, 'Broadcaster shutting down');
    }
    for (const { subscriber, res } of this.sse) {
      subscriber.flush();
      this.hub.remove(subscriber);
      sockets.push(
        new Promise<void>((r) =>
          res.writableFinished || res.destroyed ? r() : res.once('close', () => r()),
        ),
      );
      res.end();
    }
    // A ref'd timer on purpose: close() must settle for the caller to go on, and it is bounded.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
    });
    // In-flight HTTP requests (/status…) may finish; idle keep-alive connections go now.
    this.server.closeIdleConnections();
    await Promise.race([Promise.allSettled([...sockets, serverClosed]), timedOut]);
    for (const connection of this.connections) connection.ws.terminate();
    for (const peer of this.publishers) peer.ws.terminate();
    for (const { res } of this.sse) res.destroy();
    this.server.closeAllConnections();
    await Promise.race([serverClosed, timedOut]);
    clearTimeout(timer);
    this.wss.close();
    this.publisherWss.close();
    this.onClose?.();
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

function closedPromise(ws: WebSocket): Promise<void> {
  return new Promise((r) => {
    if (ws.readyState === WebSocket.CLOSED) r();
    else ws.once('close', () => r());
  });
}

function isRunSnapshot(value: unknown): value is RunSnapshot {
  const run = value as RunSnapshot | null;
  return (
    typeof run === 'object' &&
    run !== null &&
    typeof run.runId === 'string' &&
    run.runId !== '' &&
    Array.isArray(run.tests) &&
    typeof run.counts === 'object' &&
    run.counts !== null &&
    Array.isArray(run.errors)
  );
}
