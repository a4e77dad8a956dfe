/**
 * The explorer, detail and timeline models over a TestIndex fed with events, and the run state from a real
 * RunStateStore: the tree, search and status filters, attempts, output, steps, baselines, lanes.
 */
import { type AnyEventEnvelope, type BaselineTestComparison, RunStateStore } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { classifyAuthAnswer } from '../src/app/auth-problem.js';
import { baselineLine, testBaselineVerdict } from '../src/app/baseline-line.js';
import {
  baselineText,
  detailOf,
  errorView,
  expectedReceived,
  lineDiff,
  stepsInTreeOrder,
} from '../src/app/detail.js';
import { explorerRows, type StatusFilter } from '../src/app/explorer.js';
import { groupUpdate, shardRows } from '../src/app/shards.js';
import { OUTPUT_PER_TEST, TestIndex } from '../src/app/test-index.js';
import { packLanes, timelineOf } from '../src/app/timeline.js';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
let seq = 0;
function ev(type: string, runId: string, data: Record<string, unknown>, ms = seq * 10): AnyEventEnvelope {
  seq++;
  return {
    type,
    seq,
    runId,
    timestamp: new Date(T0 + ms).toISOString(),
    data: { framework: 'jest', project: runId, ...data },
  } as AnyEventEnvelope;
}

const started = (runId: string, ms?: number) =>
  ev(
    'test.started',
    runId,
    {
      totalTests: 0,
      testFiles: [],
      run: { runId, framework: 'jest', startedAt: T0 },
    },
    ms,
  );

function result(runId: string, path: string[], status: string, extra: Record<string, unknown> = {}) {
  return ev('test.result', runId, {
    id: `${runId}:${path.join('/')}`,
    titlePath: path,
    testName: path[path.length - 1],
    suite: path.slice(0, -1).join(' '),
    status,
    duration: 20,
    file: 'src/cart.test.js',
    line: 4,
    attempt: 1,
    ...extra,
  });
}

function feed(...events: AnyEventEnvelope[]) {
  const index = new TestIndex();
  const state = new RunStateStore();
  for (const e of events) {
    index.apply(e);
    state.apply(e);
  }
  return { index, runs: state.snapshot() };
}

const none = new Set<StatusFilter>();

