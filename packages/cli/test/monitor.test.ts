import type { SnapshotMessage } from '@testwire/protocol';
import { type AnyEventEnvelope, OWNER_LOST } from '@testwire/protocol';
import { describe, expect, it, vi } from 'vitest';
import { formatStatus } from '../src/commands/status.js';
import { createColors, errorLine, formatEvent, formatRunSummary } from '../src/format.js';
import { renderFrame, truncate, visibleLength, WatchModel } from '../src/monitor.js';

const plain = createColors(false);
let seq = 0;
const at = (ms: number) => new Date(1_700_000_000_000 + ms).toISOString();
const ev = (type: string, data: Record<string, unknown>, runId = 'r_1', ms = seq * 10): AnyEventEnvelope =>
  ({
    type,
    timestamp: at(ms),
    seq: ++seq,
    runId,
    data: { framework: 'jest', project: 'web', ...data },
  }) as AnyEventEnvelope;

function result(id: string, title: string, status: string, extra: Record<string, unknown> = {}) {
  return ev('test.result', {
    id,
    titlePath: ['math', title],
    testName: title,
    suite: 'math',
    status,
    duration: 5,
    file: 'math.test.js',
    attempt: 1,
    ...extra,
  });
}

function sampleRun(model: WatchModel) {
  model.apply(ev('test.started', { totalTests: 4, testFiles: ['math.test.js'], totalKnown: true }));
  model.apply(result('t1', 'adds', 'passed'));
  model.apply(
    result('t2', 'divides', 'failed', {
      error: { message: 'expected 1 to equal 2\n  at stack line', type: 'AssertionError' },
    }),
  );
  model.apply(result('t3', 'waits', 'passed', { duration: 2500 }));
  model.apply(
    ev('test.progress', {
      id: 't4',
      testName: 'multiplies',
      titlePath: ['math', 'multiplies'],
      status: 'running',
      progress: 0.75,
      completed: 3,
      total: 4,
      duration: 40,
      file: 'math.test.js',
    }),
  );
  model.apply(
    ev('performance.metrics', {
      memory: { heapUsed: 42.5, heapTotal: 80, external: 1, rss: 120.25 },
      cpu: { usage: 37, load: [0.1] },
      uptime: 3,
    }),
  );
}

/** A 120×40 frame of `model`, without colours, as one string. */
const frame = (model: WatchModel) =>
  renderFrame(model, {
    url: 'u',
    connection: { state: 'connected' },
    colors: plain,
    width: 120,
    height: 40,
  }).join('\n');

