/** Exports common to the Node and browser builds. */
export type {
  ConnectionState,
  EventHandler,
  ResyncInfo,
  RunStateUpdate,
  StateInfo,
  TestwireClientOptions,
  TransportKind,
} from './client.js';
export { TestwireError, TestwireAuthError, type TestwireErrorCode } from './errors.js';
export { type ReconnectOptions, backoffDelay, reconnectPolicy } from './backoff.js';
export { SSEParser, type SSEMessage, type SSEParserHandlers } from './sse-parser.js';
export { endpointUrl } from './url.js';
export { RunStateStore, type RunSnapshot, type TestState, type AnyEventEnvelope, type EventEnvelope } from '@testwire/protocol';
