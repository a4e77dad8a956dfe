/**
 * @testwire/testkit: WebSocketTester and SSETester, test helpers for any WebSocket or SSE server.
 */

export { partialMatch } from './inbox.js';
export type { PageLike } from './page-sse.js';
export { type SSEEvent, type SSEOptions, SSETester } from './sse-tester.js';
export { type WebSocketMessage, type WebSocketOptions, WebSocketTester } from './websocket-tester.js';
