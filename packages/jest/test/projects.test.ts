import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProjectNames } from '../src/projects.js';

/** The id jest-config gives a project it did not get one for (normalize: normalizeMissingOptions). */
const jestId = (rootDir: string, configPath: string | null, index: number) =>
  createHash('sha1')
    .update(rootDir)
    .update(configPath || '')
    .update(String(index))
    .digest('hex')
    .slice(0, 32);

const dir = mkdtempSync(join(tmpdir(), 'testwire-jest-projects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ProjectNames', () => {
  it('a single project keeps its name, or none', () => {
    const names = new ProjectNames(undefined);
    expect(
      names.of({ id: jestId('/r', '/r/jest.config.js', Infinity), displayName: 'A', rootDir: '/r' }),
    ).toBe('A');
    expect(names.of({ id: 'x', rootDir: '/r' })).toBeUndefined();
  });

  it('projects named apart keep their names; namesakes get their position among them', () => {
    const entries = [{ displayName: 'A' }, { displayName: { name: 'B' } }, { displayName: 'A' }, {}, {}];
    const names = new ProjectNames(entries);
    const of = (index: number, displayName?: string) =>
      names.of({ id: jestId('/r', null, index), rootDir: '/r', ...(displayName ? { displayName } : {}) });
    expect([of(0, 'A'), of(1, 'B'), of(2, 'A'), of(3), of(4)]).toEqual(['A#1', 'B', 'A#2', '#1', '#2']);
    // The same in any order (the order files start in is jest's scheduling).
    const again = new ProjectNames(entries);
    expect(again.of({ id: jestId('/r', null, 2), rootDir: '/r', displayName: 'A' })).toBe('A#2');
  });

  it('path projects: found by their config file, named by it when jest left it readable (JSON)', () => {
    const one = join(dir, 'one.json');
    const two = join(dir, 'two.json');
    writeFileSync(one, JSON.stringify({ displayName: 'unit' }));
    writeFileSync(two, JSON.stringify({ displayName: 'unit' }));
    // A globbed file jest ignores: not a project, so not a position.
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, '');
    const names = new ProjectNames([notes, one, two]);
    expect(names.of({ id: jestId(dir, two, 1), rootDir: dir, displayName: 'unit' })).toBe('unit#2');
    expect(names.of({ id: jestId(dir, one, 0), rootDir: dir, displayName: 'unit' })).toBe('unit#1');
  });

  it('a path project whose config is not readable here is no namesake, not even of one without a name', () => {
    const esm = join(dir, 'esm.config.mjs');
    writeFileSync(esm, 'export default {};\n');
    const names = new ProjectNames([esm, {}]);
    expect(names.of({ id: jestId(dir, null, 1), rootDir: dir })).toBeUndefined();
  });

  it("an id of the user's own tells namesakes apart; a unique name stays", () => {
    const names = new ProjectNames([
      { id: 'first', displayName: 'A' },
      { id: 'second', displayName: 'A' },
      { id: 'third', displayName: 'C' },
    ]);
    expect(names.of({ id: 'second', rootDir: '/r', displayName: 'A' })).toBe('A#second');
    expect(names.of({ id: 'third', rootDir: '/r', displayName: 'C' })).toBe('C');
  });
});
