/**
 * The test explorer's model: every test of every run as a tree (run → project → file → describe → test),
 * filtered by a search and by status, flattened into the rows that are visible given which nodes are
 * open. Pure: the renderer draws only the rows in view, so ten thousand tests cost ten thousand objects
 * here and a screenful of elements in the page.
 *
 *   run  jest-example · jest 30 · 10:31:02 · main@9fceb02        ✗ 1  ✓ 6
 *     file  test/cart.test.js
 *       describe  cart
 *         test  applies a discount                               ✗  12 ms
 */
import type { RunSnapshot } from '@testwire/protocol';
import type { TestIndex, TestPhase, TestRecord } from './test-index.js';
import { runLabel } from './view-model.js';

/** Statuses the explorer filters by; a test is shown when it has any of the selected ones. */
export const STATUS_FILTERS = [
  'failed',
  'flaky',
  'retrying',
  'slow',
  'skipped',
  'running',
  'passed',
] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

/**
 * In a run with more tests than this, files and describes start closed unless they hold a failed or
 * running test: ten thousand open rows find nothing, and drawing fewer keeps each recompute cheap.
 */
export const LARGE_RUN = 500;

const NO_MARKS: readonly string[] = Object.freeze([]);

/** A test this long or longer counts as slow even when no reporter flagged it. */
export const SLOW_MS = 1000;

/** What a row's icon says; `unfinished`: still running when its run ended (interrupted, crashed). */
export type RowStatus = TestPhase | 'retrying' | 'flaky' | 'unfinished' | 'empty';

export interface RowCounts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  running: number;
}

export interface ExplorerRow {
  key: string;
  kind: 'run' | 'project' | 'file' | 'suite' | 'test';
  depth: number;
  /** 1-based place among its siblings, and how many siblings (aria-posinset / aria-setsize). */
  pos: number;
  size: number;
  label: string;
  status: RowStatus;
  /** Groups: whether open (always true while a search or filter is active). */
  expanded?: boolean;
  /** Groups: their tests (matching the filters) by status. */
  counts?: RowCounts;
  /** Tests: the record's key (`<runId>\0<id>`). */
  testKey?: string;
  /** Tests: latest duration, ms. */
  durationMs?: number;
  /** Tests: extra marks: `slow`, `hung`, `attempt 2`, `regressed`. */
  marks?: readonly string[];
}

export interface ExplorerQuery {
  search: string;
  statuses: ReadonlySet<StatusFilter>;
}

export interface ExplorerModel {
  rows: ExplorerRow[];
  /** Tests matching the query (in every run). */
  matched: number;
  /** Tests known (in every run). */
  total: number;
}

/** The filters a test falls under (`runEnded`: its run completed, so nothing of it runs any more). */
export function testFilters(test: TestRecord, runEnded = false): StatusFilter[] {
  const out: StatusFilter[] = [];
  const unfinished = runEnded && (test.status === 'running' || test.retrying);
  if (unfinished) {
    // neither running nor retrying any more
  } else if (test.retrying) out.push('retrying');
  else if (test.status === 'failed') out.push('failed');
  else if (test.status === 'skipped' || test.status === 'todo') out.push('skipped');
  else if (test.status === 'running') out.push('running');
  else if (test.status === 'passed') out.push('passed');
  if (test.flaky) out.push('flaky');
  if (test.slow || test.hung || (test.duration ?? 0) >= SLOW_MS) out.push('slow');
  return out;
}

export function rowStatus(test: TestRecord, runEnded = false): RowStatus {
  if (runEnded && (test.status === 'running' || test.retrying)) return 'unfinished';
  if (test.retrying) return 'retrying';
  if (test.status === 'passed' && test.flaky) return 'flaky';
  return test.status;
}

