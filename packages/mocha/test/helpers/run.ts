/**
 * Child-process runners for the tests: a real mocha of compat/mocha-<major>, either programmatically with a
 * recording sink (runMocha) or through its CLI (runMochaCli).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEventEnvelope } from '@testwire/protocol';

const here = dirname(fileURLToPath(import.meta.url));
export const packageDir = resolve(here, '../..');
export const repoDir = resolve(packageDir, '../..');
export const fixturesDir = resolve(here, '../fixtures');
export const MAJORS = [10, 11, 12] as const;
export type Major = (typeof MAJORS)[number];

export function mochaDir(major: Major): string {
  return join(repoDir, 'compat', `mocha-${major}`);
}

export interface ChildResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without testwire settings inherited from whoever runs the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TESTWIRE') && key !== 'FORCE_COLOR' && !key.startsWith('VITEST')) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

export function runChild(
  command: string,
  args: string[],
  cwd: string,
  env = cleanEnv(),
  timeoutMs = 30_000,
): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolvePromise({ exitCode, stdout, stderr });
    });
  });
}

export interface SinkRun extends ChildResult {
  events: AnyEventEnvelope[];
  failures: number;
}

/** Runs fixtures (file names under test/fixtures) programmatically, recording every event the core emits. */
export async function runMocha(
  major: Major,
  files: string[],
  options: {
    reporterOptions?: Record<string, unknown>;
    mochaOptions?: Record<string, unknown>;
    /** Defaults baked into the reporter class (core options such as `slowTestThreshold`). */
    defaults?: Record<string, unknown>;
    /** Run with this built-in mocha reporter instead of testwire (reporterOptions go to it as they are). */
    plain?: string;
  } = {},
): Promise<SinkRun> {
  const dir = mkdtempSync(join(tmpdir(), 'testwire-mocha-'));
  const out = join(dir, 'events.json');
  try {
    const spec = {
      mochaDir: mochaDir(major),
      reporterEntry: join(packageDir, 'dist/index.js'),
      cwd: fixturesDir,
      files,
      out,
      reporterOptions: options.plain
        ? (options.reporterOptions ?? {})
        : { reporter: 'none', ...options.reporterOptions },
      plain: options.plain,
      mochaOptions: options.mochaOptions ?? {},
      defaults: options.defaults ?? {},
    };
    const result = await runChild(
      process.execPath,
      [join(here, 'run-mocha.mjs'), JSON.stringify(spec)],
      fixturesDir,
    );
    let parsed: { events: AnyEventEnvelope[]; failures: number } = { events: [], failures: -1 };
    try {
      parsed = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      throw new Error(
        `mocha ${major} wrote no events (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    return { ...result, ...parsed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs compat/mocha-<major>'s CLI in `cwd` (which must be under compat/mocha-<major>/ for resolution). */
export function runMochaCli(
  major: Major,
  args: string[],
  cwd: string,
  env?: Record<string, string>,
): Promise<ChildResult> {
  return runChild(
    join(mochaDir(major), 'node_modules/.bin/mocha'),
    ['--no-color', ...args],
    cwd,
    cleanEnv(env),
  );
}

/** A fresh copy of fixture folders (names under test/fixtures, later ones over earlier ones) under compat/mocha-<major>/work/. */
export function workCopy(major: Major, prefix: string, fixtures: string[]): string {
  const dir = join(mochaDir(major), 'work', `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  for (const fixture of fixtures) cpSync(join(fixturesDir, fixture), dir, { recursive: true });
  return dir;
}

/**
 * `<tool> [toolArgs] mocha [mochaArgs]` with the coverage tool and mocha of compat/mocha-11 (nyc, c8), in a
 * workCopy of `fixtures`; the caller removes `dir`.
 */
export async function runUnderTool(
  tool: 'nyc' | 'c8',
  fixtures: string[],
  toolArgs: string[],
  mochaArgs: string[],
  env: Record<string, string>,
): Promise<{ dir: string; result: ChildResult }> {
  const dir = workCopy(11, `mocha-${tool}`, fixtures);
  const bin = join(mochaDir(11), 'node_modules', '.bin');
  const result = await runChild(
    join(bin, tool),
    [...toolArgs, join(bin, 'mocha'), ...mochaArgs],
    dir,
    cleanEnv(env),
    60_000,
  );
  return { dir, result };
}

/** Events of one type, typed. */
export function ofType<T extends AnyEventEnvelope['type']>(events: AnyEventEnvelope[], type: T) {
  return events.filter((event): event is Extract<AnyEventEnvelope, { type: T }> => event.type === type);
}

/** The run rooted in `dir` from `stream`; when it does not come, the failure says what the process printed. */
export async function runOf(
  stream: { runOf(rootName: string): Promise<AnyEventEnvelope[]> },
  dir: string,
  result: ChildResult,
): Promise<AnyEventEnvelope[]> {
  try {
    return await stream.runOf(basename(dir));
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; the process (exit ${result.exitCode}) printed:\n${result.stderr}`,
    );
  }
}
