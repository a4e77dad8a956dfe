import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reporter tests run real mocha (10, 11, 12) as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
