/**
 * The repo's four example projects (examples/<runner>), run for real against one endpoint the way
 * `pnpm demo` runs them: their `example` script, TESTWIRE_URL set, output kept; and the counts each
 * runner printed in its own summary, to compare with what the page shows.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../../..');
export const RUNNERS = ['jest', 'vitest', 'playwright', 'mocha'] as const;
export type Runner = (typeof RUNNERS)[number];

export interface ExampleRun {
  runner: Runner;
  child: ChildProcess;
  /** stdout and stderr together. */
  output(): string;
  exited: Promise<number | null>;
}

export function startExample(runner: Runner, url: string): ExampleRun {
  const dir = join(REPO, 'examples', runner);
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.example;
  if (!script) throw new Error(`examples/${runner}/package.json has no "example" script`);
  const child = spawn('/bin/sh', ['-c', script], {
    cwd: dir,
    env: {
      ...process.env,
      PATH: `${join(dir, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`,
      TESTWIRE_URL: url,
      FORCE_COLOR: '0',
      NO_COLOR: '1',
      CI: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed test can stop the runner and its workers together.
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    text += chunk;
  });
  const exited = new Promise<number | null>((done) => {
    child.on('exit', (code) => done(code));
    child.on('error', () => done(null));
  });
  return { runner, child, output: () => text, exited };
}

export function stopExample(run: ExampleRun): void {
  if (run.child.exitCode !== null || run.child.signalCode !== null || !run.child.pid) return;
  try {
    process.kill(-run.child.pid, 'SIGKILL');
  } catch {}
}

/** What a runner's own summary says, in testwire's terms (a flaky test passed; pending = skipped + todo). */
export interface RunnerCounts {
  passed: number;
  failed: number;
  /** Skipped and todo together: mocha prints them as one "pending" number. */
  notRun: number;
}

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
};

/** Parses the runner's closing summary; throws, quoting the output's end, when there is none. */
export function runnerCounts(runner: Runner, output: string): RunnerCounts {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: runner output may still carry colours
  const text = output.replace(/\u001b\[[0-9;]*m/g, '');
  const fail = (what: string) => {
    throw new Error(`${runner}: no ${what} in its output:\n${text.slice(-1500)}`);
  };
  switch (runner) {
    case 'jest': {
      const line = /^Tests:\s+(.*)$/m.exec(text)?.[1] ?? fail('"Tests:" summary line');
      return {
        passed: num(line, /(\d+) passed/),
        failed: num(line, /(\d+) failed/),
        notRun: num(line, /(\d+) skipped/) + num(line, /(\d+) todo/),
      };
    }
    case 'vitest': {
      const line = /^\s*Tests\s+(.*)$/m.exec(text)?.[1] ?? fail('"Tests" summary line');
      return {
        passed: num(line, /(\d+) passed/),
        failed: num(line, /(\d+) failed/),
        notRun: num(line, /(\d+) skipped/) + num(line, /(\d+) todo/),
      };
    }
    case 'playwright': {
      if (!/^\s+\d+ passed/m.test(text)) fail('"N passed" summary line');
      // Playwright counts a flaky test apart; it passed in the end.
      return {
        passed: num(text, /^\s+(\d+) passed/m) + num(text, /^\s+(\d+) flaky/m),
        failed: num(text, /^\s+(\d+) failed/m),
        notRun: num(text, /^\s+(\d+) skipped/m),
      };
    }
    case 'mocha': {
      if (!/^\s+\d+ passing/m.test(text)) fail('"N passing" summary line');
      return {
        passed: num(text, /^\s+(\d+) passing/m),
        failed: num(text, /^\s+(\d+) failing/m),
        notRun: num(text, /^\s+(\d+) pending/m),
      };
    }
  }
}
