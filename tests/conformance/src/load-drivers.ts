/**
 * The drivers of drivers/*.ts (each exports `drivers: RunnerDriver[]`), restricted by
 * CONFORMANCE_DRIVERS=jest-30,vitest-4 (comma-separated ids) when set.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunnerDriver } from './driver.js';
import { CONFORMANCE_DIR } from './spawn.js';

const DRIVER_FILES = ['jest', 'vitest', 'playwright', 'mocha'];

export async function loadDrivers(): Promise<RunnerDriver[]> {
  const found: RunnerDriver[] = [];
  for (const name of DRIVER_FILES) {
    const file = join(CONFORMANCE_DIR, 'drivers', `${name}.ts`);
    if (!existsSync(file)) continue; // a runner whose driver is not written yet
    const module = (await import(pathToFileURL(file).href)) as { drivers?: RunnerDriver[] };
    found.push(...(module.drivers ?? []));
  }
  const only = process.env.CONFORMANCE_DRIVERS?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return only?.length ? found.filter((driver) => only.includes(driver.id)) : found;
}
