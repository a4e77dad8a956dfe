/**
 * One SSE subscriber (`GET /events`): the same subscription, history replay and backpressure as a
 * WebSocket subscriber, framed as Server-Sent Events.
 *
 *   retry: 1000
 *   event: connection.established      (epoch, latest seq, runs)
 *   [replay from Last-Event-ID | event: resume.failed + event: snapshot]
 *   id: <epoch>:<seq> / event: <type> / data: <envelope>   ...   `: keep-alive` every 15 s
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROTOCOL_VERSION, type SubscribeRequest } from '@testwire/protocol';
import type { HistoryEntry } from './history.js';
import type { Hub } from './hub.js';
import { formatSseEvent } from './sse.js';
import { Subscriber, type Transport } from './subscriber.js';
import { VERSION } from './version.js';

class SseTransport implements Transport {
  readonly kind = 'sse';
  constructor(
    private readonly res: ServerResponse,
    private readonly epoch: string,
  ) {}

  write(frames: Buffer[]): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }
  bufferedAmount(): number {
    return this.res.writableLength;
  }
  needsDrain(): boolean {
    return this.res.writableNeedDrain;
  }
  onDrain(callback: () => void): void {
    this.res.once('drain', callback);
  }
  eventFrame(entry: HistoryEntry): Buffer {
    // Once per event, shared by every SSE subscriber.
    entry.sse ??= sseEventFrame(entry, this.epoch);
    return entry.sse;
  }
  messageFrame(message: object, id?: string): Buffer {
    return Buffer.from(
      formatSseEvent({ id, event: (message as { type: string }).type, data: JSON.stringify(message) }),
    );
  }
  endLagging(): void {
    this.res.end();
  }
}

const LF = 0x0a;
const CR = 0x0d;
const END = Buffer.from('\n\n');

/**
 * `id:`/`event:`/`data:` around the event's JSON bytes, without decoding them. JSON from JSON.stringify
 * has no raw line breaks, so it is one `data:` line; anything else goes through the general formatter.
 */
function sseEventFrame(entry: HistoryEntry, epoch: string): Buffer {
  const id = `${epoch}:${entry.envelope.seq}`;
  if (entry.frame.includes(LF) || entry.frame.includes(CR))
    return Buffer.from(
      formatSseEvent({ id, event: entry.envelope.type, data: entry.frame.toString('utf8') }),
    );
  const head = Buffer.from(formatSseEvent({ id, event: entry.envelope.type, data: '' }).slice(0, -2));
  return Buffer.concat([head, entry.frame, END], head.length + entry.frame.length + 2);
}

let nextSse = 0;

export interface SseOptions {
  maxBytes: number;
  /** Access-Control-Allow-Origin to echo (an allowed browser Origin). */
  corsOrigin?: string;
}

/** Starts an SSE stream on `res`. `resume` comes from Last-Event-ID or `?lastEventId=`. */
export function openSse(
  req: IncomingMessage,
  res: ServerResponse,
  hub: Hub,
  subscription: SubscribeRequest,
  resume: { epoch?: string; since: number } | undefined,
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
  const subscriber = new Subscriber(id, new SseTransport(res, hub.epoch), options.maxBytes, hub.schedule);
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
