/**
 * Broadcaster options: the public shape, defaults, environment variables, and up-front validation.
 * Validation throws (programmer errors) with messages naming the option, like ws's WebSocketServer.
 */

import { DEFAULT_HOST, DEFAULT_PORT, redactCredentials } from '@testwire/protocol';

export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}

export interface BroadcasterOptions {
  /** Port to bind. Default: env `TESTWIRE_PORT` ?? 7357. `0` picks an ephemeral port. */
  port?: number;
  /** Interface to bind. Default: env `TESTWIRE_HOST` ?? `127.0.0.1`. */
  host?: string;
  /** API key(s) accepted by `?apiKey=` or `Authorization: Bearer`. Default: env `TESTWIRE_API_KEY`. Enables auth. */
  apiKey?: string | string[];
  /** HS256 secret for JWTs (`?token=` or Bearer; `exp`/`nbf` honoured). Default: env `TESTWIRE_JWT_SECRET`. Enables auth. */
  jwtSecret?: string;
  /**
   * Key(s) that may also publish (a joining process on another machine, or one that cannot read the
   * publisher secret): `Authorization: Bearer <key>`. `apiKey` keys and JWTs without the publish scope only
   * read. A joining publisher sends the first one. Default: env `TESTWIRE_PUBLISH_KEY`. Enables auth.
   */
  publishKey?: string | string[];
  /** Accept JWTs that have no `exp` (they never expire). Default false: such tokens are refused. */
  allowJwtWithoutExp?: boolean;
  /**
   * Browser Origins allowed besides this endpoint's own (the Origin whose host:port is the request's Host),
   * e.g. `https://ci.example.com`. Pages on other loopback ports are refused unless listed (a dev server's
   * page using @testwire/react: `http://localhost:5173`). Default: env `TESTWIRE_ALLOWED_ORIGINS`
   * (comma-separated).
   */
  allowedOrigins?: string[];
  /**
   * Host names (the `Host` header, port ignored) accepted besides loopback names and IP addresses: the
   * DNS-rebinding guard. `.example.com` also accepts its subdomains; `true` accepts any Host (behind a
   * proxy that checks it). Default: env `TESTWIRE_ALLOWED_HOSTS` (comma-separated).
   */
  allowedHosts?: string[] | true;
  /** Abuse bounds per client address (all of them configurable; the defaults suit many local processes). */
  limits?: {
    /**
     * Open TCP connections per client address, and in all (at most half the process's open-file limit);
     * beyond, the oldest connection that has sent nothing yet is closed to make room, else the new one is.
     * Defaults 1 000 and 2 000.
     */
    connectionsPerAddress?: number;
    connections?: number;
    /** HTTP requests and upgrades per second per client address (token bucket). Default 500/s, burst 2 000. */
    requestsPerSecond?: number;
    requestBurst?: number;
    /** How long a client may take to send a request's headers (slowloris). Default 10 000 ms. */
    headersTimeoutMs?: number;
    /** Wrong credentials from one address before it is locked out. Default 10 within a minute. */
    badCredentials?: number;
    /** How long a locked-out address is refused (429), right credentials or not. Default 60 000 ms. */
    lockoutMs?: number;
  };
  /** Bounds of the replay history. Default 50 000 events / 64 MiB. */
  history?: { maxEvents?: number; maxBytes?: number };
  /**
   * Run state kept for `snapshot`: tests per run (default 50 000). Beyond it the earliest finished tests of
   * the run are left out of snapshots (passed/skipped/todo first, then failed; running ones never): counts
   * stay complete and the run's `omittedTests` says how many were left out.
   */
  runState?: { maxTestsPerRun?: number };
  /** WebSocket ping interval; peers that did not answer the previous ping are terminated. Default 15 000 ms. */
  heartbeatMs?: number;
  /** SSE keep-alive comment interval. Default 15 000 ms. */
  sseKeepAliveMs?: number;
  /** Largest frame a client may send. Default 64 KiB. */
  maxPayload?: number;
  /**
   * Bounds on unsent bytes (a queue plus its socket's buffer). `maxBytes`: per subscriber, default 8 MiB.
   * `totalMaxBytes`: all subscribers together, default 8 × `maxBytes` (64 MiB), at least `maxBytes`: readers
   * that never read cost the test process at most that in all, not each their own bound. Over either, the
   * subscriber (for the total: the ones holding the most) gets SUBSCRIBER_LAGGING and close 4008; one that
   * still holds unsent bytes here after that is disconnected at once (queued-total.ts).
   */
  subscriberQueue?: { maxBytes?: number; totalMaxBytes?: number };
  /** Publisher side: events kept while the owner is unreachable. Default 100 000 events / 32 MiB; beyond, dropped and counted. */
  publisherQueue?: { maxEvents?: number; maxBytes?: number };
  /** Per-connection token bucket for client messages. Default 50 messages/s, burst 100. */
  rateLimit?: { messagesPerSecond?: number; burst?: number };
  /** Join this endpoint as a publisher instead of binding (getBroadcaster only). Default: env `TESTWIRE_URL`. */
  url?: string;
  /**
   * Static directory served at `GET /`. Default: the installed `@testwire/dashboard`, if any. `false`: no
   * dashboard even if installed. Without one, `/` is a small page naming the endpoints.
   */
  dashboardDir?: string | false;
  /**
   * Keep the process alive while the server listens. Default false: the broadcaster lives inside a test
   * process and must never hold it open. `testwire serve` passes true.
   */
  keepAlive?: boolean;
  /** How long `close()` waits for pending frames before terminating connections. Default 2 000 ms. */
  closeTimeoutMs?: number;
  /** Where warnings go. Default `console.warn`. */
  logger?: Logger;
}

