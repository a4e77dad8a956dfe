import { describe, expect, it } from 'vitest';
import { declarationKind } from '../src/pending.js';

describe('declarationKind', () => {
  it('a test declared without a function is a todo', () => {
    expect(declarationKind(`it('todo test');`, 'todo test')).toBe('todo');
    expect(declarationKind(`  specify("later")\n`, 'later')).toBe('todo');
    expect(declarationKind('test(`tdd todo`,)', 'tdd todo')).toBe('todo');
  });

  it('it.skip / xit / specify.skip are skipped', () => {
    expect(declarationKind(`it.skip('s', () => {})`, 's')).toBe('skipped');
    expect(declarationKind(`it . skip ('s')`, 's')).toBe('skipped');
    expect(declarationKind(`xit('s', function () {})`, 's')).toBe('skipped');
    expect(declarationKind(`xspecify("s")`, 's')).toBe('skipped');
    expect(declarationKind(`test.skip('s', () => {})`, 's')).toBe('skipped');
  });

  it('finds titles with quotes and backslashes as written in the source', () => {
    expect(declarationKind(`it('it\\'s later');`, "it's later")).toBe('todo');
    expect(declarationKind(`it("say \\"hi\\"");`, 'say "hi"')).toBe('todo');
    expect(declarationKind(`it.skip('a\\\\b', () => {});`, 'a\\b')).toBe('skipped');
  });

  it('ignores the title where it is not a test declaration', () => {
    expect(declarationKind(`const t = 'x'; describe('x', () => {}); xit('x')`, 'x')).toBe('skipped');
    expect(declarationKind(`console.log('x'); it('x')`, 'x')).toBe('todo');
    expect(declarationKind(`fit('x')`, 'x')).toBeUndefined();
    expect(declarationKind(`it(title)`, 'x')).toBeUndefined();
  });

  it('a declaration with a function that is pending anyway is undecided (the caller says skipped)', () => {
    expect(declarationKind(`it('x', () => {})`, 'x')).toBeUndefined();
  });
});
