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
