/**
 * `ws`, loaded on first use. Most runs never see a WebSocket peer (no dashboard, no `testwire watch`, no
 * other test process joining), and loading `ws` with the `https`, `tls` and `zlib` it requires cost the
 * reporter's thread 12–20 ms of CPU at every start, on the way to a short run's first events (bench/README.md,
 * "B2 in a short run"). The owner makes its WebSocket servers at the first upgrade, a joiner its client when
 * it connects.
 */
import { createRequire } from 'node:module';

/** `WebSocket.OPEN` and `WebSocket.CLOSED`, without loading `ws` for them. */
export const WS_OPEN = 1;
export const WS_CLOSED = 3;

/** What `require('ws')` returns: the WebSocket class, with `WebSocket` and `WebSocketServer` on it. */
type WsModule = typeof import('ws');

let loaded: WsModule | undefined;

/** The `ws` module, loaded at the first call. */
export function loadWs(): WsModule {
  loaded ??= createRequire(import.meta.url)('ws') as WsModule;
  return loaded;
}
