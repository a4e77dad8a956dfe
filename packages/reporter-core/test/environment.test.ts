import { describe, expect, it } from 'vitest';
import { detectCi } from '../src/index.js';

describe('detectCi', () => {
  it('reads each provider from its own variables, leaving out what is unset', () => {
    expect(
      detectCi({
        GITHUB_ACTIONS: 'true',
        GITHUB_REF_NAME: 'main',
        GITHUB_SHA: 'abc',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '7',
      }),
    ).toEqual({
      provider: 'github-actions',
      branch: 'main',
      commit: 'abc',
      buildUrl: 'https://github.com/o/r/actions/runs/7',
    });
    expect(detectCi({ GITLAB_CI: 'true', CI_COMMIT_REF_NAME: 'dev', CI_JOB_URL: 'https://gl/j/1' })).toEqual({
      provider: 'gitlab',
      branch: 'dev',
      buildUrl: 'https://gl/j/1',
    });
    expect(detectCi({ CIRCLECI: 'true', CIRCLE_SHA1: 'def' })).toEqual({
      provider: 'circleci',
      commit: 'def',
    });
    expect(detectCi({ BUILDKITE: 'true', BUILDKITE_BRANCH: 'b' })).toEqual({
      provider: 'buildkite',
      branch: 'b',
    });
  });

  it('says generic for CI=1 and nothing outside CI', () => {
    expect(detectCi({ CI: '1' })).toEqual({ provider: 'generic' });
    expect(detectCi({ CI: 'false' })).toBeUndefined();
    expect(detectCi({})).toBeUndefined();
  });
});

describe('TESTWIRE_SHARD (runners without --shard)', () => {
  it("puts k/N on test.started's run; the runner's own shard wins", async () => {
    const { sinkCore } = await import('./helpers.js');
    const fromEnv = sinkCore({ env: { TESTWIRE_SHARD: '2/4' } });
    fromEnv.core.runStarted({});
    await fromEnv.core.runCompleted({ success: true });
    expect(fromEnv.of('test.started')[0]?.data.run.shard).toEqual({ current: 2, total: 4 });
    fromEnv.cleanup();

    const runner = sinkCore({ env: { TESTWIRE_SHARD: '2/4' } });
    runner.core.runStarted({ shard: { current: 1, total: 3 } });
    await runner.core.runCompleted({ success: true });
    expect(runner.of('test.started')[0]?.data.run.shard).toEqual({ current: 1, total: 3 });
    runner.cleanup();

    for (const bad of ['0/4', '5/4', 'two/4', '']) {
      const ignored = sinkCore({ env: { TESTWIRE_SHARD: bad } });
      ignored.core.runStarted({});
      await ignored.core.runCompleted({ success: true });
      expect(ignored.of('test.started')[0]?.data.run.shard).toBeUndefined();
      ignored.cleanup();
    }
  });
});
