/**
 * `mocha --parallel` when a file's run rejects — its worker process died (process.exit, a signal, out of
 * memory) or its run failed: mocha drops the file's burst, and once every file has settled it reports each
 * rejection as an error outside the run ("Uncaught error outside test suite"), in the order of its files,
 * naming neither the file nor the test. The workers' live streams (parallel-relay.ts) know more: which file
 * never got its burst and which test it was running. This says what that test's failure is.
 *
 *   files:    a.js  b.js  c.js          rejected: a.js, c.js  -> mocha: uncaught(reasonA), uncaught(reasonC)
 *   streams:  a ✗   b ✓   c ✗ (no burst) -> a's running test fails with reasonA, c's with reasonC
 */

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