describe('explorer', () => {
  const events = () => [
    started('r1'),
    result('r1', ['cart', 'adds'], 'passed'),
    result('r1', ['cart', 'discount', 'applies 10%'], 'failed', { error: { message: 'expected 9, got 10' } }),
    result('r1', ['cart', 'ships abroad'], 'skipped', { duration: 0 }),
    result('r1', ['retries'], 'failed', { attempt: 1, willRetry: true, file: 'src/net.test.js' }),
    ev('test.progress', 'r1', {
      id: 'r1:slow',
      titlePath: ['slow'],
      testName: 'slow',
      file: 'src/net.test.js',
      status: 'running',
      progress: 0.5,
      completed: 3,
      total: 6,
      duration: 100,
    }),
    started('r2'),
    result('r2', ['other'], 'passed', { attempt: 2, flaky: true, file: 'b.test.js' }),
  ];

  it('builds run → file → describe → test with group counts and status icons', () => {
    const { index, runs } = feed(...events());
    const model = explorerRows(runs, index, { search: '', statuses: none });
    expect(model.total).toBe(6);
    const next = model.rows.findIndex((r, i) => i > 0 && r.kind === 'run');
    const r1 = model.rows.slice(0, next);
    expect(r1.map((r) => `${'  '.repeat(r.depth)}${r.kind} ${r.label} ${r.status}`)).toEqual([
      `run ${r1[0].label} running`,
      '  file src/cart.test.js failed',
      '    suite cart failed',
      '      suite discount failed',
      '        test applies 10% failed',
      '      test adds passed',
      '      test ships abroad skipped',
      '  file src/net.test.js running',
      '    test retries retrying',
      '    test slow running',
    ]);
    expect(r1[0].label).toMatch(/^r1 · jest · \d\d:\d\d:\d\d$/);
    expect(r1[0].counts).toEqual({ total: 5, passed: 1, failed: 1, skipped: 1, running: 2 });
    // Place among siblings, for aria-posinset/setsize: cart holds the discount describe, adds, ships abroad.
    const place = (label: string) => {
      const row = model.rows.find((r) => r.label === label);
      return [row?.pos, row?.size];
    };
    expect(place('discount')).toEqual([1, 3]);
    expect(place('adds')).toEqual([2, 3]);
    expect(place('applies 10%')).toEqual([1, 1]);
    expect([r1[0].pos, r1[0].size]).toEqual([1, 2]);
    const flaky = model.rows.find((r) => r.label === 'other');
    expect(flaky).toMatchObject({ status: 'flaky', marks: ['attempt 2'] });
  });

  it('closes groups the user closed, and opens everything that matches while searching', () => {
    const { index, runs } = feed(...events());
    const file = explorerRows(runs, index, { search: '', statuses: none }).rows.find(
      (r) => r.label === 'src/cart.test.js',
    );
    const open = new Map([[file!.key, false]]);
    const closed = explorerRows(runs, index, { search: '', statuses: none }, open);
    expect(closed.rows.some((r) => r.label === 'adds')).toBe(false);
    const found = explorerRows(runs, index, { search: 'DISCOUNT 10', statuses: none }, open);
    expect(found.matched).toBe(1);
    expect(found.rows.filter((r) => r.kind === 'test').map((r) => r.label)).toEqual(['applies 10%']);
    // A run without a match is left out while searching.
    expect(found.rows.some((r) => r.key.startsWith('r:r2'))).toBe(false);
    // The file name matches too.
    expect(explorerRows(runs, index, { search: 'net.test', statuses: none }).matched).toBe(2);
  });

  it('filters by status: any of the selected ones', () => {
    const { index, runs } = feed(...events());
    const tests = (statuses: StatusFilter[]) =>
      explorerRows(runs, index, { search: '', statuses: new Set(statuses) })
        .rows.filter((r) => r.kind === 'test')
        .map((r) => r.label);
    expect(tests(['failed'])).toEqual(['applies 10%']);
    expect(tests(['retrying'])).toEqual(['retries']);
    expect(tests(['running'])).toEqual(['slow']);
    expect(tests(['skipped'])).toEqual(['ships abroad']);
    expect(tests(['flaky'])).toEqual(['other']);
    expect(tests(['failed', 'flaky'])).toEqual(['applies 10%', 'other']);
    expect(tests(['slow'])).toEqual([]);
  });

  it('marks tests still running when their run ended as unfinished, not running', () => {
    const { index, runs } = feed(...events(), ev('test.completed', 'r1', { summary: {}, interrupted: true }));
    const model = explorerRows(runs, index, { search: '', statuses: none });
    const row = (label: string) => model.rows.find((r) => r.label === label);
    expect(row('slow')?.status).toBe('unfinished');
    expect(row('retries')?.status).toBe('unfinished');
    expect(row('src/net.test.js')).toMatchObject({ counts: { total: 2, running: 0 }, status: 'empty' });
    const running = explorerRows(runs, index, { search: '', statuses: new Set(['running']) });
    expect(running.rows.filter((r) => r.kind === 'test')).toEqual([]);
  });

  it('marks slow tests from bottleneck reports and long durations', () => {
    const { index, runs } = feed(
      started('r1'),
      result('r1', ['quick'], 'passed'),
      result('r1', ['long'], 'passed', { duration: 1500 }),
      result('r1', ['flagged'], 'passed', { duration: 600 }),
      ev('performance.bottleneck', 'r1', {
        type: 'slow_test',
        id: 'r1:flagged',
        testName: 'flagged',
        duration: 600,
        threshold: 500,
        severity: 'low',
        suggestions: [],
      }),
    );
    const rows = explorerRows(runs, index, { search: '', statuses: new Set(['slow']) }).rows;
    expect(rows.filter((r) => r.kind === 'test').map((r) => [r.label, r.marks])).toEqual([
      ['long', []],
      ['flagged', ['slow']],
    ]);
  });

  it('stays fast with ten thousand tests', () => {
    const list: AnyEventEnvelope[] = [started('big')];
    for (let i = 0; i < 10_000; i++)
      list.push(result('big', [`suite ${i % 50}`, `test ${i}`], i % 97 === 0 ? 'failed' : 'passed'));
    const { index, runs } = feed(...list);
    // Every word must appear: 'test' and '9999' only in "test 9999"; '99' alone in 280 titles.
    expect(explorerRows(runs, index, { search: 'test 9999', statuses: none }).matched).toBe(1);
    expect(explorerRows(runs, index, { search: '99', statuses: none }).matched).toBe(280);
    expect(explorerRows(runs, index, { search: '', statuses: new Set(['failed']) }).matched).toBe(104);
  });
});

