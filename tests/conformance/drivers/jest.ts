/**
 * Jest 29 and 30 drivers: run compat/jest-XX/node_modules/.bin/jest on a copy of fixtures/jest/<fixture>
 * with `--json --outputFile` (the native report), reporters ['default'] or ['default', '@testwire/jest'].
 * No --forceExit: the process must exit on its own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { TestStatus } from '@testwire/protocol';
import type { RunnerDriver, RunOptions, RunResult } from '../src/driver.js';
import { copyFixture, REPO_DIR, readNativeReport, runnerEnv, runProcess } from '../src/spawn.js';

/** Jest JSON `assertionResults[].status` -> testwire status (as @testwire/jest maps them). */
const STATUS: Record<string, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  pending: 'skipped',
  todo: 'todo',
  disabled: 'skipped',
  focused: 'passed',
};

interface JestJson {
  success: boolean;
  testResults: {
    name: string;
    assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
  }[];
}

function jestDriver(id: 'jest-29' | 'jest-30'): RunnerDriver {
  const compatDir = join(REPO_DIR, 'compat', id);
  return {
    id,
    framework: 'jest',
    nativeTodo: true,
    outputAttribution: 'file',
    async run(options: RunOptions): Promise<RunResult> {
      const { dir, cleanup } = copyFixture(id, 'jest', options.fixture);
      try {
        const reporters = options.reporter ? ['default', '@testwire/jest'] : ['default'];
        writeFileSync(
          join(dir, 'jest.config.js'),
          `module.exports = ${JSON.stringify({ testEnvironment: 'node', reporters }, null, 2)};\n`,
        );
        const outputFile = join(dir, 'jest-report.json');
        const result = await runProcess(
          join(compatDir, 'node_modules', '.bin', 'jest'),
          // A cache shared by the runs of this jest (outside the fixture copy): transforms are not redone.
          [
            '--ci',
            '--json',
            `--outputFile=${outputFile}`,
            `--cacheDirectory=${join(compatDir, 'work', '.jest-cache')}`,
          ],
          {
            cwd: dir,
            env: runnerEnv(options.env),
            timeoutMs: options.timeoutMs ?? 120_000,
            onSpawn: options.onSpawn,
          },
        );
        const native = await readNativeReport(() => {
          const report = JSON.parse(readFileSync(outputFile, 'utf8')) as JestJson;
          return {
            success: report.success,
            tests: report.testResults.flatMap((file) =>
              file.assertionResults.map((test) => ({
                file: relative(dir, file.name).split(sep).join('/'),
                titlePath: [...test.ancestorTitles, test.title],
                status: STATUS[test.status] ?? 'failed',
              })),
            ),
          };
        });
        // The work dir name is unique per run: replace it so outputs of two runs compare equal.
        const scrub = (text: string) => text.split(dir).join('<fixture>');
        return { ...result, stdout: scrub(result.stdout), stderr: scrub(result.stderr), native };
      } finally {
        cleanup();
      }
    },
    normalizeOutput(output: string): string {
      const text = output
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
        .replace(/\u001b\[[0-9;]*m/g, '')
        // Verbose lines print " (12 ms)" only for tests that took >= 1 ms: drop them.
        .replace(/ \(\d+(?:\.\d+)?\s?(?:ms|s)\)/g, '')
        .replace(/\d+(?:\.\d+)?\s?(?:ms|s)\b/g, '<time>')
        .replace(/Time:\s+.*$/gm, 'Time: <time>');
      // Jest prints one block per file (PASS/FAIL header, console, failures; retry logs before it) in
      // completion order, which varies between runs (workers, and the sequencer puts last run's failures
      // first): compare sorted blocks.
      const lines = text.split('\n');
      const blocks: string[] = [];
      let current: string[] = [];
      const tail: string[] = [];
      for (const line of lines) {
        if (/^(PASS|FAIL) |^\s*LOGGING RETRY ERRORS /.test(line)) {
          if (current.length) blocks.push(current.join('\n'));
          current = [line];
        } else if (/^(Test Suites|Summary of all failing tests):?/.test(line) || tail.length) {
          tail.push(line);
        } else {
          current.push(line);
        }
      }
      if (current.length) blocks.push(current.join('\n'));
      return [...blocks.sort(), ...tail].join('\n').trim();
    },
  };
}

export const drivers: RunnerDriver[] = [jestDriver('jest-29'), jestDriver('jest-30')];
