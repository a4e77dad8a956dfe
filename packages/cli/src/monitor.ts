/**
 * The model and the renderer of `testwire watch`, kept apart from the terminal so both can be tested:
 * `WatchModel` adds what a monitor needs to the run state (protocol's RunStateStore — `watch` renders the
 * client's own `client.state`): performance figures and slow tests per run, which runs belong to this
 * session; `renderFrame` turns it into the lines of one screen.
 */
import { stripVTControlCharacters } from 'node:util';
import {
  type AnyEventEnvelope,
  type PerformanceMetricsData,
  type RunSnapshot,
  RunStateStore,
  type SnapshotMessage,
} from '@testwire/protocol';
import { RegressionLog } from './baseline-format.js';
import {
  type Colors,
  countsText,
  errorLine,
  formatDuration,
  interruptedText,
  interruptedTotal,
  runLabel,
  titleOf,
} from './format.js';
import { shardLabel, withGroupCounts } from './group-runs.js';
import { type GroupView, quietFor } from './group-status.js';
import { cellsOf } from './terminal-text.js';

export interface SlowTest {
  name: string;
  duration: number;
}

/** A test reported hung while it ran (performance.bottleneck `hung_test`). */
export interface HungTest {
  id?: string;
  name: string;
  /** `file:line`, or the file. */
  where?: string;
  /** ms it had run when reported (hungTests: at the time asked). */
  elapsed: number;
  /** Epoch ms of the report. */
  at: number;
}

export interface WatchModelOptions {
  /** Runs that started before this time (epoch ms) and were already complete when we connected are history. */
  startedAt?: number;
  /** Tests at least this slow (ms) are listed under "slow". Default 1000. */
  slowThresholdMs?: number;
  /**
   * The run state to render, kept up to date by its owner: `client.state` of the @testwire/client that
   * receives the events. Feed the model with `observe` / `adoptRuns` then. Default: a store of its own, fed
   * with `apply` / `applySnapshot`.
   */
  store?: RunStateStore;
}

/** What an event did to the model. */
export interface WatchChange {
  /** The run the event belongs to, as the store has it now. */
  run?: RunSnapshot;
  /** This event completed the run. */
  completed: boolean;
  /** The run was not known before this event. */
  started: boolean;
  /**
   * The store is already past this event (replayed after a resync, the snapshot covering it): `run` shows a
   * later state than the event's.
   */
  replayed: boolean;
}

const NO_CHANGE: WatchChange = { completed: false, started: false, replayed: false };

export class WatchModel {
  readonly store: RunStateStore;
  readonly performance = new Map<string, PerformanceMetricsData>();
  private readonly bottlenecks = new Map<string, Map<string, SlowTest>>();
  /** Regressions against a baseline, found live on test.result (reporter option `baseline.compare`). */
  readonly regressions = new RegressionLog();
  /** Tests reported hung while running (performance.bottleneck `hung_test`), per run, by id. */
  private readonly hung = new Map<string, Map<string, HungTest>>();
  /** Runs of this session: seen running, or started after the monitor did. */
  private readonly session = new Set<string>();
  private readonly startedAt: number;
  readonly slowThresholdMs: number;
  /** Runs `observe` has seen an event of. */
  private readonly observed = new Set<string>();
  /** The sharded CI group of a `serve --redis` endpoint, as its /status said last (silence is not an event). */
  group: GroupView | undefined;

  constructor(options: WatchModelOptions = {}) {
    // By default the start of this process, not of the model: a run started just after `watch` was (a demo,
    // a script starting both) may have begun before a slow start reached this line — on a loaded machine
    // a second or more. And a second of slack for clocks of processes started right after the monitor.
    this.startedAt = (options.startedAt ?? Math.min(Date.now(), performance.timeOrigin)) - 1000;
    this.slowThresholdMs = options.slowThresholdMs ?? 1000;
    this.store = options.store ?? new RunStateStore({ maxCompletedRuns: 50 });
  }

  /** Applies an event to the model's own store; returns the run it changed and whether this event completed it. */
  apply(event: AnyEventEnvelope): WatchChange {
    if (this.recordPerformance(event)) return NO_CHANGE;
    this.regressions.record(event);
    const before = event.runId ? this.store.get(event.runId) : undefined;
    const run = this.store.apply(event);
    if (!run) return NO_CHANGE;
    this.track(run);
    return {
      run,
      completed: run.status === 'completed' && before?.status !== 'completed',
      started: !before,
      replayed: false,
    };
  }

