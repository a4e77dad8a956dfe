/**
 * The merged view of a group: the shards' own events in, the shape of the group out (shards expected,
 * reporting, finished, silent), and the group's own run derived from them.
 *
 *   shard events ─> apply(seq, event, at) ─> RunStateStore (the one counting model: each shard is a run)
 *                                         └> shards: index/total from test.started `run.shard`, last heard
 *   derive() ─> group test.started (once) · test.progress (when sums change)
 *               · a lost shard's run: its test.completed, interrupted `shard_lost` (once per run)
 *               · group test.completed (once, when every expected shard completed or is lost)
 *               — written back to the stream by serve, so every serve of the group shows the same events
 *               with the same seqs
 *
 * A shard is lost when it went quiet for `lostAfterMs` (its machine died, it was killed), or when it never
 * appeared at all `lostAfterMs` after the group started (its CI job failed before the runner started, its
 * reporter could not reach Redis): the group no longer waits for it, and fails.
 *
 * Counts of the group are the sums of the shards' counts; `success` is false as soon as any shard has a failed
 * test or failed run (fail fast), and the group's test.completed carries each shard's own summary.
 */
import {
  type EventEnvelope,
  emptyCounts,
  type PublishedEvent,
  type RunCounts,
  type RunInfo,
  RunStateStore,
  summaryOfCounts,
  type TestSummary,
} from '@testwire/protocol';
import { groupRunId } from './group.js';

export type ShardState = 'reporting' | 'finished' | 'silent' | 'interrupted' | 'lost';

export interface ShardStatus {
  /** 1-based shard index from the runner's `--shard` (or TESTWIRE_SHARD); absent for a run without one. */
  shard?: number;
  total?: number;
  runId: string;
  /** The host name the shard ran on (its run's `run.hostname`). */
  hostname?: string;
  framework: string;
  project?: string;
  state: ShardState;
  totalTests: number;
  counts: RunCounts;
  /** When the shard was last heard of (epoch ms, Redis' clock: the stream entry's id). */
  lastEventAt: number;
  summary?: TestSummary;
  interrupted?: boolean;
}

/** An expected shard no event came from (yet): `lost` once `lostAfterMs` passed since the group started. */
export interface MissingShard {
  /** Its index, when the shards say theirs (`k/N`); absent when only a count is known (`--expect` of unsharded runs). */
  shard?: number;
  total?: number;
  state: 'expected' | 'lost';
}

export interface GroupStatus {
  id: string;
  /** The run id of the group's own run. */
  runId: string;
  /** Shards expected (the `N` of `--shard=k/N`), once any shard said it. */
  expected?: number;
  reporting: number;
  finished: number;
  silent: number;
  /**
   * Shards silent past `lostAfterMs`, and expected shards never heard of `lostAfterMs` after the group started:
   * counted as ended, failed (a shard whose machine died, a CI job that failed before its tests ran).
   */
  lost: number;
  state: 'waiting' | 'running' | 'completed';
  /** false as soon as any shard failed; true once every expected shard completed without failure. */
  success?: boolean;
  totalTests: number;
  counts: Required<RunCounts>;
  shards: ShardStatus[];
  /** Expected shards that sent nothing (yet). */
  missing: MissingShard[];
  /** When this view was taken (epoch ms, Redis' clock): `at - lastEventAt` is how long a shard has been quiet. */
  at: number;
}

/** A write the view wants in the stream: `once` for events that may exist once per group. */
export interface DerivedWrite {
  /** `shard-lost`: the test.completed of a lost shard's run, which will never send its own. */
  kind: 'started' | 'progress' | 'shard-lost' | 'completed';
  once?: string;
  event: PublishedEvent;
}

