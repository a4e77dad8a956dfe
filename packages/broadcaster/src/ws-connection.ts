/**
 * The subscribers' WebSocket endpoint: `/ws` upgrades (the query's subscription and resume), then one
 * connection per subscriber: protocol messages in, events and replies out, abuse limits.
 *
 *   upgrade /ws?events=…&lastEventId=…  ─ 400 for a bad query ─> WsConnection (subscription + resume, one step)
 *   text frame ─> rate limit ─> parseClientMessage ─> subscribe [+ resume] | unsubscribe | resume | snapshot | ping
 *        │             │                │
 *        │             └─ RATE_LIMITED  └─ error {code, message, id?}     (connection stays usable)
 *        └─ binary ─> close 1003;  > maxPayload ─> close 1009 (ws);  > 20 errors in 10 s ─> close 1008
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type ClientMessage,
  CloseCodes,
  type ErrorCode,
  type MessageId,
  PROTOCOL_VERSION,
  type PublishMessage,
  parseClientMessage,
  type SubscribeRequest,
  Subscription,
  SubscriptionError,
  subscribeRequestFromQuery,
} from '@testwire/protocol';
import type WebSocket from 'ws';
import type { HistoryEntry } from './history.js';
import { closed, LazyWebSocketServer, rejectUpgrade } from './http-util.js';
import type { Hub } from './hub.js';
import type { ResolvedOptions } from './options.js';
import { AbuseCounter, TokenBucket } from './rate-limit.js';
import type { StreamPart } from './snapshots.js';
import { parseLastEventId, type ResumeFrom } from './sse.js';
import { Subscriber, type Transport } from './subscriber.js';
import { VERSION } from './version.js';
import { encodeFrame, encodeTextFrame, TEXT_FIRST, textFrameOf } from './ws-frame.js';
import { WS_OPEN } from './ws-module.js';

type ConnectionOptions = Pick<
  ResolvedOptions,
  'subscriberMaxBytes' | 'rateLimitPerSecond' | 'rateLimitBurst' | 'heartbeatMs'
>;

/** Upgrades `/ws` requests that passed the origin and credential checks into subscriber connections. */
export class WsEndpoint {
  readonly connections = new Set<WsConnection>();
  private readonly wss: LazyWebSocketServer;
  private closing = false;

  constructor(
    private readonly hub: Hub,
    private readonly options: ResolvedOptions,
  ) {
    this.wss = new LazyWebSocketServer(options.maxPayload);
  }

  /**
   * Reads the query's subscription and resume and upgrades; a bad query is answered 400 and never upgraded.
   * A resume in the URL is applied together with the URL's subscription, before any live event:
   * `lastEventId=<epoch>:<seq>` (as SSE), or `epoch=…&since=…`; a bare seq / `since` alone = this epoch.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): void {
    let subscription: SubscribeRequest | undefined;
    try {
      subscription = subscribeRequestFromQuery(query);
      if (subscription) new Subscription().subscribe(subscription);
    } catch (error) {
      rejectUpgrade(socket, 400, { error: 'INVALID_SUBSCRIPTION', message: (error as Error).message });
      return;
    }
    let resume: ResumeFrom | undefined;
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
    this.wss.get().handleUpgrade(req, socket, head, (ws) => {
      const connection = new WsConnection(ws, socket as Socket, this.hub, this.options, {
        subscription,
        resume,
      });
      this.connections.add(connection);
      ws.on('close', () => this.connections.delete(connection));
    });
  }

  /** Sends close 1001 to every connection after its queued frames; resolves once all have closed. */
  async close(): Promise<void> {
    this.closing = true;
    const all: Promise<void>[] = [];
    for (const connection of this.connections) {
      connection.subscriber.flush();
      all.push(closed(connection.ws));
      try {
        connection.ws.close(CloseCodes.GOING_AWAY, 'Broadcaster shutting down');
      } catch {
        connection.ws.terminate();
      }
    }
    await Promise.allSettled(all);
  }

