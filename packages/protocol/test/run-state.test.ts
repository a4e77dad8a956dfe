import { describe, expect, it } from 'vitest';
import {
  type EventDataMap,
  type EventEnvelope,
  type EventType,
  OWNER_LOST,
  RunStateStore,
  type TestResultData,
  validateRunSnapshot,
} from '../src/index.js';

/** Builds envelopes with increasing seq, like a broadcaster would. */
function stream(runId = 'r1') {
  let seq = 0;
  const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 10, 30, s)).toISOString();
  const make = <T extends EventType>(type: T, data: EventDataMap[T], run = runId): EventEnvelope<T> => {
    seq++;
    return { type, timestamp: at(seq), seq, runId: run, data };
  };
  return {
    make,
    started: (totalTests = 3, run = runId) =>
      make(
        'test.started',
        { framework: 'vitest', project: 'web', totalTests, testFiles: ['a.test.ts', 'b.test.ts'] },
        run,
      ),
    running: (id: string) =>
      make('test.progress', {
        framework: 'vitest',
        id,
        testName: id,
        file: 'a.test.ts',
        status: 'running',
        progress: 0,
        completed: 0,
        total: 3,
        duration: 5,
      }),
    result: (
      id: string,
      status: TestResultData['status'],
      extra: Partial<TestResultData> = {},
      run = runId,
    ) =>
      make(
        'test.result',
        {
          framework: 'vitest',
          project: 'web',
          id,
          titlePath: ['suite', id],
          testName: id,
          suite: 'suite',
          status,
          duration: 10,
          file: 'a.test.ts',
          attempt: 1,
          ...extra,
        },
        run,
      ),
    completed: (success = true, extra: Partial<EventDataMap['test.completed']> = {}, run = runId) =>
      make(
        'test.completed',
        {
          framework: 'vitest',
          summary: { total: 3, passed: 2, failed: 1, skipped: 0, duration: 100, success },
          ...extra,
        },
        run,
      ),
  };
}

