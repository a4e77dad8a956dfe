/**
 * The `baseline` reporter option and its environment variables, resolved once (options.ts calls this): a
 * bad value is a problem the reporter reports on stderr, never a failed run.
 */
import { resolve } from 'node:path';
import { DEFAULT_THRESHOLDS } from './compare.js';
import { BASELINE_DIR, labelProblem } from './label.js';
import type { BaselineSettings } from './run-baseline.js';

/** undefined when the run neither saves nor compares. */
export function resolveBaseline(
  raw: unknown,
  env: Record<string, string | undefined>,
  rootDir: string,
  problems: string[],
): BaselineSettings | undefined {
  let option: Record<string, unknown> = {};
  if (raw !== undefined && raw !== null) {
    if (typeof raw === 'object' && !Array.isArray(raw)) option = raw as Record<string, unknown>;
    else problems.push(`baseline must be an object like { save: 'main', compare: 'main' } (ignored)`);
  }
  for (const key of Object.keys(option)) {
    if (!['save', 'compare', 'dir', 'relative', 'absoluteMs'].includes(key))
      problems.push(`unknown option "baseline.${key}" (ignored)`);
  }
  const pick = (key: string, envName: string): { value: unknown; source: string } | undefined => {
    if (option[key] !== undefined && option[key] !== null)
      return { value: option[key], source: `baseline.${key}` };
    const fromEnv = env[envName];
    return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, source: envName } : undefined;
  };
  const label = (key: 'save' | 'compare', envName: string): string | undefined => {
    const picked = pick(key, envName);
    if (!picked) return undefined;
    const problem = labelProblem(picked.value);
    if (problem) {
      problems.push(`${picked.source}: ${problem} (ignored)`);
      return undefined;
    }
    return picked.value as string;
  };
  const number = (key: string, envName: string, fallback: number): number => {
    const picked = pick(key, envName);
    if (!picked) return fallback;
    const parsed = typeof picked.value === 'string' ? Number(picked.value) : picked.value;
    if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0) return parsed;
    problems.push(
      `${picked.source} must be a number >= 0 (got ${JSON.stringify(picked.value)}); using ${fallback}`,
    );
    return fallback;
  };

  const save = label('save', 'TESTWIRE_BASELINE_SAVE');
  const compare = label('compare', 'TESTWIRE_BASELINE_COMPARE');
  const thresholds = {
    relative: number('relative', 'TESTWIRE_BASELINE_RELATIVE', DEFAULT_THRESHOLDS.relative),
    absoluteMs: number('absoluteMs', 'TESTWIRE_BASELINE_ABSOLUTE_MS', DEFAULT_THRESHOLDS.absoluteMs),
  };
  const dirPicked = pick('dir', 'TESTWIRE_BASELINE_DIR');
  let dir = resolve(rootDir, BASELINE_DIR);
  if (dirPicked) {
    if (typeof dirPicked.value === 'string' && dirPicked.value.length > 0)
      dir = resolve(rootDir, dirPicked.value);
    else problems.push(`${dirPicked.source} must be a non-empty string (using ${BASELINE_DIR})`);
  }
  if (!save && !compare) return undefined;
  const settings: BaselineSettings = { dir, thresholds };
  if (save) settings.save = save;
  if (compare) settings.compare = compare;
  return settings;
}
