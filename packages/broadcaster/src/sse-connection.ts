/**
 * The SSE endpoint (`GET /events`): one stream per subscriber, with the same subscription, history replay
 * and backpressure as a WebSocket subscriber, framed as Server-Sent Events.
 *
 *   ?events=…&<filter>=…, Last-Event-ID | ?lastEventId=   ─ 400 for a bad one ─> stream:
 *   retry: 1000
 *   event: connection.established      (epoch, latest seq, runs)
 *   [replay from Last-Event-ID | event: resume.failed + event: snapshot]
 *   id: <epoch>:<seq> / event: <type> / data: <envelope>   ...   `: keep-alive` every 15 s
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  PROTOCOL_VERSION,
  type SubscribeRequest,
  Subscription,
  SubscriptionError,
  subscribeRequestFromQuery,
} from '@testwire/protocol';
import type { HistoryEntry } from './history.js';
import { sendJson } from './http-util.js';
import type { Hub } from './hub.js';
import type { ResolvedOptions } from './options.js';
import type { StreamPart } from './snapshots.js';
import { formatSseComment, formatSseEvent, parseLastEventId, type ResumeFrom } from './sse.js';
import { SseFramer } from './sse-frame.js';
import { Subscriber, type Transport } from './subscriber.js';
import { VERSION } from './version.js';

interface Stream {
  subscriber: Subscriber;
  res: ServerResponse;
}

/** Opens SSE streams for `GET /events` requests that passed the origin and credential checks. */
export class SseEndpoint {
  readonly streams = new Set<Stream>();
  /** The events' SSE frames, one per event for every stream (sse-frame.ts). */
  private readonly framer: SseFramer;

  constructor(
    private readonly hub: Hub,
    private readonly options: ResolvedOptions,
  ) {
    this.framer = new SseFramer(hub.epoch);
  }

  /** Reads the query's subscription and the resume point; a bad one is answered 400 and opens nothing. */
  open(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    let subscription: SubscribeRequest;
    try {
      subscription = subscribeRequestFromQuery(query) ?? { events: ['*'] };
      // Validate now so a bad query is a 400, not a broken stream.
      new Subscription().subscribe(subscription);
    } catch (error) {
      const message = error instanceof SubscriptionError ? error.message : (error as Error).message;
      sendJson(res, 400, { error: 'INVALID_SUBSCRIPTION', message });
      return;
    }
    const header = req.headers['last-event-id'];
    const lastEventId = query.get('lastEventId') ?? (typeof header === 'string' ? header : undefined);
    const resume = lastEventId !== undefined ? parseLastEventId(lastEventId) : undefined;
    if (lastEventId !== undefined && lastEventId !== '' && !resume) {
      sendJson(res, 400, {
        error: 'INVALID_LAST_EVENT_ID',
        message: 'Last-Event-ID must be "<epoch>:<seq>" as sent in the id: field',
      });
      return;
    }
    const origin = req.headers.origin;
    const subscriber = openSse(req, res, this.hub, this.framer, subscription, resume, {
      maxBytes: this.options.subscriberMaxBytes,
      lagDrainMs: this.options.sseKeepAliveMs,
      corsOrigin: typeof origin === 'string' ? origin : undefined,
    });
    const stream = { subscriber, res };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
  }

  /** A `: keep-alive` comment on every stream, after what is queued, so proxies do not time it out. */
  keepAlive(): void {
    const comment = formatSseComment('keep-alive');
    for (const { subscriber } of this.streams) {
      // Not inside a snapshot's `data:` line: its own bytes keep the stream busy meanwhile.
      if (subscriber.holding) continue;
      subscriber.flush();
      subscriber.writeNow(Buffer.from(comment));
    }
  }

  /** Ends every stream after its queued frames; resolves once all have closed. */
  async close(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const { subscriber, res } of this.streams) {
      subscriber.flush();
      this.hub.remove(subscriber);
      all.push(
        new Promise<void>((r) =>
          res.writableFinished || res.destroyed ? r() : res.once('close', () => r()),
        ),
      );
      res.end();
    }
    await Promise.allSettled(all);
  }

  /** Ends what is left at once. */
  terminate(): void {
    for (const { res } of this.streams) res.destroy();
  }
}