describe('WatchModel + renderFrame', () => {
  it('says when watch hosts the endpoint itself (nothing was listening)', () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    const frame = (hosted: boolean) =>
      renderFrame(model, {
        url: 'http://127.0.0.1:1',
        connection: { state: 'connected', hosted },
        colors: plain,
        width: 120,
        height: 40,
      })[0];
    expect(frame(true)).toBe('testwire watch  http://127.0.0.1:1  ● hosting here, runs join it');
    expect(frame(false)).toBe('testwire watch  http://127.0.0.1:1  ● connected');
  });

  it('shows progress, counts, the current test, failures, slow tests and memory', () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    sampleRun(model);
    const lines = renderFrame(model, {
      url: 'http://127.0.0.1:1',
      connection: { state: 'connected' },
      colors: plain,
      width: 120,
      height: 40,
      now: 1_700_000_003_000,
    });
    const text = lines.join('\n');
    expect(lines[0]).toContain('● connected');
    expect(text).toMatch(/● jest web {2}running/);
    expect(text).toMatch(/█+░+ 3\/4 {2}75% {2}2 passed, 1 failed/);
    expect(text).toContain('▸ multiplies  math.test.js');
    expect(text).toContain('✗ math › divides  expected 1 to equal 2');
    expect(text).not.toContain('stack line');
    expect(text).toContain('⧗ math › waits  2.5 s');
    expect(text).toContain('heap 42.5 MB · rss 120.3 MB · cpu 37%');
    expect(model.isDone()).toBe(false);

    model.apply(result('t4', 'multiplies', 'skipped'));
    const completed = model.apply(
      ev('test.completed', {
        summary: { total: 4, passed: 2, failed: 1, skipped: 1, duration: 1234, success: false },
      }),
    );
    expect(completed.completed).toBe(true);
    expect(model.isDone()).toBe(true);
    expect(model.isDone(2)).toBe(false);
    const done = frame(model);
    expect(done).toMatch(/✗ jest web {2}failed {2}1\.2 s/);
    expect(done).toMatch(/4\/4 100% {2}2 passed, 1 failed, 1 skipped/);
    expect(done).not.toContain('▸');
  });

  it('marks a test reported hung while it runs, with its time growing, until it ends', () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    sampleRun(model);
    const hung = {
      type: 'hung_test',
      testName: 'multiplies',
      titlePath: ['math', 'multiplies'],
      id: 't4',
      file: 'math.test.js',
      location: { file: 'math.test.js', line: 12 },
      duration: 61_000,
      elapsed: 61_000,
      threshold: 60_000,
      severity: 'high',
      suggestions: [],
    };
    model.apply(ev('performance.bottleneck', hung, 'r_1', 3000));
    const frame = (now: number) =>
      renderFrame(model, {
        url: 'u',
        connection: { state: 'connected' },
        colors: plain,
        width: 120,
        height: 40,
        now,
      }).join('\n');
    expect(frame(1_700_000_003_000)).toContain(
      '⚠ math › multiplies  HUNG, running for 1 m 01 s  math.test.js:12',
    );
    expect(frame(1_700_000_013_000)).toContain('HUNG, running for 1 m 11 s');
    // Not a slow test: it has not ended.
    expect(frame(1_700_000_003_000)).not.toContain('⧗ multiplies');
    expect(formatEvent(ev('performance.bottleneck', hung), plain)).toContain(
      '⚠ hung math › multiplies still running after 1 m 01 s  math.test.js:12',
    );
    model.apply(result('t4', 'multiplies', 'failed', { error: { message: 'timed out' } }));
    expect(frame(1_700_000_013_000)).not.toContain('HUNG');
  });

  it('announces a run with its tests and files counted in words that agree with the count', () => {
    const started = (totalTests: number, testFiles: string[]) =>
      formatEvent(ev('test.started', { framework: 'jest', totalTests, testFiles }), plain);
    expect(started(1, ['a.test.js'])).toContain('1 test in 1 file');
    expect(started(7, ['a.test.js', 'b.test.js'])).toContain('7 tests in 2 files');
    expect(started(0, [])).toContain('tests not counted yet');
  });

  it('says which tests were running when a run was interrupted', () => {
    const line = formatEvent(
      ev('test.completed', {
        summary: { total: 3, passed: 3, failed: 0, skipped: 0, duration: 9000, success: false },
        interrupted: true,
        interruptedBy: 'SIGTERM',
        runningTests: [{ testName: 'waits', titlePath: ['queue', 'waits'], elapsed: 8000 }],
      }),
      plain,
    );
    expect(line).toContain('interrupted by SIGTERM; running: queue › waits (8.0 s)');
  });

  it('never shows a full bar or 100% before the end, nor a percentage while the total is not known', () => {
    // vitest: the total grows as files are found; every test seen so far has ended.
    const growing = new WatchModel();
    growing.apply(ev('test.started', { totalTests: 0, testFiles: [], totalKnown: false }, 'r_grow'));
    for (const id of ['a', 'b', 'c']) growing.apply({ ...result(id, id, 'passed'), runId: 'r_grow' });
    const unknown = frame(growing);
    expect(unknown).toMatch(/█+░ 3\/3\+ {4}… {2}3 passed/);
    expect(unknown).not.toContain('100%');
    // A known total of 1000 with 999 done rounds to 100%: it must not say so.
    const almost = new WatchModel();
    almost.apply(ev('test.started', { totalTests: 1000, testFiles: [], totalKnown: true }, 'r_999'));
    for (let i = 0; i < 999; i++) almost.apply({ ...result(`t${i}`, `t${i}`, 'passed'), runId: 'r_999' });
    const nearly = frame(almost);
    expect(nearly).toMatch(/░ +999\/1000 +99% +999 passed/);
    expect(nearly).not.toContain('100%');
  });

  it('shows a failed attempt that will be retried as retrying, not as a failure', () => {
    const model = new WatchModel();
    model.apply(ev('test.started', { totalTests: 2, testFiles: [], totalKnown: true }, 'r_retry'));
    model.apply({
      ...result('f', 'flaky', 'failed', { willRetry: true, error: { message: 'boom' } }),
      runId: 'r_retry',
    });
    const text = renderFrame(model, {
      url: 'u',
      connection: { state: 'connected' },
      colors: plain,
      width: 120,
      height: 40,
    }).join('\n');
    expect(text).toMatch(/0\/2 +0% +0 passed, 1 retrying/);
    expect(text).toContain('↻ math › flaky  attempt 1 failed, retrying');
    expect(text).not.toContain('✗ math › flaky');
    expect(text.split('\n').find((line) => line.includes('0/2'))).not.toContain('failed');
  });

  it('keeps every line within the terminal width and the frame within its height', () => {
    const model = new WatchModel();
    sampleRun(model);
    for (let i = 0; i < 20; i++)
      model.apply(
        result(`f${i}`, `failure ${i} ${'x'.repeat(100)}`, 'failed', { error: { message: 'boom' } }),
      );
    const lines = renderFrame(model, {
      url: 'u',
      connection: { state: 'connected' },
      colors: createColors(true),
      width: 50,
      height: 10,
    });
    expect(lines.length).toBeLessThanOrEqual(9);
    for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(49);
    // The essentials survive the cut: the run header and its progress bar.
    expect(lines.some((l) => l.includes('jest'))).toBe(true);
    expect(lines.some((l) => l.includes('█'))).toBe(true);
  });

  it('shows a run that ended interrupted as interrupted, with how far it got, never as failed', () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    model.apply(
      ev('test.started', { totalTests: 10, testFiles: ['math.test.js'], totalKnown: true }, 'r_sig'),
    );
    for (const id of ['a', 'b', 'c']) model.apply({ ...result(id, id, 'passed'), runId: 'r_sig' });
    // A reporter that caught the signal: its summary counts the tests that ran, all passed.
    model.apply(
      ev(
        'test.completed',
        {
          summary: { total: 3, passed: 3, failed: 0, skipped: 0, duration: 900, success: false },
          interrupted: true,
          interruptedBy: 'SIGTERM',
        },
        'r_sig',
      ),
    );
    const text = frame(model);
    const head = text.split('\n').find((line) => line.includes('r_sig'))!;
    expect(head).toContain('✗ jest web  interrupted by SIGTERM');
    expect(head).not.toContain('failed');
    expect(text).toContain(' 3/10  30%  3 passed');
    expect(text).not.toContain('100%');
    const [summary] = formatRunSummary(model.runs()[0]!, plain);
    expect(summary).toBe('✗ jest web  interrupted by SIGTERM  3 passed of 10 in 900 ms');
    expect(model.isDone()).toBe(true);
  });

  it('shows a run completed as owner_lost (its owner process died with it) as interrupted (owner lost)', () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    sampleRun(model);
    expect(model.isDone()).toBe(false);
    model.store.interrupt('r_1', OWNER_LOST);
    const text = frame(model);
    expect(text).toContain('✗ jest web  interrupted (owner lost)');
    expect(text).toContain(' 3/4  75%  2 passed, 1 failed');
    expect(text).not.toContain('▸ multiplies');
    expect(formatRunSummary(model.runs()[0]!, plain)[0]).toMatch(
      /^✗ jest web {2}interrupted \(owner lost\) {2}2 passed, 1 failed of 4 in /,
    );
    expect(model.isDone()).toBe(true);
  });

  it('status says which completed runs were interrupted', () => {
    const lines = formatStatus(
      'http://127.0.0.1:7357',
      {
        server: 'testwire',
        runs: [
          {
            runId: 'r_a',
            framework: 'vitest',
            status: 'completed',
            interrupted: true,
            interruptedBy: 'SIGKILL',
          },
          {
            runId: 'r_b',
            framework: 'jest',
            status: 'completed',
            interrupted: true,
            interruptedBy: 'owner_lost',
          },
          { runId: 'r_c', framework: 'mocha', status: 'completed' },
          { runId: 'r_d', framework: 'mocha', status: 'running' },
        ],
      },
      false,
    );
    const line = (id: string) => lines.find((l) => l.includes(id))!;
    expect(line('r_a')).toContain('completed, interrupted by SIGKILL');
    expect(line('r_b')).toContain('completed, interrupted (owner lost)');
    expect(line('r_c')).toMatch(/completed {2}r_c/);
    expect(line('r_d')).toMatch(/running {2}r_d/);
  });

  /** A snapshot holding one completed mocha run of one passed test. */
  const snapshotOfOnePassedRun = (runId: string, startedAt: string): SnapshotMessage => ({
    type: 'snapshot',
    epoch: 'e',
    seq: 5,
    runs: [
      {
        runId,
        framework: 'mocha',
        status: 'completed',
        startedAt,
        totalTests: 1,
        totalKnown: true,
        testFiles: [],
        counts: { passed: 1, failed: 0, skipped: 0, todo: 0, flaky: 0, completed: 1, retrying: 0 },
        tests: [],
        errors: [],
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, duration: 1, success: true },
        lastSeq: 5,
      },
    ],
  });

  it('counts runs already complete before the monitor started as history, not as this session', () => {
    const model = new WatchModel({ startedAt: Date.parse(at(10_000)) });
    model.applySnapshot(snapshotOfOnePassedRun('old', at(0)));
    expect(model.runs()).toHaveLength(1);
    expect(model.sessionRuns()).toHaveLength(0);
    expect(model.isDone()).toBe(false);
  });

  it('by default, a run complete by the time the model exists counts when it started after this process did', () => {
    // `watch` and a short run started together: on a loaded machine the run can start, and end, before
    // watch's start reaches the model (the demo missed mocha's run so). This process started before it.
    const started = new Date(performance.timeOrigin + 1).toISOString();
    // The model made 5 s after this process started (a slow start).
    const now = vi.spyOn(Date, 'now').mockReturnValue(Math.max(Date.now(), performance.timeOrigin + 5000));
    const model = new WatchModel();
    now.mockRestore();
    model.applySnapshot(snapshotOfOnePassedRun('quick', started));
    expect(model.sessionRuns().map((run) => run.runId)).toEqual(['quick']);
  });
});

