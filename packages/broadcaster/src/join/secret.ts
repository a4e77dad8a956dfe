/**
 * The publisher secret: proof that a joining process runs as the same OS user as the owner.
 *
 * It lives in a per-user directory only that user can enter: `<tmpdir>/testwire-<uid>/<port>.secret`
 * (directory 0700, file 0600, written to a fresh file then renamed over the old one, so a stale file of a
 * killed owner is replaced). A directory that is not ours (another user made it first), is a symbolic link, or
 * is open to others is skipped, said in a warning, and the next candidate is used
 * (`testwire-<uid>-1`, … `-7`): planting a path cannot silently stop joining. A reader opens the file without
 * following links and takes it only when it is ours and private.
 *
 * The secret is removed when the owner closes, at process exit, and on SIGINT/SIGTERM (the signal is then
 * re-raised when nobody else listens, so the process still ends as it would have). SIGKILL leaves it behind:
 * the file's second line is the owner's pid, so a joiner that finds the owner gone removes the file and does
 * not ask whatever now listens on the port to prove it (a joiner never sends the secret anyway, handshake.ts),
 * and each owner that writes a secret removes the files of owners that are gone (removeStale: also those of
 * the format before the pid, and fresh files an owner died writing).
 *
 *   <tmpdir>/testwire-<uid>/<port>.secret     "<secret>\n<owner pid>\n"   (before 24c049b: "<secret>")
 */

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { tcpListeners } from '@testwire/protocol/tcp-listeners';

export const PUBLISHER_HEADER = 'x-testwire-publisher';

/** How many directories are tried before joining gives up (each one named in the warning). */
const CANDIDATES = 8;

function userTag(): string {
  const uid = process.getuid?.();
  if (uid !== undefined && uid >= 0) return String(uid);
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_-]/g, '_') || 'user';
  } catch {
    return 'user';
  }
}

/** The per-user directories, in the order owner and joiner both try them. */
export function candidateDirs(base = tmpdir()): string[] {
  const tag = userTag();
  return Array.from({ length: CANDIDATES }, (_, i) =>
    join(base, i === 0 ? `testwire-${tag}` : `testwire-${tag}-${i}`),
  );
}

/** Ours (a real directory of this user, closed to others), missing, or not usable (why). */
function inspectDir(path: string, fix: boolean): { state: 'ours' | 'missing' | 'foreign'; why?: string } {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? { state: 'missing' }
      : { state: 'foreign', why: (error as Error).message };
  }
  if (stat.isSymbolicLink()) return { state: 'foreign', why: 'is a symbolic link' };
  if (!stat.isDirectory()) return { state: 'foreign', why: 'is not a directory' };
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    return { state: 'foreign', why: `belongs to uid ${stat.uid}, not ${uid}` };
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    if (!fix) return { state: 'foreign', why: 'is open to other users' };
    try {
      chmodSync(path, 0o700);
    } catch (error) {
      return { state: 'foreign', why: `is open to other users (${(error as Error).message})` };
    }
  }
  return { state: 'ours' };
}

/** Where a directory was skipped, and why (for warnings). */
export type Skipped = string[];

/**
 * The owner's directory: the first candidate that is ours, creating it (0700) when missing. Candidates that
 * are not usable are skipped and listed.
 */
export function ownSecretDir(base?: string): { dir?: string; skipped: Skipped } {
  const skipped: Skipped = [];
  for (const dir of candidateDirs(base)) {
    let found = inspectDir(dir, true);
    if (found.state === 'missing') {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch {}
      // Made by us, or by someone else in between: look again.
      found = inspectDir(dir, true);
    }
    if (found.state === 'ours') return { dir, skipped };
    skipped.push(`${dir} ${found.why ?? 'could not be created'}`);
  }
  return { skipped };
}

/** The joiner's directory: the first candidate that is ours; a missing one ends the search (no owner made it). */
export function findSecretDir(base?: string): { dir?: string; skipped: Skipped } {
  const skipped: Skipped = [];
  for (const dir of candidateDirs(base)) {
    const found = inspectDir(dir, false);
    if (found.state === 'ours') return { dir, skipped };
    if (found.state === 'missing') return { skipped };
    skipped.push(`${dir} ${found.why}`);
  }
  return { skipped };
}

