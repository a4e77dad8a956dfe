const { pace } = require('./pace');

// Retries make a test that fails once and then passes "flaky": testwire sends one test.result per
// attempt and flags the last one `flaky: true`.
jest.retryTimes(2);

let attempts = 0;

test('eventually connects (flaky: passes on its second attempt)', async () => {
  await pace(1500);
  attempts += 1;
  expect(attempts).toBeGreaterThan(1);
});

test('takes its time (slow)', async () => {
  await new Promise((resolve) => setTimeout(resolve, 700));
  await pace(6300);
  console.error('slow test finished');
  expect(true).toBe(true);
}, 15_000);
