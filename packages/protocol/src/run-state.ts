/**
 * Run state built from events: per run, the counts, every test's latest result, failures and progress.
 *
 * One reducer, used by the broadcaster (to answer `snapshot`, complete even after its history has evicted
 * old events), by a joining publisher (to re-publish its open runs after a takeover), and by clients (the
 * model a terminal monitor or dashboard renders). Isomorphic.
 */
import type { EventEnvelope, ValidationResult } from './envelope.js';
import {
  coverageTotalsSchema,
  type Framework,
  runInfoSchema,
  type TestSummary,
  testErrorSchema,
  testStatusSchema,
  testSummarySchema,
} from './events.js';
import * as t from './schema-builder.js';
import { validateSchema } from './validate.js';

// The shapes below travel in `snapshot` (server) and `runs` (publisher) messages: schemas, types derived.
const int = t.integer({ minimum: 0 });
const str = t.string();

export interface TestState extends t.Static<typeof testStateSchema> {}
export const testStateSchema = t.object({
  id: str,
  titlePath: t.array(str),
  testName: str,
  suite: str,
  file: str,
  line: t.optional(int),
  status: t.enumOf([...testStatusSchema.enum, 'running']),
  duration: t.optional(t.number()),
  attempt: int,
  flaky: t.optional(t.boolean()),
  willRetry: t.optional(t.boolean()),
  error: t.optional(testErrorSchema),
  project: t.optional(str),
  /** seq of the event that last changed this test. */
  seq: int,
});

export interface RunCounts extends t.Static<typeof runCountsSchema> {}
export const runCountsSchema = t.object({
  passed: int,
  failed: int,
  skipped: int,
  todo: int,
  flaky: int,
  /** Tests with a final result. */
  completed: int,
  /**
   * Tests whose latest attempt failed and will be retried: neither failed nor completed yet. Absent from
   * snapshots of producers before it existed (read it as 0).
   */
  retrying: t.optional(int),
});

export interface RunSnapshot extends t.Static<typeof runSnapshotSchema> {}
export const runSnapshotSchema = t.object({
  runId: str,
  framework: t.string<Framework>(),
  project: t.optional(str),
  run: t.optional(runInfoSchema),
  status: t.enumOf(['running', 'completed']),
  /** ISO timestamps */
  startedAt: t.optional(str),
  completedAt: t.optional(str),
  totalTests: int,
  totalKnown: t.boolean(),
  testFiles: t.array(str),
  counts: runCountsSchema,
  /** The test running now, as last announced by test.progress. */
  current: t.optional(t.object({ id: t.optional(str), testName: t.optional(str), file: t.optional(str) })),
  /** Latest state of every test, in first-seen order. */
  tests: t.array(testStateSchema),
  /** Failures outside tests (files that could not run, hooks, unhandled errors). */
  errors: t.array(
    t.object({
      scope: str,
      file: t.optional(str),
      testName: t.optional(str),
      error: testErrorSchema,
    }),
  ),
  summary: t.optional(testSummarySchema),
  /**
   * The run ended interrupted: its test.completed said `interrupted` (a signal, an exit with the run open, a
   * joined process lost), or a client completed it because the process that owned the endpoint died with it
   * (`owner_lost`, see `RunStateStore.interrupt`). Absent for a run that was not (and from older producers).
   */
  interrupted: t.optional(t.boolean()),
  /** With `interrupted`: what interrupted it, as test.completed's `interruptedBy` (`SIGTERM`, `exit`, `owner_lost`…). */
  interruptedBy: t.optional(str),
  coverage: t.optional(coverageTotalsSchema),
  /** seq of the last event applied to this run. */
  lastSeq: int,
  /**
   * Finished tests left out of `tests` to bound memory (`maxTestsPerRun`); `counts` still include them.
   * Absent when none were.
   */
  omittedTests: t.optional(int),
});

