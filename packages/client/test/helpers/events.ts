/** Valid events for publishing in tests. */
import type { PublishedEvent } from '@testwire/protocol';

export function outputEvent(runId: string, i: number, padding = 0): PublishedEvent {
  return {
    type: 'test.output',
    runId,
    data: {
      framework: 'vitest',
      output: `line ${i}${'.'.repeat(padding)}`,
      outputType: 'stdout',
      stream: 'stdout',
    },
  } as PublishedEvent;
}

export function startedEvent(runId: string, totalTests: number): PublishedEvent {
  return {
    type: 'test.started',
    runId,
    data: { framework: 'vitest', totalTests, testFiles: ['a.test.ts'] },
  } as PublishedEvent;
}

export function resultEvent(
  runId: string,
  i: number,
  status: 'passed' | 'failed' | 'skipped' = 'passed',
): PublishedEvent {
  return {
    type: 'test.result',
    runId,
    data: {
      framework: 'vitest',
      id: `t${i}`,
      titlePath: ['suite', `test ${i}`],
      testName: `test ${i}`,
      suite: 'suite',
      status,
      duration: 1,
      file: 'a.test.ts',
      attempt: 1,
      ...(status === 'failed' ? { error: { message: `boom ${i}` } } : {}),
    },
  } as PublishedEvent;
}

export function completedEvent(runId: string, passed: number, failed: number): PublishedEvent {
  return {
    type: 'test.completed',
    runId,
    data: {
      framework: 'vitest',
      summary: { total: passed + failed, passed, failed, skipped: 0, duration: 5, success: failed === 0 },
    },
  } as PublishedEvent;
}

/** Resolves when `check()` is true; polls on a timer, bounded. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
