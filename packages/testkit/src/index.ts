/**
 * @testwire/testkit: WebSocketTester and SSETester, test helpers for any WebSocket or SSE server.
 */
export { WebSocketTester, type WebSocketOptions, type WebSocketMessage } from './websocket-tester.js';
export { SSETester, type SSEOptions, type SSEEvent } from './sse-tester.js';
export type { PageLike } from './page-sse.js';
export { partialMatch } from './inbox.js';
