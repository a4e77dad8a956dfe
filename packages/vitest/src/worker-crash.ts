/**
 * A worker that died while it ran a test file, the file it died in, and the tests it was running.
 *
 * Vitest reports the crash as an unhandled error naming no file: Vitest 4's pool rejects the file's task with
 * `[vitest-pool]: Worker <pool> emitted error.` (caused by `Worker exited unexpectedly`), Vitest 3's tinypool
 * with `Worker exited unexpectedly` or `Worker terminated due to reaching memory limit`
 * (ERR_WORKER_OUT_OF_MEMORY). The file itself never finishes: no `onTestModuleEnd`, and at `onTestRunEnd` its
 * `state()` is still `pending`, its tests `pending` too (Vitest's json reporter lists them so; its `Tests` line
 * counts them in the total only).
 *
 * Each crash is one rejected task of Vitest's pool, and the worker was running one file of it (a non-isolated
 * worker too runs one file at a time): when the crashes and the files left pending are as many, the crashes
 * belong to those files. Files that never started are not counted when Vitest queued them (state `queued`);
 * any other file left pending makes the counts differ, and nothing is placed. Which crash goes with
 * which file the errors do not say: with several crashes the pairing is made only when they all say the same,
 * so that no file is given another file's cause of death. Otherwise the crashes stay errors of the run.
 *
 * A test of that file that started and never ended (Vitest: still `pending`, its json reporter's status) is
 * the one the worker died in: the file's failure names it, and its own result carries the crash (Vitest's
 * status kept).
 */
import { withCauses } from '@testwire/reporter-core';
import type { VitestError, VitestTestModule } from './vitest-types.js';

/**
 * The pool errors of a worker that died (thread or process), on a line of the error's text: its message or
 * one of its causes (`Caused by: Error: Worker exited unexpectedly`, reporter-core's withCauses).
 */
const WORKER_DIED =
  /\bWorker\b.*\b(?:emitted error|exited unexpectedly|terminated due to reaching memory limit)\b/i;

export interface CrashedFile {
  module: VitestTestModule;
  /** Vitest's error for the crash. */
  error: VitestError;
}

export interface WorkerCrashes {
  /** The files the workers died in, each with its crash. */
  files: CrashedFile[];
  /** The unhandled errors that stay the run's (all of them when the crashes could not be placed). */
  runErrors: VitestError[];
}

/** Whether Vitest's error says a worker died. */
export function isWorkerCrash(error: VitestError): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // Node's own code for a thread out of heap (its message says so too, and is matched as a cause's).
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') return true;
  const { message } = withCauses(error);
  return typeof message === 'string' && WORKER_DIED.test(message);
}

/** The crashes among the run's unhandled errors, placed in the files left pending (see the file's comment). */
export function placeWorkerCrashes(
  modules: ReadonlyArray<VitestTestModule>,
  errors: ReadonlyArray<VitestError>,
): WorkerCrashes {
  const crashes = errors.filter(isWorkerCrash);
  if (crashes.length === 0) return { files: [], runErrors: [...errors] };
  const pending = modules.filter((testModule) => testModule.state() === 'pending');
  const text = withCauses(crashes[0]).message;
  const alike = crashes.every((crash) => withCauses(crash).message === text);
  if (pending.length !== crashes.length || !alike) return { files: [], runErrors: [...errors] };
  return {
    files: pending.map((testModule, index) => ({ module: testModule, error: crashes[index] })),
    runErrors: errors.filter((error) => !crashes.includes(error)),
  };
}

/**
 * The file's failure for its crash: which tests the worker was running (title paths) when it died, Vitest's
 * error as the cause (the core folds it into `Caused by:` lines); Vitest's error itself when none had started.
 */
export function fileCrashError(
  crash: VitestError,
  running: ReadonlyArray<ReadonlyArray<string>>,
): VitestError {
  if (running.length === 0) return crash;
  const names = running.map((titlePath) => `"${titlePath.join(' > ')}"`).join(', ');
  return diedWith(crash, `The worker died while running ${names}.`, crash.stack);
}

/** The error of a test the worker died in: Vitest reports no error of its own for it. */
export function testCrashError(crash: VitestError): VitestError {
  // No stack: the crash's is the pool's, not the test's.
  return diedWith(crash, 'The worker died while running this test.', undefined);
}

function diedWith(crash: VitestError, message: string, stack: string | undefined): VitestError {
  const error: VitestError = { name: 'Error', message, cause: crash };
  if (stack !== undefined) error.stack = stack;
  // ERR_WORKER_OUT_OF_MEMORY stays the error's code on the wire.
  if (crash.code !== undefined) error.code = crash.code;
  return error;
}
