/** Child-process helpers for the CLI's end-to-end tests: real binaries, real sockets on loopback. */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = resolve(here, '..');
export const REPO_ROOT = resolve(PACKAGE_DIR, '../..');
export const CLI = join(PACKAGE_DIR, 'dist/cli.js');
export const FIXTURES = join(here, 'fixtures');
const MOCHA_COMPAT = join(REPO_ROOT, 'compat/mocha-11');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (pnpm --filter testwire... build)`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A command still running: its exit, the child, and what it has printed so far (to wait on a line). */
export type Running = Promise<Exit> & {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
};

/** Runs a command to completion (killed after timeoutMs) and collects its output. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Running {
  const child = spawn(command, args, {
    cwd: options.cwd ?? PACKAGE_DIR,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<Exit>((resolveExit) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveExit({ code, signal, stdout, stderr });
    });
  }) as Running;
  done.child = child;
  done.stdout = () => stdout;
  done.stderr = () => stderr;
  return done;
}

/** `node dist/cli.js …` without the TESTWIRE_* variables of the environment running the tests. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return run(process.execPath, [CLI, ...args], {
    ...options,
    env: { TESTWIRE_URL: '', TESTWIRE_PORT: '', TESTWIRE_HOST: '', TESTWIRE_API_KEY: '', ...options.env },
  });
}

/** A TCP port nothing listens on (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface Serve {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGINT, then the exit code (SIGKILL after 15 s: serve bounds its own close at 3 s, on a loaded machine more). */
  stop(): Promise<number | null>;
}

/** Starts `testwire serve --port <port>` and resolves with its URL once it prints it. */
export async function startServe(
  args: string[] = ['--port', '0'],
  env: NodeJS.ProcessEnv = {},
): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, TESTWIRE_URL: '', TESTWIRE_PORT: '', TESTWIRE_API_KEY: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      // Not left behind by the test that gave up on it.
      child.kill('SIGKILL');
      reject(new Error(`testwire serve printed no URL in 30 s:\n${output}`));
    }, 30_000);
    const check = () => {
      const match = /listening at (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`testwire serve exited ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Fetches /status (no auth). */
export async function status(url: string): Promise<Record<string, any>> {
  const res = await fetch(`${url}/status`);
  return (await res.json()) as Record<string, any>;
}

/**
 * Polls until `predicate` holds (50 ms steps). The bound only keeps a broken test from hanging: generous,
 * since the machine running the suite may be loaded (a cold node start can take seconds).
 */
export async function until<T>(
  probe: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!predicate(value)) {
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  return value;
}

/** Waits until the endpoint counts at least `n` subscribers (a tail/watch/python client is listening). */
export const subscribed = (url: string, n = 1) =>
  until(
    () => status(url),
    (s) => s.subscribers >= n,
  );

/**
 * Runs the mocha fixture with the real mocha 11 and `--reporter @testwire/mocha`, publishing into `url`
 * (TESTWIRE_URL). The fixture is copied under compat/mocha-11/work/ so node resolution finds that install.
 */
export async function runMocha(
  url: string,
  options: { delayMs?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Exit> {
  const work = join(MOCHA_COMPAT, 'work', `cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(work, { recursive: true });
  cpSync(join(FIXTURES, 'mocha'), work, { recursive: true });
  try {
    return await run(
      join(MOCHA_COMPAT, 'node_modules/.bin/mocha'),
      ['--reporter', '@testwire/mocha', 'math.test.cjs'],
      {
        cwd: work,
        env: { TESTWIRE_URL: url, FIXTURE_DELAY_MS: String(options.delayMs ?? 0), ...options.env },
        timeoutMs: options.timeoutMs ?? 30_000,
      },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A file whose creation lets a held fixture run go on (FIXTURE_GATE of the mocha fixture and own-run.mjs):
 * a test holds a run mid-way until it has seen what it looks for, instead of guessing how long a run takes.
 */
export interface Gate {
  path: string;
  open(): void;
  /** Deletes the gate's folder (after the test). */
  remove(): void;
}

export function gate(): Gate {
  const dir = mkdtempSync(join(tmpdir(), 'testwire-gate-'));
  const path = join(dir, 'open');
  return {
    path,
    open: () => writeFileSync(path, ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** NDJSON lines -> envelopes. */
export const parseNdjson = (text: string): Array<{ type: string; seq: number; runId: string; data: any }> =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
