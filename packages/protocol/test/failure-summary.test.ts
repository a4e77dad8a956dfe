import { describe, expect, it } from 'vitest';
import { failureSummary, printedValues, SUMMARY_MAX } from '../src/index.js';

// Messages as the runners print them (captured from jest 30, vitest 4, playwright 1.56, mocha 11 runs).
describe('failureSummary', () => {
  it('jest and playwright matchers: the Expected/Received lines, not the heading', () => {
    expect(
      failureSummary({
        message: 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12',
        expected: '11',
        actual: '12',
      }),
    ).toBe('expected 11, received 12');
    expect(
      failureSummary({
        message: 'expect(received).toBeGreaterThan(expected)\n\nExpected: > 5\nReceived:   3',
      }),
    ).toBe('expected > 5, received 3');
    expect(
      failureSummary({
        message:
          'expect(locator).toHaveText(expected) failed\n\nLocator:  locator(\'h1\')\nExpected: "Bye"\nReceived: "Hello"\nTimeout:  500ms\n\nCall log:\n  - Expect "toHaveText" locator(\'h1\') with timeout 500ms\n',
      }),
    ).toBe('expected "Bye", received "Hello"');
    expect(
      failureSummary({
        message:
          'expect(received).toThrow(expected)\n\nExpected substring: "foo"\nReceived message:   "bar"\n',
      }),
    ).toBe('expected substring "foo", received message "bar"');
    expect(
      failureSummary({
        message:
          'expect(jest.fn()).toHaveBeenCalledTimes(expected)\n\nExpected number of calls: 2\nReceived number of calls: 1',
      }),
    ).toBe('expected number of calls 2, received number of calls 1');
  });

  it('one printed side: after the matcher name, with the actual value when the error has it', () => {
    const not = 'expect(received).not.toBe(expected) // Object.is equality\n\nExpected: not 3';
    expect(failureSummary({ message: not })).toBe('not.toBe: expected not 3');
    expect(failureSummary({ message: not, expected: '3', actual: '3' })).toBe('expected not 3, received 3');
    expect(failureSummary({ message: 'expect(received).toBeTruthy()\n\nReceived: false' })).toBe(
      'toBeTruthy: received false',
    );
  });

  it('a diff without values: from the fields when present, else the diff’s first difference', () => {
    const message =
      'expect(received).toEqual(expected) // deep equality\n\n- Expected  - 1\n+ Received  + 1\n\n  Object {\n    "a": 1,\n    "b": Array [\n      1,\n-     3,\n+     2,\n    ],\n  }';
    expect(
      failureSummary({ message, expected: '{ a: 1, b: [ 1, 3 ] }', actual: '{ a: 1, b: [ 1, 2 ] }' }),
    ).toBe('expected { a: 1, b: [ 1, 3 ] }, received { a: 1, b: [ 1, 2 ] }');
    expect(failureSummary({ message })).toBe('toEqual: expected 3, received 2 (first difference)');
  });

  it("jest's rendering of node:assert", () => {
    expect(
      failureSummary({
        message:
          'assert.strictEqual(received, expected)\n\nExpected value to strictly be equal to:\n  35\nReceived:\n  36',
      }),
    ).toBe('expected 35, received 36');
    expect(
      printedValues(
        'assert.deepStrictEqual(received, expected)\n\nExpected value to deeply and strictly equal to:\n  {"a": 2}\nReceived:\n  {"a": 1}\n\nDifference:\n\n- Expected\n+ Received',
      ),
    ).toEqual({ expected: '{"a": 2}', received: '{"a": 1}' });
  });

  it('node:assert: the comparison line, else expected and actual on one line', () => {
    const strict = {
      message: 'Expected values to be strictly equal:\n\n36 !== 35\n',
      expected: '35',
      actual: '36',
    };
    expect(failureSummary(strict)).toBe('36 !== 35');
    expect(failureSummary({ message: strict.message })).toBe('36 !== 35');
    // What playwright reporters get of it: the message only.
    expect(printedValues(strict.message)).toEqual({ expected: '35', received: '36' });
    expect(failureSummary({ message: '1 == 2', expected: '2', actual: '1' })).toBe('1 == 2');
    expect(
      failureSummary({
        message:
          'Expected values to be strictly deep-equal:\n+ actual - expected\n\n  {\n+   a: 1\n-   a: 2\n  }',
        expected: '{\n  "a": 2,\n}',
        actual: '{\n  "a": 1,\n}',
      }),
    ).toBe('expected { "a": 2 }, received { "a": 1 }');
    expect(
      failureSummary({
        message: 'The expression evaluated to a falsy value:\n\n  assert.ok(add(1, 1) === 2)\n',
        expected: 'true',
        actual: 'false',
      }),
    ).toBe('The expression evaluated to a falsy value: assert.ok(add(1, 1) === 2)');
  });

  it('vitest and chai already say it: the first line, without the equality comment', () => {
    expect(
      failureSummary({
        message: 'expected 120 to be 108 // Object.is equality',
        expected: '108',
        actual: '120',
      }),
    ).toBe('expected 120 to be 108');
    expect(failureSummary({ message: 'expected 120 to equal 108', expected: '108', actual: '120' })).toBe(
      'expected 120 to equal 108',
    );
    expect(
      failureSummary({
        message: 'expected { a: 1, b: [ 1, 2 ] } to deeply equal { a: 1, b: [ 1, 3 ] }',
        expected: 'Object {\n  "a": 1,\n  "b": Array [\n    1,\n    3,\n  ],\n}',
        actual: 'Object {\n  "a": 1,\n  "b": Array [\n    1,\n    2,\n  ],\n}',
      }),
    ).toBe('expected { a: 1, b: [ 1, 2 ] } to deeply equal { a: 1, b: [ 1, 3 ] }');
  });

  it('a message of its own gets the values when the error has them and the message does not show them', () => {
    expect(failureSummary({ message: 'totals differ', expected: '35', actual: '36' })).toBe(
      'totals differ (expected 35, received 36)',
    );
    expect(failureSummary({ message: "Cannot read properties of null (reading 'x')" })).toBe(
      "Cannot read properties of null (reading 'x')",
    );
  });

  it('prefers the producer’s summary, strips ANSI, stays on one bounded line', () => {
    expect(failureSummary({ message: 'x', summary: 'already said' })).toBe('already said');
    expect(failureSummary({ message: '\u001b[31mexpected 1 to be 2\u001b[39m\nmore' })).toBe(
      'expected 1 to be 2',
    );
    const long = failureSummary({
      message: `expect(received).toBe(expected)\n\nExpected: "${'y'.repeat(300)}"\nReceived: "${'x'.repeat(300)}"`,
    });
    expect(long).not.toContain('\n');
    expect(long.length).toBeLessThanOrEqual(SUMMARY_MAX);
    expect(long).toMatch(/^expected "y+…, received "x+…$/);
    expect(failureSummary(undefined)).toBe('');
    expect(failureSummary({ message: '' })).toBe('');
  });
});
