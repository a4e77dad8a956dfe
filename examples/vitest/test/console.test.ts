import { describe, expect, test } from 'vitest';

describe('logging', () => {
  test('prints progress to stdout', () => {
    for (let step = 1; step <= 3; step++) console.log(`step ${step} of 3`);
    expect(true).toBe(true);
  });

  test('warns on stderr', () => {
    console.warn('deprecated option "legacy" used');
    expect(true).toBe(true);
  });
});
