import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_EVENT_BYTES, validatePublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReporterCore } from '../src/index.js';
import { sinkCore } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  vi.restoreAllMocks();
});
function setup(...args: Parameters<typeof sinkCore>) {
  const context = sinkCore(...args);
  cleanups.push(context.cleanup);
  return context;
}

describe('run model', () => {
  it("keeps every event under the broadcaster's size bound: errors and test files are listed up to a count", async () => {
    const { core, events } = setup();
    const files = Array.from({ length: 12_000 }, (_, i) => `test/${'deep/'.repeat(20)}file-${i}.test.js`);
    core.runStarted({ testFiles: files });
    // Errors at their size bounds (errors.ts): a 16 KB message, expected and actual, and a long stack.
    const big = (i: number) => {
      const error = new Error(`${i} ${'x'.repeat(20_000)}`) as Error & { expected: string; actual: string };
      error.expected = 'e'.repeat(5000);
      error.actual = 'a'.repeat(5000);
      error.stack = `Error: ${error.message}\n${'    at f (/abs/src/a.js:1:2)\n'.repeat(400)}`;
      return error;
    };
    const ref = { file: 'a.test.js', titlePath: ['many errors'] };
    core.testStarted(ref);
    core.testResult(ref, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      errors: Array.from({ length: 60 }, (_, i) => big(i)),
    });
    for (let i = 0; i < 60; i++) core.runError(big(i));
    await core.runCompleted({ success: false });
    const of = (type: string) => events.find((e) => e.type === type)?.data as Record<string, any>;
    expect(of('test.started').testFiles).toHaveLength(10_000);
    expect(of('test.result').errors).toHaveLength(20);
    expect(of('test.failed').errors).toHaveLength(20);
    expect(of('test.completed').errors).toHaveLength(20);
    for (const event of events) {
      expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
      expect(Buffer.byteLength(JSON.stringify(event)), event.type).toBeLessThan(MAX_EVENT_BYTES);
    }
  });

  it('starts a run with run info, project from package.json and relative test files', async () => {
    const { core, events, rootDir } = setup({ frameworkVersion: '30.0.0' });
    core.runStarted({ testFiles: [join(rootDir, 'src/a.test.js')], options: { ci: true, fn: () => 1 } });
    await core.runCompleted({ success: true });
    const [started] = events;
    expect(started.type).toBe('test.started');
    expect(started.runId).toBe(core.runId);
    expect(started.runId).toMatch(/^r_[0-9a-z]+$/);
    const data = started.data as any;
    expect(data).toMatchObject({
      framework: 'jest',
      project: 'fixture-project',
      totalTests: 0,
      totalKnown: false,
      testFiles: ['src/a.test.js'],
      options: { ci: true },
    });
    expect(data.options.fn).toBeUndefined();
    expect(data.run).toMatchObject({
      framework: 'jest',
      frameworkVersion: '30.0.0',
      project: 'fixture-project',
      pid: process.pid,
    });
    expect(data.run.rootName).toMatch(/^testwire-core-/);
    expect(JSON.stringify(events)).not.toContain(rootDir);
  });

  it('every event it emits is valid for the broadcaster ingress and carries framework + project', async () => {
    const { core, events } = setup({ slowTestThreshold: 10 });
    const ref = { file: 'a.test.js', titlePath: ['suite', 'slow'] };
    core.runStarted({ totalTests: 2 });
    core.testStarted(ref);
    core.output(ref, 'hello\n', 'stdout', 'log');
    core.testResult(ref, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 50,
      errors: [new Error('boom')],
    });
    core.fileFailed('b.test.js', new SyntaxError('bad syntax'));
    core.hookFailed(undefined, new Error('setup'), 'beforeAll');
    core.runError('unhandled rejection');
    await core.runCompleted({ success: false });
    expect(events.map((event) => event.type)).toContain('performance.bottleneck');
    for (const event of events) {
      const result = validatePublishedEvent(event);
      expect(result.ok ? 'ok' : result.error).toBe('ok');
      expect(event.data).toMatchObject({ framework: 'jest', project: 'fixture-project' });
    }
  });

  it('a call after runCompleted starts a new run with a new runId (watch mode)', async () => {
    const { core, of } = setup();
    core.runStarted({ watch: true });
    const first = core.runId;
    await core.runCompleted({ success: true });
    core.testStarted({ file: 'a.test.js', titlePath: ['t'] });
    expect(core.runId).not.toBe(first);
    await core.runCompleted({ success: true });
    core.runStarted({ watch: true });
    const started = of('test.started');
    expect(started).toHaveLength(3);
    expect(new Set(started.map((event) => event.runId)).size).toBe(3);
    expect(of('test.completed').map((event) => event.runId)).toEqual([started[0].runId, started[1].runId]);
  });

  it('a second runCompleted does not invent an empty run', async () => {
    const { core, of } = setup();
    core.runStarted();
    await core.runCompleted({ success: true });
    await core.runCompleted({ success: true });
    expect(of('test.started')).toHaveLength(1);
    expect(of('test.completed')).toHaveLength(1);
  });

  it("the runner's own run duration and the reason it stopped early, when it gives them, are the run's", async () => {
    const { core, of } = setup();
    core.runStarted();
    await core.runCompleted({
      success: false,
      interrupted: true,
      interruptedBy: 'bail',
      duration: 123_456.7,
    });
    core.runStarted();
    // not a duration, and no reason without `interrupted`: the reporter's own measure, no interruptedBy
    await core.runCompleted({ success: true, interruptedBy: 'bail', duration: Number.NaN });
    const [bailed, plain] = of('test.completed');
    expect(bailed?.data).toMatchObject({
      interrupted: true,
      interruptedBy: 'bail',
      summary: { duration: 123_457 },
    });
    expect(plain?.data.interruptedBy).toBeUndefined();
    expect(plain?.data.interrupted).toBeUndefined();
    expect(plain?.data.summary.duration).toBeGreaterThanOrEqual(0);
    expect(plain?.data.summary.duration).toBeLessThan(60_000);
    for (const event of of('test.completed'))
      expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('late output after the run completed does not invent a new run', async () => {
    const { core, of } = setup();
    core.runStarted();
    await core.runCompleted({ success: true });
    core.output(undefined, 'late', 'stdout');
    expect(of('test.started')).toHaveLength(1);
    expect(of('test.output')).toHaveLength(0);
  });

  it('reads CI metadata from the environment', () => {
    const { core, of } = setup();
    vi.stubEnv('GITHUB_ACTIONS', 'true');
    vi.stubEnv('GITHUB_SHA', 'abc123');
    vi.stubEnv('GITHUB_REF_NAME', 'main');
    vi.stubEnv('GITHUB_SERVER_URL', 'https://github.com');
    vi.stubEnv('GITHUB_REPOSITORY', 'o/r');
    vi.stubEnv('GITHUB_RUN_ID', '42');
    core.runStarted();
    vi.unstubAllEnvs();
    expect(of('test.started')[0].data.run.ci).toEqual({
      provider: 'github-actions',
      branch: 'main',
      commit: 'abc123',
      buildUrl: 'https://github.com/o/r/actions/runs/42',
    });
  });
});

