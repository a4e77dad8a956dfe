/**
 * Runs the real Playwright runner (compat/playwright, or another install under compat/) on a copy of one of
 * test/fixtures/, with
 * @testwire/playwright loaded by package name from its built dist, and reads the events it delivered to a
 * sink file (TESTWIRE_E2E_EVENTS, which the fixtures' configs write to).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PublishedEvent } from '@testwire/protocol';

const here = path.dirname(fileURLToPath(import.meta.url));
const COMPAT = path.resolve(here, '../../../compat');

export interface FixtureRun {
  /** The fixture's copy (remove it when done). */
  dir: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  events: PublishedEvent[];
}

/**
 * `install`: the directory under compat/ whose Playwright runs the fixture (`playwright-1.40`: the oldest).
 * `killAfterMs`: a run still going then is killed (a fixture of many failing tests restarts a worker after
 * each, seconds apiece on a loaded machine). `args`: after `playwright test` (`--max-failures=1`, …).
 */
export async function runFixture(
  fixture: string,
  env: Record<string, string> = {},
  install = 'playwright',
  killAfterMs = 50_000,
  args: string[] = [],
): Promise<FixtureRun> {
  const dir = path.join(
    COMPAT,
    install,
    'work',
    `${fixture}-e2e-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(dir, { recursive: true });
  await cp(path.join(here, 'fixtures', fixture), dir, { recursive: true });
  const eventsFile = path.join(dir, 'events.jsonl');
  const child = spawn(path.join(COMPAT, install, 'node_modules/.bin/playwright'), ['test', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', TESTWIRE_E2E_EVENTS: eventsFile, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const text = await readFile(eventsFile, 'utf8').catch(() => '');
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PublishedEvent);
  return { dir, exitCode, stdout, stderr, events };
}