/**
 * Checks a run snapshot received from elsewhere (a publisher's `runs` message) before a `RunStateStore` takes
 * it: the store trusts the shape it is given. The message names the first offending field
 * (`run.tests[0]: expected object, got null`).
 */
export function validateRunSnapshot(value: unknown): ValidationResult<RunSnapshot> {
  const problem = validateSchema(runSnapshotSchema, value, 'run');
  if (problem) return { ok: false, error: problem };
  if ((value as RunSnapshot).runId === '') {
    return { ok: false, error: "run.runId: expected the run's id, got an empty string" };
  }
  return { ok: true, value: value as RunSnapshot };
}

export interface RunStateOptions {
  /** Completed runs kept (oldest dropped first). Running runs are never dropped. Default 100. */
  maxCompletedRuns?: number;
  /**
   * Tests kept per run. Beyond it, the earliest finished tests are compacted away (passed, skipped and todo
   * first, then failed; running and retrying tests never): their results stay in `counts`, the run's
   * `omittedTests` says how many, and a later result for one of them counts as a new test. Default
   * unbounded.
   */
  maxTestsPerRun?: number;
}

/**
 * `interruptedBy` of a run a client completed because the process that owned the endpoint died with it running
 * (the new owner's snapshot does not list it): see `RunStateStore.interrupt`.
 */
export const OWNER_LOST = 'owner_lost';

/** How many ids of evicted runs are remembered, so late events of an evicted run do not revive it. */
const EVICTED_MEMORY = 1000;

/** Counts of a run with no result yet. */
export const emptyCounts = (): Required<RunCounts> => ({
  passed: 0,
  failed: 0,
  skipped: 0,
  todo: 0,
  flaky: 0,
  completed: 0,
  retrying: 0,
});

/** test.completed's `summary` from a run's counts: every test once, by its final result. */
export function summaryOfCounts(counts: RunCounts, duration: number, success: boolean): TestSummary {
  return {
    total: counts.passed + counts.failed + counts.skipped + counts.todo,
    passed: counts.passed,
    failed: counts.failed,
    skipped: counts.skipped,
    todo: counts.todo,
    flaky: counts.flaky,
    duration,
    success,
  };
}

interface MutableRun extends Omit<RunSnapshot, 'tests' | 'counts'> {
  tests: Map<string, TestState>;
  /** Ids of finished tests in the order they finished, by eviction preference (with maxTestsPerRun). */
  finished?: { other: Set<string>; failed: Set<string> };
  /** `retrying` is always counted here (it is optional on the wire only). */
  counts: Required<RunCounts>;
}

export class RunStateStore {
  private runs = new Map<string, MutableRun>();
  private readonly maxCompletedRuns: number;
  private readonly maxTestsPerRun: number;
  private evicted = new Set<string>();

