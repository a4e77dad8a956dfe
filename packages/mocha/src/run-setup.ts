/**
 * What a mocha run's core is made with, and what its test.started says, read from mocha's options
 * (`Mocha#options`, the second argument mocha gives its reporter): one reading for the reporter mocha makes
 * (reporter.ts) and for a run mocha ends before it makes one (load-failure.ts).
 */
import type { ReporterCore, ReporterCoreOptions, RunStartInfo } from '@testwire/reporter-core';
import type { MochaReporterConstructor, MochaReporterOptions } from './mocha-types.js';
import { parseReporterOptions, type TestwireMochaOptions } from './options.js';

/** What the reporter's options say, split by who uses them. */
export interface RunSetup {
  /** The core's options (framework, root, and ours). */
  coreOptions: ReporterCoreOptions;
  /** The terminal reporter to wrap, when one was named (reporter option `reporter`, else the defaults'). */
  reporter: string | MochaReporterConstructor | undefined;
  /** Reporter options that are not ours: the wrapped reporter's. */
  forwarded: Record<string, unknown>;
  /** What was wrong with our options (each left at its default). */
  problems: string[];
}

/**
 * The setup of a run from mocha's options and the defaults baked into the reporter class
 * (createTestwireReporter): the options mocha was given win over the defaults.
 */
export function runSetup(
  options: MochaReporterOptions,
  defaults: Partial<Omit<ReporterCoreOptions, 'framework'>> & TestwireMochaOptions = {},
  frameworkVersion?: string,
): RunSetup {
  const { reporter: defaultReporter, ...coreDefaults } = defaults;
  const parsed = parseReporterOptions(options.reporterOption ?? options.reporterOptions);
  const { reporter, ...ours } = parsed.options;
  const coreOptions: ReporterCoreOptions = {
    rootDir: process.cwd(),
    ...coreDefaults,
    ...ours,
    framework: 'mocha',
    // --parallel runs tests in worker processes; serial mode on this very thread.
    testsOffThread: options.parallel === true,
  };
  if (frameworkVersion && !coreOptions.frameworkVersion) coreOptions.frameworkVersion = frameworkVersion;
  return {
    coreOptions,
    reporter: reporter ?? defaultReporter,
    forwarded: parsed.forwarded,
    problems: parsed.problems,
  };
}

/**
 * Our options' problems as the core reports its own (framework.error REPORTER_OPTION_INVALID, a warning, the
 * same message form), for the other runners' adapters hand the core their options as they are and the core
 * finds what is wrong, while mocha's come as strings (`--reporter-option key=value`) this package reads
 * itself. Called right after runStarted, where the core tells its own.
 */
export function tellOptionProblems(core: ReporterCore, problems: readonly string[]): void {
  for (const problem of problems)
    core.frameworkError(
      { message: `testwire reporter: ${problem} (using the default)` },
      { code: 'REPORTER_OPTION_INVALID', severity: 'warning' },
    );
}

/**
 * test.started's information from mocha's options; `totalTests` when the runner knows it; `coverage`: whether
 * this run collects coverage (under nyc or c8), as jest's `collectCoverage` and vitest's `coverage.enabled` say;
 * `durations`: the run's timeout and slow as mocha parsed them (the root suite's `timeout()` and `slow()`), when
 * there is a suite.
 */
export function runStartInfo(
  options: MochaReporterOptions,
  totalTests: number | undefined,
  coverage = false,
  durations: MochaDurations = {},
): RunStartInfo {
  return {
    totalTests,
    testFiles: Array.isArray(options.files) ? options.files : [],
    options: { ...pickOptions(options, durations), coverage },
    ...(typeof options.watch === 'boolean' ? { watch: options.watch } : {}),
    ...(Array.isArray(options.spec) ? { testPatterns: options.spec.map(String) } : {}),
    ...(typeof options.config === 'string' ? { configPath: options.config } : {}),
  };
}

/** The run options worth showing on test.started (JSON primitives only). */
function pickOptions(options: MochaReporterOptions, durations: MochaDurations): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of [
    'parallel',
    'jobs',
    'retries',
    'timeout',
    'slow',
    'bail',
    'dryRun',
    'forbidOnly',
    'ui',
  ]) {
    // timeout and slow in ms, as mocha runs with them: the command line gives strings (`--timeout 100`,
    // `--slow 2s`), the defaults numbers
    const value =
      key === 'timeout' || key === 'slow' ? durationOf(durations[key], options[key]) : options[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      picked[key] = value;
  }
  if (options.grep !== undefined && options.grep !== null) {
    picked.grep = String(options.grep);
    // --invert runs the tests grep does not match: without it, the stream would claim the opposite selection
    if (options.invert === true) picked.invert = true;
  }
  return picked;
}

/** The run's timeout and slow, ms, as mocha parsed them into its root suite. */
export interface MochaDurations {
  timeout?: number;
  slow?: number;
}

/**
 * A duration option in ms: mocha's own parse when there is a suite to ask, else (a run mocha ended before it
 * made its reporter) the option read as mocha reads it: a number, or a string of the `ms` forms ('100', '2s');
 * `false` (`--no-timeouts`) is 0.
 */
function durationOf(parsed: number | undefined, value: unknown): number | undefined {
  if (typeof parsed === 'number' && Number.isFinite(parsed)) return parsed;
  if (value === false) return 0;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = MS_FORM.exec(value.trim());
  return match ? Number.parseFloat(match[1]) * MS_UNITS[unitOf(match[2])] : undefined;
}

/** Units of the `ms` package mocha parses durations with (mocha 10 to 12), in ms. */
const MS_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MS_FORM =
  /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)?$/i;

function unitOf(unit: string | undefined): string {
  const lower = (unit ?? 'ms').toLowerCase();
  if (lower.startsWith('ms') || lower.startsWith('milli')) return 'ms';
  return lower[0] === 'h' ? 'h' : lower[0];
}
