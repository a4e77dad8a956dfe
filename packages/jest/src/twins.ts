import type { TestRef } from '@testwire/reporter-core';

/** One test of a file, among the tests that share its title path (its twins). */
export interface Twin {
  /** The test's ref, with its `ordinal` among its twins (and its location once a result gave it). */
  ref: TestRef;
  /** Highest attempt sent to the core (0: none yet). */
  attempts: number;
  /** Its last attempt failed (a later result with more invocations may be its retry). */
  failed: boolean;
  /** Its last attempt was streamed as retrying (`willRetry`). */
  retrying: boolean;
  /** Reported live (onTestCaseResult), not only in the file's result. */
  readonly live: boolean;
}

/**
 * Which test a jest event is about when tests share a title path in one file.
 *
 * Jest names a test by its titles only: two `it('works')` in one describe, or `test.each` rows with the same
 * name, look alike in every hook. They are told apart by order (TestRef.ordinal), per key (project, file,
 * title path):
 * - live results arrive in declaration order (jest runs a file's tests one after the other, concurrent ones
 *   included) and a retry after its first attempt (jest runs a block's retries after its other tests): a
 *   result with `invocations` 1 is the next twin, one with `invocations` n the retry of the earliest twin
 *   whose attempt n-1 failed;
 * - skipped tests never arrive live: they take the ordinals after the twins that ran, at the file's result,
 *   where jest lists every test once in declaration order;
 * - a start does not say its attempt: it is the next twin, unless an earlier twin failed — then it may be
 *   that twin's retry, and it is left to its result (no guess that could leave a wrong test "running").
 *
 * So a test's ordinal is its position among its twins that ran, then among its skipped twins: stable across
 * runs while the file's tests and their modes stay the same (docs/protocol.md, "Test ids").
 */
export class JestTwins {
  private byKey = new Map<string, Twin[]>();

  /** A new run: nothing seen yet. */
  reset(): void {
    this.byKey = new Map();
  }

  /** The ref of a test that starts, or undefined when it cannot be told from a twin's retry yet. */
  started(key: string, base: TestRef): TestRef | undefined {
    const twins = this.byKey.get(key);
    if (!twins) return base;
    if (twins.some((twin) => twin.failed)) return undefined;
    return withOrdinal(base, twins.length);
  }

  /** The test a live result is about; `invocations` is jest's attempt number. */
  liveResult(key: string, base: TestRef, invocations: number): Twin {
    if (invocations > 1) {
      const retried = this.byKey.get(key)?.find((twin) => twin.failed && twin.attempts === invocations - 1);
      if (retried) return retried;
    }
    return this.add(key, base, true);
  }

  /**
   * The test an entry of the file's result is about: the `index`-th entry of its key reported live (jest
   * lists tests in declaration order, as they arrived live), or a new twin (skipped, or no live results).
   */
  fileResult(key: string, base: TestRef, index: number, reportedLive: boolean): Twin {
    if (reportedLive) {
      let seen = 0;
      for (const twin of this.byKey.get(key) ?? []) {
        if (!twin.live) continue;
        if (seen++ === index) return twin;
      }
    }
    return this.add(key, base, false);
  }

  private add(key: string, base: TestRef, live: boolean): Twin {
    let twins = this.byKey.get(key);
    if (!twins) {
      twins = [];
      this.byKey.set(key, twins);
    }
    const twin: Twin = {
      ref: withOrdinal(base, twins.length),
      attempts: 0,
      failed: false,
      retrying: false,
      live,
    };
    twins.push(twin);
    return twin;
  }
}

function withOrdinal(base: TestRef, ordinal: number): TestRef {
  return ordinal === 0 ? base : { ...base, ordinal };
}
