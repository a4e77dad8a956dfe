/**
 * The publisher secret: proof that a joining process runs as the same OS user as the owner.
 *
 * The owner writes a random secret to `<tmpdir>/testwire-<user>-<port>.secret` (mode 0600, written to a
 * fresh file then renamed, so a file planted by another user is replaced, not reused). A publisher reads
 * it only when the file belongs to it and nobody else can read it, and sends it in `x-testwire-publisher`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const PUBLISHER_HEADER = 'x-testwire-publisher';

function userTag(): string {
  const uid = process.getuid?.();
  if (uid !== undefined && uid >= 0) return String(uid);
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_-]/g, '_') || 'user';
  } catch {
    return 'user';
  }
}

export function secretPath(port: number, dir = tmpdir()): string {
  return join(dir, `testwire-${userTag()}-${port}.secret`);
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the secret for `port`. Returns the path, or undefined (with why) when it could not be written. */
export function writeSecret(port: number, secret: string): { path?: string; error?: string } {
  const path = secretPath(port);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(temp, secret, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    return { path };
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {}
    return { error: (error as Error).message };
  }
}

/** Reads the secret for `port` if the file is ours and private; undefined otherwise. */
export function readSecret(port: number): string | undefined {
  const path = secretPath(port);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) return undefined;
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) return undefined;
    const text = readFileSync(fd, 'utf8').trim();
    return text || undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes the file if it still holds our secret (a newer owner may have replaced it). */
export function removeSecret(port: number, secret: string): void {
  const path = secretPath(port);
  try {
    if (readFileSync(path, 'utf8').trim() === secret) unlinkSync(path);
  } catch {}
}
