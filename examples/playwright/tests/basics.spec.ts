import { expect, test } from '@playwright/test';
import { pace } from './pace';

test.describe('basics', () => {
  test('passes', async () => {
    await pace(2000);
    expect([1, 2, 3].map((n) => n * 2)).toEqual([2, 4, 6]);
  });

  test('prints to the console', async () => {
    console.log('visible in the terminal and as test.output events');
    await pace(2000);
    console.error('stderr too');
    expect(true).toBe(true);
  });

  test('fails', async () => {
    await pace(2500);
    // On purpose: shows test.failed with the expected and received values.
    expect({ total: 41 }).toEqual({ total: 42 });
  });

  test.skip('is skipped', () => {});

  test('is flaky, then passes on retry', async () => {
    await pace(2000);
    // The first attempt fails and is reported with willRetry; the retry passes and is reported flaky.
    expect(test.info().retry).toBeGreaterThan(0);
  });

  test('is slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await pace(5500);
    expect(Date.now()).toBeGreaterThan(0);
  });

  test.fail('is expected to fail', async () => {
    await pace(1500);
    // test.fail(): failing is the expected outcome, so it counts as passed.
    expect(1 + 1).toBe(3);
  });
});
