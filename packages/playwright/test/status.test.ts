import { describe, expect, it } from 'vitest';
import { attemptStatus, STATUS, willRetry } from '../src/status.js';
import { begin, end, suite, testCase, tree } from './fakes.js';

describe('STATUS', () => {
  it('maps every Playwright status', () => {
    expect(STATUS).toEqual({
      passed: 'passed',
      failed: 'failed',
      timedOut: 'failed',
      skipped: 'skipped',
      interrupted: 'skipped',
    });
  });
});

describe('attemptStatus', () => {
  it('uses the table for tests expected to pass', () => {
    expect(attemptStatus({ expectedStatus: 'passed' }, { status: 'passed' })).toBe('passed');
    expect(attemptStatus({ expectedStatus: 'passed' }, { status: 'failed' })).toBe('failed');
    expect(attemptStatus({ expectedStatus: 'passed' }, { status: 'timedOut' })).toBe('failed');
    expect(attemptStatus({ expectedStatus: 'skipped' }, { status: 'skipped' })).toBe('skipped');
    expect(attemptStatus({ expectedStatus: 'passed' }, { status: 'interrupted' })).toBe('skipped');
  });

  it('judges test.fail() tests as Playwright does: failing is passing', () => {
    expect(attemptStatus({ expectedStatus: 'failed' }, { status: 'failed' })).toBe('passed');
    expect(attemptStatus({ expectedStatus: 'failed' }, { status: 'passed' })).toBe('failed');
    expect(attemptStatus({ expectedStatus: 'failed' }, { status: 'timedOut' })).toBe('failed');
  });
});

describe('willRetry', () => {
  it('is true for a failing attempt while retries remain', () => {
    const { group } = tree();
    const test = testCase(group, 't', { retries: 2 });
    expect(willRetry(test, end(begin(test), 'failed'))).toBe(true);
    expect(willRetry(test, end(begin(test), 'timedOut'))).toBe(true);
    expect(willRetry(test, end(begin(test), 'failed'))).toBe(false);
  });

  it('is false for passing, skipped and interrupted attempts', () => {
    const { group } = tree();
    const test = testCase(group, 't', { retries: 2 });
    expect(willRetry(test, end(begin(test), 'passed'))).toBe(false);
    const skipped = testCase(group, 's', { retries: 2, expectedStatus: 'skipped' });
    expect(willRetry(skipped, end(begin(skipped), 'skipped'))).toBe(false);
    const interrupted = testCase(group, 'i', { retries: 2 });
    expect(willRetry(interrupted, end(begin(interrupted), 'interrupted'))).toBe(false);
  });

  it('is true for an unexpected pass of a test.fail() test', () => {
    const { group } = tree();
    const test = testCase(group, 't', { retries: 1, expectedStatus: 'failed' });
    expect(willRetry(test, end(begin(test), 'passed'))).toBe(true);
  });

  it("is true for a serial group's test that did not run because another failed in this attempt, while retries remain", () => {
    const { group } = tree();
    (group as unknown as { _parallelMode: string })._parallelMode = 'serial';
    const inner = suite('describe', 'inner', group);
    const first = testCase(group, 'first', { retries: 1 });
    const failing = testCase(inner, 'failing', { retries: 1 });
    const after = testCase(group, 'after', { retries: 1 });
    expect(willRetry(first, end(begin(first), 'passed'))).toBe(false);
    expect(willRetry(failing, end(begin(failing), 'failed'))).toBe(true);
    // Playwright skips the rest of the group; the group runs again, `after` with it.
    expect(willRetry(after, end(begin(after), 'skipped'))).toBe(true);
    // The retry: the group passes; a skip now is final (no retries left).
    end(begin(first), 'passed');
    end(begin(failing), 'passed');
    expect(willRetry(after, end(begin(after), 'skipped'))).toBe(false);
  });

  it('is false for a skipped test of a serial group where nothing failed, and of a group that is not serial', () => {
    const serial = tree().group;
    (serial as unknown as { _parallelMode: string })._parallelMode = 'serial';
    const skipped = testCase(serial, 'skipped', { retries: 1 });
    end(begin(testCase(serial, 'passes', { retries: 1 })), 'passed');
    expect(willRetry(skipped, end(begin(skipped), 'skipped'))).toBe(false);
    const { group } = tree();
    end(begin(testCase(group, 'fails', { retries: 1 })), 'failed');
    const other = testCase(group, 'other', { retries: 1 });
    expect(willRetry(other, end(begin(other), 'skipped'))).toBe(false);
  });

  it('is false without retries', () => {
    const { group } = tree();
    const test = testCase(group, 't');
    expect(willRetry(test, end(begin(test), 'failed'))).toBe(false);
  });
});
