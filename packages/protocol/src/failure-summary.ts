/**
 * One line saying what failed, from what a runner put in its error message and fields. Reporters store it
 * as `TestError.summary`; consumers of older producers compute it here. Isomorphic, never throws.
 *
 *   jest / playwright   expect(received).toBe(expected) …  Expected: 11 / Received: 12  ->  expected 11, received 12
 *   node:assert         Expected values to be strictly equal: / 36 !== 35                 ->  36 !== 35
 *   vitest / chai       expected 120 to be 108 // Object.is equality                      ->  expected 120 to be 108
 *   anything else       its first line (with the next when the first is only a heading)
 */
import type { TestError } from './events.js';

/** Longest summary; longer ones end in `…`. */
export const SUMMARY_MAX = 300;
/** Longest value quoted in a summary. */
const VALUE_MAX = 120;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what it matches
const ANSI = /[\u001B\u009B]\[[0-9;?]*[A-Za-z]/g;

/** What a matcher printed as its expected and received values (labels like `length`, `substring` aside). */
export interface PrintedValues {
  expected?: string;
  received?: string;
  /** `length` of `Expected length: 3`. */
  expectedLabel?: string;
  receivedLabel?: string;
}

const EXPECTED_LINE = /^Expected((?: [a-z]+){0,3}): +(\S.*?)\s*$/m;
const RECEIVED_LINE = /^Received((?: [a-z]+){0,3}): +(\S.*?)\s*$/m;
// jest's rendering of node:assert: `Expected value to strictly be equal to:\n  35\nReceived:\n  36`
const EXPECTED_BLOCK = /^Expected value[^\n]*:\n((?: {2}.*(?:\n|$))+)/m;
const RECEIVED_BLOCK = /^Received:\n((?: {2}.*(?:\n|$))+)/m;

// node:assert's `Expected values to be strictly equal:\n\n36 !== 35`: actual, then expected
const NODE_COMPARISON =
  /^Expected values to be (?:strictly |loosely )?(?:deep-)?equal:\n\n(\S.*?) (?:!==|!=|===|==) (\S.*?)\s*$/m;

/**
 * The values jest's and playwright's matchers print on their own lines (`Expected: 11`, `Received: 12`,
 * `Expected length: 3`, `Expected: not 3`), jest's rendering of a node:assert error, or node:assert's own
 * one-line comparison (`36 !== 35`: playwright reporters see only the message). Undefined when the message
 * prints none of them.
 */
export function printedValues(message: string): PrintedValues | undefined {
  const text = message.replace(ANSI, '');
  const expected = EXPECTED_LINE.exec(text);
  const received = RECEIVED_LINE.exec(text);
  if (expected || received) {
    const values: PrintedValues = {};
    if (expected) {
      values.expected = expected[2];
      if (expected[1]) values.expectedLabel = expected[1].trim();
    }
    if (received) {
      values.received = received[2];
      if (received[1]) values.receivedLabel = received[1].trim();
    }
    return values;
  }
  const expectedBlock = EXPECTED_BLOCK.exec(text);
  const receivedBlock = RECEIVED_BLOCK.exec(text);
  if (expectedBlock && receivedBlock)
    return { expected: oneLine(expectedBlock[1]), received: oneLine(receivedBlock[1]) };
  const node = NODE_COMPARISON.exec(text);
  if (node) return { expected: node[2], received: node[1] };
  return undefined;
}

/**
 * The one line saying what failed: `error.summary` when the producer computed it, else computed from the
 * message and `expected`/`actual`. Bounded to {@link SUMMARY_MAX} characters.
 */
export function failureSummary(
  error: Pick<TestError, 'message' | 'expected' | 'actual' | 'summary'> | undefined,
): string {
  if (!error) return '';
  try {
    if (typeof error.summary === 'string' && error.summary) return bound(oneLine(error.summary), SUMMARY_MAX);
    return bound(summarize(error), SUMMARY_MAX);
  } catch {
    return '';
  }
}

// `// Object.is equality`, `// deep equality` after vitest's and jest's headings
const EQUALITY_COMMENT = /\s+\/\/ [\w. ]*equality\s*$/;
// `36 !== 35`, `1 == 2` (node:assert's second line), not code such as `assert.ok(a === b)`
const COMPARISON = /^(?![\w.$]+\()\S.* (?:!==|===|!=|==) \S.*$/;
// jest's `expect(received).not.toBe(expected)`, playwright's `expect(locator).toHaveText(expected) failed`
const MATCHER_HEADING = /^expect(?:\.soft)?\((?:[^()]|\([^()]*\))*\)\.((?:(?:not|resolves|rejects)\.)*\w+)/;

function summarize(error: Pick<TestError, 'message' | 'expected' | 'actual'>): string {
  const message = (typeof error.message === 'string' ? error.message : '').replace(ANSI, '');
  const lines = message.split(/\r?\n/).map((line) => line.trim());
  const firstIndex = lines.findIndex((line) => line !== '');
  const first = firstIndex >= 0 ? lines[firstIndex] : '';
  const next = lines.slice(firstIndex + 1).find((line) => line !== '');
  const hasFields = typeof error.expected === 'string' || typeof error.actual === 'string';

  // A heading says which assertion failed, not with what: jest's and playwright's `expect(…).toBe(…)`, jest's
  // `assert.strictEqual(received, expected)`, node's `Expected values to be strictly equal:`.
  const heading = first === '' || first.endsWith(':') || /^(?:expect|assert)[.(]/.test(first);
  if (!heading) {
    const own = first.replace(EQUALITY_COMMENT, '');
    // A message of its own (`totals differ`) says nothing of the values when the error has them.
    if (hasFields && !/^(?:.*: )?expected\b/i.test(own) && !mentions(own, error))
      return `${own} (${expectedReceived(error.expected, error.actual)})`;
    return own;
  }

  if (next && COMPARISON.test(next) && next.length <= VALUE_MAX * 2 && (!hasFields || mentions(next, error)))
    return next;
  const printed = printedValues(message);
  if (printed) {
    const received = printed.received ?? (printed.expected ? compact(error.actual) : undefined);
    const parts: string[] = [];
    if (printed.expected !== undefined)
      parts.push(labelled('expected', printed.expectedLabel, printed.expected));
    if (received !== undefined) parts.push(labelled('received', printed.receivedLabel, received));
    const matcher = MATCHER_HEADING.exec(first)?.[1];
    // One side alone (`Expected: not 3`, `Received: false`) reads better after the matcher's name.
    return parts.length === 1 && matcher ? `${matcher}: ${parts[0]}` : parts.join(', ');
  }
  // node's `The expression evaluated to a falsy value:` then the code; not a diff or a value's first line.
  const nextSays = next !== undefined && !/^[-+{[]/.test(next);
  if (nextSays && first.endsWith(':')) return `${first} ${next}`;
  if (hasFields) return expectedReceived(error.expected, error.actual);
  const difference = firstDifference(lines);
  if (difference) {
    const matcher = MATCHER_HEADING.exec(first)?.[1];
    return `${matcher ? `${matcher}: ` : ''}${difference} (first difference)`;
  }
  const title = first.replace(EQUALITY_COMMENT, '');
  return nextSays ? `${title}: ${next}` : title;
}

function expectedReceived(expected: string | undefined, actual: string | undefined): string {
  const parts: string[] = [];
  if (typeof expected === 'string') parts.push(`expected ${compact(expected)}`);
  if (typeof actual === 'string') parts.push(`received ${compact(actual)}`);
  return parts.join(', ');
}

function labelled(side: string, label: string | undefined, value: string): string {
  return `${side}${label ? ` ${label}` : ''} ${bound(value.trim(), VALUE_MAX)}`;
}

/** Whether a line already quotes both values (chai's `expected 120 to equal 108`). */
function mentions(line: string, error: Pick<TestError, 'expected' | 'actual'>): boolean {
  const shown = (value: string | undefined) => value === undefined || line.includes(compact(value) ?? '');
  return shown(error.expected) && shown(error.actual);
}

/** The first removed and added lines of a jest-style diff (`- Expected` / `+ Received` legend first). */
function firstDifference(lines: string[]): string | undefined {
  const legend = lines.findIndex((line) => /^- Expected\b/.test(line));
  if (legend < 0 || !/^\+ Received\b/.test(lines[legend + 1] ?? '')) return undefined;
  const body = lines.slice(legend + 2);
  const removed = body.find((line) => /^- \S/.test(line) || /^-\s+\S/.test(line));
  const added = body.find((line) => /^\+ \S/.test(line) || /^\+\s+\S/.test(line));
  if (!removed && !added) return undefined;
  const value = (line: string) => bound(line.slice(1).trim().replace(/,$/, ''), VALUE_MAX);
  return [removed && `expected ${value(removed)}`, added && `received ${value(added)}`]
    .filter(Boolean)
    .join(', ');
}

/** A value on one line: lines trimmed and joined, trailing commas before a closing bracket dropped. */
function compact(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  return bound(oneLine(value), VALUE_MAX);
}

function oneLine(text: string): string {
  return text
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ')
    .replace(/,\s*([}\]])/g, ' $1');
}

function bound(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
