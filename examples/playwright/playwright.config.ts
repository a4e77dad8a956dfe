import { defineConfig } from '@playwright/test';
import { paced } from './tests/pace';

/**
 * Example: a Playwright project streaming its run through testwire. Start it with `pnpm example`, then
 * watch it live with `npx testwire tail` or at http://127.0.0.1:7357/ (the dashboard).
 */
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // Retries show a flaky test: its first attempt fails, the retry passes.
  retries: 1,
  workers: 2,
  // Your terminal reporter, then testwire (prints nothing itself). The 1 s threshold makes 'is slow'
  // emit a performance.bottleneck event (in the paced demo every test takes seconds, so 5 s there).
  reporter: [['list'], ['@testwire/playwright', { slowTestThreshold: paced ? 5000 : 1000 }]],
  use: {
    // Debian's chromium instead of a downloaded browser; no network is used by these tests.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
