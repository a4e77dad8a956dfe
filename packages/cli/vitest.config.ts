import { defineConfig } from 'vitest/config';

// End-to-end tests spawn real processes (serve, runners, tmux, python): one file at a time keeps the
// 2-core CI machine responsive and the timings meaningful.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
