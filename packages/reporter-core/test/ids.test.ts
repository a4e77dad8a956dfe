import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PathRelativizer } from '../src/ids.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('PathRelativizer', () => {
  it('makes stack paths under the root and under the package root above it relative', () => {
    // project/ (package.json) > tests/ (the runner's root, e.g. Playwright's testDir) ; project/src/page.ts
    const project = mkdtempSync(join(tmpdir(), 'testwire-paths-'));
    dirs.push(project);
    writeFileSync(join(project, 'package.json'), '{}');
    const root = join(project, 'tests');
    mkdirSync(root);
    const paths = PathRelativizer.forRoot(root);
    const stack = [
      'Error: boom',
      `    at fill (${join(project, 'src/page.ts')}:3:9)`,
      `    at ${join(root, 'login.spec.ts')}:12:5`,
      `    at file://${join(project, 'src/url.ts')}:1:1`,
    ].join('\n');
    const text = paths.text(stack);
    expect(text).toBe(
      [
        'Error: boom',
        '    at fill (../src/page.ts:3:9)',
        '    at login.spec.ts:12:5',
        '    at ../src/url.ts:1:1',
      ].join('\n'),
    );
    expect(text).not.toContain(project);
    expect(paths.file(join(project, 'src/page.ts'))).toBe('../src/page.ts');
  });

  it('leaves a sibling directory that only shares a prefix alone', () => {
    const paths = new PathRelativizer('/work/app/tests', undefined, ['/work/app']);
    expect(paths.text('at /work/app/tests/a.ts:1 and /work/application/b.ts:2')).toBe(
      'at a.ts:1 and /work/application/b.ts:2',
    );
  });
});
