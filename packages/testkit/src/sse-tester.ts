/**
 * SSETester: connect to any Server-Sent Events endpoint from a test and assert on what it streams.
 *
 * Node mode (no page): an http/https request parsed with a spec-conformant SSE parser (multi-line data,
 * id, event, retry, comments, CRLF). Page mode (a Playwright `Page`): the stream is read inside the
 * page with fetch, so cookies, origin and CORS are the browser's; events are handed back to the test.
 *
 *   const sse = new SSETester();                // or new SSETester(page)
 *   await sse.connectSSE('http://127.0.0.1:7357/events?events=test.*');
 *   const result = await sse.waitForEvent('test.result');
 *   await sse.assertDataMatches({ type: 'test.result', data: { status: 'passed' } });
 *   await sse.disconnect();
 */
import http from 'node:http';
import https from 'node:https';
import { SSEParser } from '@testwire/client';
import { Inbox, notify, partialMatch } from './inbox.js';
import { type PageLike, readInPage } from './page-sse.js';
import type { StreamCallbacks } from './stream-callbacks.js';

export interface SSEOptions {
  /** Maximum time to get the response headers, in ms. Default 5000. */
  connectTimeout?: number;
  /** Default timeout of waits and assertions, in ms. Default 5000. */
  timeout?: number;
  /** Reconnect (sending Last-Event-ID) when the stream ends or fails. Default false. */
  autoReconnect?: boolean;
  /** Reconnection attempts before giving up. Default 5. */
  reconnectAttempts?: number;
  /** Delay between attempts in ms, unless the server sent `retry:`. Default 1000. */
  reconnectDelay?: number;
}

/** One received event. */
export interface SSEEvent {
  /** The `event:` field (`'message'` when none). */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event id in force (`id:`), if any. */
  id?: string;
  /** `data` parsed as JSON, when it is JSON. */
  parsedData?: unknown;
  /** When it was received (epoch ms). */
  receivedAt: number;
}

const DEFAULTS = {
  connectTimeout: 5000,
  timeout: 5000,
  autoReconnect: false,
  reconnectAttempts: 5,
  reconnectDelay: 1000,
};

interface Stream {
  close(): void | Promise<void>;
}

export class SSETester {
  private readonly page: PageLike | undefined;
  private options: typeof DEFAULTS;
  private inbox = new Inbox<SSEEvent>();
  private errors: Error[] = [];
  private eventListeners: ((event: SSEEvent) => void)[] = [];
  private errorListeners: ((error: Error) => void)[] = [];
  private closeListeners: (() => void)[] = [];
  private stream: Stream | undefined;
  private active = false;
  private closing = false;
  private url: string | undefined;
  private headers: Record<string, string> = {};
  private lastEventId = '';
  private retryMs: number | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  /** `new SSETester()` / `new SSETester(options)` (Node) or `new SSETester(page, options)` (in the page). */
  constructor(page?: PageLike | SSEOptions, options: SSEOptions = {}) {
    if (page && typeof (page as PageLike).evaluate === 'function') {
      this.page = page as PageLike;
    } else {
      options = { ...(page as SSEOptions | undefined), ...options };
    }
    this.options = merge(DEFAULTS, options);
  }

  // --- Connection ---------------------------------------------------------------------------------------

  /**
   * Opens the stream (closing a previous one and clearing events). Resolves once the server answered 200
   * `text/event-stream`. Rejects with `SSE connection timeout (5000ms)` or `SSE connection failed: HTTP 401 …`.
   */
  async connectSSE(url: string, headers: Record<string, string> = {}): Promise<void> {
    if (this.stream) await this.disconnect();
    this.url = url;
    this.headers = headers;
    this.closing = false;
    this.lastEventId = '';
    this.retryMs = undefined;
    this.inbox.clear();
    this.errors = [];
    await this.open();
  }

