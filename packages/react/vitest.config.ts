import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 15_000,
    // Socket tests on a shared 2-core machine: one file at a time keeps timings honest.
    fileParallelism: false,
  },
});
