/**
 * Reporter options of @testwire/mocha. Mocha hands them over as strings
 * (`--reporter-option port=0,captureOutput=false`, a bare key meaning `true`) or, from `.mocharc` /
 * `new Mocha({reporterOptions})`, as typed values; both are accepted. Keys that are not ours are
 * forwarded to the wrapped terminal reporter (e.g. `output=` of `json` / `xunit`).
 */
import type { ReporterOptions } from '@testwire/reporter-core';
import type { MochaReporterConstructor } from './mocha-types.js';

export interface TestwireMochaOptions extends Omit<ReporterOptions, 'sink'> {
  /**
   * The terminal reporter to keep, since mocha takes a single `--reporter`: a built-in name (`spec`, `dot`,
   * `json`, …), a module id or path, or a reporter constructor. `none` prints nothing. Default `spec`.
   */
  reporter?: string | MochaReporterConstructor;
}

export interface ParsedOptions {
  options: TestwireMochaOptions;
  /** Options that are not ours, for the wrapped reporter. */
  forwarded: Record<string, unknown>;
  /** What was wrong, one entry per bad option (the option is then left at its default). */
  problems: string[];
}

const STRING_KEYS = ['host', 'url', 'apiKey', 'project'] as const;
const BOOLEAN_KEYS = ['captureOutput', 'enabled', 'handleSignals'] as const;
/** Non-negative integers, in ms (0 turns the feature off where the core says so). */
const INTEGER_KEYS = [
  'slowTestThreshold',
  'performanceIntervalMs',
  'progressIntervalMs',
  'flushTimeoutMs',
  'hungTestThreshold',
] as const;
/** `--reporter-option baselineSave=main,baselineCompare=main`: the string form of `baseline: { save, compare }`. */
const BASELINE_KEYS = { baselineSave: 'save', baselineCompare: 'compare', baselineDir: 'dir' } as const;
const OWN_KEYS = new Set<string>([
  'reporter',
  'port',
  'baseline',
  ...Object.keys(BASELINE_KEYS),
  ...STRING_KEYS,
  ...BOOLEAN_KEYS,
  ...INTEGER_KEYS,
]);
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Splits mocha's reporter options into ours (typed) and the wrapped reporter's. Never throws. */
export function parseReporterOptions(raw: Record<string, unknown> | undefined | null): ParsedOptions {
  const options: TestwireMochaOptions = {};
  const forwarded: Record<string, unknown> = {};
  const problems: string[] = [];
  if (!raw || typeof raw !== 'object') return { options, forwarded, problems };

  for (const [key, value] of Object.entries(raw)) {
    if (!OWN_KEYS.has(key)) forwarded[key] = value;
  }

  const reporter = raw.reporter;
  if (typeof reporter === 'function') options.reporter = reporter as MochaReporterConstructor;
  else if (typeof reporter === 'string' && reporter.trim() !== '') options.reporter = reporter.trim();
  else if (reporter !== undefined)
    problems.push(`reporter must be a reporter name, path or "none" (got ${show(reporter)})`);

  const port = raw.port;
  if (port !== undefined) {
    const parsed = typeof port === 'string' && /^\d+$/.test(port.trim()) ? Number(port) : port;
    if (typeof parsed === 'number' && Number.isInteger(parsed) && parsed >= 0 && parsed <= 65_535)
      options.port = parsed;
    else problems.push(`port must be an integer between 0 and 65535 (got ${show(port)})`);
  }

  for (const key of STRING_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value === 'string' && value !== '') options[key] = value;
    else problems.push(`${key} must be a non-empty string (got ${show(value)})`);
  }

  for (const key of BOOLEAN_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (typeof value === 'boolean') options[key] = value;
    else if (text !== undefined && TRUE.has(text)) options[key] = true;
    else if (text !== undefined && FALSE.has(text)) options[key] = false;
    else problems.push(`${key} must be true or false (got ${show(value)})`);
  }

  for (const key of INTEGER_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const parsed = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof parsed === 'number' && Number.isInteger(parsed) && parsed >= 0) options[key] = parsed;
    else problems.push(`${key} must be a whole number of milliseconds >= 0 (got ${show(value)})`);
  }

  // An object (from .mocharc / new Mocha) goes to the core as it is: the core checks it, as for every runner.
  if (raw.baseline !== undefined) options.baseline = raw.baseline as TestwireMochaOptions['baseline'];
  for (const [key, field] of Object.entries(BASELINE_KEYS)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value === 'string' && value !== '') options.baseline = { ...options.baseline, [field]: value };
    else problems.push(`${key} must be a non-empty string (got ${show(value)})`);
  }

  return { options, forwarded, problems };
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value;
  }
}
