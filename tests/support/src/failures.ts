/**
 * What the reporters' "failures that say what failed" end-to-end tests share: running a runner binary on a
 * fixture, and the assertions every runner's failing test must meet.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { TestError } from '@testwire/protocol';
import { expect } from 'vitest';

/** Runs `command` in `cwd` (output ignored, killed after `timeoutMs`); resolves with its exit code. */
export function runToExit(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000,
): Promise<number | null> {
  const child = spawn(command, args, { cwd, env, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

/**
 * Runs `command` in `cwd` (killed after `timeoutMs`); resolves with its exit code and what it printed on
 * stdout and stderr, interleaved as it came, without terminal escapes: the runner's own report, for tests
 * that compare the stream with it.
 */
export function runWithOutput(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd, env });
  let output = '';
  const add = (chunk: string) => {
    output += chunk;
  };
  child.stdout.setEncoding('utf8').on('data', add);
  child.stderr.setEncoding('utf8').on('data', add);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: stripVTControlCharacters(output) });
    }),
  );
}

/** Writes a fixture project: file paths relative to `dir` -> contents. Returns `dir`. */
export function writeProject(dir: string, files: Record<string, string>): string {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

/** One failing test of a fixture and what its error must say. */
export interface FailureCase {
  /** The test's title (`testName`). */
  title: string;
  expected: string;
  actual: string;
  summary: string;
  /** Line of the failing assertion in the test file. */
  line: number;
}

/**
 * Asserts, for each case, the `error` of its test.failed: the values compared, the one-line summary, a
 * stack whose first frame is `file:line` with neither the message nor a frame of node_modules or node's
 * internals, no ANSI code anywhere — and that its test.result carries the same error. Returns the errors
 * by title for what a runner checks on top.
 */
export function expectFailuresSayWhatFailed(
  events: ReadonlyArray<{ type: string; data: unknown }>,
  file: string,
  cases: FailureCase[],
): Record<string, TestError> {
  const errorOf = (type: string, title: string) =>
    events.flatMap((e) => {
      const data = e.data as { testName?: string; error?: TestError };
      return e.type === type && data.testName === title && data.error ? [data.error] : [];
    })[0];
  const errors: Record<string, TestError> = {};
  const where = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const c of cases) {
    const error = errorOf('test.failed', c.title);
    expect(error, c.title).toMatchObject({ expected: c.expected, actual: c.actual, summary: c.summary });
    const stack = error?.stack ?? '';
    expect(stack.split('\n')[0], c.title).toMatch(
      new RegExp(`^ {4}at (?:.*\\()?${where}:${c.line}:\\d+\\)?$`),
    );
    expect(stack, c.title).not.toContain(error?.message.split('\n')[0]);
    expect(stack, c.title).not.toMatch(/node_modules|\(node:|\(<anonymous>\)/);
    // JSON writes ESC as \u001b
    expect(JSON.stringify(error), c.title).not.toContain('\\u001b');
    expect(errorOf('test.result', c.title), c.title).toEqual(error);
    errors[c.title] = error as TestError;
  }
  return errors;
}
