import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The packages whose bin runs jest: jest's own, and jest-cli's (jest's bin loads it; same version). */
const JEST_BINS = new Set(['jest', 'jest-cli']);

/**
 * The version of the jest that runs this reporter (twins.ts reads results differently on jest 29 and 30).
 * First the jest `rootDir` resolves: jest's bin hands over to the project's own jest when the working
 * directory resolves one (import-local), and a script calling runCLI runs the project's. Else the jest whose
 * bin this process runs (`main`): a jest installed outside the project (globally, npx, another checkout's),
 * for a project that resolves none.
 */
export function jestVersion(rootDir: string, main: string | undefined = process.argv[1]): string | undefined {
  for (const name of ['jest/package.json', '@jest/core/package.json']) {
    try {
      return (createRequire(join(rootDir, 'noop.js'))(name) as { version?: string }).version;
    } catch {
      // not resolvable from the root: try the next
    }
  }
  return main ? jestBinVersion(main) : undefined;
}

/** The version of the package `file` belongs to (its nearest package.json), when it is jest or jest-cli. */
export function jestBinVersion(file: string): string | undefined {
  try {
    let dir = dirname(realpathSync(file));
    for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
      let text: string;
      try {
        text = readFileSync(join(dir, 'package.json'), 'utf8');
      } catch {
        continue; // no package.json here: the package's root is higher up (bin/, build/)
      }
      const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
      return JEST_BINS.has(String(manifest.name)) && typeof manifest.version === 'string'
        ? manifest.version
        : undefined;
    }
  } catch {
    // an unreadable main or manifest: not known
  }
  return undefined;
}
