import { expect, test } from 'vitest';
import { pace } from './pace';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('waits for a slow import job', { timeout: 15_000 }, async () => {
  await sleep(1500);
  await pace(5500);
  expect('done').toBe('done');
});

test('polls until ready', async () => {
  await pace(2500);
  let ready = false;
  setTimeout(() => {
    ready = true;
  }, 400);
  while (!ready) await sleep(50);
  expect(ready).toBe(true);
});
