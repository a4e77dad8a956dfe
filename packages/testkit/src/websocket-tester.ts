/**
 * WebSocketTester: drive and assert on any WebSocket server from a test (Node, on `ws`).
 *
 *   const ws = new WebSocketTester({ timeout: 2000 });
 *   await ws.connectWebSocket('ws://127.0.0.1:7357/ws');
 *   await ws.sendMessage({ type: 'subscribe', events: ['*'] });
 *   await ws.assertMessageReceived('subscribed');
 *   await ws.disconnect();
 */
import WebSocket from 'ws';
import { Inbox, notify } from './inbox.js';

export interface WebSocketOptions {
  /** Maximum time to open the connection, in ms. Default 5000. */
  connectTimeout?: number;
  /** Default timeout of waits and assertions, in ms. Default 5000. */
  timeout?: number;
  /** Reconnect when the connection drops (not after `disconnect()`). Default false. */
  autoReconnect?: boolean;
  /** Reconnection attempts before giving up. Default 3. */
  reconnectAttempts?: number;
  /** Delay between reconnection attempts, in ms. Default 1000. */
  reconnectDelay?: number;
  /** Headers of the upgrade request (Authorization, Origin, …). */
  headers?: Record<string, string>;
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** Parse text messages as JSON when they are JSON (default true); otherwise messages are strings. */
  parseJson?: boolean;
}

/**
 * A received message: the parsed JSON value of a text frame (when it is JSON), else the text itself;
 * binary frames are Buffers. Typed loosely on purpose so predicates read like the reference (`msg.type`).
 */
export type WebSocketMessage = any;

const DEFAULTS = {
  connectTimeout: 5000,
  timeout: 5000,
  autoReconnect: false,
  reconnectAttempts: 3,
  reconnectDelay: 1000,
  parseJson: true,
};

type Resolved = typeof DEFAULTS & Pick<WebSocketOptions, 'headers' | 'protocols'>;

export class WebSocketTester {
  private options: Resolved;
  private socket: WebSocket | undefined;
  private url: string | undefined;
  private inbox = new Inbox<WebSocketMessage>();
  private errors: Error[] = [];
  private messageListeners: ((message: WebSocketMessage) => void)[] = [];
  private errorListeners: ((error: Error) => void)[] = [];
  private closeListeners: ((code: number, reason: string) => void)[] = [];
  private openWaiters = new Set<() => void>();
  private closeWaiters = new Set<() => void>();
  /** Set by disconnect(): the next close is wanted, no reconnect. */
  private closing = false;
  private reconnecting = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastCloseValue: { code: number; reason: string } | undefined;
  private opened = new WeakSet<WebSocket>();

  constructor(options: WebSocketOptions = {}) {
    this.options = resolve(DEFAULTS, options);
  }

  // --- Connection ---------------------------------------------------------------------------------------

  /**
   * Opens a connection (closing any previous one and clearing received messages).
   * Rejects with `WebSocket connection timeout (5000ms)` or `WebSocket error: …` (e.g. `Unexpected server response: 401`).
   */
  async connectWebSocket(url: string, options: Partial<WebSocketOptions> = {}): Promise<void> {
    if (this.socket) await this.disconnect();
    this.options = resolve(this.options, options);
    this.url = url;
    this.closing = false;
    this.inbox.clear();
    this.errors = [];
    this.lastCloseValue = undefined;
    await this.open(url);
  }

