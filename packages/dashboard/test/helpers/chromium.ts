/** Debian's Chromium for the browser tests, launched headless the one way they all need. */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** TESTWIRE_CHROMIUM points elsewhere (or at nothing, to check the skip/CI path). */
export const CHROMIUM = process.env.TESTWIRE_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
