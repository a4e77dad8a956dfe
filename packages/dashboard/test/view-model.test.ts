/** The page's pure view functions, fed by a real RunStateStore (the reducer the client uses). */
import { type AnyEventEnvelope, type CoverageThresholdData, RunStateStore } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { plainText } from '../src/app/dom.js';
import {
  coverageFailures,
  EventLog,
  errorDetails,
  failureLine,
  failureLocation,
  failuresOf,
  firstLine,
  formatDuration,
  orderRuns,
  parseTypeFilter,
  runCard,
  runLabel,
  SLOW_LIST_MIN_MS,
  slowTestsOf,
  summarizeEvent,
} from '../src/app/view-model.js';

let seq = 0;
function ev(
  type: string,
  runId: string,
  data: Record<string, unknown>,
  timestamp?: string,
): AnyEventEnvelope {
  seq++;
  return {
    type,
    seq,
    runId,
    timestamp: timestamp ?? new Date(Date.UTC(2026, 0, 1, 10, 0, 0, seq)).toISOString(),
    data: { framework: 'vitest', project: runId === 'r1' ? 'web' : undefined, ...data },
  } as AnyEventEnvelope;
}

function result(runId: string, name: string, status: string, extra: Record<string, unknown> = {}) {
  return ev('test.result', runId, {
    id: `${runId}:${name}`,
    titlePath: ['math', name],
    testName: name,
    suite: 'math',
    status,
    duration: 10,
    file: 'src/math.test.ts',
    line: 3,
    attempt: 1,
    ...extra,
  });
}

function store(...events: AnyEventEnvelope[]): RunStateStore {
  const s = new RunStateStore();
  for (const e of events) s.apply(e);
  return s;
}

