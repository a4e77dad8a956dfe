/**
 * @testwire/client for browsers: the global WebSocket and EventSource, no Node built-ins.
 */
import { TestwireClient as BaseClient, type TestwireClientOptions } from './client.js';
import { standardWebSocket } from './transports/browser-ws.js';
import { standardEventSource } from './transports/event-source.js';
import type { Runtime } from './transports/types.js';

export * from './shared.js';

/** The testwire client (browser build). See README for options and reconnect/resume semantics. */
export class TestwireClient extends BaseClient {
  constructor(options: TestwireClientOptions = {}) {
    const g = globalThis as unknown as { WebSocket?: any; EventSource?: any; fetch?: typeof fetch };
    const fetchImpl = options.fetch ?? (g.fetch ? g.fetch.bind(globalThis) : undefined);
    const runtime: Runtime = {
      webSocket: () => standardWebSocket(options.WebSocket ?? g.WebSocket, fetchImpl),
      eventStream: () => standardEventSource(options.EventSource ?? g.EventSource, fetchImpl),
      reportsPings: false,
      reportsKeepAlives: false,
      sendsHeaders: false,
    };
    super(options, runtime);
  }
}

/** Creates a client; call `connect()` to start. */
export function createClient(options: TestwireClientOptions = {}): TestwireClient {
  return new TestwireClient(options);
}
