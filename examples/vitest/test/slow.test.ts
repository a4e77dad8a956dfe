import { expect, test } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('waits for a slow import job', async () => {
  await sleep(1500);
  expect('done').toBe('done');
});

test('polls until ready', async () => {
  let ready = false;
  setTimeout(() => {
    ready = true;
  }, 400);
  while (!ready) await sleep(50);
  expect(ready).toBe(true);
});
