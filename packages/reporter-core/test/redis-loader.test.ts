/** A shard's target: the group's Redis stream when a Redis URL and a group are known, else (said once) none. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveOptions } from '../src/options.js';
import { redisTarget } from '../src/redis-loader.js';

afterEach(() => vi.restoreAllMocks());

const options = (env: Record<string, string>) =>
  resolveOptions({ framework: 'jest', rootDir: process.cwd(), env }).options;

describe('redisTarget', () => {
  it('publishes to the group given by TESTWIRE_GROUP; its url shows no credentials', async () => {
    const target = redisTarget(
      options({ TESTWIRE_REDIS_URL: 'redis://:s3cret@127.0.0.1:1', TESTWIRE_GROUP: 'g 1' }),
    );
    expect(target?.role).toBe('publisher');
    expect(target?.url).toBe('redis://***@127.0.0.1:1#g-1');
    await target?.close({ timeoutMs: 10 });
  });

  it('without a group, or with a bad URL, there is none, and it is said once on stderr without the secret', () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    const saved = { ...process.env };
    for (const key of ['GITHUB_ACTIONS', 'GITLAB_CI', 'BUILDKITE', 'CIRCLECI', 'TESTWIRE_GROUP'])
      delete process.env[key];
    try {
      expect(redisTarget(options({ TESTWIRE_REDIS_URL: 'redis://:s3cret@127.0.0.1:1' }))).toBeUndefined();
      expect(
        redisTarget(options({ TESTWIRE_REDIS_URL: 'http://:s3cret@x', TESTWIRE_GROUP: 'g' })),
      ).toBeUndefined();
    } finally {
      process.env = saved;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/no CI run group is known/);
    expect(writes.join('')).not.toContain('s3cret');
  });
});
