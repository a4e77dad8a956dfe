/**
 * @testwire/broadcaster: the embedded server reporters publish to. See README.md.
 */

export { PUBLISH_SCOPE } from './auth.js';
export { FLUSH_BUDGET_MS } from './budget.js';
export { getBroadcaster, resetBroadcasterSingleton, startBroadcaster } from './get-broadcaster.js';
export type { HealthComponent } from './introspection.js';
export { probeTestwire } from './join/claim.js';
export { PUBLISHER_HEADER, secretPath } from './join/secret.js';
export {
  type AppendResult,
  type Mirror,
  type MirrorOptions,
  type SourceError,
  startMirror,
} from './mirror.js';
export { type BroadcasterOptions, type Logger, OptionsError, resolveOptions } from './options.js';
export { formatSseComment, formatSseEvent, parseLastEventId, type SseMessage } from './sse.js';
export type { Broadcaster, FlushResult, GetBroadcaster } from './types.js';
export { VERSION } from './version.js';
