import { describe, expect, it } from 'vitest';
import { stoppedAtMaxFailures } from '../src/max-failures.js';

const tests = (...outcomes: ('expected' | 'unexpected' | 'flaky' | 'skipped')[]) =>
  outcomes.map((outcome) => ({ outcome: () => outcome }));

describe('stoppedAtMaxFailures', () => {
  it('the limit reached with tests left: stopped', () => {
    expect(stoppedAtMaxFailures(1, 'failed', tests('expected', 'unexpected'), 2)).toBe(true);
    expect(stoppedAtMaxFailures(2, 'failed', tests('unexpected', 'flaky', 'unexpected'), 1)).toBe(true);
  });

  it('no test left, the limit not reached, none set, or another end (Ctrl-C, global timeout): not', () => {
    expect(stoppedAtMaxFailures(1, 'failed', tests('expected', 'unexpected'), 0)).toBe(false);
    expect(stoppedAtMaxFailures(2, 'failed', tests('unexpected', 'flaky'), 2)).toBe(false);
    expect(stoppedAtMaxFailures(0, 'failed', tests('unexpected'), 2)).toBe(false);
    expect(stoppedAtMaxFailures(undefined, 'failed', tests('unexpected'), 2)).toBe(false);
    expect(stoppedAtMaxFailures(1, 'interrupted', tests('unexpected'), 2)).toBe(false);
    expect(stoppedAtMaxFailures(1, 'timedout', tests('unexpected'), 2)).toBe(false);
  });
});