describe('stable ids', () => {
  it('are identical across runs and cores, and differ by file, title path, project and repeat index', () => {
    const a = setup();
    const ref = { file: join(a.rootDir, 'src/math.test.js'), titlePath: ['math', 'adds'] };
    const id = a.core.idFor(ref);
    expect(id).toMatch(/^t_[0-9a-f]{16}$/);
    // Same test named by relative path, in a second core with the same project name and another root.
    const b = setup();
    expect(b.core.idFor({ file: 'src/math.test.js', titlePath: ['math', 'adds'] })).toBe(id);
    expect(a.core.idFor({ ...ref, titlePath: ['math', 'multiplies'] })).not.toBe(id);
    expect(a.core.idFor({ ...ref, file: 'src/other.test.js' })).not.toBe(id);
    expect(a.core.idFor({ ...ref, project: 'chromium' })).not.toBe(id);
    expect(a.core.idFor({ ...ref, repeatIndex: 1 })).not.toBe(id);
    // Twins: ordinal 0 is the id a unique title always had; 1 and 2 are two more tests.
    expect(a.core.idFor({ ...ref, ordinal: 0 })).toBe(id);
    const twins = new Set([id, a.core.idFor({ ...ref, ordinal: 1 }), a.core.idFor({ ...ref, ordinal: 2 })]);
    expect(twins.size).toBe(3);
    expect(b.core.idFor({ file: 'src/math.test.js', titlePath: ['math', 'adds'], ordinal: 1 })).toBe(
      a.core.idFor({ ...ref, ordinal: 1 }),
    );
    // ['a b'] vs ['a', 'b'] must not collide
    expect(a.core.idFor({ file: 'x', titlePath: ['a b'] })).not.toBe(
      a.core.idFor({ file: 'x', titlePath: ['a', 'b'] }),
    );
  });

  it('test.result carries id, titlePath, testName, suite, relative file and location', () => {
    const { core, of, rootDir } = setup();
    const ref = {
      file: pathToFileURL(join(rootDir, 'src', 'math.test.js')).href,
      titlePath: ['math', 'edge', 'divides'],
      line: 12,
      column: 3,
    };
    core.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 3 });
    const [result] = of('test.result');
    expect(result.data).toMatchObject({
      id: core.idFor(ref),
      titlePath: ['math', 'edge', 'divides'],
      testName: 'divides',
      suite: 'math > edge',
      file: 'src/math.test.js',
      line: 12,
      location: { file: 'src/math.test.js', line: 12, column: 3 },
      status: 'passed',
      rawStatus: 'passed',
      attempt: 1,
      duration: 3,
    });
  });
});