const fileName = (port: number): string => `${port}.secret`;

/** The secret file of `port` (in the directory a joiner would use). */
export function secretPath(port: number): string {
  return join(findSecretDir().dir ?? (candidateDirs()[0] as string), fileName(port));
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the secret for `port`. Returns the path, or why it could not be written; `skipped` names the
 * directories that were not usable (the caller warns: someone may have planted them).
 */
export function writeSecret(
  port: number,
  secret: string,
): { path?: string; error?: string; skipped: Skipped } {
  const { dir, skipped } = ownSecretDir();
  if (!dir) return { error: `no usable directory: ${skipped.join('; ')}`, skipped };
  removeStale(dir);
  const path = join(dir, fileName(port));
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(temp, `${secret}\n${process.pid}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    remember(path, secret);
    return { path, skipped };
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {}
    return { error: (error as Error).message, skipped };
  }
}

/** The secret for `port` if its file is ours, private and not a link; otherwise why not. */
export function readSecret(port: number): { secret?: string; why: string } {
  const { dir, skipped } = findSecretDir();
  if (!dir) {
    return {
      why: skipped.length
        ? `no usable secret directory (${skipped.join('; ')})`
        : 'no publisher secret for this port (no testwire owner of this OS user wrote one)',
    };
  }
  const path = join(dir, fileName(port));
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile()) return { why: `${path} is not a file` };
    if (uid !== undefined && stat.uid !== uid) return { why: `${path} belongs to uid ${stat.uid}` };
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)
      return { why: `${path} is readable by other users` };
    const { secret, pid } = parse(readFileSync(fd, 'utf8'));
    if (!secret) return { why: `${path} is empty` };
    if (pid !== undefined && !alive(pid)) {
      removeIfWrittenBy(path, pid);
      return { why: `the owner that wrote the publisher secret for this port (pid ${pid}) has exited` };
    }
    return { secret, why: '' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      why:
        code === 'ENOENT'
          ? 'no publisher secret for this port (no testwire owner of this OS user wrote one)'
          : code === 'ELOOP'
            ? `${path} is a symbolic link`
            : `${path}: ${(error as Error).message}`,
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes the file if it still holds our secret (a newer owner may have replaced it). */
export function removeSecret(port: number, secret: string): void {
  for (const [path, value] of written)
    if (value === secret && basename(path) === fileName(port)) removeFile(path, value);
}

// ---------------------------------------------------------------------------------------------------------
// Removal at exit and on SIGINT/SIGTERM

/** Secret files this process wrote and has not removed yet: path -> secret. */
const written = new Map<string, string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function removeFile(path: string, secret: string): void {
  written.delete(path);
  try {
    if (parse(readFileSync(path, 'utf8')).secret === secret) unlinkSync(path);
  } catch {}
  if (written.size === 0) uninstall();
}

// ---------------------------------------------------------------------------------------------------------
// Files of owners that are gone (SIGKILL, a crash)

/** A secret file's content: the secret, then the pid of the owner that wrote it (absent in older files). */
function parse(text: string): { secret: string; pid?: number } {
  const [secret = '', pidLine = ''] = text.split('\n');
  const pid = Number(pidLine);
  return { secret: secret.trim(), pid: Number.isInteger(pid) && pid > 0 ? pid : undefined };
}

/** Linux: a process exists when /proc has its directory. */
const PROC = process.platform === 'linux' && existsSync('/proc/self');

/** Whether a process with this pid exists (one of another user counts: we may not signal it, EPERM). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  // Through /proc where there is one: `process.kill(pid, 0)` throws for a process that is gone, and Node makes
  // its table of error names for the first such error of a thread (~5 ms of the reporter's thread at its
  // start, when an owner killed earlier left its file).
  if (PROC) return existsSync(`/proc/${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the file unless a new owner has replaced it since it was read (its pid differs then). */
function removeIfWrittenBy(path: string, pid: number): void {
  try {
    if (parse(readFileSync(path, 'utf8')).pid === pid) unlinkSync(path);
  } catch {}
}

/** How many files one sweep looks at: a directory is swept at each owner start, so it stays small. */
const SWEEP_LIMIT = 1000;

/** `<port>.secret`: a port's secret file. */
const SECRET_NAME = /^(\d{1,5})\.secret$/;
/** `<port>.secret.<pid>.<8 hex>`: the fresh file an owner writes before renaming it (writeSecret). */
const TEMP_NAME = /^\d{1,5}\.secret\.(\d{1,10})\.[0-9a-f]{8}$/;

/**
 * Removes the files in our directory whose owner is gone (SIGKILL, a crash), and only those. Files are ours
 * by name (a port's secret file, or an owner's fresh file not yet renamed) and by owner (a regular file of
 * this uid, not a link); anything else in the directory is left alone. Gone is proven:
 *
 *   "<secret>\n<pid>\n"            its pid has no process
 *   "<secret>" (before 24c049b)     nothing listens on its port at all, on any address (Linux, /proc/net/tcp
 *                                  and tcp6): an owner writes the file once it is listening and removes it
 *                                  when it closes, so a file with no listener has no owner. Where that
 *                                  cannot be read (no /proc), or something listens there, it is left alone
 *   <port>.secret.<pid>.<hex>      its writer's pid (in the name) has no process: it died between writing
 *                                  the file and renaming it
 *
 * Each is removed only if it is still the file that was judged (same pid, or same secret and inode): a new
 * owner of the port renames its own file over the old one, and that one stays.
 */
function removeStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => SECRET_NAME.test(name) || TEMP_NAME.test(name))
      .slice(0, SWEEP_LIMIT);
  } catch {
    return;
  }
  let listening: Set<number> | undefined | null = null;
  for (const name of names) {
    const path = join(dir, name);
    try {
      const stat = ownFile(path);
      if (!stat) continue;
      const temp = TEMP_NAME.exec(name);
      if (temp) {
        if (!alive(Number(temp[1]))) unlinkSync(path);
        continue;
      }
      const { secret, pid } = parse(readFileSync(path, 'utf8'));
      if (pid !== undefined) {
        if (!alive(pid)) removeIfWrittenBy(path, pid);
        continue;
      }
      // The format before the owner's pid: proven gone only by its port (read once per sweep, when needed).
      if (listening === null) listening = listeningPorts();
      const port = Number(SECRET_NAME.exec(name)?.[1]);
      if (listening && !listening.has(port)) removeIfUnchanged(path, secret, stat.ino);
    } catch {}
  }
}

/** The file's stat when it is a regular file of this uid (not a link), else undefined. */
function ownFile(path: string): ReturnType<typeof lstatSync> | undefined {
  const stat = lstatSync(path);
  const uid = process.getuid?.();
  if (!stat.isFile() || (uid !== undefined && stat.uid !== uid)) return undefined;
  return stat;
}

/** Removes a file without a pid unless it was replaced since it was read (another inode, another secret). */
function removeIfUnchanged(path: string, secret: string, ino: number | bigint): void {
  try {
    const stat = ownFile(path);
    if (stat?.ino !== ino) return;
    const now = parse(readFileSync(path, 'utf8'));
    if (now.pid === undefined && now.secret === secret) unlinkSync(path);
  } catch {}
}

/** The ports something listens on, on any address of this host; undefined where that cannot be read. */
function listeningPorts(): Set<number> | undefined {
  if (!PROC) return undefined;
  const listeners = tcpListeners();
  return listeners && new Set(listeners.map((listener) => listener.port));
}

function removeAll(): void {
  for (const [path, secret] of [...written]) removeFile(path, secret);
}

/** Removes our files, then lets the signal do what it would have done without us. */
function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let installed = false;

function remember(path: string, secret: string): void {
  written.set(path, secret);
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  // Signals reach the main thread only; an owner in a worker thread removes its file at close or exit.
  if (isMainThread) for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', removeAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
