/**
 * Tells a skipped test from a todo. Mocha has one "pending" state for both: `it.skip('t', fn)` and `xit`
 * drop the function, so at run time they look exactly like `it('t')` declared without one. The declaration
 * in the source tells them apart; when it cannot be found (computed titles) the test is "skipped", which
 * is what mocha's own "pending" means.
 *
 *   it('t')                     -> todo
 *   it.skip('t', …), xit('t', …) -> skipped      this.skip() at run time, describe.skip -> skipped
 */
import { readFileSync } from 'node:fs';
import type { MochaRunnable, MochaSuite } from './mocha-types.js';

export type PendingKind = 'skipped' | 'todo';

/** Callee right before the title literal: `it(`, `specify.skip(`, `xit(`, `test.skip(` (tdd), … */
const CALLEE_BEFORE = /(?:^|[^\w$.])(x?)(?:it|specify|test)(\s*\.\s*skip)?\s*\(\s*$/;
/** How far before a title literal to look for the callee. */
const CALLEE_WINDOW = 40;
/** Source files bigger than this are not scanned (a generated file; the test is then "skipped"). */
const MAX_SOURCE = 2 * 1024 * 1024;

export class PendingClassifier {
  private readonly sources = new Map<string, string | undefined>();

  classify(test: MochaRunnable): PendingKind {
    // A test with a function was skipped at run time (this.skip(), a skipping hook): never a todo.
    if (test.fn || test.body) return 'skipped';
    if (inPendingSuite(test.parent)) return 'skipped';
    const source = test.file ? this.source(test.file) : undefined;
    if (source === undefined) return 'skipped';
    return declarationKind(source, test.title) ?? 'skipped';
  }

  private source(file: string): string | undefined {
    if (this.sources.has(file)) return this.sources.get(file);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
      if (text.length > MAX_SOURCE) text = undefined;
    } catch {
      text = undefined;
    }
    this.sources.set(file, text);
    return text;
  }
}

/** The kind of the first declaration of `title` found in `source`, if any. */
export function declarationKind(source: string, title: string): PendingKind | undefined {
  for (const literal of titleLiterals(title)) {
    let index = source.indexOf(literal);
    while (index !== -1) {
      const callee = CALLEE_BEFORE.exec(source.slice(Math.max(0, index - CALLEE_WINDOW), index));
      if (callee) {
        if (callee[1] || callee[2]) return 'skipped';
        // `it('t')`: the call closes right after the title, no function.
        return /^\s*,?\s*\)/.test(source.slice(index + literal.length, index + literal.length + 20))
          ? 'todo'
          : undefined;
      }
      index = source.indexOf(literal, index + 1);
    }
  }
  return undefined;
}

/** The title as a JS string literal in each quote style. */
function titleLiterals(title: string): string[] {
  const escaped = title.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return ["'", '"', '`'].map((quote) => quote + escaped.split(quote).join(`\\${quote}`) + quote);
}

function inPendingSuite(suite: MochaSuite | undefined): boolean {
  for (let current = suite; current; current = current.parent) {
    const pending = (current as { pending?: unknown }).pending;
    if (pending === true) return true;
    const isPending = (current as { isPending?: () => boolean }).isPending;
    if (typeof isPending === 'function' && isPending.call(current)) return true;
  }
  return false;
}
