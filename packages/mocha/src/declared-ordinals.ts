/**
 * Serial mode with `.only`: each test's ordinal among its twins (the tests of one file that share a title
 * path), in the order mocha would run them all, read from the suite tree before mocha filters it.
 *
 * The reporter gives twins their ordinals by arrival (reporter.ts, entry()), which is declaration order as long
 * as every twin arrives: skipped ones are reported too, and `--grep` keeps or drops twins together (they share
 * their full title). `.only` does not: when the run begins — after mocha made its reporter — it keeps only
 * the focused tests (Suite#filterOnly), and a focused later twin would arrive first and take the first twin's
 * ordinal, and with it the first twin's id. Read here first, the ordinals are the ones each twin gets in a run
 * of them all.
 *
 *   describe('a') { it('x') ①; it.only('x') ② }   arrival: ② alone -> ordinal 0 (wrong); declared: 1
 *
 * `--parallel` has no `.only` (mocha fails such a file): the main process needs none of this.
 */
import type { MochaRunnable, MochaSuite } from './mocha-types.js';

/** Each test object's declared ordinal, or undefined when the run has no `.only` (arrival is right then). */
export function declaredOrdinals(root: MochaSuite | undefined): WeakMap<object, number> | undefined {
  if (!root || typeof root.hasOnly !== 'function' || !root.hasOnly()) return undefined;
  const ordinals = new WeakMap<object, number>();
  // file, then the title path: twins so far
  const counts = new Map<string, number>();
  // mocha's run order: a suite's tests, then its suites, depth first
  const visit = (suite: MochaSuite) => {
    for (const test of suite.tests ?? []) {
      const key = `${test.file ?? ''}\0${titlePathOf(test).join('\0')}`;
      const ordinal = counts.get(key) ?? 0;
      counts.set(key, ordinal + 1);
      ordinals.set(test, ordinal);
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  visit(root);
  return ordinals;
}

/** A test's declared ordinal: a retry's clone has its test's. */
export function declaredOrdinal(ordinals: WeakMap<object, number>, test: MochaRunnable): number | undefined {
  const known = ordinals.get(test);
  if (known !== undefined) return known;
  const original = typeof test.retriedTest === 'function' ? test.retriedTest() : undefined;
  return original ? ordinals.get(original) : undefined;
}

function titlePathOf(test: MochaRunnable): string[] {
  try {
    return test.titlePath().map(String);
  } catch {
    return [String(test.title)];
  }
}