describe('test index', () => {
  it('keeps every attempt, the output tied to the test, steps, attachments and the baseline', () => {
    const id = 'r1:flaky';
    const base = { id, titlePath: ['flaky'], testName: 'flaky', suite: '', file: 'f.spec.ts', duration: 30 };
    const { index } = feed(
      started('r1'),
      ev('test.output', 'r1', {
        id,
        titlePath: ['flaky'],
        output: 'hello\n',
        outputType: 'stdout',
        stream: 'log',
      }),
      ev('test.step', 'r1', {
        ...base,
        attempt: 1,
        title: 'log in',
        category: 'test.step',
        stepPath: [],
        depth: 0,
        error: { message: 'no button' },
      }),
      ev('test.result', 'r1', {
        ...base,
        status: 'failed',
        attempt: 1,
        willRetry: true,
        startedAt: T0 + 100,
        error: { message: 'expect(received).toBe(expected)\n\nExpected: 3\nReceived: 2' },
      }),
      ev('test.result', 'r1', {
        ...base,
        status: 'passed',
        attempt: 2,
        startedAt: T0 + 200,
        attachments: [
          { name: 'screenshot', contentType: 'image/png', path: 'test-results/a.png', size: 2048 },
        ],
        baseline: {
          label: 'main',
          regression: true,
          slower: true,
          duration: 15,
          change: 15,
          percentage: 100,
        },
      }),
      ev('test.output', 'r1', {
        output: 'file-level line',
        outputType: 'stderr',
        stream: 'warn',
        file: 'f.spec.ts',
      }),
    );
    const test = index.get(`r1\0${id}`)!;
    expect(test.attempts.map((a) => [a.attempt, a.status, a.willRetry ?? false])).toEqual([
      [1, 'failed', true],
      [2, 'passed', false],
    ]);
    expect(test).toMatchObject({ status: 'passed', flaky: true, retrying: false, startedAt: T0 + 100 });
    // An attempt's start out of Date's range: its clock is left out, the panel still opens.
    const far = { ...test, attempts: test.attempts.map((a) => ({ ...a, startedAt: 8.64e15 + 1 })) };
    expect(detailOf(far, index.runs.get('r1')).attempts[0].startedAt).toBeUndefined();
    const detail = detailOf(test, index.runs.get('r1'));
    expect(detail.attempts).toHaveLength(2);
    expect(detail.attempts[0]).toMatchObject({ status: 'failed, retried', duration: '30 ms' });
    expect(detail.attempts[0].errors[0]).toMatchObject({
      expected: '3',
      received: '2',
      summary: 'expected 3, received 2',
    });
    expect(detail.attempts[0].steps).toEqual([
      {
        depth: 0,
        title: 'log in',
        category: 'test.step',
        duration: '30 ms',
        location: undefined,
        error: 'no button',
      },
    ]);
    expect(detail.attempts[1].attachments).toEqual([
      { name: 'screenshot', contentType: 'image/png', path: 'test-results/a.png', size: '2 KB' },
    ]);
    expect(detail.output.map((o) => o.text)).toEqual(['hello\n']);
    expect(detail.fileOutput).toEqual([]);
    expect(detail.marks).toEqual(['flaky']);
    expect(detail.baseline).toBe('▲ slower than main: was 15 ms, +15 ms (+100 %)');
    expect(detail.baselineRegression).toBe(true);
    // Output the runner could not tie to a test is offered for tests of that file with none of their own.
    index.apply(result('r1', ['quiet'], 'passed', { file: 'f.spec.ts' }));
    expect(detailOf(index.get('r1\0r1:quiet')!, index.runs.get('r1')).fileOutput.map((o) => o.text)).toEqual([
      'file-level line',
    ]);
  });

  it('bounds the output it keeps per test and says how much it dropped', () => {
    const index = new TestIndex();
    index.apply(started('r1'));
    for (let i = 0; i < OUTPUT_PER_TEST + 5; i++)
      index.apply(
        ev('test.output', 'r1', { id: 't', output: `line ${i}`, outputType: 'stdout', stream: 'log' }),
      );
    const test = index.get('r1\0t')!;
    expect(test.output).toHaveLength(OUTPUT_PER_TEST);
    expect(test.outputDropped).toBe(5);
    expect(test.output[0].text).toBe('line 5');
  });

  it('after a resync takes the snapshot as the truth, keeping what it recorded; drops runs it lost', () => {
    const { index } = feed(
      started('r1'),
      started('gone'),
      result('r1', ['a'], 'failed', { willRetry: true }),
    );
    const state = new RunStateStore();
    state.apply(started('r1'));
    state.apply(result('r1', ['a'], 'passed', { attempt: 2 }));
    index.restore(state.snapshot());
    expect(index.runs.has('gone')).toBe(false);
    const test = index.get('r1\0r1:a')!;
    expect(test.status).toBe('passed');
    expect(test.attempts.map((a) => a.status)).toEqual(['failed', 'passed']);
  });

  it('after a resync, a skipped attempt the runner will run again (a serial group) is retrying, as it was live', () => {
    const state = new RunStateStore();
    state.apply(started('r1'));
    state.apply(result('r1', ['b'], 'skipped', { willRetry: true }));
    const live = feed(started('r1'), result('r1', ['b'], 'skipped', { willRetry: true })).index;
    const { index } = feed(started('r1'));
    index.restore(state.snapshot());
    for (const from of [live, index])
      expect(from.get('r1\0r1:b')).toMatchObject({ status: 'skipped', retrying: true });
  });

  it('a new broadcaster forgets only the runs it replays; a run lost with the old owner keeps its record and ends where the client ended it', () => {
    const running = (runId: string, name: string, ms: number) =>
      ev(
        'test.progress',
        runId,
        { id: `${runId}:${name}`, titlePath: [name], testName: name, file: 'f.test.js', status: 'running' },
        ms,
      );
    const { index } = feed(started('old', 0), running('old', 'waits', 100), started('new', 0));
    index.apply(
      ev('test.output', 'old', { id: 'old:waits', output: 'still here', outputType: 'stdout' }, 4_000),
    );
    expect(index.runs.get('old')?.heardAt).toBe(T0 + 4_000);
    // The new broadcaster carries `new` (it replays it from its first event), not `old`.
    index.forget(['new']);
    expect(index.runs.has('new')).toBe(false);
    // The page reconnected a minute later; the client completed `old` as owner_lost, ended when it lost the
    // old owner (5 s); it stays (keepStaleRuns), and ends there: the client's figure, not the page's own.
    const state = new RunStateStore();
    state.apply(started('old', 0));
    state.apply(running('old', 'waits', 100));
    state.interrupt('old', 'owner_lost', new Date(T0 + 5_000));
    index.restore(state.snapshot());
    const old = index.runs.get('old')!;
    expect(old).toMatchObject({ completed: true, endedAt: T0 + 5_000 });
    expect(index.get('old\0old:waits')?.output.map((o) => o.text)).toEqual(['still here']);
  });

  it('a run id started again (watch mode) starts over', () => {
    const { index } = feed(
      started('w'),
      result('w', ['a'], 'failed'),
      ev('test.completed', 'w', { summary: {} }),
    );
    index.apply(started('w'));
    expect(index.runs.get('w')?.tests.size).toBe(0);
  });
});

