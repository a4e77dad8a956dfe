/**
 * A joined process that dies without a word (SIGKILL, a crash, the OOM killer): its socket drops with runs
 * still open, and nobody would ever complete them. The owner waits a grace period — a publisher that lost its
 * connection but lives reconnects with the same `publisherId` well within it — then completes each of those
 * runs on the publisher's behalf: a `test.completed` with `interrupted: true`, `interruptedBy:
 * 'publisher_lost'`, the counts so far and the tests it last announced as running.
 *
 *   publisher socket closes (no reconnect within PUBLISHER_LOST_GRACE_MS)
 *     └─> for each run it published that is still running ─> owner.publish(test.completed interrupted)
 */
import { type PublishedEvent, type RunSnapshot, summaryOfCounts } from '@testwire/protocol';

/** How long a publisher has to come back before its open runs are completed as interrupted. */
export const PUBLISHER_LOST_GRACE_MS = 3000;

/** The test.completed the owner publishes for `run` of a publisher that is gone. */
export function lostPublisherCompletion(run: RunSnapshot, now: number): PublishedEvent {
  const started = run.startedAt ? Date.parse(run.startedAt) : Number.NaN;
  const runningTests = run.tests
    .filter((test) => test.status === 'running')
    .map((test) => ({
      id: test.id,
      testName: test.testName,
      titlePath: test.titlePath,
      file: test.file,
      ...(test.line !== undefined ? { location: { file: test.file, line: test.line } } : {}),
      ...(test.project !== undefined ? { project: test.project } : {}),
      attempt: Math.max(1, test.attempt),
    }));
  return {
    type: 'test.completed',
    runId: run.runId,
    timestamp: new Date(now).toISOString(),
    data: {
      framework: run.framework,
      ...(run.project !== undefined ? { project: run.project } : {}),
      summary: summaryOfCounts(run.counts, Number.isFinite(started) ? Math.max(0, now - started) : 0, false),
      errors: [
        {
          message:
            'The process publishing this run disconnected without completing it (killed or crashed); the endpoint completed the run as interrupted',
          code: 'PUBLISHER_LOST',
        },
      ],
      interrupted: true,
      interruptedBy: 'publisher_lost',
      runningTests,
    },
  } as PublishedEvent;
}
