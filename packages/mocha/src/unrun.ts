/**
 * Inside a `--parallel` worker: the tests a failed hook kept from ending. A before all / before each /
 * after each hook that fails makes mocha skip the rest of its suite without a word about those tests; serial
 * mode reports each of them when the suite ends (reporter.ts, settleFailedHook), from the live suite. Only
 * the worker has the live suite, so it finds them and adds them to its events (relay-wire.ts UNRUN_EVENT).
 */
import type { MochaRunnable, MochaRunner, MochaSuite } from './mocha-types.js';

/** A test the failure kept from ending; `began`: it began (its before-each hook failed) and never ended. */
export interface UnrunTest {
  test: MochaRunnable;
  began: boolean;
}

export class UnrunTests {
  private readonly began = new WeakSet<object>();
  private readonly ended = new WeakSet<object>();
  private readonly failed = new Map<MochaSuite, { hook: string; error: unknown }>();

  /** Every runner event of the worker, as it happens. */
  note(eventName: string, runnable: unknown, error: unknown): void {
    if (!runnable || typeof runnable !== 'object') return;
    if (eventName === 'test') this.began.add(runnable);
    else if (eventName === 'test end') this.ended.add(runnable);
    else if (eventName === 'fail') {
      const hook = runnable as MochaRunnable;
      const suite = hook.parent;
      // the first failed hook of a suite, as serial mode keeps it (after all: its tests have all ended)
      if (hook.type === 'hook' && suite && Array.isArray(suite.tests) && !this.failed.has(suite))
        this.failed.set(suite, { hook: hook.title, error });
    }
  }

  /**
   * The suite ends: when one of its hooks failed, that hook's title and error and, in declaration order, its tests
   * (nested suites' too, `--grep` applied as mocha applies it) that never ended.
   */
  settle(
    suite: unknown,
    runner: MochaRunner,
  ): { hook: string; error: unknown; tests: UnrunTest[] } | undefined {
    const failure = this.failed.get(suite as MochaSuite);
    if (failure === undefined) return undefined;
    this.failed.delete(suite as MochaSuite);
    const grep = runner._grep instanceof RegExp ? runner._grep : undefined;
    const invert = runner._invert === true;
    const tests: UnrunTest[] = [];
    const visit = (s: MochaSuite) => {
      for (const test of s.tests ?? []) {
        if (grep && typeof test.fullTitle === 'function' && grep.test(test.fullTitle()) === invert) continue;
        // a retried test's first object never ends (its clones do) but has a state
        if (this.ended.has(test) || test.state) continue;
        tests.push({ test, began: this.began.has(test) });
      }
      for (const child of s.suites ?? []) visit(child);
    };
    visit(suite as MochaSuite);
    return tests.length > 0 ? { ...failure, tests } : undefined;
  }
}