describe('run baseline line', () => {
  const slower = {
    label: 'main',
    regression: true,
    status: 'passed',
    duration: 100,
    change: 120,
    percentage: 120,
  };
  const newlyFailing = { label: 'main', regression: true, status: 'passed', newlyFailing: true };

  it('counts slower and newly failing tests live, each test once, by its latest attempt', () => {
    const { index } = feed(
      started('r1'),
      result('r1', ['a'], 'passed', { baseline: slower }),
      result('r1', ['b'], 'failed', { baseline: newlyFailing, willRetry: true }),
      result('r1', ['c'], 'passed', { baseline: { label: 'main', regression: false, status: 'passed' } }),
    );
    expect(baselineLine(index.runs.get('r1')?.baseline)).toBe(
      'vs main: 1 slower test · 1 newly failing (live)',
    );
    // b's retry passes in time: no longer newly failing; a's second result is no regression any more
    index.apply(
      result('r1', ['b'], 'passed', { attempt: 2, baseline: { label: 'main', regression: false } }),
    );
    index.apply(
      result('r1', ['a'], 'passed', { attempt: 2, baseline: { label: 'main', regression: false } }),
    );
    expect(baselineLine(index.runs.get('r1')?.baseline)).toBe('vs main: no regression so far (live)');
  });

  it('says what baseline.compared concluded at the run end; nothing for a run without a baseline', () => {
    const { index } = feed(
      started('r1'),
      result('r1', ['a'], 'passed', { baseline: slower }),
      ev('baseline.compared', 'r1', {
        baseline: 'main',
        comparison: {
          testsAdded: 1,
          testsRemoved: 2,
          testsChanged: 1,
          performanceRegression: true,
          coverageImproved: false,
          testsNewlyFailing: 1,
          summary: { regression: true, improvement: false, score: 62 },
        },
        regressions: [{ test: 'a', change: 120, percentage: 120 }],
      }),
      started('r2'),
      result('r2', ['a'], 'passed'),
    );
    expect(baselineLine(index.runs.get('r1')?.baseline)).toBe(
      'vs main: regression · 1 slower test · 1 newly failing · +1 test · −2 tests · score 62',
    );
    expect(baselineLine(index.runs.get('r2')?.baseline)).toBeUndefined();
  });

  it('gives one verdict per test comparison, the same for the event list and the detail pane', () => {
    const base = { label: 'main', duration: 10, change: 20, percentage: 200, regression: true };
    expect(testBaselineVerdict({ ...base, newlyFailing: true, slower: true })).toBe('newly-failing');
    expect(testBaselineVerdict({ ...base, slower: true })).toBe('slower');
    expect(testBaselineVerdict({ label: 'main', added: true })).toBe('added');
    expect(testBaselineVerdict({ label: 'main', fixed: true })).toBe('fixed');
    expect(testBaselineVerdict({ ...base, faster: true, change: -5 })).toBe('faster');
    expect(testBaselineVerdict({ label: 'main' })).toBe('same');
    expect(baselineText({ ...base, newlyFailing: true, slower: true } as BaselineTestComparison)).toBe(
      '▲ newly failing: it passed in main',
    );
  });
});