describe('results, retries, failures', () => {
  it('one result per attempt; the passing attempt after a failure is flaky; the summary counts tests once', async () => {
    const { core, of } = setup();
    const flaky = { file: 'a.test.js', titlePath: ['flaky'] };
    core.runStarted({ totalTests: 2 });
    core.testStarted(flaky, 1);
    core.testResult(flaky, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      attempt: 1,
      willRetry: true,
      errors: ['Error: first'],
    });
    core.testStarted(flaky, 2);
    core.testResult(flaky, { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 2 });
    core.testResult(
      { file: 'a.test.js', titlePath: ['todo'] },
      { status: 'todo', rawStatus: 'todo', duration: 0 },
    );
    await core.runCompleted({ success: true });
    const results = of('test.result').filter((event) => event.data.testName === 'flaky');
    expect(
      results.map((event) => [event.data.attempt, event.data.status, event.data.willRetry, event.data.flaky]),
    ).toEqual([
      [1, 'failed', true, undefined],
      [2, 'passed', undefined, true],
    ]);
    const failed = of('test.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].data).toMatchObject({
      scope: 'test',
      attempt: 1,
      willRetry: true,
      error: { message: 'first', type: 'Error' },
    });
    expect(of('test.completed')[0].data.summary).toMatchObject({
      total: 2,
      passed: 1,
      failed: 0,
      skipped: 0,
      todo: 1,
      flaky: 1,
      success: true,
    });
  });

  it('a passing retry counts as flaky even if the failed attempt was not reported', () => {
    const { core, of } = setup();
    core.testResult(
      { file: 'a', titlePath: ['t'] },
      { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 3 },
    );
    expect(of('test.result')[0].data.flaky).toBe(true);
  });

  it('a skipped attempt that will be retried (a serial group runs again) is not counted skipped; a passed one cannot be retried', async () => {
    const { core, of } = setup();
    const ref = (title: string) => ({ file: 'a', titlePath: ['serial', title] });
    core.runStarted({ totalTests: 2 });
    const attempt = (
      title: string,
      status: 'passed' | 'failed' | 'skipped',
      n: number,
      willRetry?: boolean,
    ) =>
      core.testResult(ref(title), {
        status,
        rawStatus: status,
        duration: 1,
        attempt: n,
        ...(willRetry ? { willRetry } : {}),
        ...(status === 'failed' ? { errors: [new Error('once')] } : {}),
      });
    attempt('middle', 'failed', 1, true);
    attempt('last', 'skipped', 1, true);
    const progress = of('test.progress').at(-1)!.data;
    expect([progress.completed, progress.skipped ?? 0]).toEqual([0, 0]);
    attempt('middle', 'passed', 2);
    // (Playwright's verdict on `last`: not flaky; the willRetry of a pass is not honoured.)
    core.testResult(ref('last'), {
      status: 'passed',
      rawStatus: 'passed',
      duration: 1,
      attempt: 2,
      willRetry: true,
      flaky: false,
    });
    await core.runCompleted({ success: true });
    const results = of('test.result').map((e) => [
      e.data.testName,
      e.data.attempt,
      e.data.status,
      e.data.willRetry,
    ]);
    expect(results).toEqual([
      ['middle', 1, 'failed', true],
      ['last', 1, 'skipped', true],
      ['middle', 2, 'passed', undefined],
      ['last', 2, 'passed', undefined],
    ]);
    expect(of('test.completed')[0].data.summary).toMatchObject({ total: 2, passed: 2, skipped: 0, flaky: 1 });
  });

  it("the runner's own flaky verdict wins: a serial group's retry runs its passing tests again", async () => {
    const { core, of } = setup();
    const ref = (title: string) => ({ file: 'a', titlePath: ['serial', title] });
    core.testResult(ref('first'), { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 1 });
    core.testResult(ref('middle'), {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      attempt: 1,
      willRetry: true,
      errors: [new Error('once')],
    });
    for (const [title, flaky] of [
      ['first', false],
      ['middle', true],
      ['last', false],
    ] as const)
      core.testResult(ref(title), { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 2, flaky });
    await core.runCompleted({ success: true });
    expect(
      of('test.result')
        .filter((event) => event.data.attempt === 2)
        .map((event) => [event.data.testName, event.data.flaky ?? false]),
    ).toEqual([
      ['first', false],
      ['middle', true],
      ['last', false],
    ]);
    expect(of('test.completed')[0].data.summary).toMatchObject({ total: 3, passed: 3, flaky: 1 });
  });

  it('a timeout is a failure with timedOut and a message that says so', () => {
    const { core, of } = setup();
    core.testResult(
      { file: 'a', titlePath: ['t1'] },
      { status: 'passed', rawStatus: 'timedOut', duration: 5000, timedOut: true },
    );
    core.testResult(
      { file: 'a', titlePath: ['t2'] },
      {
        status: 'failed',
        rawStatus: 'failed',
        duration: 5000,
        timedOut: true,
        errors: [new Error('exceeded 5000 ms')],
      },
    );
    const [first, second] = of('test.result');
    expect(first.data).toMatchObject({
      status: 'failed',
      timedOut: true,
      error: { message: 'Test timed out after 5000 ms' },
    });
    expect(second.data.error.message).toBe('Test timed out: exceeded 5000 ms');
    expect(of('test.failed').every((event) => event.data.timedOut === true)).toBe(true);
  });

  it('an unknown status is reported as a failure, never as green', () => {
    const { core, of } = setup();
    core.testResult(
      { file: 'a', titlePath: ['t'] },
      { status: 'weird' as never, rawStatus: 'weird', duration: 1 },
    );
    expect(of('test.result')[0].data).toMatchObject({ status: 'failed', rawStatus: 'weird' });
  });

  it('a failure without errors still carries a message', () => {
    const { core, of } = setup();
    core.testResult({ file: 'a', titlePath: ['t'] }, { status: 'failed', rawStatus: 'broken', duration: 1 });
    expect(of('test.failed')[0].data.error.message).toContain('broken');
  });

  it('file, hook and run failures have their scope and end up in test.completed errors', async () => {
    const { core, of, rootDir } = setup();
    core.runStarted();
    core.fileFailed(join(rootDir, 'bad.test.js'), new SyntaxError('Unexpected token'));
    core.hookFailed({ file: 'a.test.js', titlePath: ['suite', 'x'] }, new Error('db down'), 'beforeEach');
    core.runError(new Error('unhandled'));
    await core.runCompleted({ success: false, errors: ['config error'] });
    expect(of('test.failed').map((event) => [event.data.scope, event.data.file])).toEqual([
      ['file', 'bad.test.js'],
      ['hook', 'a.test.js'],
      ['run', ''],
    ]);
    expect(of('test.failed')[1].data.testName).toBe('"beforeEach" hook for "x"');
    const completed = of('test.completed')[0].data;
    expect(completed.summary.success).toBe(false);
    expect(completed.errors.map((error: { message: string }) => error.message)).toEqual([
      'Unexpected token',
      'unhandled',
      'config error',
    ]);
  });

  it("a test's performance.bottleneck carries the runner's project, as the test's own events do", () => {
    const { core, of } = setup({ slowTestThreshold: 100 });
    core.testResult(
      { file: 'a', titlePath: ['slow'], project: 'chromium' },
      { status: 'passed', rawStatus: 'passed', duration: 350 },
    );
    const [result] = of('test.result');
    const [bottleneck] = of('performance.bottleneck');
    expect(result.data.project).toBe('chromium');
    expect(bottleneck.data.project).toBe('chromium');
  });

  it('emits performance.bottleneck slow_test above the threshold only', () => {
    const { core, of } = setup({ slowTestThreshold: 100 });
    core.testResult(
      { file: 'a', titlePath: ['fast'] },
      { status: 'passed', rawStatus: 'passed', duration: 99 },
    );
    core.testResult(
      { file: 'a', titlePath: ['slow'] },
      { status: 'passed', rawStatus: 'passed', duration: 350 },
    );
    const bottlenecks = of('performance.bottleneck');
    expect(bottlenecks).toHaveLength(1);
    expect(bottlenecks[0].data).toMatchObject({
      type: 'slow_test',
      testName: 'slow',
      duration: 350,
      threshold: 100,
      severity: 'high',
      file: 'a',
    });
    expect(bottlenecks[0].data.suggestions.length).toBeGreaterThan(0);
  });
});

