import { describe, expect, test } from 'vitest';
import { pace } from './pace';

describe('logging', () => {
  test('prints progress to stdout', async () => {
    for (let step = 1; step <= 3; step++) {
      await pace(1000);
      console.log(`step ${step} of 3`);
    }
    expect(true).toBe(true);
  });

  test('warns on stderr', async () => {
    await pace(1500);
    console.warn('deprecated option "legacy" used');
    expect(true).toBe(true);
  });
});
