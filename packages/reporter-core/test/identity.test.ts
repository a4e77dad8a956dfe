import { describe, expect, it } from 'vitest';
import type { TestRef } from '../src/api.js';
import { Identities } from '../src/identity.js';
import { PathRelativizer, stableTestId } from '../src/ids.js';

const ROOT = '/repo';
const identities = () => new Identities('mocha', 'pkg', new PathRelativizer(ROOT));
const ref = (titlePath: string[], extra: Partial<TestRef> = {}): TestRef => ({
  file: `${ROOT}/test/a.test.js`,
  titlePath,
  ...extra,
});

describe('Identities', () => {
  it('gives a test the same identity by any ref with its content, and the stable id', () => {
    const ids = identities();
    const first = ids.of(ref(['block', 'works']));
    // A new ref object per call (jest, refs decoded on the worker thread): the same identity.
    expect(ids.of(ref(['block', 'works']))).toBe(first);
    expect(first).toEqual({
      id: stableTestId({
        framework: 'mocha',
        project: 'pkg',
        file: 'test/a.test.js',
        titlePath: ['block', 'works'],
      }),
      titlePath: ['block', 'works'],
      testName: 'works',
      suite: 'block',
      file: 'test/a.test.js',
      location: { file: 'test/a.test.js' },
    });
  });

  it('gives every test its own blocks and suite when blocks interleave, nest and share titles', () => {
    const ids = identities();
    // Blocks' titles are kept once and shared (see Identities.keep): a wrong share would show here.
    const paths = [
      ['a', 'one'],
      ['b', 'two'],
      ['a', 'b', 'three'],
      ['a > b', 'four'],
      ['b', 'a', 'five'],
      ['six'],
      ['a', 'seven'],
    ];
    for (const path of paths) {
      const identity = ids.of(ref([...path]));
      expect(identity.titlePath).toEqual(path);
      expect(identity.testName).toBe(path.at(-1));
      expect(identity.suite).toBe(path.slice(0, -1).join(' > '));
    }
    // Titles that are not strings are made strings, as before.
    const odd = ids.of({ file: `${ROOT}/test/a.test.js`, titlePath: [7 as never, 'eight'] });
    expect(odd.titlePath).toEqual(['7', 'eight']);
    expect(odd.suite).toBe('7');
  });

  it('forgets a test it was told to, and only that one: asked again, it computes the same identity anew', () => {
    const ids = identities();
    const first = ids.of(ref(['a', 'works']));
    const twin = ids.of(ref(['a', 'works'], { ordinal: 1 }));
    const third = ids.of(ref(['a', 'works'], { ordinal: 2 }));
    const other = ids.of(ref(['b', 'works']));
    // The middle of a chain of tests with one last title, then its head, then one never cached.
    ids.forget(ref(['a', 'works'], { ordinal: 1 }));
    ids.forget(ref(['a', 'works']));
    ids.forget(ref(['c', 'works']));
    expect(ids.of(ref(['a', 'works'], { ordinal: 2 }))).toBe(third);
    expect(ids.of(ref(['b', 'works']))).toBe(other);
    const again = ids.of(ref(['a', 'works'], { ordinal: 1 }));
    expect(again).not.toBe(twin);
    expect(again).toEqual(twin);
    const firstAgain = ids.of(ref(['a', 'works']));
    expect(firstAgain).not.toBe(first);
    expect(firstAgain).toEqual(first);
    // The ref looked up last is forgotten too (not answered from the last-lookup shortcut).
    const last = ref(['d', 'works']);
    const remembered = ids.of(last);
    ids.forget(last);
    expect(ids.of(last)).not.toBe(remembered);
  });

  it('tells apart tests that share a last title, a file or everything but one field', () => {
    const ids = identities();
    const base = ids.of(ref(['a', 'works']));
    const others = [
      ref(['b', 'works']),
      ref(['works']),
      ref(['a', 'works'], { ordinal: 1 }),
      ref(['a', 'works'], { repeatIndex: 2 }),
      ref(['a', 'works'], { project: 'chromium' }),
      ref(['a', 'works'], { file: `${ROOT}/test/b.test.js` }),
    ].map((r) => ids.of(r));
    expect(new Set([base, ...others].map((identity) => identity.id)).size).toBe(7);
    // Each is remembered apart: asking again gives each its own.
    expect(ids.of(ref(['a', 'works'], { ordinal: 1 }))).toBe(others[2]);
    expect(ids.of(ref(['a', 'works']))).toBe(base);
    // A location is part of the identity (same id).
    const placed = ids.of(ref(['a', 'works'], { line: 3, column: 5 }));
    expect(placed.id).toBe(base.id);
    expect(placed.location).toEqual({ file: 'test/a.test.js', line: 3, column: 5 });
    expect(placed.line).toBe(3);
    // Declared in another module (a helper its file calls): located there, the same id, no line of its file.
    const declared = ids.of(
      ref(['a', 'works'], { line: 7, column: 5, declaredIn: `${ROOT}/test/helpers.js` }),
    );
    expect(declared.id).toBe(base.id);
    expect(declared.file).toBe('test/a.test.js');
    expect(declared.location).toEqual({ file: 'test/helpers.js', line: 7, column: 5 });
    expect(declared.line).toBeUndefined();
    expect(ids.of(ref(['a', 'works'], { line: 7, column: 5 }))).not.toBe(declared);
  });

  it('follows a ref changed after it was looked up', () => {
    const ids = identities();
    const test = ref(['a', 'works']);
    const before = ids.of(test);
    test.titlePath[1] = 'renamed';
    const after = ids.of(test);
    expect(after.testName).toBe('renamed');
    expect(after.id).not.toBe(before.id);
    test.titlePath[1] = 'works';
    expect(ids.of(test)).toBe(before);
  });

  it('gives a title that is not a string its text, the same each time', () => {
    const ids = identities();
    const odd = ref(['a', 42 as unknown as string]);
    const first = ids.of(odd);
    expect(first.titlePath).toEqual(['a', '42']);
    expect(ids.of(ref(['a', 42 as unknown as string]))).toEqual(first);
    // and it is not taken for the test titled "42"
    expect(ids.of(ref(['a', '42'])).id).not.toBe(first.id);
  });
});