describe('progress', () => {
  it('reports completed/total, growing the total when the runner does not know it up front', () => {
    // One sample per transition, to see each of them.
    const { core, of } = setup({ progressIntervalMs: 0 });
    core.runStarted();
    const t = (name: string) => ({ file: 'a.test.js', titlePath: [name] });
    core.testStarted(t('one'));
    core.testResult(t('one'), { status: 'passed', rawStatus: 'passed', duration: 1 });
    core.testsDiscovered(3);
    core.testStarted(t('two'));
    core.testResult(t('two'), { status: 'failed', rawStatus: 'failed', duration: 1, errors: ['x'] });
    core.testsDiscovered(0, { final: true });
    core.testStarted(t('three'));
    const progress = of('test.progress').map((event) => event.data);
    expect(progress.map((data) => [data.status, data.completed, data.total, data.totalKnown])).toEqual([
      ['running', 0, 1, false],
      ['idle', 1, 1, false],
      ['idle', 1, 3, false], // the total grew
      ['running', 1, 3, false],
      ['idle', 2, 3, false],
      ['idle', 2, 3, true], // the total became final
      ['running', 2, 3, true],
    ]);
    expect(progress[0]).toMatchObject({ testName: 'one', file: 'a.test.js', progress: 0 });
    expect(progress[4]).toMatchObject({ passed: 1, failed: 1, progress: 2 / 3 });
  });

  it('a total the runner lowers (a bail left tests out) is the final one, never below the tests seen', async () => {
    const { core, of } = setup({ progressIntervalMs: 0 });
    core.runStarted({ totalTests: 10 });
    const t = (name: string) => ({ file: 'a.test.js', titlePath: [name] });
    for (const name of ['one', 'two', 'three']) {
      core.testStarted(t(name));
      core.testResult(t(name), { status: 'failed', rawStatus: 'failed', duration: 1, errors: ['x'] });
    }
    core.testsDiscovered(0, { final: true, total: 1 });
    await core.runCompleted({ success: false, interrupted: true, interruptedBy: 'bail' });
    const last = of('test.progress').at(-1)?.data;
    expect(last).toMatchObject({ completed: 3, total: 3, totalKnown: true, progress: 1 });
    expect(of('test.completed')[0]?.data.summary).toMatchObject({ total: 3, failed: 3 });
  });

  it('uses a known total from runStarted', () => {
    const { core, of } = setup();
    core.runStarted({ totalTests: 10 });
    core.testStarted({ file: 'a', titlePath: ['x'] });
    expect(of('test.progress')[0].data).toMatchObject({ total: 10, totalKnown: true, completed: 0 });
  });
});