/**
 * Auth a publisher inherited from the owner it took the port over from (join/policy.ts), beside its own
 * keys: SHA-256 digests (hex) of the API and publish keys, and whether JWTs were required.
 */
export interface InheritedAuth {
  apiKeyDigests: string[];
  publishKeyDigests: string[];
  jwt: boolean;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  apiKeys: string[];
  jwtSecret?: string;
  publishKeys: string[];
  allowJwtWithoutExp: boolean;
  allowedOrigins: string[];
  /** Lower-cased host names; `.x` covers subdomains; `true`: any Host. */
  allowedHosts: string[] | true;
  connectionsPerAddress: number;
  connections: number;
  requestsPerSecond: number;
  requestBurst: number;
  headersTimeoutMs: number;
  badCredentials: number;
  lockoutMs: number;
  historyMaxEvents: number;
  historyMaxBytes: number;
  maxTestsPerRun: number;
  heartbeatMs: number;
  sseKeepAliveMs: number;
  maxPayload: number;
  subscriberMaxBytes: number;
  subscriberTotalMaxBytes: number;
  publisherMaxEvents: number;
  publisherMaxBytes: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  url?: string;
  dashboardDir?: string | false;
  keepAlive: boolean;
  closeTimeoutMs: number;
  logger: Logger;
  /** Auth a publisher inherited from the owner it took the port over from (join/policy.ts); never from the user. */
  inherited?: InheritedAuth;
}

const KNOWN = new Set([
  'port',
  'host',
  'apiKey',
  'jwtSecret',
  'publishKey',
  'allowJwtWithoutExp',
  'allowedOrigins',
  'allowedHosts',
  'limits',
  'history',
  'runState',
  'heartbeatMs',
  'sseKeepAliveMs',
  'maxPayload',
  'subscriberQueue',
  'publisherQueue',
  'rateLimit',
  'url',
  'dashboardDir',
  'keepAlive',
  'closeTimeoutMs',
  'logger',
]);

/** Thrown for invalid options; `code` is stable. */
export class OptionsError extends TypeError {
  readonly code = 'ERR_TESTWIRE_INVALID_OPTION';
}

const fail = (message: string): never => {
  throw new OptionsError(message);
};

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!isInt(value) || value <= 0)
    fail(`The "${name}" option must be a positive integer, got ${describe(value)}`);
  return value as number;
}

/**
 * `subscriberQueue.totalMaxBytes`: default 8 subscribers at their own bound; below one of them, a single
 * subscriber would lag for the total before its own bound.
 */
