import { inspect } from 'node:util';
import type { TestError } from '@testwire/protocol';
import { failureSummary, printedValues } from '@testwire/protocol/failure-summary';
import { withCauses } from './causes.js';
import type { PathRelativizer } from './ids.js';
import { stripAnsi, truncate } from './text.js';

/** Size bounds of what goes on the wire for one error. */
export const ERROR_LIMITS = {
  message: 16 * 1024,
  stack: 8 * 1024,
  expectedActual: 4 * 1024,
  diff: 8 * 1024,
  /** A step's titles: nested steps deeper than this keep their outermost. */
  stepDepth: 16,
  stepTitle: 1024,
} as const;

const STACK_FRAME = /\n\s+at /;
/** Where jest's printed error text goes on with a cause (`util.inspect`'s `[cause]: …`, at any depth). */
const PRINTED_CAUSE = /\n\s*\[cause\]: /;

/**
 * Turns whatever a runner reports as an error into a {@link TestError}: a thrown Error, jest's serialized
 * `failureDetails` (with `matcherResult`), chai's and node:assert's AssertionError (`expected`/`actual`),
 * vitest's and playwright's serialized errors (vitest's `diff`), or a preformatted string (jest
 * `failureMessages`: message + stack).
 *
 * - `expected`/`actual` from the error's fields, jest's `matcherResult`, or else the values the matcher
 *   printed in its message (`Expected: 11` / `Received: 12`: jest without a matcherResult, playwright).
 * - `stack` holds the frames only (the message is not repeated), the user's frames by default
 *   ({@link trimStack}); `fullStack` every frame when some were dropped.
 * - `summary`: the one line saying what failed ({@link failureSummary}).
 *
 * ANSI codes are stripped, paths under the root made relative, sizes bounded. Never throws.
 */
export function normalizeError(error: unknown, paths: PathRelativizer): TestError {
  try {
    return finish(readError(error), paths);
  } catch {
    return { message: 'testwire: the error could not be read' };
  }
}

/** What was read from the runner's error, before cleaning. */
interface RawError {
  message: string;
  /** The stack as the runner gave it, message included. */
  stack?: string;
  type?: string;
  code?: string;
  expected?: string;
  actual?: string;
  diff?: string;
  step?: string[];
}

function readError(error: unknown): RawError {
  if (typeof error === 'string' || error === null || error === undefined || typeof error !== 'object') {
    // Jest prints an error's causes after its stack, each `[cause]: Error: …` with frames of its own: they
    // join the message as `Caused by:` lines (as every runner's causes do), their frames stay out of the stack.
    const [text = '', ...causes] = stripAnsi(typeof error === 'string' ? error : String(error)).split(
      PRINTED_CAUSE,
    );
    const frame = STACK_FRAME.exec(text);
    const head = frame ? text.slice(0, frame.index) : text;
    const causedBy = causes.map((cause) => {
      const at = STACK_FRAME.exec(cause);
      return `\nCaused by: ${(at ? cause.slice(0, at.index) : cause).trim()}`;
    });
    return {
      message: stripTypePrefix(head) + causedBy.join(''),
      ...(frame ? { stack: text } : {}),
      ...typeFromPrefix(head),
    };
  }

  // Its causes in its message, as runners print them (`Caused by: …`): often the part that says what failed.
  const e = withCauses(error as Record<string, unknown>);
  if (
    typeof e.stack === 'string' &&
    (typeof e.message !== 'string' || messageOnlyInStack(e.message, e.stack))
  ) {
    // Only a preformatted "Type: message\n    at …" text (jest failureMessages) plus extra fields; or an
    // empty message whose stack has it (jest's testExecError for an afterAll hook: `{message: '', stack}`).
    const { message: _, ...rest } = e;
    const parsed = readError(e.stack);
    const extra = readError({ ...rest, message: parsed.message, stack: undefined });
    return { ...extra, ...parsed, ...(extra.type && e.name ? { type: extra.type } : {}) };
  }
  const rawMessage = typeof e.message === 'string' ? e.message : safeString(e.message ?? e);
  const result: RawError = { message: stripAnsi(rawMessage) };

  if (typeof e.stack === 'string' && e.stack) result.stack = stripAnsi(e.stack);

  const type = errorType(e);
  if (type) result.type = type;
  if (typeof e.code === 'string' || typeof e.code === 'number') result.code = String(e.code);
  // an adapter's addition (api.ts StepError): the titles of the step it failed in
  if (Array.isArray(e.step) && e.step.length > 0 && e.step.every((title) => typeof title === 'string'))
    result.step = (e.step as string[]).map(stripAnsi);

  // jest: failureDetails[i].matcherResult = {expected, actual, message, pass}
  const matcher = isObject(e.matcherResult) ? e.matcherResult : undefined;
  const expected = 'expected' in e ? e.expected : matcher?.expected;
  const actual = 'actual' in e ? e.actual : matcher?.actual;
  // An AssertionError without a comparison carries expected/actual as undefined: leave them out.
  if (expected !== undefined || actual !== undefined) {
    if (expected !== undefined || 'expected' in e || matcher) result.expected = stringify(expected);
    if (actual !== undefined || 'actual' in e || matcher) result.actual = stringify(actual);
  }
  // vitest: the diff its reporter prints, apart from the message
  if (typeof e.diff === 'string' && e.diff.trim()) result.diff = stripAnsi(e.diff);
  if (!result.stack && !rawMessage && isObject(e.value)) {
    // playwright: a thrown non-Error value serialized as {value}
    result.message = safeString(e.value);
  }
  return result;
}