describe('runCard', () => {
  it('counts, progress, title, framework and live duration of a running run', () => {
    const s = store(
      ev(
        'test.started',
        'r1',
        {
          totalTests: 4,
          testFiles: ['src/math.test.ts'],
          run: {
            runId: 'r1',
            framework: 'vitest',
            frameworkVersion: '3.2.4',
            startedAt: 0,
            shard: { current: 1, total: 2 },
          },
        },
        '2026-01-01T10:00:00.000Z',
      ),
      result('r1', 'adds', 'passed'),
      result('r1', 'subtracts', 'failed', { error: { message: 'expected 1 to be 2' } }),
      ev('test.progress', 'r1', {
        status: 'running',
        testName: 'divides',
        file: 'src/math.test.ts',
        progress: 0.5,
        completed: 2,
        total: 4,
        duration: 5,
      }),
    );
    // A start time out of Date's range (nanoseconds sent as ms) is shown as none, never thrown.
    const far = structuredClone(s.get('r1')!);
    far.run = { ...far.run, startedAt: 8.64e15 + 1 } as typeof far.run;
    expect(runCard(far, Date.now()).started).toBeUndefined();
    const card = runCard(s.get('r1')!, Date.parse('2026-01-01T10:00:02.500Z'));
    expect(card).toMatchObject({
      title: 'web',
      framework: 'vitest 3.2.4',
      outcome: 'running',
      total: 4,
      totalKnown: true,
      passed: 1,
      failed: 1,
      completed: 2,
      progress: 0.5,
      current: 'divides',
      currentFile: 'src/math.test.ts',
      durationMs: 2500,
      tags: ['shard 1/2'],
    });
  });

  it('a failed attempt the runner will retry counts as retrying, not as failed', () => {
    const s = store(
      ev('test.started', 'r3', { totalTests: 2, testFiles: [] }),
      result('r3', 'flaky', 'failed', { willRetry: true, error: { message: 'boom' } }),
    );
    expect(runCard(s.get('r3')!, Date.now())).toMatchObject({ failed: 0, retrying: 1, completed: 0 });
    s.apply(result('r3', 'flaky', 'passed', { attempt: 2, flaky: true }));
    expect(runCard(s.get('r3')!, Date.now())).toMatchObject({ passed: 1, failed: 0, retrying: 0, flaky: 1 });
  });

  it('a completed run takes the verdict and duration of the summary; unknown totals have no progress', () => {
    const s = store(ev('test.started', 'r2', { totalTests: 0, testFiles: [] }), result('r2', 'a', 'passed'));
    expect(runCard(s.get('r2')!, Date.now())).toMatchObject({
      title: 'r2',
      totalKnown: false,
      progress: undefined,
      total: 1,
    });
    s.apply(
      ev('test.completed', 'r2', {
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, duration: 1234, success: false },
      }),
    );
    // success false with no failed test (bail, coverage threshold): the runner's verdict wins
    expect(runCard(s.get('r2')!, Date.now())).toMatchObject({
      outcome: 'failed',
      durationMs: 1234,
      progress: 1,
      tags: [],
    });
    s.apply(
      ev('coverage.completed', 'r2', {
        provider: 'v8',
        summary: { total: 80, statements: 80, branches: 75, functions: 90, lines: 66.66 },
        thresholdsMet: false,
        files: 1,
        reports: [],
      }),
    );
    // Every metric the run reported, in a fixed order.
    expect(runCard(s.get('r2')!, Date.now()).coverage).toEqual([
      { metric: 'lines', pct: 66.7 },
      { metric: 'statements', pct: 80 },
      { metric: 'functions', pct: 90 },
      { metric: 'branches', pct: 75 },
    ]);
  });

  it('measures a running run to now only while live; else to its last event; an owner_lost run as the client ended it', () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, 0) + ms).toISOString();
    const s = store(ev('test.started', 'r7', { totalTests: 2, testFiles: [] }, at(0)));
    s.apply(
      ev(
        'test.result',
        'r7',
        { id: 'a', testName: 'a', status: 'passed', duration: 1, file: 'f' },
        at(2_000),
      ),
    );
    const heardAt = Date.parse(at(2_000));
    const now = Date.parse(at(30_000));
    expect(runCard(s.get('r7')!, now, { live: true, heardAt }).durationMs).toBe(30_000);
    // Catching up or endpoint gone: nothing says it still runs; its time stops at its last event, and says when.
    expect(runCard(s.get('r7')!, now, { live: false, heardAt })).toMatchObject({
      durationMs: 2_000,
      heardAt: expect.stringMatching(/^\d\d:\d\d:\d\d$/),
    });
    // The page reconnected at 30 s to a new owner without the run: the client completed it (owner_lost) as
    // ended when it lost the old owner, at 3 s. The card shows the client's figure, not one of its own (the
    // run's last event, 2 s; the reconnect, 30 s).
    s.interrupt('r7', 'owner_lost', new Date(Date.parse(at(3_000))));
    const card = runCard(s.get('r7')!, now + 5_000, { live: true, heardAt });
    expect(card).toMatchObject({ durationMs: 3_000, badge: 'interrupted' });
    expect(card).not.toHaveProperty('heardAt');
  });

  it('a run that ended interrupted says so on its badge, not just failed; an owner_lost one too', () => {
    const s = store(ev('test.started', 'r4', { totalTests: 10, testFiles: [] }), result('r4', 'a', 'passed'));
    s.apply(
      ev('test.completed', 'r4', {
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, duration: 50, success: false },
        interrupted: true,
        interruptedBy: 'SIGTERM',
      }),
    );
    expect(runCard(s.get('r4')!, Date.now())).toMatchObject({
      outcome: 'failed',
      badge: 'interrupted',
      interruptedText: 'interrupted by SIGTERM',
      passed: 1,
    });
    const owner = store(
      ev('test.started', 'r5', { totalTests: 3, testFiles: [] }),
      result('r5', 'a', 'failed'),
    );
    owner.interrupt('r5', 'owner_lost');
    expect(runCard(owner.get('r5')!, Date.now())).toMatchObject({
      outcome: 'failed',
      badge: 'interrupted',
      interruptedText: 'interrupted: owner process lost',
    });
    // Not interrupted: the badge is the outcome, nothing more.
    const plain = store(
      ev('test.started', 'r6', { totalTests: 1, testFiles: [] }),
      result('r6', 'a', 'passed'),
    );
    plain.apply(
      ev('test.completed', 'r6', {
        summary: { total: 1, passed: 1, failed: 0, skipped: 0, duration: 5, success: true },
        interrupted: false,
      }),
    );
    const card = runCard(plain.get('r6')!, Date.now());
    expect(card.badge).toBe('passed');
    expect(card).not.toHaveProperty('interruptedText');
  });

  it('labels a run by its start time and, when the run sent them, branch and commit', () => {
    const startedAt = Date.UTC(2026, 0, 1, 10, 31, 2);
    const run = (ci?: Record<string, string>) =>
      store(
        ev('test.started', 'r9', {
          project: 'web',
          totalTests: 1,
          testFiles: [],
          run: {
            runId: 'r9',
            framework: 'jest',
            frameworkVersion: '30.2.0',
            startedAt,
            ...(ci ? { ci } : {}),
          },
        }),
      ).get('r9')!;
    const clock = new Date(startedAt);
    const hhmmss = [clock.getHours(), clock.getMinutes(), clock.getSeconds()]
      .map((n) => String(n).padStart(2, '0'))
      .join(':');
    expect(runLabel(run())).toBe(`web · vitest 30.2.0 · ${hhmmss}`);
    expect(runLabel(run({ branch: 'main', commit: '9fceb02d0ae598e95dc970b74767f19372d61af8' }))).toBe(
      `web · vitest 30.2.0 · ${hhmmss} · main@9fceb02`,
    );
    expect(runCard(run({ commit: 'abcdef0123' }), Date.now())).toMatchObject({
      started: hhmmss,
      vcs: '@abcdef0',
    });
  });

  it('orders running runs first, then the most recent', () => {
    const s = store(
      ev('test.started', 'old', { totalTests: 1, testFiles: [] }, '2026-01-01T09:00:00.000Z'),
      ev('test.completed', 'old', {
        summary: { total: 0, passed: 0, failed: 0, skipped: 0, duration: 1, success: true },
      }),
      ev('test.started', 'new', { totalTests: 1, testFiles: [] }, '2026-01-01T11:00:00.000Z'),
      ev('test.completed', 'new', {
        summary: { total: 0, passed: 0, failed: 0, skipped: 0, duration: 1, success: true },
      }),
      ev('test.started', 'live', { totalTests: 1, testFiles: [] }, '2026-01-01T08:00:00.000Z'),
    );
    expect(orderRuns(s.snapshot()).map((r) => r.runId)).toEqual(['live', 'new', 'old']);
  });
});

