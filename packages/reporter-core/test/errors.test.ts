import assert from 'node:assert';
import { fileURLToPath } from 'node:url';
import { chai, describe, expect, it } from 'vitest';
import { isInternalFrame, trimStack } from '../src/errors.js';
import { normalizeError, PathRelativizer } from '../src/index.js';

const paths = new PathRelativizer('/home/u/proj');

/** What `fn` throws, normalized against this package's root (real errors, real stacks). */
function thrownBy(fn: () => void) {
  const root = new PathRelativizer(fileURLToPath(new URL('..', import.meta.url)));
  try {
    fn();
  } catch (error) {
    return normalizeError(error, root);
  }
  throw new Error('did not throw');
}

// jest 30's failureMessages[i] and failureDetails[i] of `expect(add(5, 6)).toBe(11)`, frames shortened.
const circus = '/home/u/proj/node_modules/.pnpm/jest-circus@30.5.2/node_modules/jest-circus/build';
const jestFrames = [
  '    at Object.toBe (/home/u/proj/math.test.js:4:42)',
  `    at Promise.finally.completed (${circus}/jestAdapterInit.js:1834:28)`,
  '    at new Promise (<anonymous>)',
  `    at callAsyncCircusFn (${circus}/jestAdapterInit.js:1774:10)`,
  `    at _callCircusTest (${circus}/jestAdapterInit.js:1167:40)`,
].join('\n');

