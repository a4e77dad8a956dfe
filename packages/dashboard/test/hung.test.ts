/** The "Hung tests" panel's pure view: hung_test reports, fed with run state from a real RunStateStore. */
import { type AnyEventEnvelope, RunStateStore } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { hungReportOf, hungTestsOf } from '../src/app/hung.js';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
let seq = 0;
const ev = (type: string, data: Record<string, unknown>, ms: number): AnyEventEnvelope =>
  ({
    type,
    seq: ++seq,
    runId: 'r1',
    timestamp: new Date(T0 + ms).toISOString(),
    data: { framework: 'mocha', ...data },
  }) as AnyEventEnvelope;

const test = {
  id: 't_wait',
  titlePath: ['queue', 'waits'],
  testName: 'waits',
  suite: 'queue',
  file: 'q.test.js',
};
const hungEvent = ev(
  'performance.bottleneck',
  {
    type: 'hung_test',
    testName: 'waits',
    id: 't_wait',
    titlePath: ['queue', 'waits'],
    file: 'q.test.js',
    location: { file: 'q.test.js', line: 9 },
    duration: 61_000,
    elapsed: 61_000,
    threshold: 60_000,
    severity: 'high',
    suggestions: [],
  },
  61_000,
);

describe('hung tests', () => {
  it('lists a reported test while it has not ended, its time growing; drops it once it ends', () => {
    const store = new RunStateStore();
    store.apply(ev('test.started', { totalTests: 2, testFiles: ['q.test.js'] }, 0));
    store.apply(
      ev(
        'test.progress',
        { ...test, status: 'running', progress: 0, completed: 0, total: 2, duration: 1 },
        1,
      ),
    );
    const report = hungReportOf(hungEvent);
    expect(report).toMatchObject({ title: 'queue › waits', location: 'q.test.js:9', elapsedMs: 61_000 });
    expect(
      hungReportOf(ev('performance.bottleneck', { type: 'slow_test', testName: 'x' }, 2)),
    ).toBeUndefined();

    const later = hungTestsOf(store.snapshot(), [report!], T0 + 71_000);
    expect(later).toEqual([
      expect.objectContaining({
        title: 'queue › waits',
        elapsedMs: 71_000,
        runEnded: false,
        location: 'q.test.js:9',
      }),
    ]);
    store.apply(ev('test.result', { ...test, status: 'failed', duration: 72_000, attempt: 1 }, 72_000));
    expect(hungTestsOf(store.snapshot(), [report!], T0 + 73_000)).toEqual([]);
  });

  it('keeps a test that never ended after its run did (interrupted), its time counted to the run’s end', () => {
    const store = new RunStateStore();
    store.apply(ev('test.started', { totalTests: 1, testFiles: ['q.test.js'] }, 0));
    const report = hungReportOf(hungEvent)!;
    store.apply(
      ev(
        'test.completed',
        {
          summary: { total: 0, passed: 0, failed: 0, skipped: 0, duration: 90_000, success: false },
          interrupted: true,
          interruptedBy: 'SIGTERM',
        },
        90_000,
      ),
    );
    // Reported at 61 s, still running when the run was interrupted at 90 s: it ran 90 s, not 61 (the
    // report's) nor 100 (now).
    expect(hungTestsOf(store.snapshot(), [report], T0 + 100_000)).toEqual([
      expect.objectContaining({ elapsedMs: 90_000, runEnded: true }),
    ]);
  });

  it('stops the time of a hung test at its run’s last event while the page is not live, and where the client ended a run lost with the owner', () => {
    const store = new RunStateStore();
    store.apply(ev('test.started', { totalTests: 1, testFiles: ['q.test.js'] }, 0));
    store.apply(
      ev(
        'test.progress',
        { ...test, status: 'running', progress: 0, completed: 0, total: 1, duration: 1 },
        1,
      ),
    );
    const report = hungReportOf(hungEvent)!;
    const heardAt = T0 + 70_000;
    // The endpoint is gone: no news since 70 s, whatever the clock says now.
    expect(hungTestsOf(store.snapshot(), [report], T0 + 500_000, () => ({ live: false, heardAt }))).toEqual([
      expect.objectContaining({ elapsedMs: 70_000, runEnded: false }),
    ]);
    // A new owner took over without the run, the page reconnected at 500 s: the client completed it
    // (owner_lost) as ended when it lost the old owner, at 80 s. The hung test ran until then.
    store.interrupt('r1', 'owner_lost', new Date(T0 + 80_000));
    expect(hungTestsOf(store.snapshot(), [report], T0 + 600_000, () => ({ live: true, heardAt }))).toEqual([
      expect.objectContaining({ elapsedMs: 80_000, runEnded: true }),
    ]);
  });
});
