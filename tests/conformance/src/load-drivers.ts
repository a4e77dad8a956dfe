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

/**
 * For a suite that runs one driver per runner (starvation, baselines): the ids in env `envName`, else the
 * drivers CONFORMANCE_DRIVERS names, else `defaults` (the current major of each runner).
 */
export async function focusedDrivers(envName: string, defaults: string[]): Promise<RunnerDriver[]> {
  const found = await loadDrivers();
  const wanted = process.env[envName]
    ?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (wanted?.length) return found.filter((driver) => wanted.includes(driver.id));
  if (process.env.CONFORMANCE_DRIVERS) return found;
  return found.filter((driver) => defaults.includes(driver.id));
}