describe('failures', () => {
  it('lists final failed attempts and failures outside tests, with first line and file:line', () => {
    const s = store(
      ev('test.started', 'r1', { totalTests: 3, testFiles: [] }),
      result('r1', 'retried', 'failed', { willRetry: true, error: { message: 'first try' } }),
      result('r1', 'adds', 'failed', {
        error: {
          message: '\u001b[31mexpected 1 to be 2\u001b[39m\n\n- Expected\n+ Received',
          stack:
            'AssertionError: expected 1 to be 2\n    at helper (src/util.ts:4:9)\n    at src/math.test.ts:12:17\n    at run (node_modules/vitest/dist/x.js:1:1)',
        },
      }),
      ev('test.failed', 'r1', {
        scope: 'file',
        testName: '',
        suite: '',
        status: 'failed',
        duration: 0,
        file: 'src/broken.test.ts',
        error: { message: 'SyntaxError: Unexpected token' },
      }),
    );
    const { items, total } = failuresOf(s.snapshot());
    expect(total).toBe(2);
    expect(items.map((i) => [i.scope, i.title, i.firstLine, i.location])).toEqual([
      ['file', 'src/broken.test.ts', 'SyntaxError: Unexpected token', 'src/broken.test.ts'],
      ['test', 'math › adds', 'expected 1 to be 2', 'src/math.test.ts:12'],
    ]);
    expect(items[1].details).toContain('- Expected');
    expect(items[1].details).toContain('at src/math.test.ts:12:17');
    expect(items[1].details).not.toContain('\u001b');
  });

  it('bounds the list but counts everything', () => {
    const events = [ev('test.started', 'r1', { totalTests: 30, testFiles: [] })];
    for (let i = 0; i < 30; i++)
      events.push(result('r1', `t${i}`, 'failed', { error: { message: `boom ${i}` } }));
    const { items, total } = failuresOf(store(...events).snapshot(), 10);
    expect(total).toBe(30);
    expect(items).toHaveLength(10);
  });

  it('failureLocation falls back to the declared location', () => {
    expect(failureLocation({ message: 'x', stack: 'Error: x\n    at other.ts:1:1' }, 'a.test.ts', 7)).toBe(
      'a.test.ts:7',
    );
    expect(
      failureLocation({ message: 'x', stack: 'Error: x\n    at /abs/root/a.test.ts:9:3' }, 'a.test.ts', 7),
    ).toBe('a.test.ts:9');
    expect(failureLocation(undefined, 'a.test.ts')).toBe('a.test.ts');
    expect(failureLocation(undefined, undefined)).toBeUndefined();
  });

  it('the one line says what failed: the reporter’s summary, or one computed for older reporters', () => {
    const jest = {
      message: 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12',
      expected: '11',
      actual: '12',
    };
    const { items } = failuresOf(
      store(
        ev('test.started', 'r1', { totalTests: 2, testFiles: [] }),
        result('r1', 'old', 'failed', { error: jest }),
        result('r1', 'new', 'failed', { error: { message: 'x', summary: '36 !== 35' } }),
      ).snapshot(),
    );
    expect(items.map((i) => i.firstLine)).toEqual(['expected 11, received 12', '36 !== 35']);
    expect(failureLine({ message: 'Expected values to be strictly equal:\n\n36 !== 35\n' })).toBe(
      '36 !== 35',
    );
    expect(
      summarizeEvent(
        ev('test.failed', 'r1', {
          testName: 'old',
          scope: 'test',
          error: jest,
          status: 'failed',
          duration: 1,
        }),
      ),
    ).toContain('old: expected 11, received 12');
  });

  it('the expanded view shows the message once, then what it does not show, then the frames', () => {
    const jest = errorDetails({
      message: 'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12',
      expected: '11',
      actual: '12',
      stack: '    at Object.toBe (math.test.js:4:42)',
      fullStack:
        '    at Object.toBe (math.test.js:4:42)\n    at callAsyncCircusFn (node_modules/jest-circus/build/utils.js:1:1)\n    at new Promise (<anonymous>)',
    });
    expect(jest).toBe(
      'expect(received).toBe(expected) // Object.is equality\n\nExpected: 11\nReceived: 12\n\n    at Object.toBe (math.test.js:4:42)\n    … 2 frames of node_modules and runner internals',
    );
    // vitest: the diff is not in the message; the values are in the diff.
    const vitest = errorDetails({
      message: 'expected 120 to be 108 // Object.is equality',
      expected: '108',
      actual: '120',
      diff: '- Expected\n+ Received\n\n- 108\n+ 120',
    });
    expect(vitest).toBe(
      'expected 120 to be 108 // Object.is equality\n\n- Expected\n+ Received\n\n- 108\n+ 120',
    );
    // node:assert's deep diff shows neither value as such.
    expect(
      errorDetails({
        message: 'Expected values to be strictly deep-equal:\n+ a: 1\n- a: 2',
        expected: '{ a: 2 }',
        actual: '{ a: 1 }',
      }),
    ).toContain('expected: { a: 2 }\nactual:   { a: 1 }');
    // An older reporter's stack starts with the message: shown once.
    const old = errorDetails({
      message: 'expect(received).toBe(expected)\n\nExpected: 11\nReceived: 12',
      stack:
        'Error: expect(received).toBe(expected)\n\nExpected: 11\nReceived: 12\n    at Object.toBe (math.test.js:4:42)',
    });
    expect(old.match(/expect\(received\)/g)).toHaveLength(1);
    expect(old).toContain('    at Object.toBe (math.test.js:4:42)');
  });

  it('firstLine skips blank lines and bounds length', () => {
    expect(firstLine('\n\n  hello  \nworld')).toBe('hello');
    expect(firstLine('x'.repeat(500), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(firstLine(undefined)).toBe('');
  });
});

describe('coverageFailures', () => {
  it('says what is below its threshold, per file when the thresholds apply per file', () => {
    const data = (failures: unknown[], passed = false) =>
      ({ passed, thresholds: {}, actual: {}, failures }) as unknown as CoverageThresholdData;
    expect(coverageFailures(undefined)).toEqual([]);
    expect(coverageFailures(data([], true))).toEqual([]);
    expect(
      coverageFailures(
        data([
          { metric: 'lines', threshold: 80, actual: 45.26, deficit: 34.74, file: 'src/a.ts' },
          { metric: 'statements', threshold: 75, actual: 70, deficit: 5 },
          { metric: 'branches', threshold: -10, actual: 12, deficit: 2, glob: 'src/**' },
        ]),
      ),
    ).toEqual(['src/a.ts: lines 45.3% < 80%', 'statements 70% < 75%', 'src/**: branches 12 uncovered > 10']);
  });
});

describe('slowTestsOf', () => {
  it('keeps the N slowest finished tests, slowest first, flagging bottlenecks', () => {
    const events = [ev('test.started', 'r1', { totalTests: 50, testFiles: [] })];
    for (let i = 0; i < 50; i++) events.push(result('r1', `t${i}`, 'passed', { duration: (i * 37) % 50 }));
    const slow = slowTestsOf(store(...events).snapshot(), 5, new Set(['r1:t29']));
    expect(slow.map((s) => s.durationMs)).toEqual([49, 48, 47, 46, 45]);
    // 37·i mod 50 = 49 at i = 27; 48 at i = 24; 47 at i = 21 ...; 45 at i = 15... and t29 is 73%50=23 -> not in top 5
    expect(slow[0].title).toBe('math › t27');
    expect(slow.some((s) => s.flagged)).toBe(false);
    const flagged = slowTestsOf(store(...events).snapshot(), 50, new Set(['r1:t29']));
    expect(flagged.find((s) => s.title === 'math › t29')?.flagged).toBe(true);
  });

  it('leaves out skipped and todo tests and tests too short to matter', () => {
    const slow = slowTestsOf(
      store(
        ev('test.started', 'r1', { totalTests: 5, testFiles: [] }),
        result('r1', 'skipped', 'skipped', { duration: 5000 }),
        result('r1', 'todo', 'todo', { duration: 4000 }),
        result('r1', 'instant', 'passed', { duration: SLOW_LIST_MIN_MS - 1 }),
        result('r1', 'ran', 'passed', { duration: 300 }),
        result('r1', 'broke', 'failed', { duration: 200 }),
      ).snapshot(),
    );
    expect(slow.map((s) => s.title)).toEqual(['math › ran', 'math › broke']);
  });
});

describe('event log', () => {
  it('keeps the last N events, newest first', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.push(result('r', `t${i}`, 'passed'));
    expect(log.size).toBe(3);
    expect(log.newestFirst().map((e) => (e.event.data as { testName: string }).testName)).toEqual([
      't4',
      't3',
      't2',
    ]);
    expect(log.oldestKey).toBe(3);
    log.clear();
    expect(log.newestFirst()).toEqual([]);
  });

  it('filters by pattern, substring and exclusion', () => {
    const f = parseTypeFilter('test.*, !test.output');
    expect(['test.result', 'test.output', 'coverage.progress'].filter(f.matches)).toEqual(['test.result']);
    expect(parseTypeFilter('*.error').matches('system.error')).toBe(true);
    expect(parseTypeFilter('*.error').matches('test.failed')).toBe(false);
    expect(parseTypeFilter('Result').matches('test.result')).toBe(true);
    expect(parseTypeFilter('  ').all).toBe(true);
    const bad = parseTypeFilter('test.(');
    expect(bad.error).toMatch(/not an event type or pattern/);
    expect(bad.matches('test.result')).toBe(true);
  });

  it('summarizes events in one bounded line and never throws on odd data', () => {
    expect(summarizeEvent(result('r', 'adds', 'passed'))).toBe('✓ math › adds (10 ms)');
    expect(
      summarizeEvent(
        ev('test.output', 'r', { output: 'hello\nworld', stream: 'stdout', outputType: 'stdout' }),
      ),
    ).toBe('[stdout] hello');
    expect(
      summarizeEvent(
        ev('performance.leak', 'r', {
          type: 'open_handle',
          leakType: 'TCPSERVERWRAP',
          testName: 'test/server.test.js',
          location: 'test/server.test.js:3:37',
          size: 0,
        }),
      ),
    ).toBe('open TCPSERVERWRAP after the run, made at test/server.test.js:3:37');
    expect(
      summarizeEvent(
        ev('performance.leak', 'r', {
          type: 'memory_leak',
          leakType: 'heap_growth',
          testName: 'test/file6.test.js',
          size: 42.5,
        }),
      ),
    ).toBe('heap_growth in test/file6.test.js: 42.5 MB');
    const weird = {
      type: 'test.completed',
      seq: 1,
      runId: 'r',
      timestamp: '',
      data: { summary: null },
    } as unknown as AnyEventEnvelope;
    expect(summarizeEvent(weird)).toContain('passed');
    const unknown = {
      type: 'x.y',
      seq: 1,
      runId: 'r',
      timestamp: '',
      data: { a: 'b'.repeat(500) },
    } as unknown as AnyEventEnvelope;
    expect(summarizeEvent(unknown, 50)).toHaveLength(50);
  });

  it('says on a test.result what its baseline comparison found, as it arrives', () => {
    const slow = result('r', 'adds', 'passed');
    (slow.data as Record<string, unknown>).baseline = {
      label: 'main',
      regression: true,
      status: 'passed',
      slower: true,
      duration: 5,
      change: 500,
      percentage: 100,
    };
    expect(summarizeEvent(slow)).toBe('✓ math › adds (10 ms) ▲ slower vs main +500 ms (+100 %)');
    const failing = result('r', 'adds', 'failed');
    (failing.data as Record<string, unknown>).baseline = {
      label: 'main',
      regression: true,
      newlyFailing: true,
    };
    expect(summarizeEvent(failing)).toContain('▲ newly failing vs main');
  });

  it('formats durations', () => {
    expect([
      formatDuration(12.4),
      formatDuration(1500),
      formatDuration(125_000),
      formatDuration(3_725_000),
    ]).toEqual(['12 ms', '1.5 s', '2m 05s', '1h 02m']);
    expect(formatDuration(undefined)).toBe('–');
  });
});

describe('plainText', () => {
  it('drops bidirectional overrides and isolates from untrusted text, and nothing else', () => {
    expect(plainText('login \u202edessap')).toBe('login dessap');
    expect(plainText('a\u2066b\u2069c \u202dd')).toBe('abc d');
    const plain = 'ordinary title, 日本語, emoji 🎉';
    expect(plainText(plain)).toBe(plain);
  });
});
