import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Vitest's own terminal output stays as it is; testwire streams the same run live.
    // Options go in a tuple: ['@testwire/vitest', { port: 7357, project: 'example' }].
    reporters: ['default', '@testwire/vitest'],
    // Lets testwire tell consumers where each test is declared (file:line:column).
    includeTaskLocation: true,
  },
});
