/** WebSocket transport for Node, on `ws` (Node 20 has no global WebSocket; `ws` also tells us the HTTP status of a refused upgrade). */
import WebSocket from 'ws';
import {
  type CloseInfo,
  type ConnectorOptions,
  once,
  type TransportConnection,
  type WebSocketConnector,
} from './types.js';

const BODY_LIMIT = 2048;

export function nodeWebSocket(options: ConnectorOptions): WebSocketConnector {
  return (url, handlers) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    let opened = false;
    let status: number | undefined;
    let body = '';
    let error: Error | undefined;
    let closed: (() => void) | undefined;
    const finish = once((info: CloseInfo) => {
      handlers.onClose(info);
      closed?.();
    });

    // Handling this event ourselves is how `ws` gives us the status (401 -> auth error, not a retry).
    socket.on('unexpected-response', (_req, res) => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length);
      });
      const abort = once(() => socket.terminate());
      res.on('end', abort);
      res.on('error', abort);
      setTimeout(abort, 200).unref();
    });
    socket.on('open', () => {
      opened = true;
      handlers.onOpen();
    });
    socket.on('message', (data, isBinary) => {
      if (!isBinary) handlers.onMessage(data.toString());
    });
    socket.on('ping', () => handlers.onActivity?.());
    socket.on('error', (e) => {
      error ??= e;
    });
    socket.on('close', (code, reason) => {
      finish({ code, reason: reason.toString(), wasOpen: opened, status, body: body || undefined, error });
    });

    const connection: TransportConnection = {
      send(text) {
        if (socket.readyState === WebSocket.OPEN) socket.send(text);
      },
      close(code = 1000, reason = '') {
        if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
        return new Promise<void>((resolve) => {
          closed = resolve;
          if (socket.readyState === WebSocket.OPEN) {
            socket.close(code, reason);
            // A peer that never answers the close frame must not hold us: cut the TCP connection.
            setTimeout(() => socket.terminate(), 1000).unref();
          } else {
            socket.terminate();
          }
        });
      },
    };
    return connection;
  };
}