describe('RunStateStore', () => {
  it('counts results per status', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(s.result('t1', 'passed'));
    store.apply(s.result('t2', 'failed', { error: { message: 'boom' } }));
    store.apply(s.result('t3', 'skipped'));
    store.apply(s.result('t4', 'todo'));
    const run = store.get('r1')!;
    expect(run.counts).toEqual({
      passed: 1,
      failed: 1,
      skipped: 1,
      todo: 1,
      flaky: 0,
      completed: 4,
      retrying: 0,
    });
    expect(run.framework).toBe('vitest');
    expect(run.project).toBe('web');
    expect(run.status).toBe('running');
    expect(run.totalTests).toBe(3);
    expect(run.totalKnown).toBe(true);
    expect(run.testFiles).toEqual(['a.test.ts', 'b.test.ts']);
    expect(run.tests.map((t) => [t.id, t.status])).toEqual([
      ['t1', 'passed'],
      ['t2', 'failed'],
      ['t3', 'skipped'],
      ['t4', 'todo'],
    ]);
    expect(run.tests[1].error).toEqual({ message: 'boom' });
    expect(run.lastSeq).toBe(5);
  });

  it('tracks the running test from test.progress without counting it', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    const run = store.apply(s.running('t1'))!;
    expect(run.current).toEqual({ id: 't1', testName: 't1', file: 'a.test.ts' });
    expect(run.tests).toMatchObject([{ id: 't1', status: 'running', attempt: 1 }]);
    expect(run.counts.completed).toBe(0);
    const after = store.apply(s.result('t1', 'passed'))!;
    expect(after.counts.completed).toBe(1);
    expect(after.tests).toHaveLength(1);
  });

  it('counts a flaky test once, as passed and flaky', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(s.result('t1', 'failed', { attempt: 1, willRetry: true, error: { message: 'first' } }));
    expect(store.get('r1')!.counts).toEqual({
      passed: 0,
      failed: 0,
      skipped: 0,
      todo: 0,
      flaky: 0,
      completed: 0,
      retrying: 1,
    });
    expect(store.get('r1')!.tests[0]).toMatchObject({ status: 'failed', willRetry: true, attempt: 1 });
    store.apply(s.result('t1', 'passed', { attempt: 2, flaky: true }));
    const run = store.get('r1')!;
    expect(run.counts).toEqual({
      passed: 1,
      failed: 0,
      skipped: 0,
      todo: 0,
      flaky: 1,
      completed: 1,
      retrying: 0,
    });
    expect(run.tests).toHaveLength(1);
    expect(run.tests[0]).toMatchObject({ status: 'passed', attempt: 2, flaky: true });
  });

  it('infers flaky when a retry passes after a failure the reporter did not flag', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'failed', { attempt: 1, willRetry: true }));
    store.apply(s.result('t1', 'passed', { attempt: 2 }));
    expect(store.get('r1')!.counts).toMatchObject({ passed: 1, flaky: 1, completed: 1 });
  });

  it('counts a test that failed every attempt once, as failed', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'failed', { attempt: 1, willRetry: true }));
    store.apply(s.result('t1', 'failed', { attempt: 2, willRetry: true }));
    store.apply(s.result('t1', 'failed', { attempt: 3 }));
    expect(store.get('r1')!.counts).toEqual({
      passed: 0,
      failed: 1,
      skipped: 0,
      todo: 0,
      flaky: 0,
      completed: 1,
      retrying: 0,
    });
  });

  it('latest result of a test wins; an older attempt arriving late does not', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'failed'));
    store.apply(s.result('t1', 'passed'));
    expect(store.get('r1')!.counts).toMatchObject({ passed: 1, failed: 0, completed: 1 });
    store.apply(s.result('t1', 'passed', { attempt: 3 }));
    store.apply(s.result('t1', 'failed', { attempt: 2 }));
    const run = store.get('r1')!;
    expect(run.counts).toMatchObject({ passed: 1, failed: 0, completed: 1 });
    expect(run.tests[0].attempt).toBe(3);
  });

  it('keeps file-level, hook and run failures apart from tests', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: '',
        suite: '',
        status: 'failed',
        duration: 0,
        file: 'b.test.ts',
        scope: 'file',
        error: { message: 'SyntaxError: Unexpected token' },
      }),
    );
    store.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: 'beforeAll',
        suite: 'suite',
        status: 'failed',
        duration: 1,
        file: 'a.test.ts',
        scope: 'hook',
        error: { message: 'hook broke' },
      }),
    );
    // A per-test failure is already a test.result; it is not a run error.
    store.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: 't1',
        suite: 'suite',
        status: 'failed',
        duration: 1,
        file: 'a.test.ts',
        scope: 'test',
        error: { message: 'assert' },
      }),
    );
    store.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: '',
        suite: '',
        status: 'failed',
        duration: 0,
        file: '',
        scope: 'run',
        error: { message: 'Unhandled rejection: nope' },
      }),
    );
    store.apply(
      s.completed(false, {
        errors: [{ message: 'Unhandled rejection: nope' }, { message: 'config warning' }],
      }),
    );
    const run = store.get('r1')!;
    expect(run.errors).toEqual([
      { scope: 'file', file: 'b.test.ts', testName: '', error: { message: 'SyntaxError: Unexpected token' } },
      { scope: 'hook', file: 'a.test.ts', testName: 'beforeAll', error: { message: 'hook broke' } },
      { scope: 'run', file: '', testName: '', error: { message: 'Unhandled rejection: nope' } },
      { scope: 'run', error: { message: 'config warning' } },
    ]);
    expect(run.counts.completed).toBe(0);
  });

  it('completes a run with its summary and coverage', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(s.running('t1'));
    store.apply(
      s.make('coverage.completed', {
        framework: 'vitest',
        provider: 'v8',
        summary: { statements: 90, branches: 80, functions: 70, lines: 60 },
        thresholdsMet: true,
        files: 3,
        reports: ['text'],
      }),
    );
    const run = store.apply(s.completed(true))!;
    expect(run.status).toBe('completed');
    expect(run.completedAt).toBe(new Date(Date.UTC(2026, 10, 21, 10, 30, 4)).toISOString());
    expect(run.startedAt).toBe(new Date(Date.UTC(2026, 10, 21, 10, 30, 1)).toISOString());
    expect(run.summary).toMatchObject({ total: 3, success: true });
    expect(run.coverage).toEqual({ statements: 90, branches: 80, functions: 70, lines: 60 });
    expect(run.current).toBeUndefined();
  });

  it('keeps whether a run ended interrupted, and by what, in the run and its snapshot', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started(6));
    for (const id of ['t1', 't2']) store.apply(s.result(id, 'passed'));
    const run = store.apply(
      s.completed(false, {
        summary: { total: 2, passed: 2, failed: 0, skipped: 0, duration: 50, success: false },
        interrupted: true,
        interruptedBy: 'SIGTERM',
      }),
    )!;
    expect(run).toMatchObject({ status: 'completed', interrupted: true, interruptedBy: 'SIGTERM' });
    // What crosses the wire (snapshot, re-seed) keeps it and validates; a store restored from it has it.
    const wire = JSON.parse(JSON.stringify(store.snapshot()));
    expect(wire[0]).toMatchObject({ interrupted: true, interruptedBy: 'SIGTERM' });
    expect(validateRunSnapshot(wire[0]).ok).toBe(true);
    const restored = new RunStateStore();
    restored.restore(wire);
    expect(restored.get('r1')).toMatchObject({ interrupted: true, interruptedBy: 'SIGTERM' });
    expect(restored.briefs()[0]).toMatchObject({ interrupted: true, interruptedBy: 'SIGTERM' });
    // A run that was not interrupted says nothing about it (and old snapshots without the fields validate).
    store.apply(s.started(1, 'r2'));
    store.apply(s.completed(true, {}, 'r2'));
    expect(Object.keys(store.get('r2')!)).not.toContain('interrupted');
    expect(JSON.parse(JSON.stringify(store.get('r2')))).not.toHaveProperty('interruptedBy');
    // The same run id started again and completed normally is no longer interrupted.
    store.apply(s.started(1));
    expect(store.get('r1')).not.toHaveProperty('interrupted');
    store.apply(s.completed(true));
    expect(store.get('r1')).not.toHaveProperty('interrupted');
  });

  it('interrupt() completes a running run as interrupted, counts as they were; an event of it revives owner_lost', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started(10));
    store.apply(s.result('t1', 'passed'));
    store.apply(s.result('t2', 'failed'));
    store.apply(s.running('t3'));
    const startedAt = Date.parse(store.get('r1')!.startedAt!);
    const at = new Date(startedAt + 4000);
    const run = store.interrupt('r1', OWNER_LOST, at)!;
    expect(run).toMatchObject({
      status: 'completed',
      interrupted: true,
      interruptedBy: 'owner_lost',
      completedAt: at.toISOString(),
      counts: { passed: 1, failed: 1, completed: 2 },
      summary: { total: 2, passed: 1, failed: 1, skipped: 0, todo: 0, duration: 4000, success: false },
    });
    expect(run.current).toBeUndefined();
    expect(validateRunSnapshot(JSON.parse(JSON.stringify(run))).ok).toBe(true);
    // Completed already, or unknown: nothing changes.
    expect(store.interrupt('r1', 'other')).toBeUndefined();
    expect(store.get('r1')?.interruptedBy).toBe('owner_lost');
    expect(store.interrupt('nope', OWNER_LOST)).toBeUndefined();
    // A process that still runs it re-seeded it to the new owner: its next event makes it running again.
    store.apply(s.result('t3', 'passed'));
    const revived = store.get('r1')!;
    expect(revived.status).toBe('running');
    expect(revived).not.toHaveProperty('interrupted');
    expect(revived).not.toHaveProperty('summary');
    expect(revived.counts).toMatchObject({ passed: 2, failed: 1, completed: 3 });
    // Its own test.completed ends it as any run.
    store.apply(s.completed(false));
    expect(store.get('r1')).toMatchObject({ status: 'completed', summary: { total: 3 } });
    expect(store.get('r1')).not.toHaveProperty('interrupted');
    // Any other interruption is final: a rerun with the same id starts afresh as before.
    store.apply(s.started(1, 'r2'));
    store.interrupt('r2', 'SIGKILL');
    store.apply(s.started(1, 'r2'));
    expect(store.get('r2')).toMatchObject({ status: 'running', counts: { completed: 0 } });
  });

  it('ignores events outside runs and non-run types for unknown runs', () => {
    const s = stream();
    const store = new RunStateStore();
    expect(store.apply(s.make('system.health', {} as never, ''))).toBeUndefined();
    expect(
      store.apply(
        s.make('performance.metrics', {
          memory: { heapUsed: 1, heapTotal: 2, external: 0, rss: 3 },
          cpu: { usage: 1, load: [] },
          uptime: 1,
        }),
      ),
    ).toBeUndefined();
    expect(store.size).toBe(0);
    // A run seen first mid-way (a client that joined late) is created from its first test event.
    expect(store.apply(s.result('t9', 'passed'))?.counts.passed).toBe(1);
    expect(store.has('r1')).toBe(true);
  });

  it('keeps runs apart', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started(1, 'a'));
    store.apply(s.started(1, 'b'));
    store.apply(s.result('t1', 'passed', {}, 'a'));
    store.apply(s.result('t1', 'failed', {}, 'b'));
    expect(store.get('a')!.counts).toMatchObject({ passed: 1, failed: 0 });
    expect(store.get('b')!.counts).toMatchObject({ passed: 0, failed: 1 });
    expect(store.snapshot().map((r) => r.runId)).toEqual(['a', 'b']);
  });

  it('returns copies: mutating a snapshot does not change the store', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'passed'));
    const snap = store.get('r1')!;
    snap.counts.passed = 99;
    snap.tests.pop();
    snap.errors.push({ scope: 'run', error: { message: 'x' } });
    const again = store.get('r1')!;
    expect(again.counts.passed).toBe(1);
    expect(again.tests).toHaveLength(1);
    expect(again.errors).toEqual([]);
  });

  it('update applies like apply without returning a snapshot', () => {
    const s = stream();
    const viaApply = new RunStateStore();
    const viaUpdate = new RunStateStore();
    const events = [
      s.started(),
      s.running('t1'),
      s.result('t1', 'passed'),
      s.result('t2', 'failed'),
      s.completed(),
    ];
    for (const event of events) {
      viaApply.apply(event);
      expect(viaUpdate.update(event)).toBe(true);
    }
    expect(viaUpdate.update(s.make('system.health', {} as never, ''))).toBe(false);
    expect(viaUpdate.snapshot()).toEqual(viaApply.snapshot());
  });

  it('the result of apply serializes to JSON with its tests', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'passed'));
    const run = store.apply(s.result('t2', 'failed'))!;
    const json = JSON.parse(JSON.stringify(run));
    expect(json.tests.map((t: { id: string }) => t.id)).toEqual(['t1', 't2']);
    expect(json).toEqual(JSON.parse(JSON.stringify(store.get('r1'))));
  });

  it('restores from a snapshot and continues from there', () => {
    const s = stream();
    const source = new RunStateStore();
    source.apply(s.started());
    source.apply(s.result('t1', 'passed'));
    source.apply(s.result('t2', 'failed', { willRetry: true }));
    source.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: '',
        suite: '',
        status: 'failed',
        duration: 0,
        file: 'b.test.ts',
        scope: 'file',
        error: { message: 'x' },
      }),
    );
    const snapshot = JSON.parse(JSON.stringify(source.snapshot()));

    const target = new RunStateStore();
    target.apply(stream('old').started());
    target.restore(snapshot);
    expect(target.has('old')).toBe(false);
    expect(target.snapshot()).toEqual(source.snapshot());

    target.apply(s.result('t2', 'passed', { attempt: 2 }));
    target.apply(s.completed(false, { errors: [{ message: 'late' }] }));
    const run = target.get('r1')!;
    expect(run.counts).toEqual({
      passed: 2,
      failed: 0,
      skipped: 0,
      todo: 0,
      flaky: 1,
      completed: 2,
      retrying: 0,
    });
    expect(run.status).toBe('completed');
    // the snapshot the store was restored from is not mutated afterwards
    expect(snapshot[0].errors).toHaveLength(1);
    expect(snapshot[0].counts.passed).toBe(1);
  });

  it('merges one run, replacing the known state of that run only', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'passed', {}, 'a'));
    store.apply(s.result('t1', 'passed', {}, 'b'));
    const other = new RunStateStore();
    other.apply(s.result('t1', 'failed', {}, 'b'));
    other.apply(s.result('t2', 'failed', {}, 'b'));
    store.merge(other.get('b')!);
    expect(store.get('a')!.counts.passed).toBe(1);
    expect(store.get('b')!.counts).toMatchObject({ failed: 2, passed: 0, completed: 2 });
  });

  it('evicts the oldest completed runs beyond maxCompletedRuns, never running ones', () => {
    const s = stream();
    const store = new RunStateStore({ maxCompletedRuns: 2 });
    store.apply(s.started(1, 'running-1'));
    for (const id of ['c1', 'c2', 'c3']) {
      store.apply(s.started(1, id));
      store.apply(s.result('t', 'passed', {}, id));
      store.apply(s.completed(true, {}, id));
    }
    expect(store.snapshot().map((r) => r.runId)).toEqual(['running-1', 'c2', 'c3']);
    // late events of an evicted run do not bring it back as a run that never completes
    expect(store.apply(s.result('t2', 'passed', {}, 'c1'))).toBeUndefined();
    expect(store.has('c1')).toBe(false);
    // ... but the same id starting again is a new run
    store.apply(s.started(1, 'c1'));
    expect(store.get('c1')?.status).toBe('running');
  });

  it('starts a completed run afresh when it starts again (watch-mode rerun with the same id)', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(s.result('t1', 'failed'));
    store.apply(s.completed(false));
    store.apply(s.started());
    const run = store.get('r1')!;
    expect(run.status).toBe('running');
    expect(run.counts.completed).toBe(0);
    expect(run.tests).toEqual([]);
  });
});

