/**
 * @testwire/react: `useTestwire()`, live test events and run state from a testwire broadcaster in React
 * (18 and 19). Safe to import on the server: nothing touches `window` or `WebSocket` until an effect runs.
 */
export type {
  AnyEventEnvelope,
  ConnectionState,
  EventEnvelope,
  RunSnapshot,
  TestState,
  TestwireErrorCode,
} from '@testwire/client';
export { TestwireAuthError, TestwireError } from '@testwire/client';
export { DEFAULT_MAX_EVENTS, DEFAULT_RENDER_INTERVAL_MS } from './store.js';
export type {
  TestwireAnswers,
  TestwireConnectionOptions,
  TestwireRequest,
  TestwireSend,
  UseTestwireOptions,
  UseTestwireResult,
} from './types.js';
export { useTestwire } from './use-testwire.js';
