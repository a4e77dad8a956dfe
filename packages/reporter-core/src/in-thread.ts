/**
 * What the runner's thread needs only sometimes, built as a file of its own (dist/in-thread.cjs) and loaded on
 * first use (in-thread-loader.ts): the Core, when calls are applied in the runner's thread (a `sink`,
 * TESTWIRE_THREAD=off, no worker file), and error normalization, at a run's first failure. Both need
 * @testwire/protocol (the catalog, failure summaries), which a reporter that only records calls never loads.
 */
export { Core } from './core.js';
export { normalizeError } from './errors.js';