  /** Ends what is left at once. */
  terminate(): void {
    for (const connection of this.connections) connection.ws.terminate();
    this.wss.close();
  }
}

/**
 * Writes subscriber frames straight to the connection's socket, bypassing `ws.send`.
 *
 * Frames are complete, pre-built text frames (`ws-frame.ts`), so a tick's frames for one subscriber go out
 * as ONE write (corked: one writev) — `ws.send` would re-frame and issue a write per message, which was
 * ~80% of the broadcaster's CPU at 100 subscribers. This is safe because of how `ws` is set up here:
 *   - permessage-deflate is off, so `ws`'s sender never holds frames back (it queues only while
 *     compressing or reading a Blob, neither of which happens): its own control frames (ping, pong,
 *     close) are written whole to the same socket, and never interleave inside ours;
 *   - server frames are unmasked, so the bytes are the same on every connection;
 *   - `readyState === OPEN` is checked first, so nothing is written after `ws` sent or received a close;
 *   - `ws.bufferedAmount` is the socket's `writableLength` plus the sender's (empty) queue, so the
 *     lagging bound counts these bytes exactly as before.
 */
export class WsTransport implements Transport {
  readonly kind = 'ws';
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {}

  write(frames: Buffer[]): void {
    if (this.ws.readyState !== WS_OPEN || this.socket.destroyed) return;
    if (frames.length === 1) {
      this.socket.write(frames[0] as Buffer);
      return;
    }
    // Everything queued this tick in one syscall when the socket is drained: corked, the pieces (views of the
    // hub's slabs, see frameRuns) go out in one writev, neither copied nor a write request each.
    this.socket.cork();
    for (const frame of frames) this.socket.write(frame);
    this.socket.uncork();
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  isOpen(): boolean {
    return this.ws.readyState === WS_OPEN && !this.socket.destroyed;
  }
  needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }
  onDrain(callback: () => void): void {
    this.socket.once('drain', callback);
  }
  eventFrame(entry: HistoryEntry): Buffer {
    // Entries from `createEntry` carry their frame; frame any other once, for every subscriber after.
    entry.ws ??= textFrameOf(entry.frame);
    return entry.ws;
  }
  messageFrame(message: object): Buffer {
    return encodeTextFrame(JSON.stringify(message)).frame;
  }
  streamHead(json: string): Buffer {
    return encodeFrame(TEXT_FIRST, json).frame;
  }
  streamPart(part: StreamPart): Buffer {
    return part.ws;
  }
  /**
   * Closes 4008 once everything written so far (the lag notice last) is in the kernel's hands: `ws` ends a
   * closing handshake after its close timeout (5 s) by destroying the socket, which would discard what is
   * still buffered here, the notice with it, for a reader that is only stalled. A reader that never reads
   * again is terminated by the heartbeat (owner.ts).
   */
  endLagging(): void {
    const close = (): void => {
      if (this.ws.readyState === WS_OPEN)
        this.ws.close(CloseCodes.LAGGING, 'Subscriber lagging: reconnect and resume');
    };
    if (this.socket.writableNeedDrain) this.socket.once('drain', close);
    else close();
  }
  terminate(): void {
    this.ws.terminate();
  }
}

let nextConnection = 0;

export class WsConnection {
  readonly subscriber: Subscriber;
  /** Heartbeat: false after a ping until the pong comes back. */
  alive = true;
  /** Heartbeat: told it lags for not answering; terminated if it still does not by the next beat. */
  told = false;
  private readonly bucket: TokenBucket;
  private readonly abuse = new AbuseCounter(20, 10_000);