describe('RunStateStore maxTestsPerRun', () => {
  it('keeps running, retrying and the latest tests; drops passes before failures; counts stay exact', () => {
    const store = new RunStateStore({ maxTestsPerRun: 3 });
    const s = stream();
    store.apply(s.started(6));
    store.apply(s.result('f1', 'failed'));
    store.apply(s.result('p1', 'passed'));
    store.apply(s.running('run1'));
    store.apply(s.result('r1', 'failed', { willRetry: true }));
    // 4 tests, bound 3: the earliest pass goes, not the failure, the running or the retrying one.
    let run = store.get('r1');
    expect(run?.tests.map((t) => t.id)).toEqual(['f1', 'run1', 'r1']);
    expect(run?.omittedTests).toBe(1);
    store.apply(s.result('p2', 'passed'));
    run = store.get('r1');
    // Passes go before failures, even the newest one.
    expect(run?.tests.map((t) => t.id)).toEqual(['f1', 'run1', 'r1']);
    expect(run?.omittedTests).toBe(2);
    // The retry finds its failed attempt: counted once.
    store.apply(s.result('r1', 'passed', { attempt: 2 }));
    run = store.get('r1');
    expect(run?.tests.find((t) => t.id === 'r1')?.attempt).toBe(2);
    expect(run?.counts).toMatchObject({ passed: 3, failed: 1, completed: 4, retrying: 0, flaky: 1 });
  });

  it('is unbounded by default; briefs() lists runs without their tests', () => {
    const store = new RunStateStore();
    const s = stream();
    store.apply(s.started(500));
    for (let i = 0; i < 500; i++) store.apply(s.result(`t${i}`, 'passed'));
    expect(store.get('r1')?.tests).toHaveLength(500);
    expect(store.get('r1')?.omittedTests).toBeUndefined();
    const [brief] = store.briefs();
    expect(brief).not.toHaveProperty('tests');
    expect(brief?.counts.completed).toBe(500);
  });

  it('evicts in the order tests finished, also when the bound is first passed late in the run', () => {
    const store = new RunStateStore({ maxTestsPerRun: 3 });
    const s = stream();
    store.apply(s.started(4));
    // a starts first and finishes last: the earliest finished is b, not the earliest seen.
    store.apply(s.running('a'));
    store.apply(s.result('b', 'passed'));
    store.apply(s.result('c', 'passed'));
    store.apply(s.result('a', 'passed'));
    expect(store.get('r1')?.omittedTests).toBeUndefined();
    store.apply(s.result('d', 'passed'));
    expect(store.get('r1')?.tests.map((t) => t.id)).toEqual(['a', 'c', 'd']);
    store.apply(s.result('e', 'passed'));
    expect(store.get('r1')?.tests.map((t) => t.id)).toEqual(['a', 'd', 'e']);
    expect(store.get('r1')?.counts).toMatchObject({ passed: 5, completed: 5 });
    expect(store.get('r1')?.omittedTests).toBe(2);
  });

  it('compacts a merged run to the bound', () => {
    const full = new RunStateStore();
    const s = stream();
    full.apply(s.started(10));
    for (let i = 0; i < 10; i++) full.apply(s.result(`t${i}`, 'passed'));
    const store = new RunStateStore({ maxTestsPerRun: 4 });
    store.merge(full.get('r1') as NonNullable<ReturnType<typeof full.get>>);
    expect(store.get('r1')?.tests.map((t) => t.id)).toEqual(['t6', 't7', 't8', 't9']);
    expect(store.get('r1')?.counts.completed).toBe(10);
    expect(store.get('r1')?.omittedTests).toBe(6);
  });
});

