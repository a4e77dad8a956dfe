/**
 * @testwire/broadcaster: the embedded server reporters publish to. See README.md.
 */

export { probeTestwire } from './claim.js';
export { getBroadcaster, resetBroadcasterSingleton, startBroadcaster } from './get-broadcaster.js';
export { type BroadcasterOptions, type Logger, OptionsError, resolveOptions } from './options.js';
export { PUBLISHER_HEADER, secretPath } from './secret.js';
export { formatSseComment, formatSseEvent, parseLastEventId, type SseMessage } from './sse.js';
export type { Broadcaster, FlushResult } from './types.js';
export { VERSION } from './version.js';