/** An empty message, where the stack's head (before its first frame) says more than a bare type name. */
function messageOnlyInStack(message: string, stack: string): boolean {
  if (message.trim() !== '') return false;
  const frame = STACK_FRAME.exec(stack);
  const head = stripAnsi(frame ? stack.slice(0, frame.index) : stack).trim();
  return head !== '' && !BARE_TYPE.test(head);
}

/** A stack's head that is only the error's type (`new Error()`: "Error"). */
const BARE_TYPE = /^(?:[A-Z][A-Za-z0-9]*)?(?:Error|Exception)(?: \[[^\]]+\])?:?$/;

function finish(raw: RawError, paths: PathRelativizer): TestError {
  const message = clean(raw.message, paths, ERROR_LIMITS.message);
  const result: TestError = { message };
  if (raw.stack) Object.assign(result, trimStack(paths.text(raw.stack), paths.text(raw.message)));
  if (raw.type) result.type = raw.type;
  if (raw.code) result.code = raw.code;
  if (raw.step)
    result.step = raw.step
      .slice(0, ERROR_LIMITS.stepDepth)
      .map((title) => truncate(title, ERROR_LIMITS.stepTitle));
  let { expected, actual } = raw;
  if (expected === undefined && actual === undefined) {
    // The matcher printed them (jest's toBeGreaterThan has no values in its matcherResult; playwright
    // reporters see only the message): both sides, or neither (`Expected: not 3` alone is no pair).
    const printed = printedValues(raw.message);
    if (printed?.expected !== undefined && printed.received !== undefined) {
      expected = printed.expected;
      actual = printed.received;
    }
  }
  if (expected !== undefined) result.expected = truncate(paths.text(expected), ERROR_LIMITS.expectedActual);
  if (actual !== undefined) result.actual = truncate(paths.text(actual), ERROR_LIMITS.expectedActual);
  if (raw.diff) result.diff = clean(raw.diff, paths, ERROR_LIMITS.diff);
  const summary = failureSummary(result);
  if (summary) result.summary = summary;
  return result;
}

function clean(text: string, paths: PathRelativizer, max: number): string {
  return truncate(paths.text(text), max);
}

// `    at fn (file:1:2)` (V8) or `fn@file:1:2` (Firefox, Safari: browser runners)
const FRAME_LINE = /^\s*(?:at\s|[^\s@]*@\S*:\d+)/;

/**
 * Splits a stack into its frames (the message it starts with dropped) and keeps the user's: `stack` holds
 * those, `fullStack` every frame when some were dropped. A stack without frames gives neither; one with
 * no frame of the user's keeps them all in `stack`. Both bounded to {@link ERROR_LIMITS}.stack.
 */
export function trimStack(stack: string, message: string): { stack?: string; fullStack?: string } {
  // The message can hold anything, frame-like lines too (jest's toThrow prints the thrown error's stack):
  // the frames start after it when the stack repeats it.
  const at = message ? stack.indexOf(message) : -1;
  const body = (at >= 0 ? stack.slice(at + message.length) : stack).split('\n');
  const start = body.findIndex((line) => FRAME_LINE.test(line));
  if (start < 0) return {};
  const lines = body
    .slice(start)
    .filter((line) => line.trim() !== '')
    .map((line) => (FRAME_LINE.test(line) ? `    ${line.trim()}` : line));
  const full = lines.join('\n');
  const user = lines.filter((line) => FRAME_LINE.test(line) && !isInternalFrame(line));
  if (user.length === 0 || user.length === lines.length) return { stack: truncate(full, ERROR_LIMITS.stack) };
  return {
    stack: truncate(user.join('\n'), ERROR_LIMITS.stack),
    fullStack: truncate(full, ERROR_LIMITS.stack),
  };
}

// The runners' and assertion libraries' own code when it is not under node_modules (a checkout of the
// runner itself, a bundled copy): their published build folders.
const RUNNER_CODE =
  /(?:^|[\\/])(?:jest-[\w-]+|@jest[\\/][\w-]+|expect|@vitest[\\/][\w-]+|vitest|mocha|chai|playwright(?:-core)?|@playwright[\\/]test)[\\/](?:build|dist|lib)[\\/]/;

/** A frame of node_modules, node's internals, the runners' own code, or with no source at all. */
export function isInternalFrame(line: string): boolean {
  const where = frameSource(line.trim());
  if (!where || where === '<anonymous>' || where === 'native' || /^index \d+$/.test(where)) return true;
  return (
    /^(?:node:|internal[\\/])/.test(where) ||
    /(?:^|[\\/])node_modules[\\/]/.test(where) ||
    RUNNER_CODE.test(where)
  );
}

/** Where a frame runs: `at fn (where)`, `at where`, or `fn@where` (Firefox, Safari). */
function frameSource(frame: string): string {
  if (frame.startsWith('at ')) {
    const text = frame.slice(3).trim();
    const open = text.indexOf(' (');
    return (open >= 0 && text.endsWith(')') ? text.slice(open + 2, -1) : text).trim();
  }
  return frame.slice(frame.lastIndexOf('@') + 1).trim();
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
