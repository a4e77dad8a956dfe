/**
 * Playwright saves a run's baseline under its testDir (the reporter's root is Playwright's config.rootDir),
 * so a project with its tests under ./tests has tests/.test-baselines/; `testwire baseline` run from the
 * project's root must find it there: a real Playwright run (tests without a browser) with
 * `baseline: { save: 'pw' }`, then list, show, compare and save from the root.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, cli, FIXTURES, freePort, parseNdjson, REPO_ROOT, run, until } from './helpers.js';

const PLAYWRIGHT_COMPAT = join(REPO_ROOT, 'compat/playwright');
const work = join(
  PLAYWRIGHT_COMPAT,
  'work',
  `cli-baseline-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
);
/** `testwire baseline …` run from the project's root, as a user would. */
const baseline = (...args: string[]) =>
  run(process.execPath, [CLI, 'baseline', ...args], {
    cwd: work,
    env: { TESTWIRE_URL: '', TESTWIRE_PORT: '', TESTWIRE_HOST: '', TESTWIRE_API_KEY: '' },
  });

beforeAll(async () => {
  assertBuilt();
  mkdirSync(work, { recursive: true });
  cpSync(join(FIXTURES, 'playwright'), work, { recursive: true });
  // The run's events, for compare/save --from: tail hosts the endpoint the run's reporter joins.
  const port = await freePort();
  const tail = cli(['tail', '--port', String(port), '--wait', '--json', '--until', 'test.completed'], {
    timeoutMs: 90_000,
  });
  let noted = '';
  tail.child.stderr!.on('data', (chunk) => (noted += chunk));
  await until(
    () => noted,
    (text) => text.includes('hosting'),
    20_000,
  );
  const playwright = await run(join(PLAYWRIGHT_COMPAT, 'node_modules/.bin/playwright'), ['test'], {
    cwd: work,
    env: { TESTWIRE_URL: '', TESTWIRE_PORT: String(port), CI: '1' },
    timeoutMs: 90_000,
  });
  expect(playwright.code, playwright.stdout + playwright.stderr).toBe(0);
  const tailed = await tail;
  expect(tailed.code, tailed.stderr).toBe(0);
  writeFileSync(join(work, 'run.ndjson'), tailed.stdout);
  expect(parseNdjson(tailed.stdout).filter((e) => e.type === 'test.result')).toHaveLength(2);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('baselines a Playwright run saved under its testDir', () => {
  it('are where Playwright put them: tests/.test-baselines, not the root', () => {
    expect(existsSync(join(work, 'tests/.test-baselines/pw.json'))).toBe(true);
    expect(existsSync(join(work, '.test-baselines'))).toBe(false);
  });

  it('list, show, compare and save find them from the project root', async () => {
    const listed = await baseline('list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ label: 'pw', path: './tests/.test-baselines/pw.json', tests: 2, runs: 1 }),
    ]);
    const text = await baseline('list');
    expect(text.stdout).toMatch(/^pw +2 tests +1 runs +playwright.*\.\/tests\/\.test-baselines\/pw\.json/m);

    const shown = await baseline('show', 'pw');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('baseline pw ./tests/.test-baselines/pw.json');

    const compared = await baseline('compare', 'pw', '--from', 'run.ndjson', '--json');
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stderr).toBe('');
    expect(JSON.parse(compared.stdout)).toMatchObject({
      framework: 'playwright',
      path: './tests/.test-baselines/pw.json',
      comparison: { testsAdded: 0, testsRemoved: 0 },
    });

    // Folded into the file Playwright reads back (baseline: { compare: 'pw' }), not a new one at the root.
    const saved = await baseline('save', 'pw', '--from', 'run.ndjson', '--json');
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ path: './tests/.test-baselines/pw.json', runs: 2 });
    expect(existsSync(join(work, '.test-baselines'))).toBe(false);
  });

  it('a label in two folders is not guessed: the error names both, --dir picks one', async () => {
    mkdirSync(join(work, 'e2e/.test-baselines'), { recursive: true });
    cpSync(join(work, 'tests/.test-baselines/pw.json'), join(work, 'e2e/.test-baselines/pw.json'));
    try {
      const shown = await baseline('show', 'pw');
      expect(shown.code).toBe(2);
      expect(shown.stderr.trim()).toBe(
        'testwire: baseline pw is in 2 folders: ./e2e/.test-baselines, ./tests/.test-baselines; pick one with --dir',
      );
      const picked = await baseline('show', 'pw', '--dir', 'e2e/.test-baselines');
      expect(picked.code, picked.stderr).toBe(0);
      expect(picked.stdout).toContain('./e2e/.test-baselines/pw.json');

      // The other file holds another runner's tests: compare and save pick the one with the run's runner.
      const other = join(work, 'e2e/.test-baselines/pw.json');
      writeFileSync(other, readFileSync(other, 'utf8').replaceAll('"playwright', '"jest'));
      const compared = await baseline('compare', 'pw', '--from', 'run.ndjson', '--json');
      expect(compared.code, compared.stderr).toBe(0);
      expect(JSON.parse(compared.stdout)).toMatchObject({ path: './tests/.test-baselines/pw.json' });
    } finally {
      rmSync(join(work, 'e2e'), { recursive: true, force: true });
    }
  });
});