function totalAtLeast(value: unknown, subscriberMaxBytes: number): number {
  const total = positiveInt(value, 'subscriberQueue.totalMaxBytes', 8 * subscriberMaxBytes);
  if (total < subscriberMaxBytes)
    fail(
      `The "subscriberQueue.totalMaxBytes" option must be at least subscriberQueue.maxBytes (${subscriberMaxBytes}), got ${total}`,
    );
  return total;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function portFrom(value: unknown, name: string): number {
  if (!isInt(value) || value < 0 || value > 65535) {
    fail(`The "${name}" option must be an integer between 0 and 65535, got ${describe(value)}`);
  }
  return value as number;
}

function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.TESTWIRE_PORT;
  if (raw === undefined || raw.trim() === '') return undefined;
  const port = Number(raw);
  if (!isInt(port) || port < 0 || port > 65535) {
    fail(`TESTWIRE_PORT must be an integer between 0 and 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** TESTWIRE_PORT when it is a port, else undefined (not an error). */
function envPortOrUndefined(env: NodeJS.ProcessEnv): number | undefined {
  try {
    return envPort(env);
  } catch {
    return undefined;
  }
}

function object(value: unknown, name: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`The "${name}" option must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Validates options and fills defaults from the environment. Throws an OptionsError naming the option.
 */
export function resolveOptions(
  options: BroadcasterOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`Broadcaster options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) fail(`Unknown broadcaster option "${key}"; known options: ${[...KNOWN].join(', ')}`);
  }
  const url = options.url ?? (env.TESTWIRE_URL?.trim() || undefined);
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^(https?|wss?):$/.test(parsed.protocol)) {
      fail(
        `The "url" option (or TESTWIRE_URL) must be an http:// or ws:// URL of a testwire broadcaster, got ${redactCredentials(describe(url))}`,
      );
    }
  }

  // With a url to join, no port is bound: a TESTWIRE_PORT meant for other processes (or wrong) is not this
  // one's concern, and refusing it turned the broadcaster off with every event of the run dropped.
  const port =
    options.port !== undefined
      ? portFrom(options.port, 'port')
      : url !== undefined
        ? (envPortOrUndefined(env) ?? DEFAULT_PORT)
        : (envPort(env) ?? DEFAULT_PORT);

  let host = options.host ?? (env.TESTWIRE_HOST?.trim() || DEFAULT_HOST);
  if (typeof host !== 'string' || host === '')
    fail(`The "host" option must be a non-empty string, got ${describe(host)}`);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);

  const apiKeys = keyList(options.apiKey ?? (env.TESTWIRE_API_KEY || undefined), 'apiKey');
  const publishKeys = keyList(options.publishKey ?? (env.TESTWIRE_PUBLISH_KEY || undefined), 'publishKey');
  if (options.allowJwtWithoutExp !== undefined && typeof options.allowJwtWithoutExp !== 'boolean') {
    fail(`The "allowJwtWithoutExp" option must be a boolean, got ${describe(options.allowJwtWithoutExp)}`);
  }

  const jwtSecret = options.jwtSecret ?? (env.TESTWIRE_JWT_SECRET || undefined);
  if (jwtSecret !== undefined && (typeof jwtSecret !== 'string' || jwtSecret === '')) {
    fail('The "jwtSecret" option must be a non-empty string');
  }

  const allowedOrigins = options.allowedOrigins ?? originsFromEnv(env.TESTWIRE_ALLOWED_ORIGINS);
  if (!Array.isArray(allowedOrigins) || allowedOrigins.some((o) => typeof o !== 'string')) {
    fail('The "allowedOrigins" option must be an array of origin strings like "https://ci.example.com"');
  }

  const allowedHosts = hostList(options.allowedHosts ?? env.TESTWIRE_ALLOWED_HOSTS?.split(','));
  const limits = object(options.limits, 'limits');
  const history = object(options.history, 'history');
  const runState = object(options.runState, 'runState');
  const subscriberQueue = object(options.subscriberQueue, 'subscriberQueue');
  const subscriberMaxBytes = positiveInt(
    subscriberQueue?.maxBytes,
    'subscriberQueue.maxBytes',
    8 * 1024 * 1024,
  );
  const rateLimit = object(options.rateLimit, 'rateLimit');
  const publisherQueue = object(options.publisherQueue, 'publisherQueue');

  if (
    options.dashboardDir !== undefined &&
    options.dashboardDir !== false &&
    (typeof options.dashboardDir !== 'string' || options.dashboardDir === '')
  ) {
    fail('The "dashboardDir" option must be a directory path, or false for no dashboard');
  }
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
    fail(`The "keepAlive" option must be a boolean, got ${describe(options.keepAlive)}`);
  }
  const logger = options.logger ?? { warn: (m: string) => console.warn(m) };
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    fail('The "logger" option must be an object with a warn(message) method');
  }

  return {
    port,
    host,
    apiKeys,
    jwtSecret,
    publishKeys,
    allowJwtWithoutExp: options.allowJwtWithoutExp ?? false,
    allowedOrigins: allowedOrigins.map(normalizeOrigin),
    allowedHosts,
    connectionsPerAddress: positiveInt(limits?.connectionsPerAddress, 'limits.connectionsPerAddress', 1000),
    connections: positiveInt(limits?.connections, 'limits.connections', 2000),
    requestsPerSecond: positiveInt(limits?.requestsPerSecond, 'limits.requestsPerSecond', 500),
    requestBurst: positiveInt(limits?.requestBurst, 'limits.requestBurst', 2000),
    headersTimeoutMs: positiveInt(limits?.headersTimeoutMs, 'limits.headersTimeoutMs', 10_000),
    badCredentials: positiveInt(limits?.badCredentials, 'limits.badCredentials', 10),
    lockoutMs: positiveInt(limits?.lockoutMs, 'limits.lockoutMs', 60_000),
    historyMaxEvents: positiveInt(history?.maxEvents, 'history.maxEvents', 50_000),
    historyMaxBytes: positiveInt(history?.maxBytes, 'history.maxBytes', 64 * 1024 * 1024),
    maxTestsPerRun: positiveInt(runState?.maxTestsPerRun, 'runState.maxTestsPerRun', 50_000),
    heartbeatMs: positiveInt(options.heartbeatMs, 'heartbeatMs', 15_000),
    sseKeepAliveMs: positiveInt(options.sseKeepAliveMs, 'sseKeepAliveMs', 15_000),
    maxPayload: positiveInt(options.maxPayload, 'maxPayload', 64 * 1024),
    subscriberMaxBytes,
    subscriberTotalMaxBytes: totalAtLeast(subscriberQueue?.totalMaxBytes, subscriberMaxBytes),
    publisherMaxEvents: positiveInt(publisherQueue?.maxEvents, 'publisherQueue.maxEvents', 100_000),
    publisherMaxBytes: positiveInt(publisherQueue?.maxBytes, 'publisherQueue.maxBytes', 32 * 1024 * 1024),
    rateLimitPerSecond: positiveInt(rateLimit?.messagesPerSecond, 'rateLimit.messagesPerSecond', 50),
    rateLimitBurst: positiveInt(rateLimit?.burst, 'rateLimit.burst', 100),
    url,
    dashboardDir: options.dashboardDir,
    keepAlive: options.keepAlive ?? false,
    closeTimeoutMs: positiveInt(options.closeTimeoutMs, 'closeTimeoutMs', 2_000),
    logger,
  };
}

function keyList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const key of list) {
    if (typeof key !== 'string' || key === '')
      fail(`The "${name}" option must be a non-empty string or an array of them`);
  }
  return list as string[];
}

/** `allowedHosts` (or TESTWIRE_ALLOWED_HOSTS split at commas): names lower-cased, blanks dropped. */
function hostList(value: unknown): string[] | true {
  if (value === undefined) return [];
  if (value === true) return true;
  if (!Array.isArray(value) || value.some((h) => typeof h !== 'string')) {
    fail(
      'The "allowedHosts" option must be an array of host names like "ci.example.com" (or true: any Host)',
    );
  }
  return (value as string[]).map((h) => h.trim().toLowerCase().replace(/\.$/, '')).filter((h) => h !== '');
}

/** `TESTWIRE_ALLOWED_ORIGINS`: comma-separated `http(s)://host[:port]`; anything else is an error naming it. */
function originsFromEnv(value: string | undefined): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      fail(
        `TESTWIRE_ALLOWED_ORIGINS: ${JSON.stringify(origin)} is not an origin; write it like "http://localhost:5173"`,
      );
    }
  }
  return origins;
}

/** `https://Example.com:443/` -> `https://example.com`; garbage is kept as given (it then matches nothing). */
export function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}
