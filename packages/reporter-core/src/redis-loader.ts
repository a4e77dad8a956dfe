/**
 * A shard's target: the group's Redis stream (@testwire/redis, loaded on first use, only when a Redis URL is
 * set). Anything missing (the package, a group) is said once on stderr and the core falls back to the local
 * broadcaster: the run is never affected.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as RedisModule from '@testwire/redis';
import type { BroadcasterLike } from './delivery.js';
import { localRequire } from './local-require.js';
import type { ResolvedOptions } from './options.js';

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`testwire: ${message}\n`);
}

/** @testwire/redis as the project installed it, else as this package sees it; undefined when neither has it. */
function loadRedis(rootDir: string): typeof RedisModule | undefined {
  for (const load of [
    () => createRequire(join(rootDir, 'package.json'))('@testwire/redis'),
    () => localRequire('@testwire/redis'),
  ]) {
    try {
      return load() as typeof RedisModule;
    } catch {
      // not installed there: try the next place
    }
  }
  return undefined;
}

/** The shard publisher for `options.redisUrl`, or undefined (said once) when it cannot be made. */
export function redisTarget(options: ResolvedOptions): BroadcasterLike | undefined {
  const url = options.redisUrl as string;
  const redis = loadRedis(options.rootDir);
  if (!redis) {
    warnOnce(
      'TESTWIRE_REDIS_URL is set but @testwire/redis is not installed (add it to the project); events go to the local broadcaster',
    );
    return undefined;
  }
  try {
    redis.checkRedisUrl(url);
    const group = options.group ? redis.groupId(options.group) : redis.ciGroup()?.id;
    if (!group) {
      warnOnce(
        'TESTWIRE_REDIS_URL is set but no CI run group is known (set TESTWIRE_GROUP, or run in GitHub Actions, GitLab, Buildkite or CircleCI); events go to the local broadcaster',
      );
      return undefined;
    }
    return new redis.ShardPublisher({
      url,
      group,
      logger: { warn: (message) => process.stderr.write(`${message}\n`) },
    });
  } catch (error) {
    warnOnce(`${(error as Error).message}; events go to the local broadcaster`);
    return undefined;
  }
}
