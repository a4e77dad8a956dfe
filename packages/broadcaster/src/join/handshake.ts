/**
 * The join handshake: each side proves it holds the publisher secret before the joiner sends anything of
 * value (the secret itself never crosses the wire). A process that took the port over and answers /status
 * like testwire, but cannot read the owner's 0600 file, fails the owner's half and gets nothing.
 *
 *   joiner ── upgrade /ws?role=publisher, x-testwire-nonce: C ──────────────────────────> owner
 *   joiner <── 101, x-testwire-owner-nonce: O, x-testwire-owner-proof: HMAC(secret, owner C O) ── owner
 *   joiner checks the owner's proof (wrong: terminate, nothing sent)
 *   joiner ── {"type":"auth","proof": HMAC(secret, publisher C O)}, then its batches ───> owner
 *   owner takes nothing before a right proof (wrong or late: close 1008, nothing stored; more than
 *   PROOF_MAX_BYTES: the socket ends), and tells nothing: connection.established (epoch, seq) follows the
 *   right proof, and only then is the joiner a publisher (counted in /status, pinged).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../auth.js';

export const NONCE_HEADER = 'x-testwire-nonce';
export const OWNER_NONCE_HEADER = 'x-testwire-owner-nonce';
export const OWNER_PROOF_HEADER = 'x-testwire-owner-proof';
/** A nonce as sent: 16 random bytes, base64url. */
export const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
/** How long the owner waits for the joiner's proof. */
export const PROOF_TIMEOUT_MS = 10_000;
/**
 * What a joiner may send before its proof is verified: the proof's frame is under 100 bytes. A publisher's
 * frames may be 32 MiB, and `ws` buffers a frame whole before any handler sees it.
 */
export const PROOF_MAX_BYTES = 1024;

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The proof of `role` for a handshake's two nonces (the role in the text: one side's proof never serves the other). */
export function proof(
  secret: string,
  role: 'owner' | 'publisher',
  joinerNonce: string,
  ownerNonce: string,
): string {
  return createHmac('sha256', secret)
    .update(`testwire ${role}\n${joinerNonce}\n${ownerNonce}`)
    .digest('base64url');
}

/** Constant-time check of a proof received (anything but a string is wrong). */
export function proofMatches(received: unknown, expected: string): boolean {
  return typeof received === 'string' && safeEqual(received, expected);
}

/**
 * The reason of the close an owner sends its publishers when it shuts down with no subscriber: none will
 * follow to whoever takes the port over, so the winner has no handover to wait for (publisher.ts).
 */
export const NO_FOLLOWERS_REASON = 'Broadcaster shutting down; no subscribers';