/** Search terms: every word must appear in the title path or the file (case-insensitive). */
export function searchMatcher(search: string): (test: TestRecord) => boolean {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return () => true;
  return (test) => {
    const hay = `${test.titlePath.join(' ')} ${test.file}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}

interface Group {
  key: string;
  kind: ExplorerRow['kind'];
  label: string;
  /** Open unless the user closed it (files and describes of a large run: only with failures). */
  openByDefault: boolean;
  children: Map<string, Group>;
  tests: TestRecord[];
  counts: RowCounts;
}

const newGroup = (key: string, kind: ExplorerRow['kind'], label: string): Group => ({
  key,
  kind,
  label,
  openByDefault: true,
  children: new Map(),
  tests: [],
  counts: { total: 0, passed: 0, failed: 0, skipped: 0, running: 0 },
});

/** A group's child by name: one kind per level (run: projects or files; file and describe: describes). */
function child(parent: Group, kind: ExplorerRow['kind'], name: string, closed = false): Group {
  let g = parent.children.get(name);
  if (!g) {
    g = newGroup(`${parent.key}\0${kind[0]}:${name}`, kind, name);
    g.openByDefault = !closed;
    parent.children.set(name, g);
  }
  return g;
}

function groupStatus(c: RowCounts): RowStatus {
  if (c.running > 0) return 'running';
  if (c.failed > 0) return 'failed';
  if (c.passed > 0) return 'passed';
  if (c.skipped > 0) return 'skipped';
  return 'empty';
}

/**
 * The explorer's rows. `open` holds the groups the user toggled (key → open); groups not in it are open.
 * While a search or a status filter is active every group with a match is open, so matches are visible.
 */
export function explorerRows(
  runs: RunSnapshot[],
  index: TestIndex,
  query: ExplorerQuery,
  open: ReadonlyMap<string, boolean> = new Map(),
): ExplorerModel {
  const matches = searchMatcher(query.search);
  const filtering = query.statuses.size > 0 || query.search.trim() !== '';
  let total = 0;
  let matched = 0;
  const roots: Group[] = [];
  /** Tests still running when their run ended. */
  const unfinished = new Set<TestRecord>();
  for (const run of runs) {
    const record = index.runs.get(run.runId);
    const root = newGroup(`r:${run.runId}`, 'run', runLabel(run));
    roots.push(root);
    if (!record) continue;
    const projects = new Set<string>();
    for (const test of record.tests.values()) if (test.project) projects.add(test.project);
    const byProject = projects.size > 1;
    const large = record.tests.size > LARGE_RUN;
    for (const test of record.tests.values()) {
      total++;
      if (!matches(test)) continue;
      const ended = record.completed && (test.status === 'running' || test.retrying);
      if (query.statuses.size > 0 && !testFilters(test, record.completed).some((f) => query.statuses.has(f)))
        continue;
      matched++;
      if (ended) unfinished.add(test);
      let g = byProject ? child(root, 'project', test.project ?? '') : root;
      g = child(g, 'file', test.file || '(no file)', large);
      const path = test.titlePath;
      for (let i = 0; i < path.length - 1; i++) g = child(g, 'suite', path[i], large);
      g.tests.push(test);
    }
  }
  const rows: ExplorerRow[] = [];
  const count = (g: Group): RowCounts => {
    const c = g.counts;
    for (const sub of g.children.values()) {
      const s = count(sub);
      c.total += s.total;
      c.passed += s.passed;
      c.failed += s.failed;
      c.skipped += s.skipped;
      c.running += s.running;
    }
    for (const t of g.tests) {
      c.total++;
      if (unfinished.has(t)) continue;
      if (t.status === 'running' || t.retrying) c.running++;
      else if (t.status === 'failed') c.failed++;
      else if (t.status === 'passed') c.passed++;
      else c.skipped++;
    }
    return c;
  };
  const emit = (g: Group, depth: number, pos: number, size: number) => {
    const byDefault = g.openByDefault || g.counts.failed > 0 || g.counts.running > 0;
    const expanded = filtering ? true : (open.get(g.key) ?? byDefault);
    rows.push({
      key: g.key,
      kind: g.kind,
      depth,
      pos,
      size,
      label: g.label,
      status: groupStatus(g.counts),
      expanded,
      counts: g.counts,
    });
    if (!expanded) return;
    // Files sorted by path (to find one); describes and tests in the order the runner reported them.
    const subs = [...g.children.values()];
    if (g.kind !== 'file' && g.kind !== 'suite') subs.sort((a, b) => a.label.localeCompare(b.label));
    const n = subs.length + g.tests.length;
    for (let i = 0; i < subs.length; i++) emit(subs[i], depth + 1, i + 1, n);
    for (let i = 0; i < g.tests.length; i++) {
      const t = g.tests[i];
      rows.push(testRow(t, depth + 1, subs.length + i + 1, n, unfinished.has(t)));
    }
  };
  for (const root of roots) count(root);
  const shown = roots.filter((root) => !filtering || root.counts.total > 0);
  for (let i = 0; i < shown.length; i++) emit(shown[i], 0, i + 1, shown.length);
  return { rows, matched, total };
}

function testRow(test: TestRecord, depth: number, pos: number, size: number, ended: boolean): ExplorerRow {
  const last = test.attempts[test.attempts.length - 1];
  let marks: readonly string[] = NO_MARKS;
  if (test.hung || test.slow || (last && last.attempt > 1) || test.baseline?.regression) {
    const list: string[] = [];
    if (test.hung && test.status === 'running' && !ended) list.push('hung');
    else if (test.slow) list.push('slow');
    if (last && last.attempt > 1) list.push(`attempt ${last.attempt}`);
    if (test.baseline?.regression) list.push('regressed');
    marks = list;
  }
  return {
    key: test.key,
    kind: 'test',
    depth,
    pos,
    size,
    label: test.titlePath[test.titlePath.length - 1] ?? test.testName,
    status: rowStatus(test, ended),
    testKey: test.key,
    durationMs: test.status === 'running' ? undefined : test.duration,
    marks,
  };
}