class SseTransport implements Transport {
  readonly kind = 'sse';
  constructor(
    private readonly res: ServerResponse,
    private readonly framer: SseFramer,
    /** How long a stream told it lags may take to send what it holds before its socket is destroyed. */
    private readonly lagDrainMs: number,
  ) {}

  /**
   * Writes the frames as they are: the shared frames of the events (views of the framer's slabs, see
   * frameRuns) are not joined into a Buffer of this stream's own, so streams that do not read all hold the
   * same bytes. Corked: the pieces (each its own HTTP chunk) go out in one writev.
   */
  write(frames: Buffer[]): void {
    const res = this.res;
    if (res.writableEnded || res.destroyed) return;
    if (frames.length === 1) {
      res.write(frames[0] as Buffer);
      return;
    }
    res.cork();
    for (const frame of frames) res.write(frame);
    res.uncork();
  }
  bufferedAmount(): number {
    return this.res.writableLength;
  }
  isOpen(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }
  needsDrain(): boolean {
    return this.res.writableNeedDrain;
  }
  onDrain(callback: () => void): void {
    this.res.once('drain', callback);
  }
  eventFrame(entry: HistoryEntry): Buffer {
    return this.framer.frameOf(entry);
  }
  messageFrame(message: object, id?: string): Buffer {
    return Buffer.from(
      formatSseEvent({ id, event: (message as { type: string }).type, data: JSON.stringify(message) }),
    );
  }
  streamHead(json: string, type: string, id?: string): Buffer {
    return Buffer.from(`${formatSseEvent({ id, event: type, data: '' }).slice(0, -2)}${json}`);
  }
  streamPart(part: StreamPart): Buffer {
    return part.sse;
  }
  /**
   * Ends the stream after what is queued (the lag notice last). A reader that never reads again would keep
   * the socket and everything buffered for it for good: as a WebSocket that does not answer is terminated at
   * the next heartbeat, the stream's socket is destroyed if the response has not finished (all of it handed
   * to the kernel) within `lagDrainMs`. A finished one is idle HTTP: the server's keep-alive timeout closes it.
   */
  endLagging(): void {
    const res = this.res;
    res.end();
    if (res.writableFinished || res.destroyed) return;
    const timer = setTimeout(() => {
      if (!res.writableFinished) res.destroy();
    }, this.lagDrainMs);
    timer.unref();
    const stop = (): void => clearTimeout(timer);
    res.once('finish', stop);
    res.once('close', stop);
  }
  terminate(): void {
    this.res.destroy();
  }
}

let nextSse = 0;

interface SseOptions {
  maxBytes: number;
  /** See SseTransport's `lagDrainMs`. */
  lagDrainMs: number;
  /** Access-Control-Allow-Origin to echo (an allowed browser Origin). */
  corsOrigin?: string;
}

/** Starts an SSE stream on `res`. `resume` comes from Last-Event-ID or `?lastEventId=`. */
function openSse(
  req: IncomingMessage,
  res: ServerResponse,
  hub: Hub,
  framer: SseFramer,
  subscription: SubscribeRequest,
  resume: ResumeFrom | undefined,
  options: SseOptions,
): Subscriber {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  if (options.corsOrigin) {
    headers['access-control-allow-origin'] = options.corsOrigin;
    headers.vary = 'Origin';
  }
  res.writeHead(200, headers);
  res.write('retry: 1000\n\n');
  req.socket.setNoDelay(true);

  const id = `s_${process.pid.toString(36)}_${(++nextSse).toString(36)}`;
  const subscriber = new Subscriber(
    id,
    new SseTransport(res, framer, options.lagDrainMs),
    options.maxBytes,
    hub.schedule,
    hub.lag,
    hub.queued,
  );
  subscriber.subscription.subscribe(subscription);
  hub.add(subscriber);
  subscriber.send({
    type: 'connection.established',
    server: 'testwire',
    protocol: PROTOCOL_VERSION,
    version: VERSION,
    epoch: hub.epoch,
    seq: hub.seq,
    connectionId: id,
    runs: hub.runBriefs(),
    subscription: subscriber.subscription.describe(),
  } as { type: string });
  if (resume) hub.resume(subscriber, resume.epoch ?? hub.epoch, resume.since);

  const done = (): void => hub.remove(subscriber);
  res.on('close', done);
  res.on('error', done);
  return subscriber;
}