describe('baseline regressions, live', () => {
  const slower = {
    baseline: {
      label: 'main',
      regression: true,
      status: 'passed',
      slower: true,
      duration: 500,
      change: 500,
      percentage: 100,
    },
  };

  it("watch lists a run's regressions as their test.result arrives; a retry that passes takes one back", () => {
    const model = new WatchModel({ startedAt: 1_700_000_000_000 });
    model.apply(ev('test.started', { totalTests: 3, testFiles: ['math.test.js'], totalKnown: true }));
    model.apply(result('t1', 'slow', 'passed', { duration: 1000, ...slower }));
    model.apply(
      result('t2', 'flips', 'failed', {
        error: { message: 'broken' },
        baseline: { label: 'main', regression: true, status: 'passed', newlyFailing: true },
      }),
    );
    model.apply(
      result('t3', 'extra', 'passed', { baseline: { label: 'main', regression: false, added: true } }),
    );
    expect(frame(model)).toContain('math › slow ▲ slower vs main: +500 ms (+100 %)');
    expect(frame(model)).toContain('math › flips ▲ newly failing vs main');
    expect(frame(model)).not.toContain('extra ▲');
    model.apply(result('t2', 'flips', 'passed', { attempt: 2 }));
    expect(frame(model)).not.toContain('math › flips ▲');
  });

  it('tail notes a regression on its test.result and sums up baseline.compared and baseline.saved', () => {
    expect(formatEvent(result('t1', 'slow', 'passed', { duration: 1000, ...slower }), plain)).toMatch(
      /test\.result +✓ math › slow \(1(\.0)? ?s\) ▲ slower vs main: \+500 ms \(\+100 %\)$/,
    );
    expect(
      formatEvent(
        ev('baseline.compared', {
          baseline: 'main',
          comparison: {
            testsAdded: 1,
            testsRemoved: 1,
            testsChanged: 1,
            performanceRegression: true,
            coverageImproved: false,
            summary: { regression: true, improvement: false, score: 0.5 },
          },
          regressions: [{ test: 'slow', change: 500, percentage: 100 }],
        }),
        plain,
      ),
    ).toMatch(
      /baseline\.compared +vs main: regression \(score 0\.5\) 1 added, 1 removed, 1 changed, 1 slower$/,
    );
    expect(
      formatEvent(
        ev('baseline.saved', { label: 'main', path: './.test-baselines/main.json', size: 10, tests: 4 }),
        plain,
      ),
    ).toMatch(/baseline\.saved +saved main \.\/\.test-baselines\/main\.json: 4 tests$/);
  });
});

