/**
 * The data of the events about what is live in a run beyond results: a test's steps (test.step) and the
 * interruption test.completed reports. Built here so core.ts keeps to the call log.
 */
import type { RecordedStep } from './calls.js';
import type { PathRelativizer } from './ids.js';

/** test.step's data: the test's own fields (`test`, from Core.testData), then the step's. */
export function stepData(
  test: Record<string, unknown>,
  step: RecordedStep,
  paths: PathRelativizer,
): Record<string, unknown> {
  const data = test;
  data.attempt = positive(step.attempt);
  data.title = String(step.title);
  data.category = String(step.category);
  data.stepPath = Array.isArray(step.parents) ? step.parents.map(String) : [];
  data.depth = (data.stepPath as string[]).length;
  if (step.file) {
    const location: { file: string; line?: number; column?: number } = { file: paths.file(step.file) };
    if (typeof step.line === 'number') location.line = step.line;
    if (typeof step.column === 'number') location.column = step.column;
    data.stepLocation = location;
  }
  if (typeof step.startedAt === 'number') data.startedAt = step.startedAt;
  data.duration = typeof step.duration === 'number' && step.duration > 0 ? step.duration : 0;
  if (step.error) data.error = step.error;
  return data;
}

/** test.completed's fields for an interrupted run: by what (a signal, when one) and the running tests. */
export function interruptedData(interruption: {
  by: string | undefined;
  tests: Record<string, unknown>[];
}): Record<string, unknown> {
  return {
    interrupted: true,
    ...(interruption.by ? { interruptedBy: interruption.by } : {}),
    runningTests: interruption.tests,
  };
}

function positive(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : 1;
}