  /** Closes the connection (no auto-reconnect), fails pending waits, clears every timer. */
  async disconnect(): Promise<void> {
    this.closing = true;
    this.reconnecting = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.inbox.rejectAll(new Error('WebSocket disconnected while waiting for a message'));
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.terminate(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'disconnect');
    });
  }

  /** Resolves once the connection is open (at once when it is). */
  waitForConnection(timeout = this.options.connectTimeout): Promise<void> {
    if (this.isConnectionActive()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.openWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.openWaiters.delete(done);
        reject(new Error(`WebSocket connection timeout (${timeout}ms)`));
      }, timeout);
      this.openWaiters.add(done);
    });
  }

  // --- Messaging ----------------------------------------------------------------------------------------

  /** Sends a message: strings and binary as they are, anything else JSON-encoded. Resolves once written. */
  sendMessage(message: unknown): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('WebSocket is not connected: call connectWebSocket() first'));
    }
    const payload =
      typeof message === 'string' ||
      Buffer.isBuffer(message) ||
      message instanceof ArrayBuffer ||
      ArrayBuffer.isView(message)
        ? message
        : JSON.stringify(message);
    return new Promise<void>((resolve, reject) => {
      socket.send(payload as string | Buffer, (error) =>
        error ? reject(new Error(`WebSocket error: ${error.message}`)) : resolve(),
      );
    });
  }

  /**
   * The first message matching `predicate` (any message when omitted) that no earlier wait returned, already
   * received or arriving within `timeout`. Rejects with `Message timeout (5000ms)`.
   */
  async waitForMessage(
    predicate?: (msg: WebSocketMessage) => boolean,
    timeout = this.options.timeout,
  ): Promise<WebSocketMessage> {
    const [message] = await this.inbox.wait(
      predicate ?? (() => true),
      1,
      timeout,
      () => new Error(`Message timeout (${timeout}ms)`),
    );
    return message;
  }

  /** The next `count` messages no earlier wait returned. Rejects with `Message timeout (…): received n of count`. */
  waitForMessages(count: number, timeout = this.options.timeout): Promise<WebSocketMessage[]> {
    if (!Number.isInteger(count) || count < 0)
      throw new TypeError(`waitForMessages: count must be an integer >= 0, got ${count}`);
    return this.inbox.wait(
      () => true,
      count,
      timeout,
      (got) => new Error(`Message timeout (${timeout}ms): received ${got.length} of ${count} messages`),
    );
  }

  // --- Listeners ----------------------------------------------------------------------------------------

  /** Called for every message received from now on. */
  onMessage(listener: (message: WebSocketMessage) => void): void {
    this.messageListeners.push(listener);
  }

  /** Connection errors, failed reconnects, and exceptions thrown by message listeners. */
  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** Called whenever the connection closes (with the close code and reason). */
  onClose(listener: (code: number, reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  // --- Assertions ---------------------------------------------------------------------------------------

  /** Passes when a message with `type` was received or arrives within `timeout`. */
  async assertMessageReceived(type: string, timeout = this.options.timeout): Promise<void> {
    await this.inbox.wait(
      (msg) => msg?.type === type,
      1,
      timeout,
      () =>
        new Error(
          `Expected message of type '${type}' was not received within ${timeout}ms (received ${this.describeTypes()})`,
        ),
      true,
    );
  }

  /** Passes when no message with `type` was received and none arrives within `timeout`. */
  async assertMessageNotReceived(type: string, timeout = this.options.timeout): Promise<void> {
    const unexpected = (msg: WebSocketMessage) =>
      new Error(`Unexpected message of type '${type}' was received: ${preview(msg)}`);
    const already = this.inbox.find((msg) => msg?.type === type);
    if (already !== undefined) throw unexpected(already);
    let arrived: WebSocketMessage;
    try {
      [arrived] = await this.inbox.wait(
        (msg) => msg?.type === type,
        1,
        timeout,
        () => new Error('not received'),
        true,
      );
    } catch (error) {
      if ((error as Error).message === 'not received') return;
      throw error;
    }
    throw unexpected(arrived);
  }

  /** Passes when the connection is closed now or closes within `timeout`. */
  assertConnectionClosed(timeout = this.options.timeout): Promise<void> {
    if (!this.socket || this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.closeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.closeWaiters.delete(done);
        reject(new Error(`Connection did not close within ${timeout}ms`));
      }, timeout);
      this.closeWaiters.add(done);
    });
  }

  /** Throws `WebSocket is not connected` unless the connection is open. */
  assertConnected(): void {
    if (!this.isConnectionActive()) throw new Error('WebSocket is not connected');
  }

  // --- Utilities ----------------------------------------------------------------------------------------

  /** Every message received since connectWebSocket() (or clearMessages()), in receive order. */
  getMessages(): WebSocketMessage[] {
    return this.inbox.getAll();
  }

  clearMessages(): void {
    this.inbox.clear();
  }

  isConnectionActive(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Errors seen so far (connection errors, listener exceptions). */
  getErrors(): Error[] {
    return [...this.errors];
  }

  /** Code and reason of the last close, if the connection closed. */
  get lastClose(): { code: number; reason: string } | undefined {
    return this.lastCloseValue;
  }

  // --- Internals ----------------------------------------------------------------------------------------

  private open(url: string): Promise<void> {
    const { connectTimeout, headers, protocols } = this.options;
    const socket = new WebSocket(url, protocols, {
      headers,
      handshakeTimeout: connectTimeout,
      perMessageDeflate: false,
    });
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const timer = setTimeout(() => {
        settled = true;
        timedOut = true;
        socket.terminate();
        reject(new Error(`WebSocket connection timeout (${connectTimeout}ms)`));
      }, connectTimeout);
      socket.on('open', () => {
        clearTimeout(timer);
        settled = true;
        this.opened.add(socket);
        for (const waiter of this.openWaiters) waiter();
        resolve();
      });
      socket.on('error', (cause) => {
        if (timedOut) return;
        const error = new Error(`WebSocket error: ${cause.message}`, { cause });
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(error);
        }
        this.reportError(error);
      });
      socket.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
      socket.on('close', (code, reason) => this.closed(socket, code, reason.toString()));
    });
  }

  private receive(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const buffer = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    let message: WebSocketMessage = isBinary ? buffer : buffer.toString('utf8');
    if (!isBinary && this.options.parseJson) {
      try {
        message = JSON.parse(message);
      } catch {
        // Not JSON: keep the text.
      }
    }
    this.inbox.push(message);
    notify(this.messageListeners, [message], this.reportError);
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.lastCloseValue = { code, reason };
    notify(this.closeListeners, [code, reason], this.reportError);
    for (const waiter of this.closeWaiters) waiter();
    // Only a connection that was up is re-established; a failed connect is the caller's to handle.
    if (
      !this.closing &&
      this.options.autoReconnect &&
      this.url &&
      !this.reconnecting &&
      this.opened.has(socket)
    )
      void this.reconnect(this.url);
  }

  private async reconnect(url: string): Promise<void> {
    this.reconnecting = true;
    const { reconnectAttempts, reconnectDelay } = this.options;
    for (let attempt = 1; attempt <= reconnectAttempts; attempt++) {
      await new Promise<void>((resolve) => {
        this.reconnectTimer = setTimeout(resolve, reconnectDelay);
      });
      if (!this.reconnecting || this.closing) return;
      try {
        await this.open(url);
        this.reconnecting = false;
        return;
      } catch {
        // reported through onError by open(); try again
      }
    }
    this.reconnecting = false;
    this.reportError(new Error(`WebSocket error: reconnection failed after ${reconnectAttempts} attempts`));
  }

  private reportError = (error: Error): void => {
    this.errors.push(error);
    notify(this.errorListeners, [error]);
  };

  private describeTypes(): string {
    const types = new Set(
      this.inbox.getAll().map((m) => (typeof m === 'object' && m !== null ? String(m.type) : typeof m)),
    );
    return types.size ? [...types].join(', ') : 'nothing';
  }
}

function resolve<T extends object>(base: T, override: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) if (value !== undefined) out[key] = value;
  return out as T;
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 200 ? `${text.slice(0, 200)}…` : String(text);
}
