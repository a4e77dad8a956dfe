import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunInfo } from '@testwire/protocol';

type Env = Record<string, string | undefined>;

/** Providers whose metadata is three plain variables: the one that says "this is us", branch, commit, URL. */
const PROVIDERS: readonly {
  provider: string;
  when: string;
  branch: string;
  commit: string;
  buildUrl: string;
}[] = [
  {
    provider: 'gitlab',
    when: 'GITLAB_CI',
    branch: 'CI_COMMIT_REF_NAME',
    commit: 'CI_COMMIT_SHA',
    buildUrl: 'CI_JOB_URL',
  },
  {
    provider: 'circleci',
    when: 'CIRCLECI',
    branch: 'CIRCLE_BRANCH',
    commit: 'CIRCLE_SHA1',
    buildUrl: 'CIRCLE_BUILD_URL',
  },
  {
    provider: 'buildkite',
    when: 'BUILDKITE',
    branch: 'BUILDKITE_BRANCH',
    commit: 'BUILDKITE_COMMIT',
    buildUrl: 'BUILDKITE_BUILD_URL',
  },
];

/** CI metadata from the well-known environment variables of each provider; undefined outside CI. */
export function detectCi(env: Env = process.env): RunInfo['ci'] {
  const pick = (info: NonNullable<RunInfo['ci']>) =>
    Object.fromEntries(Object.entries(info).filter(([, value]) => value)) as NonNullable<RunInfo['ci']>;
  if (env.GITHUB_ACTIONS === 'true') {
    const buildUrl =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined;
    return pick({
      provider: 'github-actions',
      branch: env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME,
      commit: env.GITHUB_SHA,
      buildUrl,
    });
  }
  for (const known of PROVIDERS) {
    if (env[known.when]) {
      return pick({
        provider: known.provider,
        branch: env[known.branch],
        commit: env[known.commit],
        buildUrl: env[known.buildUrl],
      });
    }
  }
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return { provider: 'generic' };
  return undefined;
}

/** The `name` of the nearest package.json at or above `dir`, if any. */
export function findPackageName(dir: string): string | undefined {
  let current = dir;
  for (let depth = 0; depth < 64; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(current, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof pkg.name === 'string' && pkg.name) return pkg.name;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

/** The package's project: the `project` option, else the nearest package.json's name (never throws). */
export function projectOf(options: { project?: string; rootDir: string }): string | undefined {
  if (options.project) return options.project;
  try {
    return findPackageName(options.rootDir);
  } catch {
    return undefined;
  }
}

/** TESTWIRE_SHARD as `k/N` (1 <= k <= N), for runners without a `--shard` option; undefined otherwise. */
export function shardFromEnv(env: Env = process.env): { current: number; total: number } | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(env.TESTWIRE_SHARD ?? '');
  if (!match) return undefined;
  const current = Number(match[1]);
  const total = Number(match[2]);
  return current >= 1 && current <= total ? { current, total } : undefined;
}
