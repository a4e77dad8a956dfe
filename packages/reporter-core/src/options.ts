import { FLUSH_BUDGET_MS } from '@testwire/broadcaster/budget';
import type { PublishedEvent } from '@testwire/protocol';
import { resolveBaseline } from './baseline/options.js';
import type { BaselineSettings } from './baseline/run-baseline.js';
import { shardFromEnv } from './environment.js';

/**
 * What a user sets in a reporter's options tuple (`['@testwire/jest', { … }]`): the same for every
 * runner. Each unset option falls back to its environment variable, then to the default. A type, not an
 * interface: runners' config types want options assignable to `Record<string, unknown>`.
 */
export type ReporterOptions = {
  /** Project name on every event. Default: env TESTWIRE_PROJECT, else the nearest package.json name. */
  project?: string;
  /** Broadcaster port (default env TESTWIRE_PORT ?? 7357; 0 = ephemeral). */
  port?: number;
  /** Broadcaster host (default env TESTWIRE_HOST ?? 127.0.0.1). */
  host?: string;
  /** Join this endpoint as a publisher instead of binding (default env TESTWIRE_URL). */
  url?: string;
  /** API key of the endpoint (default env TESTWIRE_API_KEY). */
  apiKey?: string;
  /**
   * A shard of a CI run on many machines: append events to this Redis (`redis://…`, `rediss://…`) instead of a
   * local broadcaster, for `testwire serve --redis` (default env TESTWIRE_REDIS_URL; needs @testwire/redis).
   */
  redisUrl?: string;
  /** The CI run group the shard belongs to (default env TESTWIRE_GROUP, else the CI's run id). */
  group?: string;
  /** Send console output as test.output (default true; env TESTWIRE_CAPTURE_OUTPUT=0 turns it off). */
  captureOutput?: boolean;
  /** false: no broadcaster, no events. Env TESTWIRE=off always disables. */
  enabled?: boolean;
  /** A test slower than this (ms) emits performance.bottleneck `slow_test`. 0 = off. Default 5000. */
  slowTestThreshold?: number;
  /** performance.metrics sampling interval (ms) while a run is active. 0 = off. Default 1000. */
  performanceIntervalMs?: number;
  /**
   * test.progress is a sample of the run's state: at most one per this many ms (the first test start of a
   * run, the first change after a quiet period and the final counts go out at once). 0 = one per test
   * start, result and total change. Default 100 (env TESTWIRE_PROGRESS_INTERVAL).
   */
  progressIntervalMs?: number;
  /**
   * Upper bound of the final flush when the run ends (ms): how long the runner's process may be held until the
   * endpoint has confirmed every event of the run. Usually the flush takes milliseconds and returns at once;
   * the bound only matters on a starved machine or with an unreachable endpoint. Default 10 000 (env
   * TESTWIRE_FLUSH_TIMEOUT). If it is reached, one stderr line and a `system.error` name what may be missing.
   */
  flushTimeoutMs?: number;
  /**
   * system.health interval (ms) while a run is active: one at the run's start, then one per interval, on an
   * unref'd timer. 0 = off. Default 30 000 (env TESTWIRE_HEALTH_INTERVAL).
   */
  healthIntervalMs?: number;
  /**
   * performance.leak: heap growth (MB) across the files of one worker or process beyond which a leak is
   * reported. 0 = off. Default 10 (env TESTWIRE_LEAK_THRESHOLD). See docs/protocol.md for the heuristic.
   */
  leakThresholdMb?: number;
  /** performance.leak: files of evidence needed in one worker or process (after the first). Default 5. */
  leakMinFiles?: number;
  /**
   * A test still running after this long (ms) is reported while it runs: performance.bottleneck `hung_test`.
   * A test whose own timeout the adapter knows at its start (playwright: the configured one) is hung once past it plus 1 s
   * instead. 0 = off. Default 60 000 (env TESTWIRE_HUNG_TEST_THRESHOLD).
   */
  hungTestThreshold?: number;
  /**
   * On SIGINT/SIGTERM, end the stream with an interrupted test.completed naming the running tests (a flush
   * bounded by min(flushTimeoutMs, 5000)), then let the signal do what it would have done. Default true
   * (env TESTWIRE_SIGNALS=0 turns it off).
   */
  handleSignals?: boolean;
  /** Stream test.step events (Playwright `test.step`). Default true (env TESTWIRE_STEPS=0: the lean stream). */
  steps?: boolean;
  /**
   * Step categories streamed besides `test.step`: any of `expect`, `hook`, `fixture`, `pw:api` (env
   * TESTWIRE_STEP_CATEGORIES, comma-separated). Default none.
   */
  stepCategories?: string[];
  /** Deliver events to this function instead of a broadcaster (tests, custom transports). */
  sink?: (event: PublishedEvent) => void;
  /**
   * Compare the run with a saved baseline and/or save it as one (`.test-baselines/<label>.json` under the
   * root): `test.result` carries `baseline` when a test regresses, `baseline.compared` and `baseline.saved`
   * end the run. Env: TESTWIRE_BASELINE_SAVE, TESTWIRE_BASELINE_COMPARE, TESTWIRE_BASELINE_DIR,
   * TESTWIRE_BASELINE_RELATIVE, TESTWIRE_BASELINE_ABSOLUTE_MS.
   */
  baseline?: BaselineOptions;
};