  /**
   * Records an event the store's owner has already applied (or, after a resync, a snapshot that covers it):
   * performance figures, slow tests, the session's runs, completion — without applying it a second time.
   */
  observe(event: AnyEventEnvelope): WatchChange {
    if (this.recordPerformance(event) || !event.runId) return NO_CHANGE;
    this.regressions.record(event);
    const run = this.store.get(event.runId);
    if (!run) return NO_CHANGE;
    this.track(run);
    const started = !this.observed.has(run.runId);
    this.observed.add(run.runId);
    return {
      run,
      completed: event.type === 'test.completed' && run.status === 'completed',
      started,
      replayed: run.lastSeq > event.seq,
    };
  }

  /** Merges a snapshot into the model's own store: runs of a broadcaster that went away stay on screen. */
  applySnapshot(snapshot: SnapshotMessage): void {
    for (const run of snapshot.runs) this.store.merge(run);
    this.adoptRuns(snapshot.runs);
  }

  /** Runs the store received from a snapshot (its owner merged them): marks those of this session. */
  adoptRuns(runs: readonly RunSnapshot[]): void {
    for (const run of runs) this.track(run);
  }

  private track(run: RunSnapshot): void {
    if (run.status === 'running' || this.isRecent(run)) this.session.add(run.runId);
  }

  /** performance.* events carry no run state: they feed the per-run figures. True when it was one. */
  private recordPerformance(event: AnyEventEnvelope): boolean {
    if (event.type === 'performance.metrics') {
      if (event.runId) this.performance.set(event.runId, event.data);
      return true;
    }
    if (event.type === 'performance.bottleneck') {
      if (!event.runId) return true;
      if (event.data.type === 'hung_test') {
        let hung = this.hung.get(event.runId);
        if (!hung) {
          hung = new Map();
          this.hung.set(event.runId, hung);
        }
        const d = event.data;
        hung.set(d.id ?? d.testName, {
          id: d.id,
          name: titleOf(d.titlePath ?? [], d.testName),
          where: d.location?.line !== undefined ? `${d.location.file}:${d.location.line}` : d.file,
          elapsed: d.elapsed ?? d.duration,
          at: Date.parse(event.timestamp) || Date.now(),
        });
        return true;
      }
      let slow = this.bottlenecks.get(event.runId);
      if (!slow) {
        slow = new Map();
        this.bottlenecks.set(event.runId, slow);
      }
      slow.set(event.data.id ?? event.data.testName, {
        name: event.data.testName,
        duration: event.data.duration,
      });
      return true;
    }
    return false;
  }

  private isRecent(run: RunSnapshot): boolean {
    const started = Date.parse(run.startedAt ?? '') || run.run?.startedAt || 0;
    return started >= this.startedAt;
  }

  runs(): RunSnapshot[] {
    return this.store.snapshot();
  }

  /**
   * Tests of a run reported hung that have not ended since (no final result in the run's state), with the
   * time they have been running at `now`.
   */
  hungTests(run: RunSnapshot, now: number): HungTest[] {
    const hung = this.hung.get(run.runId);
    if (!hung) return [];
    const ended = new Set(run.tests.filter((t) => t.status !== 'running').map((t) => t.id));
    const done = run.status === 'completed';
    return [...hung.values()]
      .filter((test) => !test.id || !ended.has(test.id))
      .map((test) => ({ ...test, elapsed: done ? test.elapsed : test.elapsed + Math.max(0, now - test.at) }));
  }

  /** Runs of this session (seen running or started after the monitor), oldest first. */
  sessionRuns(): RunSnapshot[] {
    return this.runs().filter((run) => this.session.has(run.runId));
  }

  /** Slow tests of a run, slowest first: bottleneck events and results over the threshold. */
  slowTests(run: RunSnapshot, limit = 3): SlowTest[] {
    const slow = new Map(this.bottlenecks.get(run.runId));
    for (const test of run.tests) {
      if (test.duration !== undefined && test.duration >= this.slowThresholdMs && !slow.has(test.id)) {
        slow.set(test.id, { name: titleOf(test.titlePath, test.testName), duration: test.duration });
      }
    }
    return [...slow.values()].sort((a, b) => b.duration - a.duration).slice(0, limit);
  }

  /**
   * Done when every run of the session has completed and at least `minRuns` (default 1) of them
   * have; runs the monitor never saw running, from before it started, do not count.
   */
  isDone(minRuns = 1): boolean {
    const runs = this.sessionRuns();
    return runs.length >= Math.max(1, minRuns) && runs.every((run) => run.status === 'completed');
  }
}

export type ConnectionView =
  | { state: 'connecting' | 'waiting' }
  /** `hosted`: this process hosts the endpoint (nothing was listening; test runs join it). */
  | { state: 'connected'; hosted?: boolean }
  | { state: 'reconnecting'; reason: string; retryAt: number };

