/**
 * Finds an installed `@testwire/dashboard`, so `GET /` serves it, without depending on it (it is an
 * optional peer). Looked up once, lazily, on the first request for a page: a test process nobody browses
 * never pays for it.
 *
 *   1. import('@testwire/dashboard') from this package: npm/yarn hoisting, or pnpm resolving the optional peer
 *   2. require it from the working directory: the project under test (or the folder `testwire serve` runs
 *      in) installed it, and pnpm's strict layout hides it from this package's folder
 *   3. neither: `/` stays the small page naming the endpoints
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

// A variable, so the compiler and bundlers do not try to resolve a package that is not a dependency.
const DASHBOARD_PACKAGE = '@testwire/dashboard';

let lookup: Promise<string | undefined> | undefined;

/** The installed dashboard's static directory, or undefined. Memoized for the process. */
export function findDashboardDir(): Promise<string | undefined> {
  lookup ??= find();
  return lookup;
}

const dirOf = (mod: unknown): string | undefined => {
  const m = mod as { dashboardDir?: unknown; default?: { dashboardDir?: unknown } } | undefined;
  const dir = m?.dashboardDir ?? m?.default?.dashboardDir;
  return typeof dir === 'string' && dir !== '' ? dir : undefined;
};

async function find(): Promise<string | undefined> {
  try {
    const dir = dirOf(await import(DASHBOARD_PACKAGE));
    if (dir) return dir;
  } catch {
    // Not installed beside this package.
  }
  try {
    return dirOf(createRequire(join(process.cwd(), 'package.json'))(DASHBOARD_PACKAGE));
  } catch {
    return undefined;
  }
}
