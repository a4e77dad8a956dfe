/**
 * `mocha --parallel` when a file's run rejects — its worker process died (process.exit, a signal, out of
 * memory) or its run failed: mocha drops the file's burst, and once every file has settled it reports each
 * rejection as an error outside the run ("Uncaught error outside test suite"), in the order of its files,
 * naming neither the file nor the test. The bursts that did come say which files were dropped (each error
 * is one of theirs: a file-level failure), and the workers' live streams (parallel-relay.ts) which test each
 * was running (it fails, saying so). This pairs them and says what each failure is.
 *
 *   files:    a.js  b.js  c.js          rejected: a.js, c.js  -> mocha: uncaught(reasonA), uncaught(reasonC)
 *   bursts:   a ✗   b ✓   c ✗           -> a.js fails with reasonA, c.js with reasonC (scope 'file')
 *   streams:  a: running t1, c: none     -> t1 fails with reasonA
 */
import { withSyntaxLocation } from './syntax-location.js';

/** Where a dropped file's reason comes from: its stream, and the file the stream's events named. */
export interface DroppedStream {
  readonly file: string | undefined;
}

/** The failure of the test a dropped file was running. */
export interface DroppedTestFailure {
  /** mocha has no status for it: what happened, as far as is known. */
  rawStatus: 'worker died' | 'run failed' | 'file dropped';
  error: { name: string; message: string };
}

/** workerpool's error for a worker that exited while running a task (workerpool 6 to 10). */
const WORKER_DIED = /Workerpool Worker terminated Unexpectedly/;

/**
 * Each dropped stream's reason: mocha's rejections come in the order of `files`; a stream gets one when every
 * rejected file is a stream whose file is known (else it cannot be told which reason is whose: undefined).
 */
export function reasonsOf<S extends DroppedStream>(
  streams: readonly S[],
  reasons: readonly unknown[],
  files: readonly string[],
): Map<S, unknown> {
  const paired = new Map<S, unknown>();
  if (streams.length !== reasons.length) return paired;
  const ordered = streams
    .map((stream) => ({ stream, index: stream.file === undefined ? -1 : files.indexOf(stream.file) }))
    .sort((a, b) => a.index - b.index);
  if (streams.length > 1 && ordered.some(({ index }) => index < 0)) return paired;
  for (const [i, { stream }] of ordered.entries()) paired.set(stream, reasons[i]);
  return paired;
}

/** One of mocha's errors outside the run, and the file mocha 12 names with it (`err.file`, the phony runnable's). */
export interface OutsideError {
  reason: unknown;
  file: string | undefined;
}

/**
 * The files mocha dropped, each with its error outside the run. Mocha 12 names each error's file; before it,
 * they are the files whose burst never came (none of `settled`), in the order of `files`, when there are as
 * many as errors — a dropped file is one whose run rejected, and mocha reports the rejections in the order of
 * the files. Otherwise (an error that is not a file's; a file whose burst named no file: one without tests;
 * files `--bail` skipped) it cannot be told which is whose: none.
 */
export function droppedFiles(
  files: readonly string[],
  settled: ReadonlySet<string>,
  errors: readonly OutsideError[],
): { file: string; reason: unknown }[] {
  if (errors.every((error) => error.file !== undefined))
    return errors.map(({ reason, file }) => ({ reason, file: file as string }));
  const dropped = files.filter((file) => !settled.has(file));
  if (dropped.length !== errors.length) return [];
  return dropped.map((file, index) => ({ file, reason: errors[index].reason }));
}

/**
 * The file-level failure of a file mocha dropped: its worker's death said plainly (with the test it was running,
 * if any: else it died outside the tests — in a hook, or while the file loaded), any other rejection (the file
 * failed to load: a throw at its top level, a syntax error, `.only` in parallel mode) as it is — with a syntax
 * error's place as its first frame (syntax-location.ts).
 */
export function droppedFileError(reason: unknown, runningTest?: string): unknown {
  const text = messageOf(reason);
  // a file that does not parse: where, as mocha prints it (the error's first frame)
  if (!WORKER_DIED.test(text)) return withSyntaxLocation(reason);
  const where = runningTest
    ? `during its test "${runningTest}"`
    : 'outside its tests (in a hook, or while the file loaded)';
  return {
    name: 'Error',
    message: `The worker process running this file died ${where} (${exitOf(text)}): mocha drops the file's results and reports the error outside the tests ("Workerpool Worker terminated Unexpectedly")`,
  };
}

/** The failed result of the test that was running when its file's run was dropped (`reason`: mocha's, if known). */
export function droppedTestFailure(reason: unknown): DroppedTestFailure {
  const dropped = `mocha drops the file's results and reports the error outside the tests`;
  if (reason === undefined)
    return {
      rawStatus: 'file dropped',
      error: {
        name: 'Error',
        message: `The worker process died, or the file's run failed, during this test: ${dropped}`,
      },
    };
  const text = messageOf(reason);
  if (!WORKER_DIED.test(text))
    return {
      rawStatus: 'run failed',
      error: {
        name: 'Error',
        message: `The file's run failed during this test (${firstLine(text)}): ${dropped}`,
      },
    };
  return {
    rawStatus: 'worker died',
    error: {
      name: 'Error',
      message: `The worker process died during this test (${exitOf(text)}): ${dropped} ("Workerpool Worker terminated Unexpectedly")`,
    },
  };
}

/** `exit code 3`, `signal SIGKILL`, from workerpool's message (exitCode: `3`, signalCode: `null`). */
function exitOf(text: string): string {
  const signal = /signalCode: `([A-Z0-9]+)`/.exec(text)?.[1];
  if (signal && signal !== 'null') return `signal ${signal}`;
  const code = /exitCode: `(\d+)`/.exec(text)?.[1];
  return code ? `exit code ${code}` : 'no exit code';
}

function messageOf(reason: unknown): string {
  const message = (reason as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(reason);
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0].trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