describe('normalizeError', () => {
  it("an empty message whose stack says it (jest's testExecError for an afterAll hook): the stack's head", () => {
    const afterAll = {
      message: '',
      stack: ['Error: afterAll boom', jestFrames.replace('Object.toBe', 'Object.<anonymous>')].join('\n'),
    };
    const error = normalizeError(afterAll, paths);
    expect(error).toMatchObject({ message: 'afterAll boom', type: 'Error' });
    expect(error.stack).toBe('    at Object.<anonymous> (math.test.js:4:42)');
    // A bare type name says nothing more than the empty message: `new Error()` keeps it empty.
    const bare = normalizeError({ message: '', stack: `Error\n${jestFrames}` }, paths);
    expect(bare.message).toBe('');
    expect(bare.stack).toContain('math.test.js:4:42');
  });

  it('Error objects: message, the user’s frames relative to the root, type, code; every frame in fullStack', () => {
    const error = new TypeError('\u001b[1mbad\u001b[22m');
    error.stack = [
      'TypeError: bad',
      '    at f (/home/u/proj/src/a.js:1:2)',
      '    at g (file:///home/u/proj/src/b.mjs:3:4)',
      '    at h (/home/u/project2/c.js:1:1)',
      '    at run (/home/u/proj/node_modules/mocha/lib/runnable.js:1:1)',
      '    at process.processImmediate (node:internal/timers:483:21)',
    ].join('\n');
    (error as any).code = 'ERR_X';
    expect(normalizeError(error, paths)).toEqual({
      message: 'bad',
      stack: '    at f (src/a.js:1:2)\n    at g (src/b.mjs:3:4)\n    at h (/home/u/project2/c.js:1:1)',
      fullStack:
        '    at f (src/a.js:1:2)\n    at g (src/b.mjs:3:4)\n    at h (/home/u/project2/c.js:1:1)\n    at run (node_modules/mocha/lib/runnable.js:1:1)\n    at process.processImmediate (node:internal/timers:483:21)',
      type: 'TypeError',
      code: 'ERR_X',
      summary: 'bad',
    });
  });

  it("an adapter's step path (the titles of the step it failed in) is kept, colours stripped; anything else called step is not", () => {
    const inStep = { message: 'declined', step: ['pay', '\u001b[2mconfirm\u001b[22m payment'] };
    expect(normalizeError(inStep, paths)).toMatchObject({
      message: 'declined',
      step: ['pay', 'confirm payment'],
    });
    expect(normalizeError({ message: 'x', step: 3 }, paths).step).toBeUndefined();
    expect(normalizeError({ message: 'x', step: [] }, paths).step).toBeUndefined();
    expect(normalizeError({ message: 'x', step: ['a', 2] }, paths).step).toBeUndefined();
    const deep = normalizeError({ message: 'x', step: Array.from({ length: 40 }, (_, i) => `s${i}`) }, paths);
    expect(deep.step).toHaveLength(16);
    expect(deep.step?.[0]).toBe('s0');
  });
  it('jest: failureMessages text plus matcherResult -> values, summary, the test file as first frame', () => {
    const message = 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12';
    const error = normalizeError(
      {
        stack: `\u001b[31mError: ${message}\u001b[39m\n${jestFrames}`,
        matcherResult: { expected: 11, actual: 12 },
      },
      paths,
    );
    expect(error).toMatchObject({ message, type: 'Error', expected: '11', actual: '12' });
    expect(error.summary).toBe('expected 11, received 12');
    expect(error.stack).toBe('    at Object.toBe (math.test.js:4:42)');
    expect(error.fullStack?.split('\n')).toHaveLength(5);
    expect(error.fullStack).toContain('jest-circus');
  });

  it('jest without matcher values: read from what the matcher printed', () => {
    const gt = normalizeError(
      {
        stack: `Error: expect(received).toBeGreaterThan(expected)\n\nExpected: > 5\nReceived:   3\n${jestFrames}`,
        matcherResult: { message: 'x', pass: false },
      },
      paths,
    );
    expect(gt).toMatchObject({ expected: '> 5', actual: '3', summary: 'expected > 5, received 3' });
    // node:assert as jest renders it (failureDetails carry only the message)
    const assertion = normalizeError(
      `assert.strictEqual(received, expected)\n\nExpected value to strictly be equal to:\n  35\nReceived:\n  36\n${jestFrames}`,
      paths,
    );
    expect(assertion).toMatchObject({ expected: '35', actual: '36', summary: 'expected 35, received 36' });
    expect(assertion.stack).toBe('    at Object.toBe (math.test.js:4:42)');
    // One side only is no pair of values.
    const not = normalizeError('Error: expect(received).not.toBe(expected)\n\nExpected: not 3', paths);
    expect(not.expected).toBeUndefined();
    expect(not.summary).toBe('not.toBe: expected not 3');
  });

  it('vitest: serialized error with expected, actual and its diff (colours stripped)', () => {
    const error = normalizeError(
      {
        name: 'AssertionError',
        message: 'expected 120 to be 108 // Object.is equality',
        stack: `AssertionError: expected 120 to be 108 // Object.is equality\n    at /home/u/proj/math.test.js:5:44\n    at file:///home/u/proj/node_modules/.pnpm/@vitest+runner@4.1.12/node_modules/@vitest/runner/dist/chunk-artifact.js:302:11`,
        expected: '108',
        actual: '120',
        diff: '\u001b[32m- Expected\u001b[39m\n\u001b[31m+ Received\u001b[39m\n\n\u001b[32m- 108\u001b[39m\n\u001b[31m+ 120\u001b[39m',
      },
      paths,
    );
    expect(error).toMatchObject({
      type: 'AssertionError',
      expected: '108',
      actual: '120',
      diff: '- Expected\n+ Received\n\n- 108\n+ 120',
      summary: 'expected 120 to be 108',
      stack: '    at math.test.js:5:44',
    });
  });

  it('playwright: the values its matcher printed, from the message alone', () => {
    const error = normalizeError(
      {
        name: 'Error',
        message: 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 108\nReceived: 120',
        stack:
          'Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 108\nReceived: 120\n    at /home/u/proj/math.spec.ts:5:44',
      },
      paths,
    );
    expect(error).toMatchObject({
      expected: '108',
      actual: '120',
      summary: 'expected 108, received 120',
      stack: '    at math.spec.ts:5:44',
    });
    expect(error.fullStack).toBeUndefined();
    const assertion = normalizeError(
      {
        name: 'AssertionError',
        message: 'Expected values to be strictly equal:\n\n36 !== 35\n',
        stack:
          'AssertionError: Expected values to be strictly equal:\n\n36 !== 35\n\n    at /home/u/proj/math.spec.ts:9:38',
      },
      paths,
    );
    expect(assertion).toMatchObject({
      expected: '35',
      actual: '36',
      summary: '36 !== 35',
      stack: '    at math.spec.ts:9:38',
    });
  });

  it('chai’s AssertionError, thrown for real', () => {
    const error = thrownBy(() => chai.expect(120).to.equal(108));
    expect(error).toMatchObject({
      type: 'AssertionError',
      message: 'expected 120 to equal 108',
      expected: '108',
      actual: '120',
      summary: 'expected 120 to equal 108',
    });
    expect(error.stack?.split('\n')[0]).toMatch(/^ {4}at .*\btest\/errors\.test\.ts:\d+:\d+\)?$/);
    expect(error.fullStack).toMatch(/node_modules/);
    expect(error.stack).not.toMatch(/node_modules|node:/);
  });

  it('node:assert’s AssertionError, thrown for real', () => {
    const strict = thrownBy(() => assert.strictEqual(36, 35));
    expect(strict).toMatchObject({
      type: 'AssertionError',
      code: 'ERR_ASSERTION',
      expected: '35',
      actual: '36',
      summary: '36 !== 35',
    });
    expect(strict.stack?.split('\n')[0]).toMatch(/\btest\/errors\.test\.ts:\d+:\d+\)?$/);
    expect(strict.stack).not.toContain('strictly equal');
    const deep = thrownBy(() => assert.deepStrictEqual({ a: 1 }, { a: 2 }));
    expect(deep.summary).toBe('expected { a: 2 }, received { a: 1 }');
  });

  it('bounds values and stacks; the stack of a preformatted string loses its message', () => {
    const frames = Array.from({ length: 500 }, (_, i) => `    at fn${i} (/home/u/proj/src/a.js:${i}:1)`).join(
      '\n',
    );
    const text = `\u001b[31mError: expect(received).toBe(expected)\n\nExpected: 0\nReceived: Infinity\u001b[39m\n${frames}`;
    const error = normalizeError(text, paths);
    expect(error.message).toBe('expect(received).toBe(expected)\n\nExpected: 0\nReceived: Infinity');
    expect(error.type).toBe('Error');
    expect(error.stack!.startsWith('    at fn0 (src/a.js:0:1)')).toBe(true);
    expect(error.stack!.length).toBeLessThan(8 * 1024 + 100);
    expect(error.stack).toContain('[truncated');
    const big = normalizeError({ message: 'm', expected: 'x'.repeat(100_000), actual: 'y' }, paths);
    expect(big.expected!.length).toBeLessThan(5000);
    expect(big.summary!.length).toBeLessThanOrEqual(300);
  });

  it('never throws on hostile values', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        has() {
          throw new Error('trap');
        },
      },
    );
    expect(normalizeError(hostile, paths).message).toBeTypeOf('string');
    expect(normalizeError(undefined, paths)).toEqual({ message: 'undefined', summary: 'undefined' });
    expect(normalizeError(42, paths)).toEqual({ message: '42', summary: '42' });
  });
});

