import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

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

/**
 * The version of the package the bin `file` belongs to, when it is jest or jest-cli: each name resolved from
 * the bin's own folder (both packages export `./package.json`), kept when the bin lies inside that package —
 * not another package of the name the folder also resolves (jest's bin beside a hoisted jest-cli).
 */
export function jestBinVersion(file: string): string | undefined {
  let bin: string;
  try {
    bin = realpathSync(file);
  } catch {
    return undefined; // no such bin
  }
  const fromBin = createRequire(bin);
  for (const name of JEST_BINS) {
    try {
      // Resolved paths are real paths, as `bin` is (node resolves symlinks: pnpm's store, a linked install).
      const manifest = fromBin.resolve(`${name}/package.json`);
      if (!bin.startsWith(dirname(manifest) + sep)) continue;
      const { version } = fromBin(manifest) as { version?: unknown };
      return typeof version === 'string' ? version : undefined;
    } catch {
      // not resolvable from the bin, or an unreadable manifest: the next name
    }
  }
  return undefined;
}
