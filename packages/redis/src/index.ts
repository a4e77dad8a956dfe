/**
 * @testwire/redis: the shards of one CI run, on many machines, live in one view through Redis Streams.
 * See README.md.
 */
export { checkRedisUrl, redactUrl } from './connection.js';
export { ciGroup, type GroupSource, groupId, groupKeys, groupRunId } from './group.js';
export {
  type DerivedWrite,
  type GroupStatus,
  GroupView,
  type GroupViewOptions,
  type ShardState,
  type ShardStatus,
} from './merge.js';
export { type ShardFlushResult, ShardPublisher, type ShardPublisherOptions } from './publisher.js';
export type { RedisLinkState, RedisLinkStatus, RedisRefusal } from './redis-link.js';
export { type GroupServer, type ServeGroupOptions, serveGroup } from './serve-group.js';