interface Shard {
  key: string;
  runId: string;
  info?: RunInfo;
  framework: string;
  project?: string;
  /** When Redis stored its start, and its last event (Redis' clock). */
  firstEventAt: number;
  lastEventAt: number;
  finished: boolean;
  summary?: TestSummary;
  interrupted?: boolean;
  rawStatus?: string;
  /** The group declared it lost: its run's test.completed `shard_lost` is in the stream. */
  declaredLost?: boolean;
  /** This view wrote (or found written) that test.completed, not read back yet. */
  lostWritten?: boolean;
}

export interface GroupViewOptions {
  /** A shard that sent nothing for this long (ms) while running is `silent`. Default 30 000. */
  silenceMs?: number;
  /** Shards expected when the runs do not say (`serve --expect`). */
  expected?: number;
  /**
   * A running shard that sent nothing for this long (ms) is `lost` (its machine died, it was killed), and so
   * is an expected shard that sent nothing this long after the group's first event (its CI job failed before
   * the runner started): the group no longer waits for it and fails. A reporter sends metrics every second and
   * its health every 30 s, so a live shard is never silent this long. Default 600 000; 0 = never.
   */
  lostAfterMs?: number;
  /**
   * Since when (Redis' clock, ms) a serve of the group has waited for it: the group's first serve wrote it
   * down. With `expected` shards and none of them ever heard of, they are all lost `lostAfterMs` after it (a
   * CI run whose shards all failed before their runners started) — a `--until-done` serve must not wait for ever.
   */
  waitingSince?: number;
}