describe('formatting', () => {
  it('formats events as one readable line', () => {
    const line = formatEvent(
      result('t2', 'divides', 'failed', {
        error: { message: 'expected 1 to equal 2', type: 'AssertionError' },
      }),
      plain,
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} test\.result +✗ math › divides \(5 ms\) expected 1 to equal 2$/,
    );
  });

  it('summarizes a run with its failures', () => {
    const model = new WatchModel();
    sampleRun(model);
    const [head, failure] = formatRunSummary(model.runs()[0], plain);
    expect(head).toContain('… jest web  running  2 passed, 1 failed of 4');
    expect(failure).toContain('✗ math › divides  expected 1 to equal 2');
    model.apply(
      ev('coverage.completed', {
        provider: 'babel',
        summary: { total: 75, statements: 80, branches: 50, functions: 100, lines: 70 },
        thresholdsMet: true,
        files: 3,
        reports: ['text'],
      }),
    );
    const [, coverage, afterCoverage] = formatRunSummary(model.runs()[0], plain);
    expect(coverage).toBe('    coverage  statements 80% · branches 50% · functions 100% · lines 70%');
    expect(afterCoverage).toContain('✗ math › divides');
  });

  it('says what failed: the summary, computed from the message and values for producers without one', () => {
    expect(errorLine({ message: 'boom\n    at x.js:1' })).toBe('boom');
    expect(
      errorLine({ message: 'Expected values to be strictly equal:\n\n1 !== 2\n', type: 'AssertionError' }),
    ).toBe('1 !== 2');
    expect(
      errorLine({
        message: 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12',
        type: 'Error',
        expected: '11',
        actual: '12',
      }),
    ).toBe('expected 11, received 12');
    expect(errorLine({ message: 'x', summary: 'expected 120 to be 108', type: 'AssertionError' })).toBe(
      'expected 120 to be 108',
    );
    expect(errorLine({ message: 'TimeoutError: waited 5 s', type: 'TimeoutError' })).toBe(
      'TimeoutError: waited 5 s',
    );
    expect(errorLine({ message: "Cannot read properties of null (reading 'x')", type: 'TypeError' })).toBe(
      "TypeError: Cannot read properties of null (reading 'x')",
    );
  });

  it('says the step a failure was in, and prints a step as its path, not as cut-off JSON', () => {
    const declined = { message: 'expected "approved"', summary: 'expected "approved", received "declined"' };
    expect(errorLine({ ...declined, step: ['pay', 'confirm payment'] })).toBe(
      'in pay › confirm payment: expected "approved", received "declined"',
    );
    const step = (error?: object) =>
      formatEvent(
        ev('test.step', {
          id: 't_1',
          titlePath: ['checkout flow'],
          testName: 'checkout flow',
          file: 'tests/steps.spec.js',
          attempt: 1,
          title: 'confirm payment',
          category: 'test.step',
          stepPath: ['pay'],
          depth: 1,
          duration: 12,
          ...(error ? { error } : {}),
        }),
        plain,
      );
    expect(step()).toMatch(/ test\.step +↳ pay › confirm payment test\.step \(12 ms\)$/);
    // the step's own error: the line names the step once
    expect(step({ ...declined, step: ['pay', 'confirm payment'] })).toMatch(
      / test\.step +✗ pay › confirm payment test\.step \(12 ms\) expected "approved", received "declined"$/,
    );
  });

  it('truncates ANSI text by visible width', () => {
    const red = createColors(true).red('abcdefghij');
    const cut = truncate(red, 5);
    expect(visibleLength(cut)).toBe(5);
    expect(cut.endsWith('…\x1b[0m')).toBe(true);
    expect(truncate('abc', 5)).toBe('abc');
  });
});
