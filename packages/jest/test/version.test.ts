import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jestBinVersion, jestVersion } from '../src/version.js';

const root = mkdtempSync(join(tmpdir(), 'testwire-jest-version-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A package `name`@`version` under `dir`/node_modules, with a bin file; returns the bin's path. */
function install(dir: string, name: string, version: string): string {
  const pkg = join(dir, 'node_modules', name);
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, version }));
  writeFileSync(join(pkg, 'bin', 'jest.js'), '');
  return join(pkg, 'bin', 'jest.js');
}

describe('jestVersion', () => {
  const global = join(root, 'global');
  const bin29 = install(global, 'jest', '29.7.0');
  const cli29 = install(global, 'jest-cli', '29.7.0');
  const other = install(global, 'other-runner', '1.0.0');

  // (A project that resolves no jest cannot be made here: vitest's bin puts its own node_modules on NODE_PATH.)
  it("for a project that resolves no jest: the version of the jest whose bin runs (jest's, or jest-cli's)", () => {
    expect(jestBinVersion(bin29)).toBe('29.7.0');
    expect(jestBinVersion(cli29)).toBe('29.7.0');
    expect(jestBinVersion(other)).toBeUndefined();
    expect(jestBinVersion(join(root, 'missing.js'))).toBeUndefined();
  });

  it('the package the bin belongs to, past a package.json of its own folder (`type` only)', () => {
    const bin = install(join(root, 'typed'), 'jest', '30.2.0');
    writeFileSync(join(dirname(bin), 'package.json'), '{ "type": "commonjs" }');
    expect(jestBinVersion(bin)).toBe('30.2.0');
  });

  it("the project's own jest first: jest's bin hands over to it (import-local)", () => {
    const project = join(root, 'project');
    install(project, 'jest', '30.1.0');
    expect(jestVersion(project, bin29)).toBe('30.1.0');
  });
});
