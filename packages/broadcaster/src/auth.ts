/**
 * Who may connect, and who may publish: API keys (read), publish keys and HS256 JWTs with the publish scope
 * (read and publish), JWTs without it (read). The publisher secret is checked by the ingress (join/).
 *
 * Secrets are compared in constant time over SHA-256 digests (equal lengths for timingSafeEqual, and no
 * length leak). Header parsing never throws.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressLimits } from './limits.js';
import type { ResolvedOptions } from './options.js';

/** SHA-256 of a secret: what keys are compared (and handed on after a takeover, join/policy.ts) as. */
export const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time string equality. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The JWT claim `scope` (space-separated string, or array) must hold this for the token to publish. */
export const PUBLISH_SCOPE = 'testwire:publish';

export type AuthResult =
  /** `publish`: the credential may publish (a publish key, or a JWT with the publish scope). */
  | { ok: true; subject?: string; publish: boolean }
  /** `missing`: no credential at all (not counted toward a lockout). */
  | { ok: false; status: 401 | 403 | 429; code: string; message: string; missing?: boolean };

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

/** Which of `keys` `candidate` is (every key compared, so the time taken does not tell which matched). */
function matches(keys: readonly Buffer[], candidate: string): boolean {
  const d = digest(candidate);
  let found = false;
  for (const key of keys) if (timingSafeEqual(key, d)) found = true;
  return found;
}

/** True when a JWT payload's `scope` (a space-separated string or an array) holds PUBLISH_SCOPE. */
function hasPublishScope(scope: unknown): boolean {
  const list = typeof scope === 'string' ? scope.split(' ') : Array.isArray(scope) ? scope : [];
  return list.includes(PUBLISH_SCOPE);
}

export class Authenticator {
  private readonly keys: Buffer[];
  private readonly publishKeys: Buffer[];
  private jwtKey?: Uint8Array;
  private readonly requireExp: boolean;

  /** `limits`: where wrong credentials are counted and lockouts read (per client address). */
  constructor(
    options: Pick<
      ResolvedOptions,
      'apiKeys' | 'publishKeys' | 'jwtSecret' | 'allowJwtWithoutExp' | 'inherited'
    >,
    private readonly limits?: AddressLimits,
  ) {
    const inherited = options.inherited;
    const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');
    this.keys = [...options.apiKeys.map(digest), ...(inherited?.apiKeyDigests ?? []).map(fromHex)];
    this.publishKeys = [
      ...options.publishKeys.map(digest),
      ...(inherited?.publishKeyDigests ?? []).map(fromHex),
    ];
    this.requireExp = !options.allowJwtWithoutExp;
    if (options.jwtSecret) this.jwtKey = new TextEncoder().encode(options.jwtSecret);
    this.inheritedJwt = inherited?.jwt === true && this.jwtKey === undefined;
  }

  /** JWTs were required by an owner this one took over from, and it has no secret to verify them. */
  private readonly inheritedJwt: boolean;

  /** True when API keys, publish keys or a JWT secret are configured (here, or by an owner taken over from). */
  get enabled(): boolean {
    return (
      this.keys.length > 0 || this.publishKeys.length > 0 || this.jwtKey !== undefined || this.inheritedJwt
    );
  }

  /** The key's rights: publish (a publish key), read (an API key), or none. */
  private keyRights(candidate: string): AuthResult | undefined {
    if (this.publishKeys.length > 0 && matches(this.publishKeys, candidate))
      return { ok: true, publish: true };
    if (this.keys.length > 0 && matches(this.keys, candidate)) return { ok: true, publish: false };
    return undefined;
  }

  private async verifyJwt(token: string): Promise<AuthResult> {
    if (!this.jwtKey)
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHORIZED',
        message: this.inheritedJwt
          ? 'This process (a test run) took the endpoint over from one that verified JWTs and has no secret to verify them: use an API key if the endpoint has one; once this run ends the port is free for `testwire serve` again'
          : 'JWT auth is not configured on this broadcaster',
      };
    try {
      const { jwtVerify } = await import('jose');
      const { payload } = await jwtVerify(token, this.jwtKey, {
        algorithms: ['HS256'],
        ...(this.requireExp ? { requiredClaims: ['exp'] } : {}),
      });
      return {
        ok: true,
        subject: typeof payload.sub === 'string' ? payload.sub : undefined,
        publish: hasPublishScope(payload.scope),
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why =
        code === 'ERR_JWT_EXPIRED'
          ? 'the token has expired (exp)'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? (error as { claim?: string }).claim === 'exp'
              ? 'the token has no expiry (exp); tokens without one are refused unless allowJwtWithoutExp is set'
              : `a claim is not valid yet or failed validation (${(error as Error).message})`
            : 'the signature or format is invalid';
      return { ok: false, status: 401, code: 'UNAUTHORIZED', message: `Invalid token: ${why}` };
    }
  }

  /**
   * Checks the request's credentials. Resolves `{ok: true}` when auth is not configured. Wrong credentials
   * count toward a lockout of the address; a locked-out address gets 429 LOCKED_OUT for wrong ones, but a
   * right credential always gets in: an address is not a client (every local process shares 127.0.0.1, and
   * every client of a proxy its address), so refusing right ones would let anyone there lock everyone out.
   */
  async check(req: IncomingMessage, query: URLSearchParams): Promise<AuthResult> {
    if (!this.enabled) return { ok: true, publish: false };
    const result = await this.verify(req, query);
    if (result.ok || result.missing) return result;
    const lockedMs = this.limits?.lockedFor(req.socket?.remoteAddress ?? '') ?? 0;
    if (lockedMs > 0) {
      return {
        ok: false,
        status: 429,
        code: 'LOCKED_OUT',
        message: `Too many wrong credentials from this address: wrong ones are refused for ${Math.ceil(lockedMs / 1000)} s more (a right one is accepted)`,
      };
    }
    this.failed(req);
    return result;
  }

  /** Counts a wrong credential (a key, a token, a publisher secret) from the request's address. */
  failed(req: IncomingMessage): void {
    this.limits?.failed(req.socket?.remoteAddress ?? '');
  }

  private async verify(req: IncomingMessage, query: URLSearchParams): Promise<AuthResult> {
    const { apiKey, token, bearer } = credentialsOf(req, query);
    const byKey =
      (apiKey !== undefined ? this.keyRights(apiKey) : undefined) ??
      (bearer !== undefined ? this.keyRights(bearer) : undefined);
    if (byKey) return byKey;
    const jwt = token ?? (bearer !== undefined && JWT_SHAPE.test(bearer) ? bearer : undefined);
    if (jwt !== undefined && (this.jwtKey || this.inheritedJwt)) return this.verifyJwt(jwt);
    if (apiKey === undefined && token === undefined && bearer === undefined) {
      return {
        ok: false,
        status: 401,
        code: 'UNAUTHORIZED',
        message: 'Authentication required: pass ?apiKey=, ?token= (JWT) or an "Authorization: Bearer" header',
        missing: true,
      };
    }
    return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'Invalid API key or token' };
  }
}