  constructor(
    readonly ws: WebSocket,
    socket: Socket,
    private readonly hub: Hub,
    options: ConnectionOptions,
    initial: { subscription?: SubscribeRequest; resume?: ResumeFrom },
  ) {
    const id = `c_${process.pid.toString(36)}_${(++nextConnection).toString(36)}`;
    this.subscriber = new Subscriber(
      id,
      new WsTransport(ws, socket),
      options.subscriberMaxBytes,
      hub.schedule,
      hub.lag,
      hub.queued,
    );
    this.bucket = new TokenBucket(options.rateLimitPerSecond, options.rateLimitBurst);
    // Subscription and resume from the URL are applied in this one synchronous step (see Hub.resume).
    if (initial.subscription) this.subscriber.subscription.subscribe(initial.subscription);
    hub.add(this.subscriber);

    this.subscriber.send({
      type: 'connection.established',
      server: 'testwire',
      protocol: PROTOCOL_VERSION,
      version: VERSION,
      epoch: hub.epoch,
      seq: hub.seq,
      connectionId: id,
      runs: hub.runBriefs(),
      ...(initial.subscription ? { subscription: this.subscriber.subscription.describe() } : {}),
      heartbeatMs: options.heartbeatMs,
    });
    if (initial.resume) hub.resume(this.subscriber, initial.resume.epoch, initial.resume.since);

    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', () => {
      // ws closes the connection itself (1002/1009); nothing to add.
    });
    ws.on('close', () => hub.remove(this.subscriber));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.ws.close(CloseCodes.UNSUPPORTED_DATA, 'Binary frames are not supported: send JSON text');
      return;
    }
    if (!this.bucket.take()) {
      this.error('RATE_LIMITED', 'Too many messages: slow down (token bucket per connection)');
      return;
    }
    const parsed = parseClientMessage(data.toString('utf8'));
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message, parsed.id);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ClientMessage | PublishMessage): void {
    const id = message.id;
    const subscriber = this.subscriber;
    try {
      switch (message.type) {
        case 'subscribe':
          // A subscribe that resumes waits for a snapshot under way, whole: its replay must follow it.
          if (message.resume && subscriber.mode === 'snapshot') {
            if (!this.hub.whenIdle(subscriber, () => this.handle(message))) this.busy(id);
            break;
          }
          this.hub.subscribe(subscriber, message);
          subscriber.send({
            type: 'subscribed',
            ...(id !== undefined ? { id } : {}),
            ...subscriber.subscription.describe(),
          });
          // Same synchronous step as the subscription: no live event can be queued before the replay.
          if (message.resume && !this.hub.resume(subscriber, message.resume.epoch, message.resume.since, id))
            this.busy(id);
          break;
        case 'unsubscribe':
          subscriber.subscription.unsubscribe(message);
          subscriber.send({
            type: 'unsubscribed',
            ...(id !== undefined ? { id } : {}),
            ...subscriber.subscription.describe(),
          });
          break;
        case 'resume':
          if (!this.hub.resume(subscriber, message.epoch, message.since, id)) this.busy(id);
          break;
        case 'snapshot':
          if (!this.hub.sendSnapshot(subscriber, id)) this.busy(id);
          break;
        case 'ping':
          subscriber.send({
            type: 'pong',
            ...(id !== undefined ? { id } : {}),
            timestamp: new Date().toISOString(),
          });
          break;
        case 'publish':
          this.error(
            'FORBIDDEN',
            'publish is only accepted from publisher connections (/ws?role=publisher with the publisher secret)',
            id,
          );
          break;
      }
    } catch (error) {
      if (error instanceof SubscriptionError) this.error('INVALID_SUBSCRIPTION', error.message, id);
      else this.error('INVALID_MESSAGE', (error as Error).message, id);
    }
  }

  /** A snapshot or resume while two already wait behind the one under way. */
  private busy(id?: MessageId): void {
    this.error(
      'RATE_LIMITED',
      'A snapshot or resume is already under way on this connection, with two more waiting: read them first',
      id,
    );
  }

  private error(code: ErrorCode, message: string, id?: MessageId): void {
    this.subscriber.send({ type: 'error', code, message, ...(id !== undefined ? { id } : {}) });
    if (this.abuse.add()) {
      this.subscriber.flush();
      this.ws.close(CloseCodes.POLICY_VIOLATION, 'Too many invalid or rate-limited messages');
    }
  }
}
