import { inspect } from 'node:util';
import type { TestError } from '@testwire/protocol';
import type { PathRelativizer } from './ids.js';

/** Size bounds of what goes on the wire for one error. */
export const ERROR_LIMITS = {
  message: 16 * 1024,
  stack: 8 * 1024,
  expectedActual: 4 * 1024,
} as const;

// CSI sequences (colors, cursor) and OSC sequences (hyperlinks) as runners print them. Built from a string:
// a regex literal with control characters is rejected by the linter.
const ESC = '[\\u001B\\u009B]';
const ANSI = new RegExp(
  `${ESC}[[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[-a-zA-Z\\d/#&.:=?%@~_]*)*)?\\u0007)|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-ntqry=><~]))`,
  'g',
);

export function stripAnsi(text: string): string {
  return text.includes('\u001B') || text.includes('\u009B') ? text.replace(ANSI, '') : text;
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}

const STACK_FRAME = /\n\s+at /;

/**
 * Turns whatever a runner reports as an error into a {@link TestError}: a thrown Error, jest's serialized
 * `failureDetails` (with `matcherResult`), chai's AssertionError (`expected`/`actual`), vitest's and
 * playwright's serialized errors, or a preformatted string (jest `failureMessages`: message + stack).
 * ANSI codes are stripped, paths under the root made relative, sizes bounded. Never throws.
 */
export function normalizeError(error: unknown, paths: PathRelativizer): TestError {
  try {
    return normalizeUnsafe(error, paths);
  } catch {
    return { message: 'testwire: the error could not be read' };
  }
}

function normalizeUnsafe(error: unknown, paths: PathRelativizer): TestError {
  if (typeof error === 'string' || error === null || error === undefined || typeof error !== 'object') {
    const text = stripAnsi(typeof error === 'string' ? error : String(error));
    const frame = STACK_FRAME.exec(text);
    if (!frame)
      return { message: clean(stripTypePrefix(text), paths, ERROR_LIMITS.message), ...typeFromPrefix(text) };
    const head = text.slice(0, frame.index);
    return {
      message: clean(stripTypePrefix(head), paths, ERROR_LIMITS.message),
      stack: clean(text, paths, ERROR_LIMITS.stack),
      ...typeFromPrefix(head),
    };
  }

  const e = error as Record<string, unknown>;
  if (typeof e.message !== 'string' && typeof e.stack === 'string') {
    // Only a preformatted "Type: message\n    at …" text (jest failureMessages) plus extra fields.
    const { message: _, ...rest } = e;
    const parsed = normalizeUnsafe(e.stack, paths);
    const extra = normalizeUnsafe({ ...rest, message: parsed.message, stack: undefined }, paths);
    return { ...extra, ...parsed, ...(extra.type && e.name ? { type: extra.type } : {}) };
  }
  const rawMessage = typeof e.message === 'string' ? e.message : safeString(e.message ?? e);
  const result: TestError = { message: clean(stripAnsi(rawMessage), paths, ERROR_LIMITS.message) };

  if (typeof e.stack === 'string' && e.stack)
    result.stack = clean(stripAnsi(e.stack), paths, ERROR_LIMITS.stack);

  const type = errorType(e);
  if (type) result.type = type;
  if (typeof e.code === 'string' || typeof e.code === 'number') result.code = String(e.code);

  // jest: failureDetails[i].matcherResult = {expected, actual, message, pass}
  const matcher = isObject(e.matcherResult) ? e.matcherResult : undefined;
  const expected = 'expected' in e ? e.expected : matcher?.expected;
  const actual = 'actual' in e ? e.actual : matcher?.actual;
  // An AssertionError without a comparison carries expected/actual as undefined: leave them out.
  if (expected !== undefined || actual !== undefined) {
    if (expected !== undefined || 'expected' in e || matcher) result.expected = stringify(expected);
    if (actual !== undefined || 'actual' in e || matcher) result.actual = stringify(actual);
  }
  if (!result.stack && !rawMessage && isObject(e.value)) {
    // playwright: a thrown non-Error value serialized as {value}
    result.message = clean(safeString(e.value), paths, ERROR_LIMITS.message);
  }
  return result;
}

function clean(text: string, paths: PathRelativizer, max: number): string {
  return truncate(paths.text(text), max);
}

function errorType(e: Record<string, unknown>): string | undefined {
  if (typeof e.name === 'string' && e.name) return e.name;
  const ctor = (e as { constructor?: { name?: unknown } }).constructor;
  const name = typeof ctor?.name === 'string' ? ctor.name : undefined;
  return name && name !== 'Object' ? name : undefined;
}

const TYPE_PREFIX = /^((?:[A-Z][A-Za-z0-9]*)?(?:Error|Exception))(?: \[[^\]]+\])?: /;

function typeFromPrefix(head: string): { type?: string } {
  const match = TYPE_PREFIX.exec(head.trimStart());
  return match ? { type: match[1] } : {};
}

function stripTypePrefix(head: string): string {
  return head.trim().replace(TYPE_PREFIX, '');
}

function stringify(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : inspect(value, {
          depth: 4,
          maxArrayLength: 50,
          maxStringLength: ERROR_LIMITS.expectedActual,
          breakLength: 120,
        });
  return truncate(stripAnsi(text), ERROR_LIMITS.expectedActual);
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : inspect(value, { depth: 2, breakLength: 120 });
  } catch {
    return '[unprintable value]';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Where a reporter's internal errors go: nowhere by default (they never reach the runner), once per kind
 * on stderr with TESTWIRE_DEBUG.
 */
export function internalErrorReporter(debug: boolean): (where: string, error: unknown) => void {
  const reported = new Set<string>();
  return (where, error) => {
    if (!debug || reported.has(where)) return;
    reported.add(where);
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    try {
      process.stderr.write(
        `testwire: internal error in ${where} (the test run is not affected): ${detail}\n`,
      );
    } catch {
      // stderr closed: nothing more we can do
    }
  };
}