  constructor(options: RunStateOptions = {}) {
    this.maxCompletedRuns = options.maxCompletedRuns ?? 100;
    this.maxTestsPerRun = options.maxTestsPerRun ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Applies one event. Events of types that carry no run state, and late events of an evicted run, are
   * ignored (undefined). Returns the run touched; its `tests` list is built when first read (so applying an
   * event costs O(1) whatever the size of the run): read it before applying the next event of that run if
   * you need the tests as they were at this event. On a hot path that does not need the result, use
   * `update`.
   */
  apply(event: EventEnvelope): RunSnapshot | undefined {
    const run = this.reduce(event);
    return run && this.view(run);
  }

  /** Applies one event like `apply`, without building the returned view: true when a run changed. */
  update(event: EventEnvelope): boolean {
    return this.reduce(event) !== undefined;
  }

  private reduce(event: EventEnvelope): MutableRun | undefined {
    if (!event.runId) return undefined;
    const data = event.data as unknown as Record<string, any>;
    let run = this.runs.get(event.runId);
    if (run && run.interruptedBy === OWNER_LOST && event.type !== 'test.completed') {
      // Completed by a client because the owner died with it (`interrupt`), yet an event of it arrives: a
      // process still running it re-seeded it to the new owner after the client's snapshot. It goes on.
      run.status = 'running';
      delete run.interrupted;
      delete run.interruptedBy;
      delete run.completedAt;
      delete run.summary;
    } else if (run && run.status === 'completed' && event.type === 'test.started') {
      // The same run id started again (a watch-mode rerun that reuses it): start from scratch.
      this.runs.delete(event.runId);
      run = undefined;
    }
    if (!run) {
      if (!event.type.startsWith('test.') && !event.type.startsWith('coverage.')) return undefined;
      if (this.evicted.has(event.runId)) {
        if (event.type !== 'test.started') return undefined;
        this.evicted.delete(event.runId);
      }
      run = {
        runId: event.runId,
        framework: data.framework ?? 'unknown',
        project: data.project,
        status: 'running',
        totalTests: 0,
        totalKnown: false,
        testFiles: [],
        counts: emptyCounts(),
        tests: new Map(),
        errors: [],
        lastSeq: 0,
      };
      this.runs.set(event.runId, run);
    }
    run.lastSeq = Math.max(run.lastSeq, event.seq);
    switch (event.type) {
      case 'test.started': {
        run.framework = data.framework ?? run.framework;
        run.project = data.project ?? run.project;
        run.run = data.run;
        run.startedAt = event.timestamp;
        run.totalTests = data.totalTests ?? 0;
        run.totalKnown = data.totalKnown ?? data.totalTests > 0;
        run.testFiles = data.testFiles ?? [];
        break;
      }
      case 'test.progress': {
        if (typeof data.total === 'number' && data.total > run.totalTests) run.totalTests = data.total;
        if (data.totalKnown !== undefined) run.totalKnown = data.totalKnown;
        run.current =
          data.status === 'running' ? { id: data.id, testName: data.testName, file: data.file } : undefined;
        if (data.status === 'running' && data.id && !run.tests.has(data.id)) {
          run.tests.set(data.id, {
            id: data.id,
            titlePath: data.titlePath ?? [data.testName ?? ''],
            testName: data.testName ?? '',
            suite: data.suite ?? '',
            file: data.file ?? '',
            status: 'running',
            attempt: 1,
            project: data.project,
            seq: event.seq,
          });
        }
        break;
      }
      case 'test.result': {
        const previous = run.tests.get(data.id);
        const attempt: number = data.attempt ?? 1;
        // An earlier attempt arriving after a later one (replay, re-publish) must not win.
        if (previous && previous.status !== 'running' && attempt < previous.attempt) break;
        if (previous) this.count(run, previous, -1);
        // A run keeps one of these per test for as long as it is kept: the fields most results leave out are
        // added only when present, so the usual test's state is that much smaller.
        const test: TestState = {
          id: data.id,
          titlePath: data.titlePath,
          testName: data.testName,
          suite: data.suite,
          file: data.file,
          status: data.status,
          duration: data.duration,
          attempt,
          seq: event.seq,
        };
        if (data.line !== undefined) test.line = data.line;
        if (data.project !== undefined) test.project = data.project;
        // A pass after a failed attempt is flaky even when the reporter did not say so.
        const flaky =
          data.flaky ??
          (data.status === 'passed' && attempt > 1 && previous?.status === 'failed' ? true : undefined);
        if (flaky !== undefined) test.flaky = flaky;
        if (data.willRetry !== undefined) test.willRetry = data.willRetry;
        const error = data.error ?? data.errors?.[0];
        if (error !== undefined) test.error = error;
        run.tests.set(data.id, test);
        this.count(run, test, +1);
        if (this.maxTestsPerRun !== Number.POSITIVE_INFINITY) this.compact(run, test, previous !== undefined);
        break;
      }
      case 'test.failed': {
        if (data.scope && data.scope !== 'test') {
          run.errors.push({ scope: data.scope, file: data.file, testName: data.testName, error: data.error });
        }
        break;
      }
      case 'test.completed': {
        run.status = 'completed';
        run.completedAt = event.timestamp;
        run.summary = data.summary;
        delete run.interrupted;
        delete run.interruptedBy;
        if (data.interrupted === true) {
          run.interrupted = true;
          if (typeof data.interruptedBy === 'string') run.interruptedBy = data.interruptedBy;
        }
        run.coverage = data.coverage ?? run.coverage;
        run.current = undefined;
        for (const error of data.errors ?? []) {
          // Unhandled errors usually arrived already as test.failed (scope run): keep one of each.
          const known = run.errors.some((e) => e.scope === 'run' && e.error.message === error.message);
          if (!known) run.errors.push({ scope: 'run', error });
        }
        this.evictCompleted();
        break;
      }
      case 'coverage.completed':
        run.coverage = data.summary;
        break;
    }
    return run;
  }

  /** Replaces the state with a snapshot's runs (a client after `resume.failed`, a new owner). */
  restore(runs: RunSnapshot[]): void {
    this.runs.clear();
    this.evicted.clear();
    for (const run of runs) this.add(run);
    this.evictCompleted();
  }

  /** Adds or replaces one run from a snapshot (the snapshot is copied, never mutated later). */
  merge(run: RunSnapshot): void {
    this.add(run);
    this.evictCompleted();
  }

  private add(run: RunSnapshot): void {
    this.evicted.delete(run.runId);
    this.runs.delete(run.runId);
    const added: MutableRun = {
      ...run,
      counts: { ...run.counts, retrying: run.counts.retrying ?? 0 },
      testFiles: [...run.testFiles],
      errors: [...run.errors],
      tests: new Map(run.tests.map((t) => [t.id, { ...t }])),
    };
    this.runs.set(run.runId, added);
    if (this.maxTestsPerRun !== Number.POSITIVE_INFINITY) this.compact(added);
  }

  /**
   * Completes a running run that will never send its test.completed, as interrupted: `interruptedBy` says why
   * (a client uses `owner_lost`: the process that owned the endpoint died and the new owner does not know the
   * run). Counts stay as they were; `summary` is made from them (`success: false`, `duration` from the run's
   * start to `at`), the test running then is left running. Returns the run as it is now, or undefined when
   * there is no such run or it had completed already (nothing changes then). A later event of a run completed
   * `owner_lost` (other than test.completed) makes it running again: a process that still had it re-seeded it.
   */
  interrupt(runId: string, interruptedBy: string, at: Date | string = new Date()): RunSnapshot | undefined {
    const run = this.runs.get(runId);
    if (run?.status !== 'running') return undefined;
    const completedAt = typeof at === 'string' ? at : at.toISOString();
    const started = Date.parse(run.startedAt ?? '');
    const ended = Date.parse(completedAt);
    const duration = Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, ended - started) : 0;
    run.status = 'completed';
    run.completedAt = completedAt;
    run.summary = summaryOfCounts(run.counts, duration, false);
    run.interrupted = true;
    run.interruptedBy = interruptedBy;
    run.current = undefined;
    const view = this.freeze(run);
    this.evictCompleted();
    return view;
  }

