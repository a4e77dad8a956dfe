/**
 * testwire CLI as a library: `main(argv)` runs a command; the formatting and the watch model are exported
 * for tools that want the same output (the stream itself is @testwire/client).
 */

export type { Io } from './args.js';
export { fetchStatus, formatStatus } from './commands/status.js';
export { parseFilters } from './commands/tail.js';
export { type Endpoint, type EndpointInput, resolveEndpoint } from './endpoint.js';
export { CliError, ExitCode } from './errors.js';
export {
  type Colors,
  countsText,
  createColors,
  errorLine,
  formatDuration,
  formatEvent,
  formatRunSummary,
  shouldColor,
} from './format.js';
export { main, mainHelp, VERSION } from './main.js';
export {
  type ConnectionView,
  type FrameOptions,
  renderFrame,
  truncate,
  visibleLength,
  type WatchChange,
  WatchModel,
  type WatchModelOptions,
} from './monitor.js';