  /** Closes the stream (no reconnect), fails pending waits, clears every timer. */
  async disconnect(): Promise<void> {
    this.closing = true;
    this.generation++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.inbox.rejectAll(new Error('SSE disconnected while waiting for an event'));
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      await stream.close();
      if (this.active) this.emitClose();
    }
    this.active = false;
  }

  // --- Events -------------------------------------------------------------------------------------------

  /** The first event of `eventType` (`'*'` for any) no earlier wait returned, received or arriving within `timeout`. */
  async waitForEvent(eventType: string, timeout = this.options.timeout): Promise<SSEEvent> {
    const [event] = await this.inbox.wait(
      (e) => eventType === '*' || e.event === eventType,
      1,
      timeout,
      () =>
        new Error(`Event timeout (${timeout}ms): no '${eventType}' event (received ${this.describeTypes()})`),
    );
    return event;
  }

  /**
   * The data of the first event matching `predicate` (any when omitted) no earlier wait returned: parsed JSON
   * when the data is JSON, else the text.
   */
  async waitForData(
    predicate?: (event: SSEEvent) => boolean,
    timeout = this.options.timeout,
  ): Promise<unknown> {
    const [event] = await this.inbox.wait(
      predicate ?? (() => true),
      1,
      timeout,
      () => new Error(`Event timeout (${timeout}ms): no event matched`),
    );
    return event.parsedData !== undefined ? event.parsedData : event.data;
  }

  // --- Listeners ----------------------------------------------------------------------------------------

  onEvent(listener: (event: SSEEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** Connection failures, refused requests, broken streams, exceptions thrown by event listeners. */
  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** The stream ended (server closed it, it failed, or disconnect()). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  // --- Assertions ---------------------------------------------------------------------------------------

  /** Passes when an event of `eventType` was received or arrives within `timeout`. */
  async assertEventReceived(eventType: string, timeout = this.options.timeout): Promise<void> {
    await this.inbox.wait(
      (e) => e.event === eventType,
      1,
      timeout,
      () =>
        new Error(
          `Expected event '${eventType}' was not received within ${timeout}ms (received ${this.describeTypes()})`,
        ),
      true,
    );
  }

  /**
   * Passes when some event's data matches: a RegExp is tested against the raw data; an object is a deep
   * partial match against the parsed JSON (`{type: 'test.result', data: {status: 'failed'}}`).
   */
  async assertDataMatches(pattern: RegExp | object, timeout = this.options.timeout): Promise<void> {
    const test =
      pattern instanceof RegExp
        ? (e: SSEEvent) => {
            pattern.lastIndex = 0;
            return pattern.test(e.data);
          }
        : (e: SSEEvent) => e.parsedData !== undefined && partialMatch(e.parsedData, pattern);
    const shown = pattern instanceof RegExp ? String(pattern) : JSON.stringify(pattern);
    await this.inbox.wait(
      test,
      1,
      timeout,
      () =>
        new Error(`No event data matched ${shown} within ${timeout}ms (received ${this.inbox.size} events)`),
      true,
    );
  }

  /** Throws `SSE error detected: …` when any error was reported since connectSSE(). */
  async assertNoError(): Promise<void> {
    if (this.errors.length) {
      const more = this.errors.length > 1 ? ` (and ${this.errors.length - 1} more)` : '';
      throw new Error(`SSE error detected: ${this.errors[0].message}${more}`);
    }
  }

  // --- Utilities ----------------------------------------------------------------------------------------

  getEvents(): SSEEvent[] {
    return this.inbox.getAll();
  }

  getEventsByType(eventType: string): SSEEvent[] {
    return this.inbox.getAll().filter((e) => e.event === eventType);
  }

  clearEvents(): void {
    this.inbox.clear();
  }

  isConnectionActive(): boolean {
    return this.active;
  }

  getErrors(): Error[] {
    return [...this.errors];
  }

  // --- Internals ----------------------------------------------------------------------------------------

  private open(): Promise<void> {
    const generation = ++this.generation;
    const url = this.url as string;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      ...this.headers,
    };
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const current = () => generation === this.generation;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      const callbacks: StreamCallbacks = {
        open: () => {
          if (!current()) return;
          opened = true;
          this.active = true;
          resolve();
        },
        event: (message) => current() && this.receive(message),
        retry: (ms) => {
          this.retryMs = ms;
        },
        end: (error) => {
          if (!current()) return;
          if (!opened) {
            reject(error ?? new Error('SSE connection failed: the stream ended before it opened'));
            if (error) this.reportError(error);
            return;
          }
          if (error) this.reportError(error);
          this.active = false;
          this.stream = undefined;
          this.emitClose();
          if (this.options.autoReconnect && !this.closing) this.scheduleReconnect(1);
        },
      };
      this.stream = this.page
        ? readInPage(this.page, url, headers, this.options.connectTimeout, callbacks)
        : readInNode(url, headers, this.options.connectTimeout, callbacks);
    });
  }

  private scheduleReconnect(attempt: number): void {
    if (attempt > this.options.reconnectAttempts) {
      this.reportError(
        new Error(`SSE error: reconnection failed after ${this.options.reconnectAttempts} attempts`),
      );
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closing) return;
      this.open().catch(() => this.scheduleReconnect(attempt + 1));
    }, this.retryMs ?? this.options.reconnectDelay);
  }

  private receive(message: { event: string; data: string; id: string }): void {
    if (message.id) this.lastEventId = message.id;
    const event: SSEEvent = { event: message.event, data: message.data, receivedAt: Date.now() };
    if (message.id) event.id = message.id;
    try {
      event.parsedData = JSON.parse(message.data);
    } catch {
      // Not JSON: only `data` is set.
    }
    this.inbox.push(event);
    notify(this.eventListeners, [event], this.reportError);
  }

  private emitClose(): void {
    notify(this.closeListeners, [], this.reportError);
  }

  private reportError = (error: Error): void => {
    this.errors.push(error);
    notify(this.errorListeners, [error]);
  };

  private describeTypes(): string {
    const types = new Set(this.inbox.getAll().map((e) => e.event));
    return types.size ? [...types].join(', ') : 'nothing';
  }
}