describe('progress samples (progressIntervalMs, default 100)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const t = (name: string) => ({ file: 'a.test.js', titlePath: ['burst', name] });
  const pass = { status: 'passed', rawStatus: 'passed', duration: 0 } as const;

  it('a burst of tests produces a bounded number of samples; the last one carries the final counts', async () => {
    vi.useFakeTimers();
    const { core, of, events } = setup();
    core.runStarted({ totalTests: 1000 });
    for (let i = 0; i < 1000; i++) {
      core.testStarted(t(`case ${i}`));
      core.testResult(t(`case ${i}`), pass);
    }
    // Only the first test start went out at once; every result is still there, one per test.
    expect(of('test.progress')).toHaveLength(1);
    expect(of('test.progress')[0].data).toMatchObject({
      status: 'running',
      testName: 'case 0',
      completed: 0,
    });
    expect(of('test.result')).toHaveLength(1000);
    vi.advanceTimersByTime(100);
    expect(of('test.progress')).toHaveLength(2);
    expect(of('test.progress')[1].data).toMatchObject({ status: 'idle', completed: 1000, total: 1000 });
    await core.runCompleted({ success: true });
    // Nothing changed since the trailing sample: no extra one before test.completed.
    expect(of('test.progress')).toHaveLength(2);
    expect(events.at(-1)?.type).toBe('test.completed');
  });

  it('progress stays below 1 while the total is not known, and reaches 1 once it is', () => {
    vi.useFakeTimers();
    const { core, of } = setup();
    core.runStarted(); // no total: the runner finds tests as it goes
    core.testResult(t('only one so far'), pass);
    vi.advanceTimersByTime(100);
    const unknown = of('test.progress').at(-1)!.data;
    expect(unknown).toMatchObject({ completed: 1, total: 1, totalKnown: false });
    expect(unknown.progress).toBeLessThan(1);
    core.testsDiscovered(0, { final: true });
    vi.advanceTimersByTime(100);
    expect(of('test.progress').at(-1)!.data).toMatchObject({ progress: 1, totalKnown: true });
  });

  it('runCompleted sends the pending sample before test.completed', async () => {
    vi.useFakeTimers();
    const { core, of, events } = setup();
    core.runStarted();
    for (let i = 0; i < 50; i++) {
      core.testStarted(t(`case ${i}`));
      core.testResult(t(`case ${i}`), i === 7 ? { ...pass, status: 'failed', errors: ['x'] } : pass);
    }
    await core.runCompleted({ success: false });
    const types = events.map((event) => event.type);
    const last = of('test.progress').at(-1)!;
    expect(types.lastIndexOf('test.progress')).toBe(types.indexOf('test.completed') - 1);
    expect(last.data).toMatchObject({ status: 'idle', completed: 50, total: 50, passed: 49, failed: 1 });
    // The run is over: its trailing timer must not send anything later.
    vi.advanceTimersByTime(1000);
    expect(events.at(-1)?.type).toBe('test.completed');
  });

  it('samples at most once per interval, names the running test, and shows a long test as running', () => {
    vi.useFakeTimers();
    const { core, of } = setup();
    core.runStarted({ totalTests: 21 });
    for (let i = 0; i < 20; i++) {
      core.testStarted(t(`case ${i}`));
      vi.advanceTimersByTime(10);
      core.testResult(t(`case ${i}`), pass);
      vi.advanceTimersByTime(20);
    }
    core.testStarted(t('slow'));
    vi.advanceTimersByTime(250);
    const samples = of('test.progress').map((event) => event.data);
    // 850 ms of activity: one sample per 100 ms at most, plus the first test start.
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(samples.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < samples.length; i++)
      expect(samples[i].duration - samples[i - 1].duration).toBeGreaterThanOrEqual(100);
    expect(samples.at(-1)).toMatchObject({ status: 'running', testName: 'slow', completed: 20, total: 21 });
    for (const sample of samples) expect(sample.completed).toBeLessThanOrEqual(sample.total);
  });

  it('the first test start of a run goes out at once, even right after another sample', () => {
    vi.useFakeTimers();
    const { core, of } = setup();
    core.runStarted();
    core.testsDiscovered(5);
    core.testStarted(t('first'));
    core.testResult(t('first'), pass);
    core.testStarted(t('second'));
    expect(of('test.progress').map((event) => [event.data.status, event.data.testName])).toEqual([
      ['idle', undefined],
      ['running', 'first'],
    ]);
  });

  it("uses an unref'd timer, so a pending sample never keeps the process alive", () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const { core } = setup();
    core.runStarted();
    core.testStarted(t('one'));
    core.testResult(t('one'), pass);
    const timers = spy.mock.results.map((result) => result.value as NodeJS.Timeout);
    expect(timers.length).toBeGreaterThan(0);
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
  });

  it('TESTWIRE_PROGRESS_INTERVAL sets the interval; 0 sends one sample per transition', () => {
    const { core, of } = setup({ env: { TESTWIRE_PROGRESS_INTERVAL: '0' } });
    core.runStarted();
    for (let i = 0; i < 3; i++) {
      core.testStarted(t(`case ${i}`));
      core.testResult(t(`case ${i}`), pass);
    }
    expect(of('test.progress').map((event) => event.data.status)).toEqual([
      'running',
      'idle',
      'running',
      'idle',
      'running',
      'idle',
    ]);
  });
});

