/**
 * SSE over a standard EventSource (browsers). EventSource delivers named events only to listeners of that
 * name, so we listen to every name of the catalog and of the server messages. It cannot send headers:
 * the resume position goes in `?lastEventId=`. We close it on error and let the client's backoff reconnect.
 */
import { EVENT_TYPES } from '@testwire/protocol';
import { probeStatus } from './browser-ws.js';
import { type EventStreamConnector, once } from './types.js';

type EventSourceCtor = new (url: string, init?: { withCredentials?: boolean }) => EventSource;

const CONTROL_NAMES = [
  'message',
  'connection.established',
  'resume.failed',
  'resumed',
  'snapshot',
  'error',
  'subscribed',
];

export function standardEventSource(
  Ctor: EventSourceCtor | undefined,
  fetchImpl: typeof fetch | undefined,
): EventStreamConnector {
  return (url, lastEventId, handlers) => {
    if (!Ctor) throw new TypeError('No EventSource implementation: pass options.EventSource');
    const target = new URL(url);
    if (lastEventId) target.searchParams.set('lastEventId', lastEventId);
    const source = new Ctor(target.toString());
    let opened = false;
    const finish = once(async (reason: string) => {
      source.close();
      const status = opened ? undefined : await probeStatus(target.toString(), fetchImpl);
      handlers.onClose({
        code: 1006,
        reason,
        wasOpen: opened,
        status: status === 401 || status === 403 ? status : undefined,
      });
    });
    source.onopen = () => {
      opened = true;
      handlers.onOpen();
    };
    const onMessage = (event: MessageEvent) => {
      // The EventSource `error` event (a failed connection) is an Event, not a MessageEvent.
      if (typeof event.data !== 'string') return;
      handlers.onMessage(event.data, { event: event.type, id: event.lastEventId });
    };
    for (const name of new Set([...EVENT_TYPES, ...CONTROL_NAMES]))
      source.addEventListener(name, onMessage as EventListener);
    source.onerror = (event) => {
      // A server event named `error` also lands here; only a data-less Event means the stream failed.
      if (typeof (event as unknown as MessageEvent).data === 'string') return;
      void finish('event stream error');
    };
    return {
      send() {},
      async close() {
        await finish('closed by client');
      },
    };
  };
}