describe('detail', () => {
  it('takes expected/received from the fields, jest and node:assert messages, and chai', () => {
    expect(expectedReceived({ message: 'x', expected: '35', actual: '36' })).toEqual({
      expected: '35',
      received: '36',
    });
    expect(
      expectedReceived({ message: 'expect(received).toBe(expected)\n\nExpected: 9\nReceived: 10' }),
    ).toEqual({
      expected: '9',
      received: '10',
    });
    expect(expectedReceived({ message: 'expected 120 to be 108 // Object.is equality' })).toEqual({
      expected: '108',
      received: '120',
    });
    expect(expectedReceived({ message: 'boom' })).toEqual({});
  });

  it('diffs multi-line values line by line', () => {
    expect(lineDiff('{\n  "a": 1,\n  "b": 2\n}', '{\n  "a": 1,\n  "b": 3\n}')).toEqual([
      { op: ' ', text: '{' },
      { op: ' ', text: '  "a": 1,' },
      { op: '-', text: '  "b": 2' },
      { op: '+', text: '  "b": 3' },
      { op: ' ', text: '}' },
    ]);
    const view = errorView({ message: 'm', expected: 'a\nb', actual: 'a\nc' });
    expect(view.diff?.filter((l) => l.op !== ' ')).toEqual([
      { op: '-', text: 'b' },
      { op: '+', text: 'c' },
    ]);
  });

  it('keeps the test’s own frames, says how many runner frames it left out, and where it threw', () => {
    const view = errorView(
      {
        message: 'boom',
        stack: 'Error: boom\n    at Object.<anonymous> (src/cart.test.js:15:55)',
        fullStack:
          '    at Object.<anonymous> (src/cart.test.js:15:55)\n    at run (node_modules/jest-circus/a.js:1:1)\n    at next (node_modules/jest-circus/a.js:2:2)',
      },
      'src/cart.test.js',
      3,
    );
    expect(view.stack).toBe('at Object.<anonymous> (src/cart.test.js:15:55)');
    expect(view.hiddenFrames).toBe(2);
    expect(view.location).toBe('src/cart.test.js:15');
  });
});

