/**
 * An error's `cause` chain, kept in its text. A wrapped error often says only that something failed, its cause
 * what: Vitest 4's pool error `[vitest-pool]: Worker forks emitted error.` is caused by `Worker exited
 * unexpectedly`; `new Error('request failed', { cause })` in a test. The wire's error has no `cause`
 * (reference 000's shape, kept as it is), so the causes join the message, one line each, as Vitest prints
 * them (`Caused by: TypeError: socket closed`). normalizeError does this for every runner's errors; an adapter
 * that reads the text itself first (vitest's worker crashes) calls it too, and the copy it gets has no
 * `cause` left to add twice.
 */

/** Causes followed at most: a bound on a chain that code built by wrapping each error in the next. */
const MAX_CAUSES = 5;

/** What is read of an error here. */
export interface CausedError {
  message?: unknown;
  name?: unknown;
  stack?: unknown;
  cause?: unknown;
}

/**
 * The error with each cause on a line of its message (`\nCaused by: <name>: <message>`) and no `cause`; the
 * error itself when it has none (most errors: no copy).
 */
export function withCauses<E extends CausedError>(error: E): E {
  if (!isObject(error) || error.cause === undefined || error.cause === null) return error;
  let message = typeof error.message === 'string' ? error.message : '';
  const seen = new Set<unknown>([error]);
  let cause: unknown = error.cause;
  for (
    let depth = 0;
    depth < MAX_CAUSES && cause !== undefined && cause !== null && !seen.has(cause);
    depth++
  ) {
    seen.add(cause);
    message += `\nCaused by: ${describeCause(cause)}`;
    cause = isObject(cause) ? cause.cause : undefined;
  }
  // Every field the error has (a serialized error's are its own; an Error instance's message, name and stack
  // are inherited or not enumerable, so named), its class's name kept for the error's type.
  const { cause: _, ...fields } = error;
  const copy = { ...fields, message } as E;
  if (typeof error.name === 'string') copy.name = error.name;
  if (typeof error.stack === 'string') copy.stack = error.stack;
  return copy;
}

/**
 * Vitest's printer renames a cause it printed to `Caused by: <name>` (in place, on the error reporters share),
 * so a reporter after the default one reads that name: the prefix is its own, not the cause's.
 */
const PRINTED_PREFIX = /^(?:Caused by: )+/;

/** `Error: Worker exited unexpectedly`, as Vitest's `Caused by:` line names a cause. */
function describeCause(cause: unknown): string {
  if (!isObject(cause)) return String(cause);
  const message = typeof cause.message === 'string' ? cause.message : String(cause.message ?? '');
  const name = typeof cause.name === 'string' ? cause.name.replace(PRINTED_PREFIX, '') : '';
  return message ? `${name || 'Error'}: ${message}` : name || 'Error';
}

function isObject(value: unknown): value is CausedError {
  return typeof value === 'object' && value !== null;
}