export interface FrameOptions {
  url: string;
  connection: ConnectionView;
  colors: Colors;
  /** Terminal size; lines are cut to `width - 1`, the frame to `height - 1` lines. */
  width: number;
  height: number;
  now?: number;
  /** Completed runs shown in full; older completed runs collapse into a one-line summary. */
  maxFailures?: number;
}

interface Line {
  text: string;
  /** 0 is never dropped; higher numbers go first when the frame is taller than the terminal. */
  priority: number;
}

/** The lines of one screen of `watch`. */
export function renderFrame(model: WatchModel, options: FrameOptions): string[] {
  const c = options.colors;
  const now = options.now ?? Date.now();
  const lines: Line[] = [];
  const push = (text: string, priority: number) => lines.push({ text, priority });

  let connection: string;
  switch (options.connection.state) {
    case 'connected':
      connection = c.green(options.connection.hosted ? '● hosting here, runs join it' : '● connected');
      break;
    case 'reconnecting': {
      const wait = Math.max(0, options.connection.retryAt - now);
      connection = c.yellow(`○ reconnecting in ${formatDuration(wait)} (${options.connection.reason})`);
      break;
    }
    case 'waiting':
      connection = c.yellow('○ nothing listening yet, waiting');
      break;
    default:
      connection = c.dim('○ connecting');
  }
  push(`${c.bold('testwire watch')}  ${c.dim(options.url)}  ${connection}`, 0);

  const runs = withGroupCounts(model.runs());
  if (runs.length === 0) {
    push(c.dim('  waiting for a test run (start one with a testwire reporter)…'), 0);
  }
  for (const run of runs) {
    push('', 1);
    renderRun(model, run, now, options, push);
  }

  return fit(lines, Math.max(3, options.height - 1)).map((line) =>
    truncate(line, Math.max(10, options.width - 1)),
  );
}