describe('output', () => {
  it('attributes output to its test, to a file, or to nothing; strips ANSI; honours captureOutput', () => {
    const { core, of } = setup();
    core.output({ file: 'a.test.js', titlePath: ['s', 't'] }, '\u001b[31mred\u001b[39m', 'stdout', 'log');
    core.output({ file: 'a.test.js', titlePath: [] }, 'file level', 'stderr', 'error');
    core.output(undefined, 'global', 'stdout');
    const outputs = of('test.output').map((event) => event.data);
    expect(outputs[0]).toMatchObject({
      output: 'red',
      outputType: 'stdout',
      stream: 'log',
      testName: 't',
      suite: 's',
      file: 'a.test.js',
    });
    expect(outputs[0].id).toBe(core.idFor({ file: 'a.test.js', titlePath: ['s', 't'] }));
    expect(outputs[1]).toMatchObject({
      output: 'file level',
      outputType: 'stderr',
      stream: 'error',
      file: 'a.test.js',
    });
    expect(outputs[1].id).toBeUndefined();
    expect(outputs[2]).toMatchObject({ output: 'global', stream: 'stdout' });

    const off = setup({ captureOutput: false });
    off.core.output(undefined, 'x', 'stdout');
    expect(off.of('test.output')).toHaveLength(0);
    // The decision, for adapters that tap the console themselves: the option, else the env switch.
    expect([core.captureOutput, off.core.captureOutput]).toEqual([true, false]);
    const env = { TESTWIRE_CAPTURE_OUTPUT: ' Disabled ' };
    expect(setup({ env }).core.captureOutput).toBe(false);
    expect(setup({ env, captureOutput: true }).core.captureOutput).toBe(true);
  });

  it('sends a long write in events of at most 64 KiB, cut after a line, up to 1 MiB, then says what it cut', () => {
    const { core, of } = setup();
    const test = { file: 'a.test.js', titlePath: ['s', 't'] };
    const line = (i: number) => `line ${i} ${'x'.repeat(90)}😀\n`;
    const text = Array.from({ length: 3000 }, (_, i) => line(i)).join(''); // ~300 KB
    core.output(test, text, 'stdout', 'log');
    const parts = of('test.output').map((event) => event.data.output as string);
    expect(parts.length).toBeGreaterThan(4);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(64 * 1024);
      expect(part.endsWith('\n')).toBe(true);
    }
    expect(parts.join('')).toBe(text); // nothing lost, nothing twice
    expect(new Set(of('test.output').map((event) => event.data.id))).toEqual(new Set([core.idFor(test)]));

    const huge = 'y'.repeat(3 * 1024 * 1024); // one line of 3 MiB
    core.output(test, huge, 'stdout', 'log');
    const hugeParts = of('test.output')
      .slice(parts.length)
      .map((event) => event.data.output as string);
    expect(hugeParts).toHaveLength(17);
    expect(hugeParts.slice(0, 16).join('')).toBe(huge.slice(0, 1024 * 1024));
    expect(hugeParts[16]).toBe(`… [truncated ${2 * 1024 * 1024} chars]`);
  });
});

