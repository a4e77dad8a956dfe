import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e.test.ts runs the real Playwright runner in a child process.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
