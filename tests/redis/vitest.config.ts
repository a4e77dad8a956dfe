import { defineConfig } from 'vitest/config';

// Real redis-server, real vitest shards, real serve processes: long bounds (the machine is shared), one file
// at a time. The fixture under fixtures/ is run by the tests, never collected here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
