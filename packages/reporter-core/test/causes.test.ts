import { describe, expect, test } from 'vitest';
import { withCauses } from '../src/causes.js';
import { normalizeError } from '../src/errors.js';
import { PathRelativizer } from '../src/ids.js';

describe('withCauses', () => {
  test('an error without a cause is the error itself', () => {
    const error = new Error('plain');
    expect(withCauses(error)).toBe(error);
  });

  test("each cause is a line of the message, named as Vitest's `Caused by:` names it", () => {
    const root = new RangeError('root');
    const error = new Error('top', { cause: new TypeError('middle', { cause: root }) });
    const copy = withCauses(error);
    expect(copy).toMatchObject({ name: 'Error', stack: error.stack });
    expect(copy.message).toBe('top\nCaused by: TypeError: middle\nCaused by: RangeError: root');
  });

  test('a cause Vitest already printed (renamed `Caused by: Error`) is named as the cause', () => {
    const cause = new Error('Worker exited unexpectedly');
    cause.name = 'Caused by: Error';
    expect(withCauses(new Error('[vitest-pool]: Worker forks emitted error.', { cause })).message).toBe(
      '[vitest-pool]: Worker forks emitted error.\nCaused by: Error: Worker exited unexpectedly',
    );
  });

  test('a value that is not an error, and a cause that loops, end the chain', () => {
    expect(withCauses({ message: 'a', cause: 42 }).message).toBe('a\nCaused by: 42');
    const loop: { message: string; cause?: unknown } = { message: 'loop' };
    loop.cause = loop;
    expect(withCauses(loop).message).toBe('loop');
    const a: { message: string; name: string; cause?: unknown } = { message: 'a', name: 'Error' };
    a.cause = { message: 'b', name: 'Error', cause: a };
    expect(withCauses(a).message).toBe('a\nCaused by: Error: b');
  });
});

describe('normalizeError keeps causes', () => {
  const paths = new PathRelativizer('/nowhere');

  test("a thrown error's cause chain is in its message, once, and the stack is still the frames only", () => {
    const error = new Error('request failed', { cause: new TypeError('socket closed') });
    const normalized = normalizeError(error, paths);
    expect(normalized.message).toBe('request failed\nCaused by: TypeError: socket closed');
    expect(normalized.type).toBe('Error');
    expect(normalized.stack ?? '').not.toContain('request failed');
    // An adapter that folded the causes first (withCauses) gets them once.
    expect(normalizeError(withCauses(error), paths).message).toBe(normalized.message);
  });

  test('a serialized error (vitest, playwright) with a serialized cause', () => {
    const normalized = normalizeError(
      {
        name: 'Error',
        message: 'outer',
        stack: 'Error: outer\n    at x (/nowhere/a.js:1:1)',
        cause: { name: 'RangeError', message: 'inner' },
      },
      paths,
    );
    expect(normalized.message).toBe('outer\nCaused by: RangeError: inner');
  });

  test("jest's printed text (failureMessages): each `[cause]:` is a Caused by line, its frames out of the stack", () => {
    const printed = [
      'Error: top level failed',
      '    at Object.<anonymous> (/nowhere/c.test.js:4:9)',
      '    at new Promise (<anonymous>)',
      '',
      '[cause]: Error: mid layer failed',
      '    at Object.<anonymous> (/nowhere/c.test.js:3:15)',
      '',
      '  [cause]: TypeError: root db down',
      '      at Object.<anonymous> (/nowhere/c.test.js:2:16)',
    ].join('\n');
    const normalized = normalizeError({ stack: printed }, paths);
    expect(normalized.message).toBe(
      'top level failed\nCaused by: Error: mid layer failed\nCaused by: TypeError: root db down',
    );
    expect(normalized.type).toBe('Error');
    expect(normalized.stack).toBe('    at Object.<anonymous> (c.test.js:4:9)');
  });
});
