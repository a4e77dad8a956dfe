import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Socket-heavy suites: run files one after another so timings stay honest on a shared 2-core machine.
    fileParallelism: false,
  },
});