describe('guards', () => {
  it('public methods never throw, even with garbage input or a throwing sink', async () => {
    const core = createReporterCore({
      framework: 'jest',
      rootDir: process.cwd(),
      performanceIntervalMs: 0,
      env: {},
      sink: () => {
        throw new Error('sink exploded');
      },
    });
    const garbage = null as any;
    expect(() => {
      core.runStarted(garbage);
      core.testsDiscovered(garbage);
      core.fileStarted(garbage);
      core.testStarted(garbage);
      core.testResult(garbage, garbage);
      core.testResult({ file: 'a', titlePath: ['x'] }, garbage);
      core.output(garbage, garbage, garbage);
      core.fileFailed(garbage, garbage);
      core.hookFailed(garbage, garbage);
      core.runError(garbage);
      core.idFor(garbage);
    }).not.toThrow();
    await expect(core.runCompleted(garbage)).resolves.toBeUndefined();
  });

  it('prints internal errors to stderr only with TESTWIRE_DEBUG, once per kind', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const quiet = createReporterCore({
      framework: 'jest',
      rootDir: process.cwd(),
      performanceIntervalMs: 0,
      env: {},
      sink: () => {},
    });
    quiet.testStarted(null as any);
    expect(write).not.toHaveBeenCalled();
    const loud = createReporterCore({
      framework: 'jest',
      rootDir: process.cwd(),
      performanceIntervalMs: 0,
      env: { TESTWIRE_DEBUG: '1' },
      sink: () => {},
    });
    loud.testStarted(null as any);
    loud.testStarted(null as any);
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0][0])).toContain('internal error in testStarted');
  });

  it("an adapter's internal error is said once per place with TESTWIRE_DEBUG, never without it", () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const options = { framework: 'vitest', rootDir: process.cwd(), performanceIntervalMs: 0, sink: () => {} };
    createReporterCore({ ...options, env: {} }).adapterError('onTestCaseReady', new Error('quiet'));
    createReporterCore({ ...options, env: { TESTWIRE: 'off', TESTWIRE_DEBUG: '1' } }).adapterError(
      'onTestCaseReady',
      new Error('disabled'),
    );
    expect(write).not.toHaveBeenCalled();
    const loud = createReporterCore({ ...options, env: { TESTWIRE_DEBUG: '1' } });
    loud.adapterError('onTestCaseReady', new TypeError('cannot read the test'));
    loud.adapterError('onTestCaseReady', new TypeError('cannot read the test'));
    loud.adapterError('onTestCaseResult', new TypeError('cannot read the result'));
    expect(write).toHaveBeenCalledTimes(2);
    expect(String(write.mock.calls[0][0])).toContain(
      'internal error in the vitest adapter (onTestCaseReady) (the test run is not affected): TypeError: cannot read the test',
    );
    expect(String(write.mock.calls[1][0])).toContain('the vitest adapter (onTestCaseResult)');
  });

  it('TESTWIRE=off disables everything', async () => {
    const events: unknown[] = [];
    const core = createReporterCore({
      framework: 'jest',
      rootDir: process.cwd(),
      env: { TESTWIRE: 'off' },
      sink: (e) => events.push(e),
    });
    expect(core.enabled).toBe(false);
    core.runStarted();
    core.testResult({ file: 'a', titlePath: ['x'] }, { status: 'passed', rawStatus: 'passed', duration: 1 });
    await core.runCompleted({ success: true });
    expect(events).toEqual([]);
  });

  it('warns once about invalid options and falls back to defaults', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const events: any[] = [];
    const core = createReporterCore({
      framework: 'jest',
      rootDir: process.cwd(),
      env: {},
      sink: (e: unknown) => events.push(e),
      port: 'http' as any,
      slowTestThreshold: -5,
      captureOutput: 'yes' as any,
      prot: 1,
    } as any);
    expect(write).toHaveBeenCalledTimes(1);
    const message = String(write.mock.calls[0][0]);
    expect(message).toContain('port must be an integer');
    expect(message).toContain('slowTestThreshold must be a number');
    expect(message).toContain('captureOutput must be true or false');
    expect(message).toContain('unknown option "prot"');
    expect(core.enabled).toBe(true);
    core.output(undefined, 'still captured', 'stdout');
    expect(events.some((event) => event.type === 'test.output')).toBe(true);
  });
});