function readInNode(
  url: string,
  headers: Record<string, string>,
  connectTimeout: number,
  callbacks: StreamCallbacks,
): Stream {
  let ended = false;
  const end = (error?: Error) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    callbacks.end(error);
  };
  const target = new URL(url);
  const request = (target.protocol === 'https:' ? https : http).get(target, { headers });
  const timer = setTimeout(() => {
    end(new Error(`SSE connection timeout (${connectTimeout}ms)`));
    request.destroy();
  }, connectTimeout);
  request.on('error', (error) => end(new Error(`SSE connection failed: ${error.message}`, { cause: error })));
  request.on('response', (response) => {
    clearTimeout(timer);
    const type = String(response.headers['content-type'] ?? '');
    if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 500) body += chunk;
      });
      response.on('end', () => {
        const detail = body.trim() ? `: ${body.trim().slice(0, 200)}` : '';
        end(
          new Error(
            `SSE connection failed: HTTP ${response.statusCode} ${type || '(no content-type)'}${detail}`,
          ),
        );
      });
      response.on('error', () => end(new Error(`SSE connection failed: HTTP ${response.statusCode}`)));
      return;
    }
    callbacks.open();
    const parser = new SSEParser({ onEvent: callbacks.event, onRetry: callbacks.retry });
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => parser.feed(chunk));
    response.on('end', () => end());
    response.on('error', (error) => end(new Error(`SSE stream error: ${error.message}`, { cause: error })));
    response.on('close', () =>
      end(response.complete ? undefined : new Error('SSE stream closed before it ended')),
    );
  });
  return {
    close() {
      ended = true;
      clearTimeout(timer);
      request.destroy();
    },
  };
}

function merge<T extends object>(base: T, override: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) if (value !== undefined) out[key] = value;
  return out as T;
}
