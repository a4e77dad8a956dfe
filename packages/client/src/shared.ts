/** Exports common to the Node and browser builds. */

export {
  type AnyEventEnvelope,
  type EventEnvelope,
  OWNER_LOST,
  type RunSnapshot,
  RunStateStore,
  type TestState,
} from '@testwire/protocol';
export { backoffDelay, type ReconnectOptions, reconnectPolicy } from './backoff.js';
export type {
  ConnectionState,
  EventHandler,
  ResyncInfo,
  RunStateUpdate,
  StateInfo,
  TestwireClientOptions,
  TransportKind,
} from './client.js';
export { TestwireAuthError, TestwireError, type TestwireErrorCode } from './errors.js';
export { type SSEMessage, SSEParser, type SSEParserHandlers } from './sse-parser.js';
export { endpointUrl } from './url.js';
