/**
 * framework.error: the stable codes of errors outside the tests, what a user can do about each, and the
 * classification of an error the adapter did not classify (by where it came from and what it says). Runs on
 * the core's thread.
 */
import type { FrameworkErrorData, TestError } from '@testwire/protocol';
import type { FrameworkErrorInfo } from './api.js';

/** Every code framework.error carries, with its default suggestion. Codes are never renamed. */
export const FRAMEWORK_ERROR_CODES = {
  MODULE_NOT_FOUND:
    'A test file imports a module that cannot be resolved: install it, or fix the import path.',
  SYNTAX_ERROR:
    'A test file or a module it imports does not parse: fix the syntax, or configure the transform for it.',
  COLLECTION_ERROR:
    'A test file failed while it was being loaded, before any test ran: see the error and the file.',
  TYPE_ERROR:
    "The runner's type check failed a test file outside its tests (vitest --typecheck): fix the type error where its stack points.",
  HOOK_FAILED:
    'A beforeAll/afterAll (or root) hook failed outside any test: the tests it sets up did not run as intended.',
  UNHANDLED_REJECTION:
    'A promise was rejected and nothing handled it: await it in the test, or add a .catch().',
  UNHANDLED_ERROR:
    'An error was thrown outside any test (a timer, an event handler, a callback after its test ended): find its source in the stack.',
  WORKER_CRASHED:
    'A worker process or thread running tests died: look for process.exit, native crashes or out-of-memory in the files it ran.',
  PROCESS_TIMEOUT:
    'The runner timed out waiting for a worker or for teardown: look for open handles (servers, timers) left running.',
  RUN_ERROR: 'The runner could not complete the run: see the error.',
  CONFIG_ERROR: "The runner's configuration is invalid: fix the option the error names.",
  REPORTER_OPTION_INVALID:
    "An option of the testwire reporter is invalid and its default is used instead: fix it in the runner's reporter options.",
} as const;

export type FrameworkErrorCode = keyof typeof FRAMEWORK_ERROR_CODES;

/** Where the core got the error from. */
export type FrameworkErrorSource = 'file' | 'run' | 'hook' | 'adapter';

const CLASSIFIERS: readonly [RegExp, FrameworkErrorCode][] = [
  [
    /cannot find (?:module|package)|ERR_MODULE_NOT_FOUND|failed to (?:load|resolve) (?:url|import)|does not provide an export named/i,
    'MODULE_NOT_FOUND',
  ],
  // Node's parser, and Vite's ("Failed to parse source for import analysis because the content contains
  // invalid JS syntax"); an error that crossed from a worker may have lost its SyntaxError type.
  [
    /SyntaxError|unexpected token|unexpected end of input|cannot use import statement outside a module|failed to parse source|invalid JS syntax/i,
    'SYNTAX_ERROR',
  ],
  [
    /worker (?:process )?(?:exited|crashed|terminated)|worker process \(pid=\d+\) was terminated|child process exceptions|call retries were exceeded|worker .* emitted error|out of memory|SIGSEGV|SIGKILL|SIGABRT/i,
    'WORKER_CRASHED',
  ],
  [/unhandled ?rejection|unhandledRejection/i, 'UNHANDLED_REJECTION'],
  [/timed out .*(?:worker|teardown|close)|onProcessTimeout|close timed out/i, 'PROCESS_TIMEOUT'],
  // Playwright stopping the run: its --max-failures, its global timeout
  [
    /stopped early after \d+ maximum allowed failures|timed out waiting [\d.]+s for the (?:.+ to run|entire test run)/i,
    'RUN_ERROR',
  ],
  [/invalid (?:config|option)|unknown option|validation (?:error|warning)|configuration/i, 'CONFIG_ERROR'],
];

/** The code of an error from `source`, from what the error says when the adapter gave none. */
export function classifyFrameworkError(source: FrameworkErrorSource, error: TestError): FrameworkErrorCode {
  const text = `${error.type ?? ''} ${error.code ?? ''} ${error.message}`;
  for (const [pattern, code] of CLASSIFIERS) if (pattern.test(text)) return code;
  switch (source) {
    case 'file':
      return 'COLLECTION_ERROR';
    case 'hook':
      return 'HOOK_FAILED';
    case 'run':
      return /rejection/i.test(text) ? 'UNHANDLED_REJECTION' : 'UNHANDLED_ERROR';
    default:
      return 'RUN_ERROR';
  }
}

/** framework.error's data (without framework/project, which the core adds). */
export function frameworkErrorData(
  source: FrameworkErrorSource,
  error: TestError,
  info: FrameworkErrorInfo = {},
  file?: string,
): Omit<FrameworkErrorData, 'framework'> {
  const code = info.code ?? classifyFrameworkError(source, error);
  const suggestion =
    info.suggestion ??
    (FRAMEWORK_ERROR_CODES as Record<string, string>)[code] ??
    FRAMEWORK_ERROR_CODES.RUN_ERROR;
  return {
    error: {
      message: error.message,
      code,
      details: { ...(info.details ?? {}), suggestion, ...(error.type ? { type: error.type } : {}) },
      ...(error.stack ? { stack: error.stack } : {}),
    },
    ...(file ? { file } : {}),
    severity: info.severity ?? 'error',
  };
}
