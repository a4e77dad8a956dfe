/**
 * Errors of `vitest --typecheck` (`*.test-d.ts`): what tsc found, as Vitest hands them to reporters.
 *
 * Vitest's typechecker makes each of tsc's errors a `TypeCheckError` whose `stack` is empty and whose place
 * is only in `stacks` (`[{ file, line, column, method: '' }]`, Vitest 3 and 4): the stream's failure said
 * what was wrong but not where, while Vitest prints `❯ types.test-d.ts:3:57`. Such an error gets a stack
 * with that frame, which the core makes root-relative as any other. A type error outside any test is the
 * file's error (Vitest fails the file, its tests keep their results): its framework.error is a `TYPE_ERROR`
 * that says so, not the `COLLECTION_ERROR` of a file that failed to load before its tests ran.
 */
import type { FrameworkErrorInfo } from '@testwire/reporter-core';
import type { VitestError } from './vitest-types.js';

const TYPE_CHECK_ERROR = 'TypeCheckError';

/** What framework.error says of a type error outside any test (the file's own). */
export const FILE_TYPE_ERROR: FrameworkErrorInfo = {
  code: 'TYPE_ERROR',
  suggestion:
    "A type error in the test file outside any test (vitest --typecheck): fix it where the error's stack points; the file's tests ran.",
};

/** Whether the error is one of tsc's, as Vitest's typechecker reports it. */
export function isTypeCheckError(error: VitestError | undefined): boolean {
  return error?.name === TYPE_CHECK_ERROR;
}

/**
 * The error with a stack naming where tsc found it, when Vitest gave it only in `stacks`; any other error
 * as it is (the same object: nothing is copied for the errors of ordinary tests).
 */
export function withTypeCheckFrame(error: VitestError): VitestError {
  if (!isTypeCheckError(error) || (typeof error.stack === 'string' && error.stack !== '')) return error;
  const frame = error.stacks?.find((stack) => typeof stack?.file === 'string' && stack.file !== '');
  if (!frame) return error;
  const where = [frame.file, frame.line, frame.column].filter((part) => part !== undefined).join(':');
  const at = frame.method ? `${frame.method} (${where})` : where;
  return { ...error, stack: `${TYPE_CHECK_ERROR}: ${error.message ?? ''}\n    at ${at}` };
}
