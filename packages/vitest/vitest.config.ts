import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/fixtures/ holds the projects the in-process Vitest run executes; they are not this suite's tests.
    include: ['test/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
