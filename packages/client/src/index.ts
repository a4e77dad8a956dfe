/**
 * @testwire/client for Node: WebSocket over `ws`, SSE over fetch. Browsers get `browser.ts` through the
 * `browser` export condition.
 */
import { anotherUsersListener } from '@testwire/protocol/tcp-listeners';
import { TestwireClient as BaseClient, type TestwireClientOptions } from './client.js';
import { fetchEventStream } from './transports/fetch-sse.js';
import { nodeWebSocket } from './transports/node-ws.js';
import type { Runtime } from './transports/types.js';

export * from './shared.js';

/** The testwire client (Node build). See README for options and reconnect/resume semantics. */
export class TestwireClient extends BaseClient {
  constructor(options: TestwireClientOptions = {}) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const runtime: Runtime = {
      webSocket: (o) => nodeWebSocket(o),
      eventStream: (o) => fetchEventStream(fetchImpl, o),
      reportsPings: true,
      reportsKeepAlives: true,
      sendsHeaders: true,
      listenerOfAnotherUser: anotherUsersListener,
    };
    super(options, runtime);
  }
}

/** Creates a client; call `connect()` to start. */
export function createClient(options: TestwireClientOptions = {}): TestwireClient {
  return new TestwireClient(options);
}
