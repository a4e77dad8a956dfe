import { describe, expect, test } from 'vitest';
import { checkRedisUrl, redactUrl } from '../src/connection.js';
import { ciGroup, groupId, groupKeys } from '../src/group.js';

describe('ciGroup', () => {
  test.each([
    [
      { TESTWIRE_GROUP: 'nightly/42', GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '1' },
      'nightly-42',
      'TESTWIRE_GROUP',
    ],
    [
      { GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '9001', GITHUB_RUN_ATTEMPT: '2' },
      'gh-9001-2',
      'github-actions',
    ],
    [{ GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '9001' }, 'gh-9001-1', 'github-actions'],
    [{ GITLAB_CI: 'true', CI_PIPELINE_ID: '77' }, 'gl-77', 'gitlab'],
    [{ BUILDKITE: 'true', BUILDKITE_BUILD_ID: '0190-ab' }, 'bk-0190-ab', 'buildkite'],
    [{ CIRCLECI: 'true', CIRCLE_WORKFLOW_ID: 'wf-1' }, 'cc-wf-1', 'circleci'],
  ])('%j -> %s', (env, id, from) => {
    expect(ciGroup(env)).toEqual({ id, from });
  });

  test('outside CI there is no group', () => {
    expect(ciGroup({ CI: 'true' })).toBeUndefined();
    expect(ciGroup({})).toBeUndefined();
  });

  test('a group id that is empty once cleaned is an error; keys share one hash slot', () => {
    expect(() => groupId('  ')).toThrow(/empty/);
    expect(groupKeys('g')).toEqual({ stream: 'testwire:{g}:events', meta: 'testwire:{g}:meta' });
  });
});

describe('Redis URLs', () => {
  test('credentials never show', () => {
    expect(redactUrl('redis://user:s3cret@cache:6380/2')).toBe('redis://***@cache:6380/2');
    expect(redactUrl('rediss://:s3cret@cache:6380')).toBe('rediss://***@cache:6380');
    expect(redactUrl('unix:///run/redis.sock')).toBe('unix:///run/redis.sock');
    expect(redactUrl('unix://:s3cret@localhost/run/redis.sock?db=1')).toBe('unix:///run/redis.sock');
    expect(redactUrl('unix:///run/redis.sock?password=s3cret')).toBe('unix:///run/redis.sock');
  });

  test('a unix URL needs a socket path, and no host but localhost', () => {
    expect(() => checkRedisUrl('unix://')).toThrow(/needs a socket path/);
    expect(() => checkRedisUrl('unix://:s3cret@cache/run/redis.sock')).toThrow(/empty or localhost/);
    expect(() => checkRedisUrl('unix://:s3cret@localhost/run/redis.sock')).not.toThrow();
  });

  test('a bad URL is refused with what is wrong, without echoing it', () => {
    expect(() => checkRedisUrl('http://:s3cret@x')).toThrow(/scheme "http:"/);
    expect(() => checkRedisUrl('not a url s3cret')).toThrow(/not a URL/);
    try {
      checkRedisUrl('not a url s3cret');
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