export interface BaselineOptions {
  /** Save this run under this label (replaces this runner's part of the file, keeps 10 runs of durations). */
  save?: string;
  /** Compare this run with the baseline of this label (may be the same label as `save`). */
  compare?: string;
  /** Folder of the baseline files, relative to the root (default `.test-baselines`). */
  dir?: string;
  /** A duration regression is slower by more than this fraction of the baseline's median (default 0.5). */
  relative?: number;
  /** …and by more than this many ms (default 250): the floor below which durations are noise. */
  absoluteMs?: number;
}

/** Options of {@link createReporterCore}: the user's reporter options plus what the adapter knows. */
export interface ReporterCoreOptions extends ReporterOptions {
  /** Runner name as on the wire: 'jest', 'vitest', 'playwright', 'mocha'. */
  framework: string;
  frameworkVersion?: string;
  /** The run's root directory: files and stack paths are made relative to it. */
  rootDir: string;
  /** Events held while the broadcaster is being obtained; beyond this they are dropped and counted. Default 10 000. */
  maxBufferedEvents?: number;
  /**
   * The runner runs tests in other processes or threads, never on the thread that calls the hooks
   * (playwright, vitest, mocha --parallel): a blocked test cannot block the hooks' thread, so the hung
   * detector needs no copy of each test start in shared memory (hung.ts), and the hooks skip writing it.
   */
  testsOffThread?: boolean;
  /** Environment to read (default process.env); for tests. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedOptions {
  framework: string;
  frameworkVersion?: string;
  rootDir: string;
  project?: string;
  port?: number;
  host?: string;
  url?: string;
  apiKey?: string;
  redisUrl?: string;
  group?: string;
  /** TESTWIRE_SHARD `k/N`: the shard of a runner without a `--shard` option (mocha jobs); the runner's wins. */
  shard?: { current: number; total: number };
  captureOutput: boolean;
  enabled: boolean;
  slowTestThreshold: number;
  performanceIntervalMs: number;
  progressIntervalMs: number;
  flushTimeoutMs: number;
  maxBufferedEvents: number;
  healthIntervalMs: number;
  leakThresholdMb: number;
  leakMinFiles: number;
  /** What was wrong with the options (each replaced by its default): told once as framework.error. */
  optionProblems?: string[];
  hungTestThreshold: number;
  testsOffThread: boolean;
  handleSignals: boolean;
  /** Step categories streamed (empty: no steps). */
  stepCategories: string[];
  sink?: (event: PublishedEvent) => void;
  debug: boolean;
  baseline?: BaselineSettings;
}

const DEFAULTS = {
  captureOutput: true,
  slowTestThreshold: 5000,
  performanceIntervalMs: 1000,
  progressIntervalMs: 100,
  // The one flush budget, owned by the broadcaster (its budget.ts says why 10 s and lists the margins).
  flushTimeoutMs: FLUSH_BUDGET_MS,
  maxBufferedEvents: 10_000,
  healthIntervalMs: 30_000,
  leakThresholdMb: 10,
  leakMinFiles: 5,
  hungTestThreshold: 60_000,
} as const;

