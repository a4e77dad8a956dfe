/**
 * projectPatterns: the patterns of a project config as jest-config normalizes it (the real jest-config of
 * compat/jest-<major>), told as written: `<rootDir>` back in place of the folder jest put there, glob characters
 * of the folder's name escaped as jest escapes them.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPatterns } from '../src/config.js';
import { compatDir } from './helpers.js';

// A folder whose name holds glob characters jest escapes (and whose escapes it partly turns into `/`).
const rootDir = realpathSync(mkdtempSync(join(tmpdir(), 'testwire (jest)[x]{y}!-')));
afterAll(() => rmSync(rootDir, { recursive: true, force: true }));

/** The jest-config of the jest installed in compat/jest-<major>. */
function jestConfig(major: number): {
  normalize(options: object, argv: object, configPath: null, index: number): Promise<{ options: object }>;
} {
  const jest = realpathSync(join(compatDir(major), 'node_modules', 'jest', 'package.json'));
  const cli = createRequire(jest).resolve('jest-cli/package.json');
  return createRequire(cli)('jest-config');
}

describe.each([29, 30])('jest %i: projectPatterns', (major) => {
  const normalized = async (options: object) =>
    (await jestConfig(major).normalize({ rootDir, ...options }, {}, null, 0)).options;

  it('tells testMatch as written, <rootDir> and all', async () => {
    const testMatch = ['<rootDir>/**/*.check.js', '<rootDir>', '**/__tests__/**/*.js'];
    expect(projectPatterns(await normalized({ testMatch }))).toEqual(testMatch);
  });

  it('tells testRegex, not the empty testMatch jest leaves beside it', async () => {
    expect(projectPatterns(await normalized({ testRegex: 'check\\.js$' }))).toEqual(['check\\.js$']);
  });

  it("tells jest's default testMatch for a config without patterns", async () => {
    const { defaults } = jestConfig(major) as unknown as { defaults: { testMatch: string[] } };
    expect(projectPatterns(await normalized({}))).toEqual(defaults.testMatch);
  });

  it('tells none for a config jest gave no patterns', () => {
    expect(projectPatterns({ rootDir, testMatch: [], testRegex: [] })).toBeUndefined();
    expect(projectPatterns(undefined)).toBeUndefined();
  });
});
