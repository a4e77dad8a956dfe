/**
 * A run that found no test file. Vitest then prints `No test files found, exiting with code 1` (with its
 * filters and globs) and ends the run `failed` with no module, no failed test and no error
 * (`hasFailed`: no modules and not `passWithNoTests`): the stream's test.completed said `success: false`
 * and nothing of why. It now carries Vitest's line as the run's error. With `passWithNoTests` (which
 * `--changed` turns on) Vitest says `exiting with code 0` and passes: nothing is added.
 */
import type { FrameworkErrorInfo } from '@testwire/reporter-core';
import type { VitestContext, VitestError, VitestRunEndReason, VitestTestModule } from './vitest-types.js';

/** What framework.error says of it. */
export const NO_TEST_FILES: FrameworkErrorInfo = {
  code: 'RUN_ERROR',
  suggestion:
    "No file matched Vitest's include globs and the command line's filters: check them (Vitest prints them), or pass --passWithNoTests.",
};

/** Vitest's own line, when this run failed because it found no test file; undefined otherwise. */
export function noTestFilesError(
  vitest: VitestContext | undefined,
  testModules: ReadonlyArray<VitestTestModule>,
  errors: ReadonlyArray<VitestError>,
  reason: VitestRunEndReason,
): VitestError | undefined {
  const config = vitest?.config;
  if (!config || reason !== 'failed' || testModules.length > 0 || errors.length > 0) return undefined;
  // Watch mode waits for files (another line, no exit); passWithNoTests passes.
  if (config.passWithNoTests === true || config.watch === true) return undefined;
  const mode = typeof config.mode === 'string' ? config.mode : 'test';
  return { name: 'Error', message: `No ${mode} files found, exiting with code 1` };
}
