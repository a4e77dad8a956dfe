/**
 * The endpoint's access policy, which outlives its owner: a publisher that takes the port over must keep
 * enforcing what the owner it published to enforced — its API keys, publish keys, JWT requirement, allowed
 * Origins and Hosts. Without this, a `testwire serve --api-key K` whose process went away handed its port to a
 * test process configured with nothing, and the endpoint was open to anyone on the machine.
 *
 *   owner ── connection.established {policy} ──> publisher (only after the secret handshake: never to a subscriber)
 *   publisher takes over ──> its own options ∪ the policy ──> the new owner, which hands it on in turn
 *
 * Keys travel as SHA-256 digests (the Authenticator compares digests): the successor checks a key without
 * learning it. A JWT secret cannot travel that way: a successor without one of its own refuses every token,
 * with a message that says why, and lets in only the keys it has (fail closed).
 */
import { digest } from '../auth.js';
import type { ResolvedOptions } from '../options.js';

/** What a successor inherits (the `policy` of a publisher's connection.established). */
export interface EndpointPolicy {
  /** SHA-256 digests (hex) of the API keys (read). */
  apiKeyDigests: string[];
  /** SHA-256 digests (hex) of the publish keys. */
  publishKeyDigests: string[];
  /** JWTs were accepted (a jwtSecret was set, here or by an owner before). */
  jwt: boolean;
  allowedOrigins: string[];
  /** `true`: any Host. */
  allowedHosts: string[] | true;
}

/** A key's digest as it travels (hex of the Authenticator's SHA-256). */
const keyDigest = (key: string): string => digest(key).toString('hex');

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** The policy this owner enforces, inherited parts included: what it hands to its publishers. */
export function policyOf(options: ResolvedOptions): EndpointPolicy {
  const inherited = options.inherited;
  return {
    apiKeyDigests: unique([...options.apiKeys.map(keyDigest), ...(inherited?.apiKeyDigests ?? [])]),
    publishKeyDigests: unique([
      ...options.publishKeys.map(keyDigest),
      ...(inherited?.publishKeyDigests ?? []),
    ]),
    jwt: options.jwtSecret !== undefined || inherited?.jwt === true,
    allowedOrigins: options.allowedOrigins,
    allowedHosts: options.allowedHosts,
  };
}

/**
 * Reads a policy from an owner's message; undefined when there is none (an older owner) or it is malformed
 * (then nothing is inherited, as before, rather than something half read).
 */
export function readPolicy(value: unknown): EndpointPolicy | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Record<string, unknown>;
  const digests = (list: unknown): string[] | undefined =>
    Array.isArray(list) && list.every((d) => typeof d === 'string' && HEX_DIGEST.test(d)) ? list : undefined;
  const strings = (list: unknown): string[] | undefined =>
    Array.isArray(list) && list.every((s) => typeof s === 'string') ? list : undefined;
  const apiKeyDigests = digests(p.apiKeyDigests);
  const publishKeyDigests = digests(p.publishKeyDigests);
  const allowedOrigins = strings(p.allowedOrigins);
  const allowedHosts = p.allowedHosts === true ? true : strings(p.allowedHosts);
  if (!apiKeyDigests || !publishKeyDigests || !allowedOrigins || !allowedHosts || typeof p.jwt !== 'boolean')
    return undefined;
  return { apiKeyDigests, publishKeyDigests, jwt: p.jwt, allowedOrigins, allowedHosts };
}

/**
 * The options a successor owns the port with: its own (a publisher's: nothing inherited yet), and everything
 * the policy adds to them.
 */
export function withPolicy(options: ResolvedOptions, policy: EndpointPolicy | undefined): ResolvedOptions {
  if (!policy) return options;
  return {
    ...options,
    inherited: {
      apiKeyDigests: policy.apiKeyDigests,
      publishKeyDigests: policy.publishKeyDigests,
      jwt: policy.jwt,
    },
    allowedOrigins: unique([...options.allowedOrigins, ...policy.allowedOrigins]),
    allowedHosts:
      options.allowedHosts === true || policy.allowedHosts === true
        ? true
        : unique([...options.allowedHosts, ...policy.allowedHosts]),
  };
}

/**
 * True when an owner with policy `next` lets in no one `held` would not: every key it takes was one of
 * `held`'s (API or publish keys: both read), it takes JWTs only if `held` did (their secret does not travel:
 * one of the same user is trusted), and it allows no other browser Origin or Host. An open `held` (no key,
 * no JWT) has nothing to keep; an unknown `next` (an older owner, or none told) is taken as open.
 */
export function enforces(next: EndpointPolicy | undefined, held: EndpointPolicy): boolean {
  const heldKeys = new Set([...held.apiKeyDigests, ...held.publishKeyDigests]);
  const heldOpen = heldKeys.size === 0 && !held.jwt;
  if (heldOpen) return true;
  if (!next) return false;
  const nextKeys = [...next.apiKeyDigests, ...next.publishKeyDigests];
  if (nextKeys.length === 0 && !next.jwt) return false;
  if (!nextKeys.every((key) => heldKeys.has(key)) || (next.jwt && !held.jwt)) return false;
  if (!next.allowedOrigins.every((origin) => held.allowedOrigins.includes(origin))) return false;
  if (held.allowedHosts === true) return true;
  const heldHosts = held.allowedHosts;
  return next.allowedHosts !== true && next.allowedHosts.every((host) => heldHosts.includes(host));
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