describe('detail times', () => {
  const hungTest = (runId: string) => [
    started(runId, 0),
    ev(
      'test.progress',
      runId,
      { id: `${runId}:h`, titlePath: ['h'], testName: 'h', file: 'f.test.js', status: 'running' },
      1_000,
    ),
    ev(
      'performance.bottleneck',
      runId,
      {
        type: 'hung_test',
        id: `${runId}:h`,
        testName: 'h',
        duration: 3_000,
        elapsed: 3_000,
        threshold: 3_000,
      },
      4_000,
    ),
  ];

  it('a hung test whose run was interrupted ran until the run ended, not until now', () => {
    const { index } = feed(
      ...hungTest('r'),
      ev('test.completed', 'r', { summary: {}, interrupted: true, interruptedBy: 'SIGTERM' }, 15_800),
    );
    const detail = detailOf(index.get('r\0r:h')!, index.runs.get('r'), T0 + 48_900);
    expect(detail.marks).toContain('hung: ran 14.8 s until its run ended');
    expect(detail.status).toBe('did not finish');
  });

  it('while the page is not live, a running test’s time stops at its run’s last event', () => {
    const { index } = feed(...hungTest('r'));
    const test = index.get('r\0r:h')!;
    const run = index.runs.get('r');
    expect(detailOf(test, run, T0 + 30_000).duration).toBe('29.0 s so far');
    const frozen = detailOf(test, run, T0 + 30_000, false);
    expect(frozen.duration).toBe('3.0 s so far');
    expect(frozen.marks).toContain('hung: running for 3.0 s');
  });
});

