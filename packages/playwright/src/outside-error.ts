/**
 * What an error Playwright reports outside any test (`onError`) is, so the stream names it as Playwright's
 * own output does: a spec file that failed to load, the globalSetup or globalTeardown, the webServer command,
 * no test found, the stop at `maxFailures`. The core's classification from the text alone took a failing
 * globalSetup (an error located in a file, before any test) for a test file that failed to load, and the rest
 * for an error thrown by a timer or an event handler (UNHANDLED_ERROR), with a suggestion to match.
 *
 * Playwright (1.40 to 1.65) runs the globalSetup before it loads the test files: when it throws, onBegin
 * comes with no test and the setup's error after it, located in the setup's file. A `globalSetup` that returns
 * a function has it called as the teardown, after the tests: an error located in the setup's file after a
 * test began is the teardown's.
 */
import path from 'node:path';
import type { FullConfig, TestError } from '@playwright/test/reporter';
import { type FrameworkErrorInfo, stripAnsi } from '@testwire/reporter-core';

/** A spec file that failed to load (fileFailed), or an error of the run (runError) with what it is. */
export type OutsideError = { kind: 'file'; file: string } | { kind: 'run'; info?: FrameworkErrorInfo };

/** The part of FullConfig this reads: `globalSetup`/`globalTeardown` are the first of each (absolute). */
type HooksConfig = Pick<FullConfig, 'globalSetup' | 'globalTeardown'>;

const SUGGESTIONS = {
  globalSetup:
    'The globalSetup failed, so Playwright ran no test: fix it (see the error and its file), or run it alone to see why.',
  globalTeardown:
    'The globalTeardown failed after the tests ran: Playwright fails the run for it (exit 1) whatever the tests did. Fix it (see the error and its file).',
  webServer:
    "config.webServer's command exited or did not answer in time, so Playwright ran no test: run the command by hand to see why, or check its url/port and timeout.",
  noTests:
    'Playwright found no test to run: check testDir/testMatch and the files, --grep and --project given; --last-failed finds none when the last run passed. --pass-with-no-tests lets an empty run pass.',
  maxFailures:
    'Playwright stopped at maxFailures (--max-failures): the tests left did not run (skipped in the stream, "did not run" in its summary).',
} as const;

const WEB_SERVER = /config\.webServer/;
const NO_TESTS = /^(?:Error: )?No tests found/;
const MAX_FAILURES = /Testing stopped early after \d+ maximum allowed failures/;

/**
 * `testsBegan`: whether any test began before the error (a located error before then is a file's that failed
 * to load, unless it is the globalSetup's).
 */
export function classifyOutsideError(
  config: HooksConfig | undefined,
  error: Pick<TestError, 'message' | 'location'>,
  testsBegan: boolean,
): OutsideError {
  // Playwright colours some of these messages (the maxFailures one is red).
  const message = stripAnsi(error.message ?? '');
  const file = error.location?.file;
  const hook = file ? globalHookOf(config, file, testsBegan) : undefined;
  if (hook) return run(hook, 'HOOK_FAILED', SUGGESTIONS[hook], { hook }, file);
  if (WEB_SERVER.test(message))
    return run('webServer', 'RUN_ERROR', SUGGESTIONS.webServer, { phase: 'webServer' });
  if (NO_TESTS.test(message))
    return run('no tests found', 'RUN_ERROR', SUGGESTIONS.noTests, { phase: 'noTests' });
  if (MAX_FAILURES.test(message))
    return run('maxFailures', 'RUN_ERROR', SUGGESTIONS.maxFailures, { phase: 'maxFailures' });
  if (file && !testsBegan) return { kind: 'file', file };
  return { kind: 'run' };
}

/** `title`: what failed, as Playwright names it (the run error's test.failed `testName`). */
function run(
  title: string,
  code: string,
  suggestion: string,
  details: Record<string, string>,
  file?: string,
): OutsideError {
  return { kind: 'run', info: { title, code, suggestion, details, ...(file ? { file } : {}) } };
}

function globalHookOf(
  config: HooksConfig | undefined,
  file: string,
  testsBegan: boolean,
): 'globalSetup' | 'globalTeardown' | undefined {
  if (!config) return undefined;
  if (samePath(config.globalTeardown, file)) return 'globalTeardown';
  if (samePath(config.globalSetup, file)) return testsBegan ? 'globalTeardown' : 'globalSetup';
  return undefined;
}

function samePath(configured: string | null | undefined, file: string): boolean {
  return (
    typeof configured === 'string' && configured !== '' && path.resolve(configured) === path.resolve(file)
  );
}
