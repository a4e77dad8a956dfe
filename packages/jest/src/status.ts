import type { TestStatus } from '@testwire/reporter-core';

/** Every status jest-circus gives an assertion result (`AssertionResult['status']`, jest 29 and 30). */
export type JestStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled' | 'focused';

/**
 * Jest status -> testwire status. Typed as a Record so a status jest adds fails to compile here.
 * `pending` is `test.skip`/`xit`; `disabled` a test filtered out; `focused` a test reported under `.only`.
 */
export const JEST_STATUS: Record<JestStatus, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  pending: 'skipped',
  todo: 'todo',
  disabled: 'skipped',
  focused: 'passed',
};

export function mapJestStatus(status: string): TestStatus {
  return Object.hasOwn(JEST_STATUS, status) ? JEST_STATUS[status as JestStatus] : 'failed';
}
