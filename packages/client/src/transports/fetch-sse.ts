/**
 * SSE over `fetch` + a streaming body (Node >= 18's undici, browsers): unlike EventSource it can send headers
 * (`Last-Event-ID`), report the HTTP status of a refusal, and leave reconnecting to the client.
 */
import { SSEParser } from '../sse-parser.js';
import { type CloseInfo, type ConnectorOptions, type EventStreamConnector, once } from './types.js';

export function fetchEventStream(
  fetchImpl: typeof fetch | undefined,
  options: ConnectorOptions,
): EventStreamConnector {
  return (url, lastEventId, handlers) => {
    if (!fetchImpl) throw new TypeError('No fetch implementation: pass options.fetch');
    const controller = new AbortController();
    let closed: (() => void) | undefined;
    let opened = false;
    const finish = once((info: CloseInfo) => {
      handlers.onClose(info);
      closed?.();
    });
    const handshake = setTimeout(
      () => controller.abort(new Error(`no response within ${options.handshakeTimeoutMs}ms`)),
      options.handshakeTimeoutMs,
    );
    (handshake as { unref?: () => void }).unref?.();

    void (async () => {
      let res: Response;
      try {
        res = await fetchImpl(url, {
          headers: {
            accept: 'text/event-stream',
            'cache-control': 'no-cache',
            ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
            ...options.headers,
          },
          signal: controller.signal,
        });
      } catch (error) {
        clearTimeout(handshake);
        finish({ code: 1006, reason: '', wasOpen: false, error: asError(error) });
        return;
      }
      clearTimeout(handshake);
      const type = res.headers.get('content-type') ?? '';
      if (res.status !== 200 || !type.startsWith('text/event-stream') || !res.body) {
        const body = await res.text().catch(() => '');
        finish({
          code: 1006,
          reason: `HTTP ${res.status} ${type}`,
          wasOpen: false,
          status: res.status === 200 ? 415 : res.status,
          body: body.slice(0, 2048) || undefined,
        });
        return;
      }
      opened = true;
      handlers.onOpen();
      const parser = new SSEParser({
        onEvent: (message) => handlers.onMessage(message.data, { event: message.event, id: message.id }),
        onComment: () => handlers.onActivity?.(),
      });
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          // Any byte is a sign of life: the `: keep-alive` comments, and the parts of a long event (a
          // snapshot streamed over a slow link) before its end is dispatched.
          handlers.onActivity?.();
          parser.feed(decoder.decode(value, { stream: true }));
        }
        finish({ code: 1000, reason: 'stream ended', wasOpen: true });
      } catch (error) {
        finish({ code: 1006, reason: '', wasOpen: opened, error: asError(error) });
      }
    })();

    return {
      send() {},
      close() {
        return new Promise<void>((resolve) => {
          closed = resolve;
          controller.abort();
          finish({ code: 1000, reason: 'closed by client', wasOpen: opened });
        });
      },
    };
  };
}

function asError(error: unknown): Error {
  if (error instanceof Error) {
    // undici wraps the socket error ("fetch failed" -> cause ECONNREFUSED): surface the useful one.
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause : error;
  }
  return new Error(String(error));
}
