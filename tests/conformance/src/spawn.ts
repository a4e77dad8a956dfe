/**
 * Helpers any driver may use: a fresh copy of a fixture under compat/<id>/work/, a child process with a
 * time limit whose output is collected, the runner's own report read without throwing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeReport } from './driver.js';

export const CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(CONFORMANCE_DIR, '../..');

let counter = 0;

/**
 * Copies tests/conformance/fixtures/<framework>/<fixture>/ to compat/<compatId>/work/<unique>/ (where node
 * resolution finds that runner and its @testwire adapter). Returns the directory and its cleanup.
 */
export function copyFixture(
  compatId: string,
  framework: string,
  fixture: string,
): { dir: string; cleanup(): void } {
  const source = join(CONFORMANCE_DIR, 'fixtures', framework, fixture);
  const dir = join(
    REPO_DIR,
    'compat',
    compatId,
    'work',
    `${fixture}-${process.pid}-${Date.now().toString(36)}-${++counter}`,
  );
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(source, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Environment for a runner: ours minus any TESTWIRE_* (a developer's shell must not leak in), plus `extra`. */
export function runnerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TESTWIRE')) env[key] = value;
  }
  // Never the default port 7357 in tests: a run without TESTWIRE_URL owns an ephemeral port.
  return { ...env, TESTWIRE_PORT: '0', FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

/** Runs a command to completion (or kills its process group after `timeoutMs`), collecting its output. */
export function runProcess(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    onSpawn?: ((child: ChildProcess) => void) | undefined;
  },
): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolvePromise({ exitCode, signal, timedOut, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

/**
 * The runner's own report, read and normalized by `read`; an empty one when there is none (the runner
 * crashed or was killed) or it cannot be read, which makes the comparison with the stream fail visibly.
 */
export async function readNativeReport(
  read: () => NativeReport | Promise<NativeReport>,
): Promise<NativeReport> {
  try {
    return await read();
  } catch {
    return { tests: [], success: false };
  }
}

/** `text` as a literal inside a RegExp (drivers scrub fixture paths from the runners' output). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