const KNOWN_KEYS = new Set<string>([
  'framework',
  'frameworkVersion',
  'rootDir',
  'project',
  'port',
  'host',
  'url',
  'apiKey',
  'redisUrl',
  'group',
  'captureOutput',
  'enabled',
  'slowTestThreshold',
  'performanceIntervalMs',
  'progressIntervalMs',
  'flushTimeoutMs',
  'maxBufferedEvents',
  'healthIntervalMs',
  'leakThresholdMb',
  'leakMinFiles',
  'hungTestThreshold',
  'testsOffThread',
  'handleSignals',
  'steps',
  'stepCategories',
  'sink',
  'env',
  'baseline',
]);

/**
 * Resolves options against env and defaults. A bad option never fails the run: it is reported in
 * `problems` (the caller warns once on stderr) and its default is used instead.
 */
export function resolveOptions(input: ReporterCoreOptions): { options: ResolvedOptions; problems: string[] } {
  const problems: string[] = [];
  const raw = (typeof input === 'object' && input !== null ? input : {}) as unknown as Record<
    string,
    unknown
  >;
  const env = (isRecord(raw.env) ? raw.env : process.env) as Record<string, string | undefined>;

  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(key)) problems.push(`unknown option "${key}" (ignored)`);
  }

  const str = (key: string): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && value.length > 0) return value;
    problems.push(`${key} must be a non-empty string (got ${describe(value)})`);
    return undefined;
  };
  const num = (
    key: string,
    envName: string | undefined,
    fallback: number,
    min = 0,
    max = Number.MAX_SAFE_INTEGER,
  ) => {
    let value: unknown = raw[key];
    let source = key;
    if (
      (value === undefined || value === null) &&
      envName &&
      env[envName] !== undefined &&
      env[envName] !== ''
    ) {
      value = env[envName];
      source = envName;
    }
    if (value === undefined || value === null) return fallback;
    const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= min && parsed <= max)
      return parsed;
    problems.push(
      `${source} must be a number between ${min} and ${max} (got ${describe(value)}); using ${fallback}`,
    );
    return fallback;
  };
  const bool = (key: string, envName: string | undefined, fallback: boolean) => {
    const value = raw[key];
    if (typeof value === 'boolean') return value;
    if (value !== undefined && value !== null) {
      problems.push(`${key} must be true or false (got ${describe(value)}); using ${fallback}`);
      return fallback;
    }
    const fromEnv = envName ? env[envName] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return !switchedOff(fromEnv);
    return fallback;
  };

  const stepCategories = (): string[] => {
    const value = raw.stepCategories ?? env.TESTWIRE_STEP_CATEGORIES;
    if (value === undefined || value === null || value === '') return [];
    const list = typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
    if (Array.isArray(list) && list.every((item) => typeof item === 'string' && item !== ''))
      return list as string[];
    problems.push(
      `stepCategories must be a list of step categories such as ["expect", "hook", "fixture"] (got ${describe(value)}); ignored`,
    );
    return [];
  };

  const framework = str('framework') ?? 'unknown';
  let rootDir = str('rootDir');
  if (!rootDir) {
    if (raw.rootDir === undefined) problems.push('rootDir is required (using the current directory)');
    rootDir = process.cwd();
  }

  let port: number | undefined;
  if (raw.port !== undefined && raw.port !== null) {
    const parsed = typeof raw.port === 'string' && raw.port.trim() !== '' ? Number(raw.port) : raw.port;
    if (typeof parsed === 'number' && Number.isInteger(parsed) && parsed >= 0 && parsed <= 65_535)
      port = parsed;
    else
      problems.push(
        `port must be an integer between 0 and 65535 (got ${describe(raw.port)}); using the default`,
      );
  }
  let url = str('url');
  if (url && !isHttpOrWsUrl(url)) {
    problems.push(`url must be an http(s):// or ws(s):// URL (got ${JSON.stringify(url)}); ignored`);
    url = undefined;
  }

  const killSwitch = turnedOffByEnv(env);
  const options: ResolvedOptions = {
    framework,
    frameworkVersion: str('frameworkVersion'),
    rootDir,
    project: str('project') ?? (env.TESTWIRE_PROJECT || undefined),
    port,
    host: str('host'),
    url,
    apiKey: str('apiKey'),
    redisUrl: str('redisUrl') ?? (env.TESTWIRE_REDIS_URL || undefined),
    group: str('group') ?? (env.TESTWIRE_GROUP || undefined),
    shard: shardFromEnv(env),
    captureOutput: bool('captureOutput', 'TESTWIRE_CAPTURE_OUTPUT', DEFAULTS.captureOutput),
    enabled: bool('enabled', undefined, true) && !killSwitch,
    slowTestThreshold: num('slowTestThreshold', 'TESTWIRE_SLOW_TEST_THRESHOLD', DEFAULTS.slowTestThreshold),
    performanceIntervalMs: num(
      'performanceIntervalMs',
      'TESTWIRE_PERFORMANCE_INTERVAL',
      DEFAULTS.performanceIntervalMs,
    ),
    progressIntervalMs: num(
      'progressIntervalMs',
      'TESTWIRE_PROGRESS_INTERVAL',
      DEFAULTS.progressIntervalMs,
      0,
      60_000,
    ),
    flushTimeoutMs: num('flushTimeoutMs', 'TESTWIRE_FLUSH_TIMEOUT', DEFAULTS.flushTimeoutMs, 0, 600_000),
    maxBufferedEvents: Math.floor(num('maxBufferedEvents', undefined, DEFAULTS.maxBufferedEvents, 1)),
    healthIntervalMs: num('healthIntervalMs', 'TESTWIRE_HEALTH_INTERVAL', DEFAULTS.healthIntervalMs),
    leakThresholdMb: num('leakThresholdMb', 'TESTWIRE_LEAK_THRESHOLD', DEFAULTS.leakThresholdMb),
    leakMinFiles: Math.floor(num('leakMinFiles', undefined, DEFAULTS.leakMinFiles, 2, 1000)),
    hungTestThreshold: num('hungTestThreshold', 'TESTWIRE_HUNG_TEST_THRESHOLD', DEFAULTS.hungTestThreshold),
    testsOffThread: bool('testsOffThread', undefined, false),
    handleSignals: bool('handleSignals', 'TESTWIRE_SIGNALS', true),
    stepCategories: bool('steps', 'TESTWIRE_STEPS', true) ? ['test.step', ...stepCategories()] : [],
    debug: Boolean(env.TESTWIRE_DEBUG) && !switchedOff(env.TESTWIRE_DEBUG),
  };
  const baseline = resolveBaseline(raw.baseline, env, rootDir, problems);
  if (baseline) options.baseline = baseline;
  if (raw.sink !== undefined) {
    if (typeof raw.sink === 'function') options.sink = raw.sink as ResolvedOptions['sink'];
    else problems.push(`sink must be a function (got ${describe(raw.sink)}); ignored`);
  }
  // A sub-100 ms sampling interval would cost the run more than it tells.
  if (options.performanceIntervalMs > 0 && options.performanceIntervalMs < 100)
    options.performanceIntervalMs = 100;
  if (options.healthIntervalMs > 0 && options.healthIntervalMs < 100) options.healthIntervalMs = 100;
  if (problems.length > 0) options.optionProblems = problems.slice();
  return { options, problems };
}

const FALSY = new Set(['0', 'false', 'off', 'no', 'disabled']);

/**
 * An environment switch's value that turns its feature off: 0, false, off, no or disabled, any case, spaces
 * around ignored. Unset or anything else is not "off". The one reading of every TESTWIRE_* switch.
 */
export function switchedOff(value: string | undefined): boolean {
  return value !== undefined && FALSY.has(value.trim().toLowerCase());
}

/** TESTWIRE=off (or 0, false, no, disabled): testwire is off whatever the reporter's options say. */
export function turnedOffByEnv(env: Record<string, string | undefined>): boolean {
  return switchedOff(env.TESTWIRE);
}

function isHttpOrWsUrl(value: string): boolean {
  try {
    return ['http:', 'https:', 'ws:', 'wss:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value;
  }
}
