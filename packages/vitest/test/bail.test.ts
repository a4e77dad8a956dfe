import { describe, expect, test } from 'vitest';
import { bailed } from '../src/bail.js';
import { context, error, finish, module, testCase } from './fakes.js';

describe('bailed', () => {
  const withFailures = (count: number | undefined, bail: unknown) => ({
    ...context({ bail }),
    state: count === undefined ? undefined : { getCountOfFailedTests: () => count },
  });

  test('an interrupted run with bail set and as many failed tasks as bail', () => {
    expect(bailed(withFailures(1, 1), 'interrupted', [])).toBe(true);
    expect(bailed(withFailures(3, 2), 'interrupted', [])).toBe(true);
  });

  test('not bail: a run that was not interrupted, no bail set, or fewer failures than bail', () => {
    expect(bailed(withFailures(1, 1), 'failed', [])).toBe(false);
    expect(bailed(withFailures(1, undefined), 'interrupted', [])).toBe(false);
    expect(bailed(withFailures(1, 0), 'interrupted', [])).toBe(false);
    expect(bailed(withFailures(1, 2), 'interrupted', [])).toBe(false);
  });

  test("without Vitest's state, the failed tests of the modules are counted", () => {
    const file = module('a.test.ts');
    finish(testCase(file, 'fails'), 'failed', { errors: [error('x')] });
    finish(testCase(file, 'passes'), 'passed');
    expect(bailed(withFailures(undefined, 1), 'interrupted', [file])).toBe(true);
    expect(bailed(withFailures(undefined, 2), 'interrupted', [file])).toBe(false);
  });
});