describe('performance sampling', () => {
  it("samples while a run is active, with an unref'd timer, and stops at runCompleted", async () => {
    const { core, of } = setup({ performanceIntervalMs: 100 });
    core.runStarted();
    await vi.waitFor(() => expect(of('performance.metrics').length).toBeGreaterThanOrEqual(2), {
      timeout: 2000,
      interval: 50,
    });
    const [sample] = of('performance.metrics');
    expect(sample.data.memory.heapUsed).toBeGreaterThan(1);
    expect(sample.data.memory.rss).toBeGreaterThan(sample.data.memory.heapUsed);
    expect(sample.data.cpu.load).toHaveLength(3);
    expect(sample.data.tests).toMatchObject({ running: 0, completed: 0 });
    await core.runCompleted({ success: true });
    const count = of('performance.metrics').length;
    // A sentinel, not a sleep: another core sampling at the same interval takes two samples meanwhile.
    const sentinel = setup({ performanceIntervalMs: 100 });
    sentinel.core.runStarted();
    await vi.waitFor(() => expect(sentinel.of('performance.metrics').length).toBeGreaterThanOrEqual(2), {
      timeout: 10_000,
      interval: 50,
    });
    await sentinel.core.runCompleted({ success: true });
    expect(of('performance.metrics').length).toBe(count);
  });

  it.each(['passed', 'failed'] as const)(
    'a result the runner corrects (%s, then failed with more errors, same attempt) counts its duration once',
    async (first) => {
      const { core, of } = setup({ performanceIntervalMs: 50 });
      core.runStarted();
      const ref = { file: 'test/late.spec.js', titlePath: ['late', 'async after done'] };
      core.testStarted(ref);
      core.testResult(ref, {
        status: first,
        rawStatus: first,
        duration: 100,
        ...(first === 'failed' ? { errors: [new Error('expected 1 to be 2')] } : {}),
      });
      core.testResult(ref, {
        status: 'failed',
        rawStatus: 'failed',
        duration: 100,
        errors: [new Error('late boom')],
      });
      const after = of('performance.metrics').length;
      await vi.waitFor(() => expect(of('performance.metrics').length).toBeGreaterThan(after), {
        timeout: 10_000,
        interval: 20,
      });
      expect(of('performance.metrics').at(-1)?.data.tests).toMatchObject({
        completed: 1,
        averageDuration: 100,
      });
      await core.runCompleted({ success: false });
      expect(of('test.completed')[0]?.data.summary).toMatchObject({ total: 1, passed: 0, failed: 1 });
    },
  );
});

describe('retries without willRetry (jest)', () => {
  it('a later attempt supersedes a result counted as final: each test counted once, by its last attempt', async () => {
    const { core, of } = setup();
    const flaky = { file: 'a.test.js', titlePath: ['flaky'] };
    const broken = { file: 'a.test.js', titlePath: ['broken'] };
    core.runStarted();
    core.testResult(flaky, { status: 'failed', rawStatus: 'failed', duration: 1, attempt: 1, errors: ['e'] });
    core.testResult(broken, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      attempt: 1,
      errors: ['e'],
    });
    core.testResult(broken, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      attempt: 2,
      errors: ['e'],
    });
    core.testResult(flaky, { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 2 });
    await core.runCompleted({ success: false });
    expect(of('test.result')).toHaveLength(4);
    expect(of('test.completed')[0].data.summary).toMatchObject({ total: 2, passed: 1, failed: 1, flaky: 1 });
    expect(of('test.progress').at(-1)!.data).toMatchObject({ completed: 2, passed: 1, failed: 1 });
  });

  it('a retry of a test already counted as finished does not grow the progress total', () => {
    const { core, of } = setup({ progressIntervalMs: 0 });
    const flaky = { file: 'a.test.js', titlePath: ['flaky'] };
    const other = { file: 'a.test.js', titlePath: ['other'] };
    core.runStarted();
    core.testStarted(flaky, 1);
    core.testResult(flaky, { status: 'failed', rawStatus: 'failed', duration: 1, attempt: 1, errors: ['e'] });
    core.testStarted(flaky, 2);
    expect(of('test.progress').at(-1)!.data).toMatchObject({ status: 'running', completed: 1, total: 1 });
    core.testStarted(other);
    expect(of('test.progress').at(-1)!.data).toMatchObject({ completed: 1, total: 2 });
  });
});
