/**
 * The CI run group: what ties the shards of one CI run together, read from the CI's own environment, and
 * the Redis keys of a group.
 */

type Env = Record<string, string | undefined>;

/** Where a group id came from (said in logs and /status; never a secret). */
export interface GroupSource {
  /** `[A-Za-z0-9._:-]`, at most 200 characters. */
  id: string;
  /** `TESTWIRE_GROUP`, `github-actions`, `gitlab`, `buildkite`, `circleci`, or `option`. */
  from: string;
}

/**
 * The group of this CI run: an explicit `TESTWIRE_GROUP`, else GitHub Actions run id + attempt (a re-run is
 * a new group), GitLab pipeline id, Buildkite build id, CircleCI workflow id. Undefined outside CI.
 */
export function ciGroup(env: Env = process.env): GroupSource | undefined {
  const pick = (id: string | undefined, from: string): GroupSource | undefined =>
    id ? { id: groupId(id), from } : undefined;
  if (env.TESTWIRE_GROUP) return pick(env.TESTWIRE_GROUP, 'TESTWIRE_GROUP');
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_RUN_ID)
    return pick(`gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}`, 'github-actions');
  if (env.GITLAB_CI && env.CI_PIPELINE_ID) return pick(`gl-${env.CI_PIPELINE_ID}`, 'gitlab');
  if (env.BUILDKITE && env.BUILDKITE_BUILD_ID) return pick(`bk-${env.BUILDKITE_BUILD_ID}`, 'buildkite');
  if (env.CIRCLECI && env.CIRCLE_WORKFLOW_ID) return pick(`cc-${env.CIRCLE_WORKFLOW_ID}`, 'circleci');
  return undefined;
}

/** A group id as used in keys: other characters become `-` (two spellings of one id stay one group). */
export function groupId(raw: string): string {
  const id = raw
    .trim()
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .slice(0, 200);
  if (!id) throw new TypeError(`group id ${JSON.stringify(raw)} is empty once cleaned`);
  return id;
}

/** The Redis keys of a group. The `{…}` hash tag keeps them in one slot (Redis Cluster: one script, two keys). */
export function groupKeys(group: string, prefix = 'testwire'): { stream: string; meta: string } {
  return { stream: `${prefix}:{${group}}:events`, meta: `${prefix}:{${group}}:meta` };
}

/** The run id of the group's own run (the merged view's `test.started` … `test.completed`). */
export const groupRunId = (group: string): string => `group:${group}`;
