/**
 * Connections to Redis from a URL — `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS), or a unix
 * socket: `unix:///path/to/redis.sock[?db=N]`, with credentials `unix://[user]:pass@localhost/path/to/redis.sock`
 * (a URL has user info only with a host: `localhost`, the only one allowed) or `?password=…&username=…` — and
 * the URL as it may be shown: without its credentials.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** The URL without user name, password or query (what logs, errors and /status may show). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'unix:') return `unix://${parsed.pathname}`;
    const auth = parsed.username || parsed.password ? '***@' : '';
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '<invalid Redis URL>';
  }
}

/** Throws a TypeError naming what is wrong with `url` (never echoing its credentials). */
export function checkRedisUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('the Redis URL is not a URL: expected redis://host:port, rediss://… or unix:///path');
  }
  if (!['redis:', 'rediss:', 'unix:'].includes(parsed.protocol))
    throw new TypeError(
      `the Redis URL's scheme ${JSON.stringify(parsed.protocol)} is not redis:, rediss: or unix:`,
    );
  if (parsed.protocol === 'unix:' && (!parsed.pathname || parsed.pathname === '/'))
    throw new TypeError('a unix: Redis URL needs a socket path: unix:///path/to/redis.sock');
  if (parsed.protocol === 'unix:' && parsed.host && parsed.hostname !== 'localhost')
    throw new TypeError(
      'a unix: Redis URL names a socket on this machine: its host is empty or localhost (unix://:password@localhost/path/to/redis.sock)',
    );
}

/** A client for `url` with `options` (credentials and TLS from the URL, as ioredis reads them). */
export function connectRedis(url: string, options: RedisOptions): Redis {
  checkRedisUrl(url);
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') {
    const query = parsed.searchParams;
    const db = Number(query.get('db') ?? 0);
    const username = decodeURIComponent(parsed.username) || query.get('username');
    const password = decodeURIComponent(parsed.password) || query.get('password');
    return new Redis({
      ...options,
      path: decodeURIComponent(parsed.pathname),
      db,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    });
  }
  return new Redis(url, options);
}

/** The message of a Redis/network error, with any URL in it redacted. */
export function errorText(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return message.replace(/\b(rediss?|unix):\/\/\S+/g, (match) => redactUrl(match));
}

/** TLS verdicts on the server's certificate: the same certificate gets the same verdict for the whole run. */
const CERTIFICATE_ERRORS = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The Redis URL's host name does not resolve (ENOTFOUND). Not cured by waiting — unless the name is about to
 * exist: a CI service container or a cluster's DNS entry that comes up a few seconds after the job starts. A
 * publisher gives up on it only once it has lasted (publisher.ts); EAI_AGAIN, a DNS server that did not
 * answer, is a blip like any other.
 */
export function unresolvedHost(error: unknown): boolean {
  return (
    String((error as NodeJS.ErrnoException)?.code ?? '') === 'ENOTFOUND' ||
    /\bENOTFOUND\b/.test(errorText(error))
  );
}

/** What to fix when the Redis URL's host name does not resolve. */
export const UNRESOLVED_HOST_FIX = 'check the host name in the Redis URL';

/**
 * What to fix, when `error` will not go away by waiting: the socket may not be opened (EACCES), Redis refuses the credentials
 * or their rights (WRONGPASS, NOAUTH, NOPERM), the group's keys hold something else (WRONGTYPE), the server
 * runs no scripts (unknown command), or the server's TLS certificate is refused. Undefined for an error a
 * retry may cure (refused or reset connections, timeouts, LOADING, OOM: a Redis restarting or busy, a network
 * blip; a missing unix socket: a Redis not started yet).
 */
export function permanentFailure(error: unknown): string | undefined {
  const code = String((error as NodeJS.ErrnoException)?.code ?? '');
  const text = errorText(error);
  if (/\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(text))
    return "check the credentials in the Redis URL (and the user's ACL rights)";
  if (code === 'EACCES' || /\bEACCES\b/.test(text))
    return 'check that this user may open the Redis socket (its permissions)';
  if (/\bWRONGTYPE\b/.test(text))
    return "the group's keys hold another kind of value: another program uses them (pick another key prefix or Redis db)";
  if (/\bERR unknown command\b/.test(text))
    return 'this server runs no Lua scripts (EVALSHA), which the shards need';
  if (CERTIFICATE_ERRORS.has(code))
    return "check the Redis server's TLS certificate (or the rediss:// host name)";
  return undefined;
}
