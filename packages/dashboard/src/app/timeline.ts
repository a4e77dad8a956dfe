/**
 * The run timeline's model: when each file (or test attempt) ran, on parallel lanes, so a slow file and
 * an idle worker show; running and hung tests reach "now" and say how long they have run.
 *
 *   0 s          5 s          10 s
 *   lane 1  [cart.test.js ]  [slow.test.js·········]
 *   lane 2  [flaky.test.js]    ▶ hangs (running 42 s)
 *
 * A lane is a worker when the runner named it (test.result `worker`: Playwright). Otherwise (jest, vitest,
 * mocha, and tests still running) lanes are inferred: intervals are packed greedily onto the fewest lanes
 * that keep them from overlapping — what the runner's workers must at least have been. Pure.
 */
import type { TestIndex, TestPhase } from './test-index.js';

export interface TimelineBar {
  key: string;
  label: string;
  /** What the bar is (file or `file › test`), for its tooltip. */
  title: string;
  file: string;
  /** ms since the run started. */
  start: number;
  end: number;
  status: TestPhase | 'retried' | 'mixed';
  running: boolean;
  hung: boolean;
  /** The test's key, to open its detail (test bars only). */
  testKey?: string;
  /** The worker that ran it, when the runner said. */
  worker?: string;
}

export interface TimelineLane {
  /** `worker 0`, or `1`, `2` … for inferred lanes. */
  name: string;
  inferred: boolean;
  bars: TimelineBar[];
}

export interface TimelineRun {
  runId: string;
  /** ms from the run's start to its end (or now). */
  spanMs: number;
  lanes: TimelineLane[];
  /** Bars left out to bound the page (the shortest go first). */
  omitted: number;
  /** Some lanes are inferred (the events named no worker for their bars). */
  inferred: boolean;
}

export type TimelineMode = 'files' | 'tests';

export const MAX_BARS = 1500;

/** Packs bars onto lanes: each goes to the first lane free at its start. */
export function packLanes(bars: TimelineBar[]): TimelineBar[][] {
  const sorted = [...bars].sort((a, b) => a.start - b.start || b.end - a.end);
  const lanes: TimelineBar[][] = [];
  const ends: number[] = [];
  for (const bar of sorted) {
    let lane = ends.findIndex((end) => end <= bar.start);
    if (lane < 0) {
      lane = lanes.length;
      lanes.push([]);
      ends.push(0);
    }
    lanes[lane].push(bar);
    ends[lane] = Math.max(bar.end, bar.start + 1);
  }
  return lanes;
}

export function timelineOf(
  index: TestIndex,
  runId: string,
  mode: TimelineMode,
  now: number,
): TimelineRun | undefined {
  const run = index.runs.get(runId);
  if (!run) return undefined;
  const tests = [...run.tests.values()];
  let origin = run.startedAt ?? Number.POSITIVE_INFINITY;
  for (const t of tests) if (t.startedAt !== undefined) origin = Math.min(origin, t.startedAt);
  if (!Number.isFinite(origin)) return undefined;
  // A finished run spans its bars (clocks of the runner's and the broadcaster's may differ); a live one, to now.
  const end = run.completed ? origin : now;
  const bars: TimelineBar[] = [];
  for (const t of tests) {
    const running = t.status === 'running' && !run.completed;
    const hung = running && t.hung !== undefined;
    const attempts = t.attempts.filter((a) => a.duration !== undefined && a.status !== 'running');
    const title = `${t.file} › ${t.titlePath.join(' › ')}`;
    for (const a of attempts) {
      const start = a.startedAt ?? (t.endedAt !== undefined ? t.endedAt - (a.duration ?? 0) : undefined);
      if (start === undefined || a.status === 'skipped' || a.status === 'todo') continue;
      bars.push({
        key: `${t.key}\0${a.attempt}`,
        label: t.titlePath[t.titlePath.length - 1] ?? t.testName,
        title: attempts.length > 1 ? `${title} (attempt ${a.attempt})` : title,
        file: t.file,
        start: start - origin,
        end: start - origin + (a.duration ?? 0),
        status: a.willRetry ? 'retried' : a.status,
        running: false,
        hung: false,
        testKey: t.key,
        worker: a.worker,
      });
    }
    if (running && t.startedAt !== undefined) {
      bars.push({
        key: `${t.key}\0run`,
        label: t.titlePath[t.titlePath.length - 1] ?? t.testName,
        title,
        file: t.file,
        start: Math.max(0, t.startedAt - origin),
        end: Math.max(t.startedAt - origin, now - origin),
        status: 'running',
        running: true,
        hung,
        testKey: t.key,
      });
    }
  }
  let shown = bars;
  if (mode === 'files') {
    const files = new Map<string, TimelineBar>();
    for (const bar of bars) {
      const file = bar.file || '(no file)';
      // One bar per file and worker: a file can run on several workers (Playwright fullyParallel).
      const k = `${file}\0${bar.worker ?? ''}`;
      const f = files.get(k);
      if (!f) {
        files.set(k, { ...bar, key: `f:${k}`, label: file, title: file, testKey: undefined });
        continue;
      }
      f.start = Math.min(f.start, bar.start);
      f.end = Math.max(f.end, bar.end);
      f.running ||= bar.running;
      f.hung ||= bar.hung;
      if (bar.running) f.status = 'running';
      else if (f.status !== 'running' && (bar.status === 'failed' || f.status === 'failed'))
        f.status = 'failed';
    }
    shown = [...files.values()];
  }
  let omitted = 0;
  if (shown.length > MAX_BARS) {
    shown = [...shown].sort((a, b) => b.end - b.start - (a.end - a.start));
    omitted = shown.length - MAX_BARS;
    shown = shown.slice(0, MAX_BARS);
  }
  const spanMs = Math.max(1, end - origin, ...shown.map((b) => b.end));
  const byWorker = new Map<string, TimelineBar[]>();
  const unnamed: TimelineBar[] = [];
  for (const bar of shown) {
    if (bar.worker === undefined) unnamed.push(bar);
    else {
      let list = byWorker.get(bar.worker);
      if (!list) {
        list = [];
        byWorker.set(bar.worker, list);
      }
      list.push(bar);
    }
  }
  const lanes: TimelineLane[] = [...byWorker.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([worker, list]) => ({
      name: `worker ${worker}`,
      inferred: false,
      bars: list.sort((a, b) => a.start - b.start),
    }));
  for (const [i, list] of packLanes(unnamed).entries())
    lanes.push({ name: String(i + 1), inferred: true, bars: list });
  return { runId, spanMs, lanes, omitted, inferred: unnamed.length > 0 };
}
