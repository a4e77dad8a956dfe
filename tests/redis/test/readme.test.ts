/**
 * The README's "Sharded CI" GitHub Actions example: it must parse as YAML and say what the section says
 * (matrix shards passing their index to the runner's --shard, the Redis URL from a secret, one job running
 * `testwire serve --redis … --until-done`). Its mocha recipe (TESTWIRE_SHARD picks a job's spec files) must be
 * the code of the mocha fixture's .mocharc.cjs, which runners.e2e.test.ts runs as two shards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_DIR, REPO_ROOT } from './helpers.js';

/** The first ```<lang> block of the README's "Sharded CI" section. */
function shardedCiBlock(lang: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Sharded CI\n');
  expect(start, 'README has a "Sharded CI" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const block = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section);
  expect(block, `the section has a ${lang} block`).toBeTruthy();
  return block?.[1] ?? '';
}

const shardedCiYaml = () => shardedCiBlock('yaml');
const code = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('//'));

describe('README: Sharded CI', () => {
  test('the GitHub Actions example parses and has matrix shards, the Redis secret and one serve job', () => {
    const workflow = parse(shardedCiYaml(), { strict: true, uniqueKeys: true }) as any;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(workflow.env.TESTWIRE_REDIS_URL).toBe('${{ secrets.TESTWIRE_REDIS_URL }}');
    const jobs = Object.values(workflow.jobs) as any[];
    const sharded = jobs.filter((job) => job.strategy?.matrix?.shard);
    expect(sharded).toHaveLength(1);
    const shards: number[] = sharded[0].strategy.matrix.shard;
    const runs = sharded[0].steps.map((step: any) => step.run ?? '').join('\n');
    expect(runs).toContain(`--shard=\${{ matrix.shard }}/${shards.length}`);
    expect(runs).toContain('--reporter=@testwire/vitest');
    const serves = jobs.flatMap((job) =>
      job.steps.filter((step: any) => /testwire serve\b/.test(step.run ?? '')).map((step: any) => step.run),
    );
    // serve reads TESTWIRE_REDIS_URL (workflow env): a URL on its command line is in `ps` for everyone.
    for (const run of serves) expect(run).not.toMatch(/--redis|REDIS_URL/);
    const serving = jobs.filter((job) =>
      job.steps.some((step: any) => /testwire serve\b.*--until-done/.test(step.run ?? '')),
    );
    expect(serving).toHaveLength(1);
    expect(serving[0].strategy).toBeUndefined();
    for (const job of jobs) expect(job['runs-on']).toBeTruthy();
  });

  test('the mocha recipe is the one the mocha shards run', () => {
    const fixture = readFileSync(join(PACKAGE_DIR, 'fixtures/mocha-sharded/.mocharc.cjs'), 'utf8');
    expect(code(shardedCiBlock('js'))).toEqual(code(fixture));
    expect(code(fixture).join('\n')).toContain('TESTWIRE_SHARD');
  });
});