describe('validateRunSnapshot', () => {
  it('accepts every run a store produces, as it crosses the wire', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.started());
    store.apply(s.running('t0'));
    store.apply(s.result('t1', 'passed'));
    store.apply(s.result('t2', 'failed', { error: { message: 'boom' }, willRetry: true }));
    store.apply(
      s.make('test.failed', {
        framework: 'vitest',
        testName: 'b.test.ts',
        suite: '',
        status: 'failed',
        duration: 0,
        error: { message: 'cannot load' },
        file: 'b.test.ts',
        scope: 'file',
      }),
    );
    const running = JSON.parse(JSON.stringify(store.get('r1')));
    expect(validateRunSnapshot(running)).toEqual({ ok: true, value: running });
    store.apply(s.completed(false, { errors: [{ message: 'unhandled' }] }));
    const completed = JSON.parse(JSON.stringify(store.get('r1')));
    expect(validateRunSnapshot(completed).ok).toBe(true);
  });

  it('names what is wrong with a malformed run', () => {
    const s = stream();
    const store = new RunStateStore();
    store.apply(s.result('t1', 'passed'));
    const run = JSON.parse(JSON.stringify(store.get('r1')));
    const without = (key: string) => Object.fromEntries(Object.entries(run).filter(([k]) => k !== key));
    expect(validateRunSnapshot(without('testFiles'))).toEqual({
      ok: false,
      error: 'run.testFiles: required',
    });
    expect(validateRunSnapshot({ ...run, tests: [null] })).toEqual({
      ok: false,
      error: 'run.tests[0]: expected object, got null',
    });
    expect(validateRunSnapshot({ ...run, counts: {} })).toEqual({
      ok: false,
      error: 'run.counts.passed: required',
    });
    expect(validateRunSnapshot({ ...run, runId: '' })).toEqual({
      ok: false,
      error: "run.runId: expected the run's id, got an empty string",
    });
    expect(validateRunSnapshot(null)).toEqual({ ok: false, error: 'run: expected object, got null' });
  });
});
