import { expect, test } from 'vitest';
import { pace } from './pace';

// Fails on its first attempt and passes on the retry: testwire publishes both attempts and marks it flaky.
let attempts = 0;

test('reaches the service on the second try', { retry: 2 }, async () => {
  await pace(2000);
  attempts++;
  expect(attempts, 'the service was not up yet').toBeGreaterThan(1);
});
