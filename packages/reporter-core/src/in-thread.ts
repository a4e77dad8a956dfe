/**
 * What the runner's thread needs only sometimes, built as a file of its own (dist/in-thread.cjs) and loaded on
 * first use (in-thread-loader.ts): the Core, when calls are applied in the runner's thread (a `sink`,
 * TESTWIRE_THREAD=off, no worker file). It needs @testwire/protocol (the catalog), which a reporter that only
 * records calls never loads. Error normalization, needed at a run's first failure, is dist/errors.cjs.
 */
export { Core } from './core.js';
