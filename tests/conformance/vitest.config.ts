import { defineConfig } from 'vitest/config';

// Real runners as child processes: long timeouts, and one test file at a time so that runners do not fight
// for the machine's cores (timing-sensitive fixtures, like the slow test, stay meaningful).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
