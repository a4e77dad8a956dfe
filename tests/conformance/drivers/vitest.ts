/**
 * Conformance drivers for Vitest 3 and 4 (compat/vitest-3, compat/vitest-4): run the real `vitest run` on
 * a copy of fixtures/vitest/<fixture>/ and read Vitest's own JSON report (Jest-compatible shape).
 *
 * Reporters come from the command line, exactly as a user would add ours:
 *   vitest run --reporter=default --reporter=json --outputFile.json=<file> [--reporter=@testwire/vitest]
 * (CLI reporters replace the config's; `@testwire/vitest` resolves from the fixture copy through
 * compat/vitest-N/node_modules, where the workspace links it.)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestStatus } from '@testwire/protocol';
import type { NativeReport, NativeTest, RunnerDriver, RunOptions, RunResult } from '../src/driver.js';
import { escapeRegExp, readNativeReport } from '../src/spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, '../fixtures/vitest');
const COMPAT_ROOT = path.resolve(here, '../../../compat');

// ---------------------------------------------------------------------------------------------------------
// Vitest's JSON report (the subset read here; `JsonTestResults` in vitest/reporters)

interface JsonReport {
  success?: boolean;
  testResults?: JsonFileResult[];
}
interface JsonFileResult {
  /** Absolute path of the test file. */
  name: string;
  status: string;
  message?: string;
  assertionResults?: { ancestorTitles: string[]; title: string; status: JsonAssertionStatus }[];
}
type JsonAssertionStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled';

/** Vitest's JSON statuses -> testwire's; `pending` is a test that never ran, `disabled` is unused by Vitest. */
const STATUS: Record<JsonAssertionStatus, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  pending: 'skipped',
  todo: 'todo',
  disabled: 'skipped',
};

export function normalizeJsonReport(report: JsonReport, root: string): NativeReport {
  const tests: NativeTest[] = [];
  for (const file of report.testResults ?? []) {
    const relative = path.relative(root, file.name).split(path.sep).join('/');
    for (const assertion of file.assertionResults ?? []) {
      tests.push({
        file: relative,
        titlePath: [...assertion.ancestorTitles, assertion.title],
        status: STATUS[assertion.status] ?? 'skipped',
      });
    }
  }
  return { tests, success: report.success === true };
}

function createDriver(id: 'vitest-3' | 'vitest-4'): RunnerDriver {
  const compat = path.join(COMPAT_ROOT, id);
  const work = path.join(compat, 'work');
  const bin = path.join(compat, 'node_modules/.bin/vitest');

  async function run(options: RunOptions): Promise<RunResult> {
    const dir = path.join(work, `${options.fixture}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true });
    await cp(path.join(FIXTURES, options.fixture), dir, { recursive: true });
    const reportFile = path.join(dir, 'report.json');
    const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
    if (options.reporter) args.push('--reporter=@testwire/vitest');
    try {
      const started = performance.now();
      const child = spawn(bin, args, {
        cwd: dir,
        // Own process group: on timeout the runner and its workers are killed together.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv(options.env),
      });
      options.onSpawn?.(child);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }, options.timeoutMs ?? 120_000);
      const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
        (resolve, reject) => {
          child.on('error', reject);
          child.on('close', (code, sig) => resolve([code, sig]));
        },
      ).finally(() => clearTimeout(timer));
      const durationMs = performance.now() - started;
      const native = await readNativeReport(async () =>
        normalizeJsonReport(JSON.parse(await readFile(reportFile, 'utf8')) as JsonReport, dir),
      );
      return { exitCode, signal, timedOut, stdout, stderr, native, durationMs };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * What differs between two runs of the same fixture: durations (`4ms`, `1.02s`), the start time, the
   * timing breakdown of the summary, and the fixture copy's path (header, JSON report line, stack frames).
   */
  function normalizeOutput(output: string): string {
    return (
      output
        .replace(/\r\n/g, '\n')
        .replace(new RegExp(`${escapeRegExp(work)}[\\\\/][^\\\\/\\s]+`, 'g'), '<fixture>')
        .replace(/^(\s*Start at\s+).*$/gm, '$1<time>')
        .replace(/^(\s*Duration\s+).*$/gm, '$1<duration>')
        .replace(/\b\d+(?:\.\d+)?(?:ms|s|m)\b/g, '<duration>')
        // A test over `slowTestThreshold` shows its duration, one just under it does not.
        .replace(/ +<duration>/g, ' <duration>')
    );
  }

  return {
    id,
    framework: 'vitest',
    // The JSON report has a `todo` status of its own.
    nativeTodo: true,
    run,
    normalizeOutput,
  };
}

/** The suite itself runs under Vitest: what Vitest set in this process must not leak into the child. */
const INHERITED_FROM_VITEST = [
  'VITEST',
  'VITEST_MODE',
  'VITEST_POOL_ID',
  'VITEST_WORKER_ID',
  'TEST',
  'NODE_ENV',
];

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_FROM_VITEST) delete env[name];
  // The terminal output is compared between runs: no colours whatever the parent's terminal is.
  env.FORCE_COLOR = '0';
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

export const drivers: RunnerDriver[] = [createDriver('vitest-3'), createDriver('vitest-4')];
