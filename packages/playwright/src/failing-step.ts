/**
 * The `test.step` each error of an attempt failed in, as Playwright names it.
 *
 * Playwright's reporters get an attempt's errors (`result.errors`) and, apart from them, its tree of steps
 * (`result.steps`), where every step an error went through carries a copy of it (`step.error`: a separate
 * serialization, never the same object). Its list/line reporters name the failing step in a failure's
 * header (`… › checkout flow › pay › confirm payment`: base.js `formatTestHeader`) by walking down from the
 * top while exactly one step at a level has an error and that step is a `test.step`; expect, hook and
 * fixture steps end the walk and are never named, so a `test.step` inside a hook or fixture is not either.
 *
 * The stream does the same walk per error, so that a test failing in several steps (soft assertions) says
 * which step each error came from: an error's step is the deepest step carrying an equal error (the
 * assertion itself, or in 1.40 the `test.step` around a hard assertion, whose own step's copy differs),
 * and its name is the titles of the unbroken run of `test.step`s from the top down to it.
 */
import type { TestError, TestResult, TestStep } from '@playwright/test/reporter';

/** For each of `result.errors`, in order: the titles of the step it failed in, outermost first, if any. */
export function failingSteps(result: Pick<TestResult, 'errors' | 'steps'>): (string[] | undefined)[] {
  // A step that stood for one error is not taken again: two identical errors (the same soft assertion in
  // two steps, in a loop) go to their own steps, in the order they happened.
  const taken = new Set<TestStep>();
  return result.errors.map((error) => {
    const site = deepestCarrying(result.steps, error, taken);
    if (!site) return undefined;
    for (let step: TestStep | undefined = site; step; step = step.parent) {
      if (step.error && sameError(step.error, error)) taken.add(step);
    }
    const titles = userStepTitles(site);
    return titles.length > 0 ? titles : undefined;
  });
}

/** The first (in the order steps began) deepest step not yet taken whose error equals `error`. */
function deepestCarrying(steps: TestStep[], error: TestError, taken: Set<TestStep>): TestStep | undefined {
  for (const step of steps) {
    // Children first: the step around an assertion carries the assertion's error too.
    const inner = deepestCarrying(step.steps ?? [], error, taken);
    if (inner) return inner;
    if (step.error && !taken.has(step) && sameError(step.error, error)) return step;
  }
  return undefined;
}

/**
 * The titles of the `test.step`s from the top down to `site`, stopping at the first step of another
 * category (Playwright's header names no step past an expect, hook or fixture step).
 */
function userStepTitles(site: TestStep): string[] {
  const chain: TestStep[] = [];
  for (let step: TestStep | undefined = site; step; step = step.parent) chain.unshift(step);
  const titles: string[] = [];
  for (const step of chain) {
    if (step.category !== 'test.step') break;
    titles.push(step.title);
  }
  return titles;
}

/** Two serializations of one error: the same text, stack and place (soft assertions of one message differ by place). */
function sameError(a: TestError, b: TestError): boolean {
  return (
    a.message === b.message &&
    a.value === b.value &&
    a.stack === b.stack &&
    a.location?.file === b.location?.file &&
    a.location?.line === b.location?.line &&
    a.location?.column === b.location?.column
  );
}
