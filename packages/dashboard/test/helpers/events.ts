/** A small, valid run to publish: the events a reporter sends, with the fields the page shows. */
import type { PublishedEvent } from '@testwire/protocol';

const FILE = 'src/math.test.ts';

export function started(runId: string, project: string, totalTests: number): PublishedEvent {
  return {
    type: 'test.started',
    runId,
    data: {
      framework: 'vitest',
      project,
      totalTests,
      totalKnown: true,
      testFiles: [FILE],
      run: { runId, framework: 'vitest', frameworkVersion: '3.2.4', project, startedAt: Date.now() },
    },
  } as PublishedEvent;
}

export function running(
  runId: string,
  project: string,
  testName: string,
  completed: number,
  total: number,
): PublishedEvent {
  return {
    type: 'test.progress',
    runId,
    data: {
      framework: 'vitest',
      project,
      id: `${runId}:${testName}`,
      titlePath: ['math', testName],
      testName,
      suite: 'math',
      file: FILE,
      status: 'running',
      progress: completed / total,
      completed,
      total,
      duration: 10,
    },
  } as PublishedEvent;
}

export function result(
  runId: string,
  project: string,
  testName: string,
  status: 'passed' | 'failed' | 'skipped',
  duration: number,
  error?: { message: string; stack?: string },
): PublishedEvent {
  return {
    type: 'test.result',
    runId,
    data: {
      framework: 'vitest',
      project,
      id: `${runId}:${testName}`,
      titlePath: ['math', testName],
      testName,
      suite: 'math',
      status,
      duration,
      file: FILE,
      line: 3,
      attempt: 1,
      ...(error ? { error } : {}),
    },
  } as PublishedEvent;
}

export function failed(
  runId: string,
  project: string,
  testName: string,
  error: { message: string; stack?: string },
): PublishedEvent {
  return {
    type: 'test.failed',
    runId,
    data: {
      framework: 'vitest',
      project,
      id: `${runId}:${testName}`,
      titlePath: ['math', testName],
      testName,
      suite: 'math',
      status: 'failed',
      duration: 5,
      file: FILE,
      line: 3,
      scope: 'test',
      error,
    },
  } as PublishedEvent;
}

export function output(runId: string, project: string, text: string): PublishedEvent {
  return {
    type: 'test.output',
    runId,
    data: { framework: 'vitest', project, output: text, outputType: 'stdout', stream: 'log' },
  } as PublishedEvent;
}

export function completed(
  runId: string,
  project: string,
  counts: { passed: number; failed: number; skipped: number },
  duration: number,
): PublishedEvent {
  const total = counts.passed + counts.failed + counts.skipped;
  return {
    type: 'test.completed',
    runId,
    data: {
      framework: 'vitest',
      project,
      summary: { total, ...counts, duration, success: counts.failed === 0 },
    },
  } as PublishedEvent;
}