  get(runId: string): RunSnapshot | undefined {
    const run = this.runs.get(runId);
    return run && this.freeze(run);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** A run's counts (a copy), without building its snapshot: O(1), for a producer that reads them often. */
  counts(runId: string): RunCounts | undefined {
    const run = this.runs.get(runId);
    return run && { ...run.counts };
  }

  /** The latest state of one test of a run. */
  test(runId: string, id: string): TestState | undefined {
    return this.runs.get(runId)?.tests.get(id);
  }

  /** Every known run, oldest first. */
  snapshot(): RunSnapshot[] {
    return [...this.runs.values()].map((run) => this.freeze(run));
  }

  /** Every known run without its tests (O(runs), whatever their size), oldest first. */
  briefs(): Omit<RunSnapshot, 'tests'>[] {
    return [...this.runs.values()].map(({ tests, finished, ...rest }) => ({
      ...rest,
      counts: { ...rest.counts },
      errors: [...rest.errors],
    }));
  }

  get size(): number {
    return this.runs.size;
  }

  /**
   * Records a finished test (`test`, or every test the run holds) and drops the earliest finished ones beyond
   * `maxTestsPerRun` (counts kept). Nothing is recorded until a run first holds more tests than that: most
   * runs never do, and a set entry per test would be kept, and copied by the garbage collector, for nothing.
   * Then the order is rebuilt once from the tests' seqs (a test's seq is its latest event's).
   */
  private compact(run: MutableRun, test?: TestState, known = true): void {
    if (!run.finished) {
      if (run.tests.size <= this.maxTestsPerRun) return;
      run.finished = finishedInOrder(run.tests);
    } else if (test) {
      const { other, failed } = run.finished;
      // A test the run did not hold is in neither (a compacted one left both): most results are a new test's.
      if (known) {
        other.delete(test.id);
        failed.delete(test.id);
      }
      if (isFinished(test)) (test.status === 'failed' ? failed : other).add(test.id);
    }
    const { other, failed } = run.finished;
    while (run.tests.size > this.maxTestsPerRun) {
      const from = other.size > 0 ? other : failed;
      const id = from.values().next().value;
      if (id === undefined) return;
      from.delete(id);
      run.tests.delete(id);
      run.omittedTests = (run.omittedTests ?? 0) + 1;
    }
  }

  /** Counts only final results: a running test or an attempt that will be retried (retrying) is not one. */
  private count(run: MutableRun, test: TestState, delta: 1 | -1): void {
    if (test.status === 'running') return;
    if (test.willRetry) {
      run.counts.retrying += delta;
      return;
    }
    run.counts[test.status] += delta;
    run.counts.completed += delta;
    if (test.flaky) run.counts.flaky += delta;
  }

  private evictCompleted(): void {
    let completed = 0;
    for (const run of this.runs.values()) if (run.status === 'completed') completed++;
    for (const [id, run] of this.runs) {
      if (completed <= this.maxCompletedRuns) break;
      if (run.status === 'completed') {
        this.runs.delete(id);
        completed--;
        this.evicted.add(id);
        if (this.evicted.size > EVICTED_MEMORY)
          this.evicted.delete(this.evicted.values().next().value as string);
      }
    }
  }

  /** A copy of the run; test states are replaced on change, never mutated, so sharing them is safe. */
  private freeze({ finished, ...run }: MutableRun): RunSnapshot {
    return { ...run, counts: { ...run.counts }, errors: [...run.errors], tests: [...run.tests.values()] };
  }

  /** Like `freeze`, but the `tests` list (O(tests)) is built only if read. */
  private view(run: MutableRun): RunSnapshot {
    const { tests, finished, ...rest } = run;
    let list: TestState[] | undefined;
    return Object.defineProperty({ ...rest, counts: { ...run.counts }, errors: [...run.errors] }, 'tests', {
      enumerable: true,
      get: () => {
        list ??= [...tests.values()];
        return list;
      },
    }) as RunSnapshot;
  }
}

/** A finished test: one that counts (neither running nor an attempt that will be retried). */
function isFinished(test: TestState): boolean {
  return test.status !== 'running' && !test.willRetry;
}

/** A run's finished tests by eviction preference, each in the order they finished (by seq; stable for ties). */
function finishedInOrder(tests: Map<string, TestState>): { other: Set<string>; failed: Set<string> } {
  const done = [...tests.values()].filter(isFinished).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const other = new Set<string>();
  const failed = new Set<string>();
  for (const test of done) (test.status === 'failed' ? failed : other).add(test.id);
  return { other, failed };
}
