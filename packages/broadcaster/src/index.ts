/**
 * @testwire/broadcaster: the embedded server reporters publish to. See README.md.
 */
export { startBroadcaster, getBroadcaster, resetBroadcasterSingleton } from './get-broadcaster.js';
export type { Broadcaster } from './types.js';
export { type BroadcasterOptions, type Logger, OptionsError, resolveOptions } from './options.js';
export { formatSseEvent, formatSseComment, parseLastEventId, type SseMessage } from './sse.js';
export { probeTestwire } from './claim.js';
export { PUBLISHER_HEADER, secretPath } from './secret.js';
export { VERSION } from './version.js';
