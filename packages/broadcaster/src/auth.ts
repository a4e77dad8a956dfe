/**
 * Who may connect: API keys, HS256 JWTs, the publisher secret, and the browser Origin check.
 *
 * Secrets are compared in constant time over SHA-256 digests (equal lengths for timingSafeEqual, and no
 * length leak). Header parsing never throws: garbage is treated as foreign.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ResolvedOptions } from './options.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time string equality. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export type AuthResult =
  | { ok: true; subject?: string }
  | { ok: false; status: 401 | 403; code: string; message: string };

/** Credentials a request carries: `?apiKey=`, `?token=`, or `Authorization: Bearer <key or JWT>`. */
export function credentialsOf(
  req: IncomingMessage,
  query: URLSearchParams,
): { apiKey?: string; token?: string; bearer?: string } {
  const header = req.headers.authorization;
  const bearer =
    typeof header === 'string' && /^bearer\s+/i.test(header)
      ? header.replace(/^bearer\s+/i, '').trim()
      : undefined;
  return {
    apiKey: query.get('apiKey') ?? undefined,
    token: query.get('token') ?? undefined,
    bearer: bearer || undefined,
  };
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class Authenticator {
  private readonly keys: Buffer[];
  private jwtKey?: Uint8Array;

  constructor(options: Pick<ResolvedOptions, 'apiKeys' | 'jwtSecret'>) {
    this.keys = options.apiKeys.map(digest);
    if (options.jwtSecret) this.jwtKey = new TextEncoder().encode(options.jwtSecret);
  }

  /** True when API keys or a JWT secret are configured. */
  get enabled(): boolean {
    return this.keys.length > 0 || this.jwtKey !== undefined;
  }

  private keyMatches(candidate: string): boolean {
    const d = digest(candidate);
    let found = false;
    // Check every key so the time taken does not reveal which one matched.
    for (const key of this.keys) if (timingSafeEqual(key, d)) found = true;
    return found;
  }

  private async verifyJwt(token: string): Promise<AuthResult> {
    if (!this.jwtKey)
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHORIZED',
        message: 'JWT auth is not configured on this broadcaster',
      };
    try {
      const { jwtVerify } = await import('jose');
      const { payload } = await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] });
      return { ok: true, subject: typeof payload.sub === 'string' ? payload.sub : undefined };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why =
        code === 'ERR_JWT_EXPIRED'
          ? 'the token has expired (exp)'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? `a claim is not valid yet or failed validation (${(error as Error).message})`
            : 'the signature or format is invalid';
      return { ok: false, status: 401, code: 'UNAUTHORIZED', message: `Invalid token: ${why}` };
    }
  }

  /** Checks the request's credentials. Resolves `{ok: true}` when auth is not configured. */
  async check(req: IncomingMessage, query: URLSearchParams): Promise<AuthResult> {
    if (!this.enabled) return { ok: true };
    const { apiKey, token, bearer } = credentialsOf(req, query);
    if (apiKey !== undefined && this.keys.length > 0 && this.keyMatches(apiKey)) return { ok: true };
    if (bearer !== undefined && this.keys.length > 0 && this.keyMatches(bearer)) return { ok: true };
    const jwt = token ?? (bearer !== undefined && JWT_SHAPE.test(bearer) ? bearer : undefined);
    if (jwt !== undefined && this.jwtKey) return this.verifyJwt(jwt);
    if (apiKey === undefined && token === undefined && bearer === undefined) {
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHORIZED',
        message: 'Authentication required: pass ?apiKey=, ?token= (JWT) or an "Authorization: Bearer" header',
      };
    }
    return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'Invalid API key or token' };
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for names that always mean this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return LOOPBACK.has(h) || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h);
}

/** `host:port` of a Host header, lower-cased; undefined for garbage. Never throws. */
function parseHostHeader(value: string | undefined): { host: string; hostname: string } | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 300) return undefined;
  try {
    const url = new URL(`http://${value}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return { host: url.host, hostname: url.hostname.replace(/^\[|\]$/g, '') };
  } catch {
    return undefined;
  }
}

/**
 * The cross-site WebSocket hijacking / DNS-rebinding guard. Requests without an Origin (non-browser
 * clients) pass. A browser Origin passes when it is listed in allowedOrigins, is loopback, or is this
 * server's own Host (not when bound to loopback, where a foreign Host means DNS rebinding).
 */
export function originAllowed(
  req: IncomingMessage,
  allowedOrigins: readonly string[],
  boundToLoopback: boolean,
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin !== 'null' && allowedOrigins.includes(parsed.origin)) return true;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const originHost = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(originHost)) return true;
  if (boundToLoopback) return false;
  const host = parseHostHeader(req.headers.host);
  return host !== undefined && host.host === parsed.host;
}