export class GroupView {
  readonly runId: string;
  private readonly store = new RunStateStore({ maxCompletedRuns: 10_000 });
  private readonly shards = new Map<string, Shard>();
  private readonly byRun = new Map<string, Shard>();
  private readonly silenceMs: number;
  private readonly lostAfterMs: number;
  private started = false;
  private completed = false;
  private lastProgress = '';
  private startedAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly group: string,
    private readonly options: GroupViewOptions = {},
  ) {
    this.runId = groupRunId(group);
    this.silenceMs = options.silenceMs ?? 30_000;
    this.lostAfterMs = options.lostAfterMs ?? 600_000;
  }

  /** Takes one event of the stream, in stream order; `at` is when Redis stored it (ms). */
  apply(seq: number, event: PublishedEvent, at: number): void {
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.runId === this.runId) {
      // The group's own events, derived by this serve or another one: the stream says what was done.
      if (event.type === 'test.started') this.started = true;
      else if (event.type === 'test.completed') this.completed = true;
      else if (event.type === 'test.progress') this.lastProgress = progressKey(data);
      return;
    }
    if (!event.runId) return;
    if (event.type === 'test.started') {
      const info = data.run as RunInfo | undefined;
      const key = info?.shard ? `shard:${info.shard.current}` : `run:${event.runId}`;
      const previous = this.shards.get(key);
      if (previous) this.byRun.delete(previous.runId); // that shard ran again (a retried CI job): the latest counts
      const shard: Shard = {
        key,
        runId: event.runId,
        framework: String(data.framework ?? 'unknown'),
        firstEventAt: at,
        lastEventAt: at,
        finished: false,
        ...(info ? { info } : {}),
        ...(typeof data.project === 'string' ? { project: data.project } : {}),
      };
      this.shards.set(key, shard);
      this.byRun.set(event.runId, shard);
      // The time Redis stored it (one clock for every shard), not the shard's own: a shard whose clock is an
      // hour behind made the group start an hour early.
      this.startedAt = Math.min(this.startedAt, at);
    }
    const shard = this.byRun.get(event.runId);
    if (!shard) return; // a run whose start this view never saw (trimmed away): not part of the group's sums
    shard.lastEventAt = Math.max(shard.lastEventAt, at);
    this.store.update({ ...event, seq } as EventEnvelope);
    // Written by a serve of the group (derive below): the shard stays lost, whatever it sends later — its own
    // test.completed arriving after that one changes nothing of what the group said of it.
    if (event.type === 'test.completed' && !shard.declaredLost) {
      shard.finished = true;
      shard.summary = data.summary as TestSummary;
      shard.interrupted = data.interrupted === true;
      shard.declaredLost = data.interruptedBy === SHARD_LOST;
      if (typeof data.rawStatus === 'string') shard.rawStatus = data.rawStatus;
    }
  }

  /** Shards expected: `--expect`, else the largest `N` any shard's `k/N` said. */
  get expected(): number | undefined {
    if (this.options.expected) return this.options.expected;
    let n: number | undefined;
    for (const s of this.shards.values()) if (s.info?.shard) n = Math.max(n ?? 0, s.info.shard.total);
    return n;
  }

  private sums(): { counts: Required<RunCounts>; totalTests: number; totalKnown: boolean } {
    const counts = emptyCounts();
    let totalTests = 0;
    let totalKnown = true;
    for (const shard of this.shards.values()) {
      const run = this.store.get(shard.runId);
      if (!run) continue;
      for (const key of Object.keys(counts) as (keyof RunCounts)[]) counts[key] += run.counts[key] ?? 0;
      totalTests += Math.max(run.totalTests, run.counts.completed);
      totalKnown &&= run.totalKnown;
    }
    const expected = this.expected;
    if (expected === undefined || this.shards.size < expected) totalKnown = false;
    return { counts, totalTests, totalKnown };
  }

  /** Every expected shard ended: finished, or lost — those never heard of too (`now`: Redis' clock). */
  private allFinished(now: number): boolean {
    if (this.expected === undefined) return false;
    if (this.missing().length > 0 && !this.missingLost(now)) return false;
    for (const shard of this.shards.values()) if (!shard.finished && !this.lost(shard, now)) return false;
    return true;
  }

  /** A shard the group declared lost, or a running one silent past `lostAfterMs`. */
  private lost(shard: Shard, now: number): boolean {
    if (shard.declaredLost) return true;
    return !shard.finished && this.lostAfterMs > 0 && now - shard.lastEventAt > this.lostAfterMs;
  }

  /**
   * Expected shards no event came from: by index when the shards say theirs (`k/N`: those of 1..N not seen),
   * as many as `expected` exceeds the shards seen.
   */
  private missing(): { shard?: number; total?: number }[] {
    const expected = this.expected;
    if (expected === undefined || this.shards.size >= expected) return [];
    const count = expected - this.shards.size;
    const indexed = [...this.shards.values()].some((s) => s.info?.shard);
    const missing: { shard?: number; total?: number }[] = [];
    if (indexed)
      for (let n = 1; n <= expected && missing.length < count; n++)
        if (!this.shards.has(`shard:${n}`)) missing.push({ shard: n, total: expected });
    while (missing.length < count) missing.push({});
    return missing;
  }

  /**
   * The missing shards are lost: `lostAfterMs` passed since the group's first event — or, while no shard has
   * sent one, since a serve began waiting for the group.
   */
  private missingLost(now: number): boolean {
    const since = Number.isFinite(this.startedAt) ? this.startedAt : this.options.waitingSince;
    return this.lostAfterMs > 0 && since !== undefined && now - since > this.lostAfterMs;
  }

  /** false as soon as any shard failed or was lost, true once all completed without failure, else undefined. */
  private success(now: number): boolean | undefined {
    for (const shard of this.shards.values()) {
      if (shard.summary && !shard.summary.success) return false;
      if ((this.store.counts(shard.runId)?.failed ?? 0) > 0) return false;
      if (this.lost(shard, now)) return false;
    }
    if (this.missing().length > 0 && this.missingLost(now)) return false;
    return this.allFinished(now) ? true : undefined;
  }

  private shardState(shard: Shard, now: number): ShardState {
    if (shard.declaredLost) return 'lost';
    if (shard.finished) return shard.interrupted ? 'interrupted' : 'finished';
    if (this.lost(shard, now)) return 'lost';
    return now - shard.lastEventAt > this.silenceMs ? 'silent' : 'reporting';
  }

  /** What a lost shard's run counted until it went quiet, as its summary. */
  private lostSummary(shard: Shard): TestSummary {
    const counts = this.store.counts(shard.runId) ?? emptyCounts();
    return summaryOfCounts(counts, Math.max(0, shard.lastEventAt - shard.firstEventAt), false);
  }

  /**
   * The test.completed of a lost shard's run (it will never send its own): interrupted `shard_lost`, its counts
   * so far, the tests it was running, and why the group gave up on it.
   */
  private lostCompletion(shard: Shard, now: number): PublishedEvent {
    const run = this.store.get(shard.runId);
    const runningTests = (run?.tests ?? [])
      .filter((t) => t.status === 'running')
      .map((t) => ({
        id: t.id,
        testName: t.testName,
        titlePath: t.titlePath,
        file: t.file,
        attempt: Math.max(1, t.attempt),
        ...(t.project ? { project: t.project } : {}),
      }));
    return {
      type: 'test.completed',
      runId: shard.runId,
      timestamp: new Date(now).toISOString(),
      data: {
        framework: shard.framework,
        ...(shard.project ? { project: shard.project } : {}),
        summary: this.lostSummary(shard),
        errors: [{ message: `${shardName(shard)} ${this.silenceText()}`, type: 'ShardLost' }],
        interrupted: true,
        interruptedBy: SHARD_LOST,
        runningTests,
      },
    } as PublishedEvent;
  }

  private silenceText(): string {
    return `sent nothing for ${this.lostAfterMs} ms (its machine died, or it was killed): the group's serve stopped waiting for it (--lost-after)`;
  }

  /** The view as `/status` shows it (`now`: Redis' clock, for silence). */
  status(now: number): GroupStatus {
    const { counts, totalTests } = this.sums();
    const shards = [...this.shards.values()]
      .map((shard): ShardStatus => {
        const run = this.store.get(shard.runId);
        return {
          ...(shard.info?.shard ? { shard: shard.info.shard.current, total: shard.info.shard.total } : {}),
          runId: shard.runId,
          ...(shard.info?.hostname ? { hostname: shard.info.hostname } : {}),
          framework: shard.framework,
          ...(shard.project ? { project: shard.project } : {}),
          state: this.shardState(shard, now),
          totalTests: run ? Math.max(run.totalTests, run.counts.completed) : 0,
          counts: run?.counts ?? emptyCounts(),
          lastEventAt: shard.lastEventAt,
          ...(shard.summary ? { summary: shard.summary } : {}),
          ...(shard.interrupted ? { interrupted: true } : {}),
        };
      })
      .sort((a, b) => (a.shard ?? Number.MAX_SAFE_INTEGER) - (b.shard ?? Number.MAX_SAFE_INTEGER));
    const success = this.success(now);
    return {
      id: this.group,
      runId: this.runId,
      ...(this.expected !== undefined ? { expected: this.expected } : {}),
      reporting: shards.filter((s) => s.state === 'reporting').length,
      finished: shards.filter((s) => s.state === 'finished' || s.state === 'interrupted').length,
      silent: shards.filter((s) => s.state === 'silent').length,
      lost:
        shards.filter((s) => s.state === 'lost').length + (this.missingLost(now) ? this.missing().length : 0),
      state:
        this.completed || this.allFinished(now) ? 'completed' : shards.length > 0 ? 'running' : 'waiting',
      ...(success !== undefined ? { success } : {}),
      totalTests,
      counts,
      shards,
      missing: this.missing().map((m) => ({ ...m, state: this.missingLost(now) ? 'lost' : 'expected' })),
      at: now,
    };
  }

  /**
   * The group's events the stream does not have yet, given everything applied so far (`now`: when, ms). The
   * caller writes them (once-guarded in Redis) and marks them done with {@link wrote}.
   */
  derive(now: number): DerivedWrite[] {
    // No shard yet: nothing to say, until the expected shards are all lost (missingLost counts from waitingSince).
    if (this.shards.size === 0 && !(this.missing().length > 0 && this.missingLost(now))) return [];
    const first = this.shards.values().next().value as Shard | undefined;
    const common = {
      framework: first?.framework ?? UNKNOWN_FRAMEWORK,
      ...(first?.project ? { project: first.project } : {}),
    };
    const group = { id: this.group, expected: this.expected ?? null };
    const { counts, totalTests, totalKnown } = this.sums();
    const timestamp = new Date(now).toISOString();
    const writes: DerivedWrite[] = [];
    const event = (type: PublishedEvent['type'], data: Record<string, unknown>): PublishedEvent =>
      ({ type, runId: this.runId, timestamp, data: { ...common, ...data } }) as PublishedEvent;
    if (!this.started) {
      const startedAt = Number.isFinite(this.startedAt) ? this.startedAt : now;
      writes.push({
        kind: 'started',
        once: 'started',
        event: event('test.started', {
          totalTests,
          totalKnown,
          testFiles: [],
          run: {
            runId: this.runId,
            ...common,
            startedAt,
            ...(first?.info?.ci ? { ci: first.info.ci } : {}),
            group,
          },
          group,
        }),
      });
    }
    const success = this.success(now);
    const shards = [...this.shards.values()].map((s) => ({
      ...(s.info?.shard ? { shard: s.info.shard.current } : {}),
      runId: s.runId,
      ...(s.info?.hostname ? { hostname: s.info.hostname } : {}),
      state: this.lost(s, now)
        ? 'lost'
        : s.finished
          ? s.interrupted
            ? 'interrupted'
            : 'finished'
          : 'reporting',
    }));
    // Expected shards never heard of: no run, so no runId.
    const missing = this.missing();
    const missingLost = missing.length > 0 && this.missingLost(now);
    const progressData = {
      status: this.allFinished(now) ? 'idle' : 'running',
      progress: totalTests > 0 ? Math.min(1, counts.completed / totalTests) : 0,
      completed: counts.completed,
      total: totalTests,
      duration: Math.max(0, now - (Number.isFinite(this.startedAt) ? this.startedAt : now)),
      totalKnown,
      passed: counts.passed,
      failed: counts.failed,
      skipped: counts.skipped,
      todo: counts.todo,
      flaky: counts.flaky,
      ...(success !== undefined ? { success } : {}),
      group: { ...group, reporting: shards.filter((s) => s.state === 'reporting').length },
      shards: [...shards, ...missing.map((m) => ({ ...m, state: missingLost ? 'lost' : 'expected' }))],
    };
    const progress = event('test.progress', progressData);
    if (progressKey(progress.data as Record<string, unknown>) !== this.lastProgress && !this.completed)
      writes.push({ kind: 'progress', event: progress });
    // A lost shard's run is completed on its behalf before the group's: nothing of the group stays running.
    for (const s of this.shards.values())
      if (!s.finished && !s.lostWritten && this.lost(s, now))
        writes.push({ kind: 'shard-lost', once: `lost:${s.runId}`, event: this.lostCompletion(s, now) });
    if (!this.completed && this.allFinished(now)) {
      const lost = new Set([...this.shards.values()].filter((s) => this.lost(s, now)));
      // A lost shard's summary: what its run counted until it went quiet.
      const summaryOf = (s: Shard) => s.summary ?? (lost.has(s) ? this.lostSummary(s) : undefined);
      const summaries = [...this.shards.values()].map((s) => {
        const summary = summaryOf(s);
        return {
          ...(s.info?.shard ? { shard: s.info.shard.current, total: s.info.shard.total } : {}),
          runId: s.runId,
          ...(s.info?.hostname ? { hostname: s.info.hostname } : {}),
          ...(summary ? { summary } : {}),
          ...(s.rawStatus ? { rawStatus: s.rawStatus } : {}),
          ...(s.interrupted || lost.has(s) ? { interrupted: true } : {}),
          ...(lost.has(s) ? { lost: true } : {}),
        };
      });
      // What failed, said: each lost shard by name, and why the group gave up on it.
      const errors = [
        ...[...lost].map((s) => ({ message: `${shardName(s)} ${this.silenceText()}`, type: 'ShardLost' })),
        ...(missingLost ? [{ message: this.missingText(missing), type: 'ShardLost' }] : []),
      ];
      const sum = (pick: (s: TestSummary) => number | undefined) =>
        [...this.shards.values()].reduce((n, s) => {
          const summary = summaryOf(s);
          return n + (summary ? (pick(summary) ?? 0) : 0);
        }, 0);
      const ok = success === true;
      writes.push({
        kind: 'completed',
        once: 'completed',
        event: event('test.completed', {
          summary: {
            total: sum((s) => s.total),
            passed: sum((s) => s.passed),
            failed: sum((s) => s.failed),
            skipped: sum((s) => s.skipped),
            todo: sum((s) => s.todo),
            flaky: sum((s) => s.flaky),
            duration: Math.max(0, ...[...this.shards.values()].map((s) => summaryOf(s)?.duration ?? 0)),
            success: ok,
          },
          rawStatus: ok ? 'passed' : 'failed',
          interrupted: lost.size > 0 || missingLost || [...this.shards.values()].some((s) => s.interrupted),
          ...(lost.size > 0 || missingLost ? { interruptedBy: SHARD_LOST } : {}),
          ...(errors.length > 0 ? { errors } : {}),
          group,
          shards: [
            ...summaries,
            ...(missingLost
              ? missing.map((m) => ({ ...m, interrupted: true, lost: true, missing: true }))
              : []),
          ],
        }),
      });
    }
    return writes;
  }

  /** Why the group stopped waiting for the expected shards it never heard of. */
  private missingText(missing: { shard?: number; total?: number }[]): string {
    if (this.shards.size === 0)
      return `none of the ${missing.length} expected shards reported: nothing from them ${this.lostAfterMs} ms after a serve of the group began waiting for it (their CI jobs failed before the tests ran, or their reporters could not reach Redis): the group's serve stopped waiting (--lost-after)`;
    const names = missing.filter((m) => m.shard !== undefined).map((m) => `shard ${m.shard} of ${m.total}`);
    const who =
      names.length === missing.length
        ? names.join(', ')
        : `${missing.length} of the ${this.expected} expected shards`;
    return `${who} never reported: nothing from ${missing.length === 1 ? 'it' : 'them'} ${this.lostAfterMs} ms after the group started (its CI job failed before the tests ran, or its reporter could not reach Redis): the group's serve stopped waiting (--lost-after)`;
  }

  /** Marks a derived write as done (written by this serve, or found done by another one). */
  wrote(write: DerivedWrite): void {
    if (write.kind === 'started') this.started = true;
    else if (write.kind === 'completed') this.completed = true;
    else if (write.kind === 'shard-lost') {
      const shard = this.byRun.get(write.event.runId);
      if (shard) shard.lostWritten = true;
    } else this.lastProgress = progressKey(write.event.data as Record<string, unknown>);
  }
}

/** The group's framework while no shard has said its own. */
const UNKNOWN_FRAMEWORK = 'unknown';

/** `interruptedBy` of a run the group stopped waiting for (protocol: test.completed). */
const SHARD_LOST = 'shard_lost';

/** `shard 2 of 3 (run r_2 on host ci-7)`, or `run r_2` for a run that did not say its shard. */
function shardName(shard: Shard): string {
  const host = shard.info?.hostname ? ` on host ${shard.info.hostname}` : '';
  return shard.info?.shard
    ? `shard ${shard.info.shard.current} of ${shard.info.shard.total} (run ${shard.runId}${host})`
    : `run ${shard.runId}${host}`;
}

/** What makes two group progress events the same (the time of the sample does not). */
function progressKey(data: Record<string, unknown>): string {
  const { duration: _duration, ...rest } = data;
  return JSON.stringify(rest);
}
