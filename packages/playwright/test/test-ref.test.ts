import path from 'node:path';
import type { TestCase } from '@playwright/test/reporter';
import { describe, expect, it } from 'vitest';
import { projectOf, relativeFile, specFileOf, TestRefs, titlePathOf } from '../src/test-ref.js';
import { ROOT, suite, testCase, tree } from './fakes.js';

describe('titlePathOf', () => {
  it('is the describe titles then the test title, without root, project and file', () => {
    const { group } = tree();
    const inner = suite('describe', 'inner', group);
    const test = testCase(inner, 'does it');
    expect(test.titlePath()).toEqual(['', 'chromium', 'tests/a.spec.ts', 'group', 'inner', 'does it']);
    expect(titlePathOf(test)).toEqual(['group', 'inner', 'does it']);
  });

  it('leaves anonymous describe groups out', () => {
    const { group } = tree();
    const anonymous = suite('describe', '', group);
    expect(titlePathOf(testCase(anonymous, 'x'))).toEqual(['group', 'x']);
  });

  it('handles a test directly in a file', () => {
    const { file } = tree();
    expect(titlePathOf(testCase(file, 'top level'))).toEqual(['top level']);
  });

  it('falls back to titlePath() when suites have no type (Playwright < 1.44)', () => {
    const { group } = tree();
    const test = testCase(group, 'old');
    for (
      let s = test.parent as { type?: string; parent?: unknown } | undefined;
      s;
      s = s.parent as typeof s
    ) {
      Object.defineProperty(s, 'type', { value: undefined });
    }
    expect(titlePathOf(test)).toEqual(['group', 'old']);
  });
});

describe('specFileOf', () => {
  it("is the file suite's file, not where a helper module declares the test", () => {
    const { group } = tree();
    expect(specFileOf(testCase(group, 'own'))).toBe(`${ROOT}/tests/a.spec.ts`);
    const shared = testCase(group, 'shared', { file: `${ROOT}/tests/helpers.ts` });
    expect(specFileOf(shared)).toBe(`${ROOT}/tests/a.spec.ts`);
  });

  it('finds the file suite by `_type` before Playwright 1.44, and keeps test.location without one', () => {
    const { file, group } = tree();
    const test = testCase(group, 'shared', { file: `${ROOT}/tests/helpers.ts` });
    for (
      let s = test.parent as { type?: string; parent?: unknown } | undefined;
      s;
      s = s.parent as typeof s
    ) {
      Object.defineProperty(s, '_type', { value: s.type, writable: true });
      Object.defineProperty(s, 'type', { value: undefined });
    }
    expect(specFileOf(test)).toBe(`${ROOT}/tests/a.spec.ts`);
    (file as unknown as { _type: string })._type = 'describe';
    expect(specFileOf(test)).toBe(`${ROOT}/tests/helpers.ts`);
  });
});

describe('projectOf', () => {
  it('is the Playwright project name, undefined for the unnamed project', () => {
    expect(projectOf(testCase(tree('firefox').group, 't'))).toBe('firefox');
    expect(projectOf(testCase(tree('').group, 't'))).toBeUndefined();
  });
});

describe('relativeFile', () => {
  it('makes absolute paths root-relative with /', () => {
    expect(relativeFile(ROOT, `${ROOT}/tests/a.spec.ts`)).toBe('tests/a.spec.ts');
    expect(relativeFile(ROOT, path.join(ROOT, 'x', 'y.spec.ts'))).toBe('x/y.spec.ts');
    expect(relativeFile(ROOT, 'already/relative.spec.ts')).toBe('already/relative.spec.ts');
  });
});

describe('TestRefs', () => {
  it('builds the ref from location, project and repeat index, once per test', () => {
    const refs = new TestRefs(ROOT);
    const test = testCase(tree('webkit').group, 'named', { line: 12 });
    (test as { repeatEachIndex: number }).repeatEachIndex = 2;
    const ref = refs.get(test);
    expect(ref).toEqual({
      file: 'tests/a.spec.ts',
      titlePath: ['group', 'named'],
      project: 'webkit',
      repeatIndex: 2,
      line: 12,
      column: 7,
    });
    expect(refs.get(test)).toBe(ref);
    expect(refs.get(testCase(tree().group, 'other') as TestCase)).not.toBe(ref);
  });

  it('names a test declared in a helper module by its spec file, one ref per spec file, declared in the helper', () => {
    const refs = new TestRefs(ROOT);
    const { project, group } = tree();
    const otherFile = suite('file', 'tests/b.spec.ts', project);
    const helper = `${ROOT}/tests/helpers.ts`;
    const inA = refs.get(testCase(group, 'shared', { file: helper, line: 12 }));
    const inB = refs.get(
      testCase(suite('describe', 'group', otherFile), 'shared', { file: helper, line: 12 }),
    );
    expect(inA).toEqual({
      file: 'tests/a.spec.ts',
      titlePath: ['group', 'shared'],
      project: 'chromium',
      repeatIndex: 0,
      declaredIn: 'tests/helpers.ts',
      line: 12,
      column: 7,
    });
    expect(inB).toEqual({ ...inA, file: 'tests/b.spec.ts' });
  });
});