describe('timeline', () => {
  it('packs overlapping bars onto the fewest lanes', () => {
    const bar = (key: string, start: number, end: number) => ({
      key,
      label: key,
      title: key,
      file: key,
      start,
      end,
      status: 'passed' as const,
      running: false,
      hung: false,
    });
    const lanes = packLanes([bar('a', 0, 10), bar('b', 5, 15), bar('c', 10, 20), bar('d', 16, 30)]);
    expect(lanes.map((l) => l.map((b) => b.key))).toEqual([
      ['a', 'c'],
      ['b', 'd'],
    ]);
  });

  it('places attempts by start and duration, groups by file, and runs running and hung tests up to now', () => {
    const { index } = feed(
      started('r1'),
      result('r1', ['a'], 'passed', { startedAt: T0 + 1000, duration: 500, file: 'a.test.js' }),
      result('r1', ['b'], 'failed', { startedAt: T0 + 1200, duration: 1000, file: 'b.test.js' }),
      result('r1', ['c'], 'passed', { startedAt: T0 + 2000, duration: 100, file: 'a.test.js' }),
      ev(
        'test.progress',
        'r1',
        {
          id: 'r1:h',
          titlePath: ['h'],
          testName: 'h',
          file: 'h.test.js',
          status: 'running',
          progress: 0,
          completed: 3,
          total: 4,
          duration: 1,
        },
        2500,
      ),
      ev(
        'performance.bottleneck',
        'r1',
        {
          type: 'hung_test',
          id: 'r1:h',
          testName: 'h',
          duration: 60_000,
          elapsed: 60_000,
          threshold: 60_000,
          severity: 'high',
          suggestions: [],
        },
        62_500,
      ),
    );
    const now = T0 + 63_000;
    const tests = timelineOf(index, 'r1', 'tests', now)!;
    const all = tests.lanes.flatMap((l) => l.bars);
    expect(all.find((b) => b.label === 'a')).toMatchObject({ start: 1000, end: 1500, status: 'passed' });
    expect(all.find((b) => b.label === 'h')).toMatchObject({
      start: 2500,
      end: 63_000,
      running: true,
      hung: true,
    });
    // a and b overlap; c and h fit after a on its lane.
    expect(tests.lanes.map((lane) => [lane.name, lane.bars.map((b) => b.label)])).toEqual([
      ['1', ['a', 'c', 'h']],
      ['2', ['b']],
    ]);
    expect(tests.inferred).toBe(true);
    const files = timelineOf(index, 'r1', 'files', now)!;
    expect(
      files.lanes
        .flatMap((l) => l.bars)
        .map((b) => [b.label, b.start, b.end, b.status])
        .sort(),
    ).toEqual([
      ['a.test.js', 1000, 2100, 'passed'],
      ['b.test.js', 1200, 2200, 'failed'],
      ['h.test.js', 2500, 63_000, 'running'],
    ]);
  });

  it('puts bars on their workers when the runner named them (one file bar per file and worker)', () => {
    const { index } = feed(
      started('pw'),
      result('pw', ['a'], 'passed', { startedAt: T0 + 0, duration: 100, file: 'x.spec.ts', worker: '1' }),
      result('pw', ['b'], 'passed', { startedAt: T0 + 0, duration: 300, file: 'x.spec.ts', worker: '0' }),
      result('pw', ['c'], 'failed', { startedAt: T0 + 150, duration: 100, file: 'x.spec.ts', worker: '1' }),
      result('pw', ['d'], 'passed', { startedAt: T0 + 10, duration: 50, file: 'y.spec.ts', worker: '10' }),
    );
    const tests = timelineOf(index, 'pw', 'tests', T0 + 1000)!;
    expect(tests.inferred).toBe(false);
    expect(tests.lanes.map((l) => [l.name, l.inferred, l.bars.map((b) => b.label)])).toEqual([
      ['worker 0', false, ['b']],
      ['worker 1', false, ['a', 'c']],
      ['worker 10', false, ['d']],
    ]);
    const files = timelineOf(index, 'pw', 'files', T0 + 1000)!;
    expect(files.lanes.map((l) => [l.name, l.bars.map((b) => [b.label, b.start, b.end, b.status])])).toEqual([
      ['worker 0', [['x.spec.ts', 0, 300, 'passed']]],
      ['worker 1', [['x.spec.ts', 0, 250, 'failed']]],
      ['worker 10', [['y.spec.ts', 10, 60, 'passed']]],
    ]);
  });
});

describe('unauthorized', () => {
  it('tells a missing key from a wrong one and a lock-out, from what the broadcaster answered', () => {
    expect(
      classifyAuthAnswer(
        {
          error: 'UNAUTHORIZED',
          message: 'Authentication required: pass ?apiKey=, ?token= (JWT) or a header',
        },
        true,
      ).kind,
    ).toBe('missing');
    expect(
      classifyAuthAnswer({ error: 'UNAUTHORIZED', message: 'Invalid API key or token' }, false).kind,
    ).toBe('wrong');
    expect(
      classifyAuthAnswer({ error: 'LOCKED_OUT', message: 'Too many wrong credentials' }, true).kind,
    ).toBe('locked');
    // No body to read: whether the page sent a key decides.
    expect(classifyAuthAnswer(undefined, true).kind).toBe('wrong');
    expect(classifyAuthAnswer(undefined, false).kind).toBe('missing');
  });
});

