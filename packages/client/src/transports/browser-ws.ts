/** WebSocket transport over a standard (WHATWG) WebSocket: browsers, Deno, Bun, Node >= 22. */
import { once, type TransportConnection, type WebSocketConnector } from './types.js';

type WebSocketCtor = new (url: string) => WebSocket;

/**
 * A browser cannot see why an upgrade failed. When a socket closes before opening, ask the same URL over
 * plain HTTP: the broadcaster answers 401/403 for bad credentials before it looks at the Upgrade header.
 */
export async function probeStatus(
  url: string,
  fetchImpl: typeof fetch | undefined,
): Promise<number | undefined> {
  if (!fetchImpl) return undefined;
  // GET /ws without an upgrade is answered 426 before auth; /status checks the same credentials.
  const target = new URL(url.replace(/^ws(s?):/, 'http$1:'));
  if (target.pathname.endsWith('/ws')) target.pathname = `${target.pathname.slice(0, -3)}/status`;
  const http = target.toString();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  try {
    const res = await fetchImpl(http, { cache: 'no-store', signal: controller.signal });
    void res.body?.cancel().catch(() => {});
    return res.status;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export function standardWebSocket(
  Ctor: WebSocketCtor | undefined,
  fetchImpl: typeof fetch | undefined,
): WebSocketConnector {
  return (url, handlers) => {
    if (!Ctor) throw new TypeError('No WebSocket implementation: pass options.WebSocket');
    const socket = new Ctor(url);
    let opened = false;
    let closed: (() => void) | undefined;
    const finish = once(async (event: { code: number; reason: string }) => {
      const status = opened ? undefined : await probeStatus(url, fetchImpl);
      handlers.onClose({
        code: event.code,
        reason: event.reason,
        wasOpen: opened,
        status: status === 401 || status === 403 ? status : undefined,
      });
      closed?.();
    });
    socket.onopen = () => {
      opened = true;
      handlers.onOpen();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') handlers.onMessage(event.data);
    };
    socket.onerror = () => {};
    socket.onclose = (event) => void finish(event);

    const connection: TransportConnection = {
      send(text) {
        if (socket.readyState === 1) socket.send(text);
      },
      close(code = 1000, reason = '') {
        if (socket.readyState === 3) return Promise.resolve();
        return new Promise<void>((resolve) => {
          closed = resolve;
          socket.close(code, reason);
          // Browsers always fire close eventually; this bounds the wait if one does not.
          setTimeout(() => {
            void finish({ code: 1006, reason: 'close timeout' });
          }, 1000);
        });
      },
    };
    return connection;
  };
}