describe('trimStack', () => {
  it('drops node_modules, node internals, frames without a source and the runners’ own build folders', () => {
    const internal = [
      'at run (/home/u/proj/node_modules/mocha/lib/runner.js:1:1)',
      'at C:\\proj\\node_modules\\jest-circus\\build\\run.js:1:1',
      'at file:///home/u/proj/node_modules/.pnpm/@vitest+runner@4.1.12/node_modules/@vitest/runner/dist/index.js:1:1',
      'at process.processImmediate (node:internal/timers:483:21)',
      'at node:internal/process/task_queues:95:5',
      'at listOnTimeout (internal/timers.js:554:17)',
      'at new Promise (<anonymous>)',
      'at Generator.next (<anonymous>)',
      'at async Promise.all (index 0)',
      'at Array.forEach (native)',
      'at _callCircusTest (/src/jest/packages/jest-circus/build/run.js:316:40)',
      'at Runner.runTests (/opt/mocha/lib/runner.js:1:1)',
      'at /opt/playwright-core/lib/server/x.js:1:1',
    ];
    for (const frame of internal) expect(isInternalFrame(`    ${frame}`), frame).toBe(true);
    const user = [
      'at Object.toBe (math.test.js:4:42)',
      'at math.test.js:5:44',
      'at async Context.<anonymous> (test/math.test.mjs:6:36)',
      'at add (/home/u/other-repo/src/math.js:1:1)',
      'at helper (src/expect/build-helpers.js:1:1)',
      'at fn (/home/u/my (copy)/a.test.js:1:1)',
      'at eval (eval at <anonymous> (src/a.js:1:1), <anonymous>:1:1)',
      'myFn@http://localhost:5173/src/a.test.ts:3:7',
    ];
    for (const frame of user) expect(isInternalFrame(`    ${frame}`), frame).toBe(false);
  });

  it('keeps every frame when none is the user’s, and gives nothing for a stack without frames', () => {
    const timeout =
      'Error: Timeout of 50ms exceeded.\n    at listOnTimeout (node:internal/timers:581:17)\n    at process.processTimers (node:internal/timers:519:7)';
    expect(trimStack(timeout, 'Timeout of 50ms exceeded.')).toEqual({
      stack:
        '    at listOnTimeout (node:internal/timers:581:17)\n    at process.processTimers (node:internal/timers:519:7)',
    });
    expect(trimStack('Error: no frames', 'no frames')).toEqual({});
  });

  it('frame-like lines inside the message are the message’s, not the stack’s', () => {
    const message =
      'expect(received).toThrow(expected)\n\nReceived message: "boom"\n\n      at thrower (src/x.js:1:1)';
    const stack = `Error: ${message}\n    at Object.toThrow (x.test.js:3:9)\n    at f (/p/node_modules/expect/build/index.js:1:1)`;
    expect(trimStack(stack, message)).toEqual({
      stack: '    at Object.toThrow (x.test.js:3:9)',
      fullStack:
        '    at Object.toThrow (x.test.js:3:9)\n    at f (/p/node_modules/expect/build/index.js:1:1)',
    });
  });
});