describe('shards of a CI run group', () => {
  it('lists each shard with its run’s counts and the shards expected but not started', () => {
    const group = { id: 'gh-9001-1', expected: 3 };
    const groupEvent = (type: string, data: Record<string, unknown>) => ev(type, 'group:gh-9001-1', data);
    let info = groupUpdate(
      groupEvent('test.started', {
        totalTests: 0,
        testFiles: [],
        run: { runId: 'group:gh-9001-1', framework: 'vitest', startedAt: T0, group },
        group,
      }),
      undefined,
    );
    expect(info).toEqual({ id: 'gh-9001-1', expected: 3, reporting: undefined, shards: [] });
    info = groupUpdate(
      groupEvent('test.progress', {
        status: 'running',
        progress: 0.1,
        completed: 2,
        total: 20,
        duration: 5,
        group: { ...group, reporting: 1 },
        shards: [
          { shard: 2, runId: 's2', state: 'reporting' },
          { shard: 1, runId: 's1', state: 'finished' },
        ],
      }),
      info,
    );
    const state = new RunStateStore();
    for (const [runId, n] of [
      ['s1', 1],
      ['s2', 2],
    ] as const) {
      state.apply(
        ev('test.started', runId, {
          totalTests: 10,
          testFiles: [],
          run: { runId, framework: 'vitest', startedAt: T0, shard: { current: n, total: 3 } },
        }),
      );
    }
    state.apply(result('s1', ['a'], 'failed'));
    state.apply(result('s2', ['b'], 'passed'));
    const runs = new Map(state.snapshot().map((r) => [r.runId, r]));
    expect(shardRows(info!, runs)).toEqual([
      { key: 's1', label: 'shard 1/3', state: 'finished', completed: 1, total: 10, failed: 1 },
      { key: 's2', label: 'shard 2/3', state: 'reporting', completed: 1, total: 10, failed: 0 },
      { key: 'expected:3', label: 'shard 3/3', state: 'expected', completed: 0, total: 0, failed: 0 },
    ]);
    // test.completed lists the shards' summaries: finished unless interrupted.
    info = groupUpdate(
      groupEvent('test.completed', {
        summary: {},
        group,
        shards: [
          { shard: 1, total: 3, runId: 's1', summary: {} },
          { shard: 2, total: 3, runId: 's2', summary: {}, interrupted: true },
          { shard: 3, total: 3, runId: 's3', summary: {}, interrupted: true, lost: true },
        ],
      }),
      info,
    );
    expect(info?.shards.map((s) => s.state)).toEqual(['finished', 'interrupted', 'lost']);
    expect(info?.reporting).toBe(1);
    // A shard that never reported (no run): listed by the serve as expected, then lost — shown so, not as
    // "expected" for ever.
    const missing = groupUpdate(
      groupEvent('test.completed', {
        summary: {},
        group,
        shards: [
          { shard: 1, total: 3, runId: 's1', summary: {} },
          { shard: 2, total: 3, runId: 's2', summary: {} },
          { shard: 3, total: 3, lost: true, interrupted: true, missing: true },
        ],
      }),
      info,
    );
    expect(shardRows(missing!, runs).map((row) => [row.key, row.label, row.state])).toEqual([
      ['s1', 'shard 1/3', 'finished'],
      ['s2', 'shard 2/3', 'finished'],
      ['missing:3', 'shard 3/3', 'lost'],
    ]);
    // Events of ordinary runs carry no group.
    expect(groupUpdate(result('s1', ['c'], 'passed'), undefined)).toBeUndefined();
  });
});

describe('steps', () => {
  const step = (title: string, stepPath: string[], startedAt?: number) => ({
    title,
    category: 'test.step',
    depth: stepPath.length,
    stepPath,
    duration: 1,
    startedAt,
  });
  it('lists steps as a tree, parent first, siblings in the order they ran', () => {
    // As Playwright ends them: children before their parent.
    const ended = [
      step('check the title', ['open the shop']),
      step('wait', ['open the shop', 'check the title']),
      step('open the shop', []),
      step('buy', []),
    ];
    ended.splice(1, 1);
    ended.unshift(step('wait', ['open the shop', 'check the title']));
    expect(stepsInTreeOrder(ended).map((s) => `${'  '.repeat(s.depth)}${s.title}`)).toEqual([
      'open the shop',
      '  check the title',
      '    wait',
      'buy',
    ]);
    // With start times, those decide.
    expect(
      stepsInTreeOrder([step('b', [], 20), step('a', [], 10), step('a1', ['a'], 11)]).map((s) => s.title),
    ).toEqual(['a', 'a1', 'b']);
  });
});