function renderRun(
  model: WatchModel,
  run: RunSnapshot,
  now: number,
  options: FrameOptions,
  push: (text: string, priority: number) => void,
): void {
  const c = options.colors;
  const started = Date.parse(run.startedAt ?? '');
  const done = run.status === 'completed';
  const elapsed = done
    ? (run.summary?.duration ?? Date.parse(run.completedAt ?? '') - started)
    : Number.isFinite(started)
      ? now - started
      : undefined;
  // Ended interrupted (a signal, its process gone, the endpoint's owner died with it): not a verdict on its
  // tests, and it did not run them all.
  const cut = done && run.interrupted === true;
  let verdict = !done ? c.cyan('●') : run.summary?.success && !cut ? c.green('✓') : c.red('✗');
  let state = !done
    ? 'running'
    : cut
      ? c.red(interruptedText(run.interruptedBy))
      : run.summary?.success
        ? c.green('passed')
        : c.red('failed');
  // A shard of a sharded CI group: serve's word on it (silent: running, but no event for --silence ms).
  const group = model.group;
  const shard = group?.shards.find((s) => s.runId === run.runId);
  if (group && shard?.state === 'silent') {
    verdict = c.yellow('◌');
    state = c.yellow(`silent, no event for ${formatDuration(quietFor(group, shard))}`);
  } else if (shard?.state === 'interrupted') {
    verdict = c.red('✗');
    state = c.red('interrupted');
  } else if (group && shard?.state === 'lost') {
    verdict = c.red('✗');
    state = c.red(`lost, no event for ${formatDuration(quietFor(group, shard))}`);
  }
  const shape =
    group?.runId === run.runId
      ? c.dim(`  ${group.reporting} reporting · ${group.finished} finished`) +
        (group.silent ? c.yellow(` · ${group.silent} silent`) : '') +
        (group.lost ? c.red(` · ${group.lost} lost`) : '')
      : '';
  push(
    `${verdict} ${runLabel(run, c)}${c.dim(shardLabel(run))}  ${state}${shape}  ${c.dim(`${formatDuration(elapsed)}  ${run.runId}`)}`,
    0,
  );

  const counts = run.counts;
  // An interrupted run shows how far it got: the tests with a result of all it knew of.
  const whole = done && !cut;
  const total = cut
    ? interruptedTotal(run)
    : done
      ? (run.summary?.total ?? run.totalTests)
      : Math.max(run.totalTests, counts.completed);
  const completed = whole ? total : counts.completed;
  const known = run.totalKnown || done;
  const ratio = total > 0 ? Math.min(1, completed / total) : done ? 1 : 0;
  const barWidth = Math.max(10, Math.min(30, options.width - 60));
  // Never full before the end: rounding up shows a bar complete while tests still run, and a total that
  // is not known yet (vitest finds files as it goes) may grow.
  const filled = whole ? barWidth : Math.min(barWidth - 1, Math.floor(ratio * barWidth));
  const barColor = counts.failed > 0 || cut ? c.red : c.green;
  const bar = barColor('█'.repeat(filled)) + c.dim('░'.repeat(barWidth - filled));
  const of = run.totalKnown || done ? `${total}` : `${total}+`;
  const tally =
    done && run.summary ? countsText({ ...run.summary, flaky: counts.flaky }, c) : countsText(counts, c);
  const percent = whole ? '100%' : known ? `${Math.min(cut ? 100 : 99, Math.floor(ratio * 100))}%` : '…';
  push(
    `  ${bar} ${String(completed).padStart(String(total).length)}/${of} ${percent.padStart(4)}  ${tally}`,
    0,
  );

  for (const test of model.hungTests(run, now)) {
    const where = test.where ? c.dim(`  ${test.where}`) : '';
    const label = done ? 'was still running' : 'HUNG, running for';
    push(`  ${c.red('⚠')} ${test.name}  ${c.red(`${label} ${formatDuration(test.elapsed)}`)}${where}`, 1);
  }
  if (!done && run.current?.testName) {
    const file = run.current.file ? c.dim(`  ${run.current.file}`) : '';
    push(`  ${c.cyan('▸')} ${run.current.testName}${file}`, 1);
  }
  const perf = model.performance.get(run.runId);
  if (perf && !done) {
    push(
      c.dim(
        `  heap ${perf.memory.heapUsed.toFixed(1)} MB · rss ${perf.memory.rss.toFixed(1)} MB · cpu ${perf.cpu.usage.toFixed(0)}%`,
      ),
      3,
    );
  }
  if (!done) {
    for (const test of run.tests.filter((t) => t.status === 'failed' && t.willRetry).slice(0, 3)) {
      push(
        `  ${c.yellow('↻')} ${titleOf(test.titlePath, test.testName)}  ${c.yellow(`attempt ${test.attempt} failed, retrying`)}`,
        2,
      );
    }
  }
  const failures = run.tests.filter((t) => t.status === 'failed' && !t.willRetry);
  const maxFailures = options.maxFailures ?? 5;
  for (const [index, test] of failures.slice(0, maxFailures).entries()) {
    push(
      `  ${c.red('✗')} ${titleOf(test.titlePath, test.testName)}  ${c.red(errorLine(test.error))}`,
      index === 0 ? 1 : 2,
    );
  }
  if (failures.length > maxFailures)
    push(c.dim(`    … and ${failures.length - maxFailures} more failures`), 2);
  for (const error of run.errors.slice(0, 2)) {
    push(
      `  ${c.red('✗')} ${c.dim(`[${error.scope}]`)} ${error.file ?? error.testName ?? ''}  ${c.red(errorLine(error.error))}`,
      2,
    );
  }
  for (const line of model.regressions.lines(run.runId, c).slice(0, 5)) push(`  ${line}`, 3);
  for (const slow of model.slowTests(run)) {
    push(`  ${c.yellow('⧗')} ${slow.name}  ${c.yellow(formatDuration(slow.duration))}`, 4);
  }
}

/** Drops the least important lines (highest priority number, last first) until the frame fits. */
function fit(lines: Line[], max: number): string[] {
  const kept = [...lines];
  for (let priority = 4; priority > 0 && kept.length > max; priority--) {
    for (let i = kept.length - 1; i >= 0 && kept.length > max; i--) {
      if (kept[i].priority === priority) kept.splice(i, 1);
    }
  }
  const texts = kept.map((line) => line.text);
  if (texts.length > max) {
    const hidden = texts.length - max + 1;
    return [...texts.slice(0, max - 1), `  … ${hidden} more lines (enlarge the terminal)`];
  }
  return texts;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[a-zA-Z]/y;

/** Cuts a line to `width` visible characters, keeping (and closing) ANSI sequences. */
export function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  let i = 0;
  while (i < line.length) {
    ANSI.lastIndex = i;
    const match = ANSI.exec(line);
    if (match) {
      out += match[0];
      i += match[0].length;
      continue;
    }
    const codePoint = line.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    const cells = cellsOf(codePoint);
    // The rest does not fit: cut here, with room for the ellipsis.
    if (visible + cells > width - 1 && visibleLength(line.slice(i)) > width - visible) {
      return `${out}…\x1b[0m`;
    }
    out += char;
    visible += cells;
    i += char.length;
  }
  return out;
}

/** Terminal cells a string takes (ANSI sequences removed; wide characters count two). */
export function visibleLength(text: string): number {
  let cells = 0;
  for (const char of stripVTControlCharacters(text)) cells += cellsOf(char.codePointAt(0)!);
  return cells;
}
