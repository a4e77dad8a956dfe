/**
 * failingSteps on step trees of the shape Playwright hands reporters (each step an error went through
 * carries its own copy of it). failing-steps.e2e.test.ts runs the same cases on real Playwright 1.65 and 1.40.
 */
import type { TestError, TestResult, TestStep } from '@playwright/test/reporter';
import { describe, expect, it } from 'vitest';
import { failingSteps } from '../src/failing-step.js';

type Tree = { title: string; category: string; error?: TestError; steps?: Tree[] };

/** A result whose steps are `trees` (parents linked), failed with `errors`. */
function result(errors: TestError[], trees: Tree[]): Pick<TestResult, 'errors' | 'steps'> {
  const build = (tree: Tree, parent: TestStep | undefined): TestStep => {
    const step = { title: tree.title, category: tree.category, error: tree.error, parent } as TestStep;
    step.steps = (tree.steps ?? []).map((child) => build(child, step));
    return step;
  };
  return { errors, steps: trees.map((tree) => build(tree, undefined)) };
}

/** A copy of one error, as each serialization of it is. */
const error = (message: string, line: number): TestError => ({
  message,
  stack: `Error: ${message}\n    at /t/a.spec.ts:${line}:5`,
  location: { file: '/t/a.spec.ts', line, column: 5 },
});

describe('failingSteps', () => {
  it("1.40: a hard assertion's own step holds a different copy: the test.step around it is named", () => {
    const failure = error('expected 1', 7);
    const steps = failingSteps(
      result(
        [failure],
        [
          { title: 'Before Hooks', category: 'hook' },
          {
            title: 'pay',
            category: 'test.step',
            error: { ...failure },
            steps: [
              {
                title: 'confirm',
                category: 'test.step',
                error: { ...failure },
                steps: [{ title: 'expect.toBe', category: 'expect', error: { ...failure, stack: 'other' } }],
              },
            ],
          },
        ],
      ),
    );
    expect(steps).toEqual([['pay', 'confirm']]);
  });

  it('names the test.steps down to the first step of another kind, and none under a hook', () => {
    const inPoll = error('poll', 4);
    const inHook = error('hook', 9);
    const steps = failingSteps(
      result(
        [inPoll, inHook],
        [
          {
            title: 'wait',
            category: 'test.step',
            error: { ...inPoll },
            steps: [
              {
                title: 'expect.toPass',
                category: 'expect',
                error: { ...inPoll },
                steps: [{ title: 'inside toPass', category: 'test.step', error: { ...inPoll } }],
              },
            ],
          },
          {
            title: 'After Hooks',
            category: 'hook',
            error: { ...inHook },
            steps: [{ title: 'log out', category: 'test.step', error: { ...inHook } }],
          },
        ],
      ),
    );
    expect(steps).toEqual([['wait'], undefined]);
  });

  it('identical errors go to their own steps in order; an error no step carries names none', () => {
    const same = error('same', 3);
    const steps = failingSteps(
      result(
        [same, { ...same }, error('timeout', 0)],
        [
          {
            title: 'a',
            category: 'test.step',
            error: { ...same },
            steps: [{ title: 'e', category: 'expect', error: { ...same } }],
          },
          {
            title: 'b',
            category: 'test.step',
            error: { ...same },
            steps: [{ title: 'e', category: 'expect', error: { ...same } }],
          },
          { title: 'slow', category: 'test.step' },
        ],
      ),
    );
    expect(steps).toEqual([['a'], ['b'], undefined]);
  });
});
