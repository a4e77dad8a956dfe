/**
 * What the client needs from a transport: open one connection, hand over text frames, report the end once.
 * The client owns reconnects, resume and backoff; a transport never retries on its own.
 */

export interface CloseInfo {
  /** WebSocket close code; 1006 for a connection that failed or dropped without a close frame. */
  code: number;
  reason: string;
  /** True when the connection had opened (upgrade done / SSE response 200). */
  wasOpen: boolean;
  /** HTTP status when the server refused the request (401, 403, 404, …). */
  status?: number;
  /** Start of the refusing response's body (the server's explanation), if any. */
  body?: string;
  error?: Error;
}

export interface TransportHandlers {
  onOpen(): void;
  /** One text frame (WS) or one event's data (SSE). `meta` carries the SSE `event`/`id` fields. */
  onMessage(text: string, meta?: { event: string; id: string }): void;
  /** Called exactly once per connection, whether it never opened, dropped, or was closed by us. */
  onClose(info: CloseInfo): void;
  /**
   * A sign of life that is not a message (WS ping; SSE: every chunk read, `: keep-alive` comments
   * included): feeds the heartbeat watchdog.
   */
  onActivity?(): void;
}

export interface TransportConnection {
  /** WS only: sends one text frame (dropped when not open). */
  send(text: string): void;
  /** Closes; resolves once the connection is gone (bounded in time). */
  close(code?: number, reason?: string): Promise<void>;
}

/** Opens a WebSocket to `url`. */
export type WebSocketConnector = (url: string, handlers: TransportHandlers) => TransportConnection;
/** Opens an SSE stream to `url`, sending `lastEventId` (header or query) when given. */
export type EventStreamConnector = (
  url: string,
  lastEventId: string | undefined,
  handlers: TransportHandlers,
) => TransportConnection;

export interface ConnectorOptions {
  handshakeTimeoutMs: number;
  /** Request headers (runtimes that can send them: `sendsHeaders`). */
  headers?: Record<string, string>;
}

export interface Runtime {
  webSocket(options: ConnectorOptions): WebSocketConnector;
  eventStream(options: ConnectorOptions): EventStreamConnector;
  /**
   * True when both transports send request headers (Node): credentials then go in an `Authorization`
   * header, not on URLs that logs and proxies keep. Browsers' WebSocket and EventSource cannot.
   */
  sendsHeaders: boolean;
  /** True when the WS transport reports pings (onActivity), so an idle but healthy link is told apart from a dead one. */
  reportsPings: boolean;
  /**
   * True when the SSE transport reports the bytes it reads (onActivity), `: keep-alive` comments included, so
   * a stream silent for longer than the keep-alive allows is known dead (Node's fetch reader). A browser's
   * EventSource hides comments.
   */
  reportsKeepAlives: boolean;
  /**
   * Why credentials must not go to `url`: the process listening at this loopback address runs as another OS
   * user (Node on Linux, `@testwire/protocol/tcp-listeners`). Undefined when it is ours, or cannot be told.
   */
  listenerOfAnotherUser?(url: URL): string | undefined;
}

/** Runs `fn` once. */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}
