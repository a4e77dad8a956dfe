import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatePublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { CoverageProgress } from '../src/coverage-progress.js';
import { classifyFrameworkError } from '../src/framework-errors.js';
import { detectFrameworks } from '../src/frameworks.js';
import { HealthMonitor, type HealthView } from '../src/health.js';
import { LeakDetector } from '../src/leak.js';
import { sinkCore } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function setup(...args: Parameters<typeof sinkCore>) {
  const context = sinkCore(...args);
  cleanups.push(context.cleanup);
  return context;
}
const MB = 1024 * 1024;

describe('framework.detected', () => {
  it('lists the frameworks of package.json and config files, the active one with what its adapter told', async () => {
    const { core, of, rootDir, events } = setup({ frameworkVersion: '30.1.0' });
    writeFileSync(
      join(rootDir, 'package.json'),
      JSON.stringify({
        name: 'fixture-project',
        devDependencies: { jest: '^30.0.0', '@playwright/test': '1.50.0' },
        mocha: { spec: ['spec/**/*.spec.js'] },
      }),
    );
    writeFileSync(join(rootDir, 'playwright.config.ts'), 'export default {}');
    mkdirSync(join(rootDir, 'node_modules/@playwright/test'), { recursive: true });
    writeFileSync(join(rootDir, 'node_modules/@playwright/test/package.json'), '{"version":"1.50.1"}');
    core.runStarted({ testPatterns: ['**/*.test.js'], configPath: join(rootDir, 'jest.config.js') });
    await core.runCompleted({ success: true });
    const [detected] = of('framework.detected');
    expect(detected.data.active).toBe('jest');
    expect(detected.data.frameworks).toEqual([
      { name: 'jest', version: '30.1.0', configPath: './jest.config.js', testPatterns: ['**/*.test.js'] },
      {
        name: 'playwright',
        version: '1.50.1',
        configPath: './playwright.config.ts',
        testPatterns: ['**/*.@(spec|test).?(c|m)[jt]s?(x)'],
      },
      { name: 'mocha', configPath: './package.json', testPatterns: ['spec/**/*.spec.js'] },
    ]);
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it("states no patterns for a config that is code, which may name its own; jest's defaults by its major", () => {
    const { rootDir } = setup();
    const pkg = (jest: string) =>
      writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'p', devDependencies: { jest } }));
    pkg('^29.7.0');
    expect(detectFrameworks(rootDir)[0]?.testPatterns).toEqual([
      '**/__tests__/**/*.[jt]s?(x)',
      '**/?(*.)+(spec|test).[tj]s?(x)',
    ]);
    pkg('^30.0.0');
    expect(detectFrameworks(rootDir)[0]?.testPatterns).toEqual([
      '**/__tests__/**/*.?([mc])[jt]s?(x)',
      '**/?(*.)+(spec|test).?([mc])[jt]s?(x)',
    ]);
    writeFileSync(join(rootDir, 'jest.config.mjs'), "export default { testMatch: ['**/*.check.js'] };");
    expect(detectFrameworks(rootDir)[0]).toEqual({
      name: 'jest',
      version: '^30.0.0',
      configPath: './jest.config.mjs',
    });
  });

  it('with a config the runner was given (--config) and no patterns from the adapter, none from the default config beside it', async () => {
    const { core, of, rootDir } = setup({ frameworkVersion: '30.1.0' });
    writeFileSync(
      join(rootDir, 'package.json'),
      JSON.stringify({ name: 'fixture-project', devDependencies: { jest: '^30.0.0' } }),
    );
    writeFileSync(join(rootDir, 'jest.config.json'), JSON.stringify({ testMatch: ['**/unused/*.js'] }));
    core.runStarted({ configPath: join(rootDir, 'config/jest.ci.mjs') });
    await core.runCompleted({ success: true });
    const [detected] = of('framework.detected');
    expect(detected.data.frameworks[0]).toEqual({
      name: 'jest',
      version: '30.1.0',
      configPath: './config/jest.ci.mjs',
    });
  });

  it('finds nothing in a folder without a project', () => {
    const { rootDir } = setup();
    expect(detectFrameworks(rootDir)).toEqual([]);
  });
});

describe('framework.error', () => {
  it('comes with a stable code and a suggestion for file, run and beforeAll-hook errors', async () => {
    const { core, of, rootDir } = setup();
    core.fileFailed(join(rootDir, 'a.test.js'), new Error("Cannot find module './missing'"));
    core.runError(Object.assign(new Error('boom'), { name: 'UnhandledRejection' }));
    core.hookFailed(
      { file: join(rootDir, 'b.test.js'), titlePath: ['suite', 'test'] },
      new Error('db down'),
      'before all',
    );
    core.hookFailed(
      { file: join(rootDir, 'b.test.js'), titlePath: ['suite', 'test'] },
      new Error('each'),
      'before each',
    );
    core.frameworkError(new Error('Worker exited unexpectedly'), { details: { worker: 3 } });
    // The adapter knows better than the text (vitest's error says `type: 'Unhandled Rejection'`, name 'Error').
    core.runError(new Error('nobody caught me'), { code: 'UNHANDLED_REJECTION' });
    await core.runCompleted({ success: false });
    const errors = of('framework.error').map((event) => event.data);
    expect(errors.map((data) => [data.error.code, data.file])).toEqual([
      ['MODULE_NOT_FOUND', 'a.test.js'],
      ['UNHANDLED_REJECTION', undefined],
      ['HOOK_FAILED', 'b.test.js'],
      ['WORKER_CRASHED', undefined],
      ['UNHANDLED_REJECTION', undefined],
    ]);
    expect(errors[4].error.details.suggestion).toMatch(/promise was rejected/);
    for (const data of errors) {
      expect(data.framework).toBe('jest');
      expect(data.severity).toBe('error');
      expect(data.error.details.suggestion).toMatch(/.{20,}/);
    }
    expect(errors[3].error.details.worker).toBe(3);
  });

  it("a run error's test.failed is named by the adapter's title and file (a globalSetup), 'unhandled error' without", async () => {
    const { core, of, rootDir } = setup();
    core.runError(new Error('global setup broke'), {
      code: 'HOOK_FAILED',
      title: 'globalSetup',
      file: join(rootDir, 'global-setup.mjs'),
    });
    core.runError(new Error('nobody caught me'));
    await core.runCompleted({ success: false });
    expect(
      of('test.failed').map((event) => [event.data.testName, event.data.file, event.data.scope]),
    ).toEqual([
      ['globalSetup', 'global-setup.mjs', 'run'],
      ['unhandled error', '', 'run'],
    ]);
    expect(of('framework.error').map((event) => event.data.file)).toEqual(['global-setup.mjs', undefined]);
  });

  it("classifies jest's words for a worker killed by a signal (process.abort: SIGABRT) as WORKER_CRASHED", () => {
    const message =
      'A jest worker process (pid=4242) was terminated by another process: signal=SIGABRT. Operating system logs may contain more information on why this occurred.';
    expect(classifyFrameworkError('file', { message })).toBe('WORKER_CRASHED');
  });

  it('tells a wrong reporter option once, as a warning', async () => {
    const { core, of } = setup({ env: { TESTWIRE_LEAK_THRESHOLD: 'lots' } });
    core.runStarted({});
    await core.runCompleted({ success: true });
    core.runStarted({});
    await core.runCompleted({ success: true });
    const errors = of('framework.error');
    expect(errors).toHaveLength(1);
    expect(errors[0].data.error.code).toBe('REPORTER_OPTION_INVALID');
    expect(errors[0].data.error.message).toContain('TESTWIRE_LEAK_THRESHOLD');
    expect(errors[0].data.severity).toBe('warning');
  });

  it('classifies by what the error says before where it came from', () => {
    expect(classifyFrameworkError('file', { message: 'x', type: 'SyntaxError' })).toBe('SYNTAX_ERROR');
    expect(classifyFrameworkError('file', { message: 'ReferenceError: y is not defined' })).toBe(
      'COLLECTION_ERROR',
    );
    expect(classifyFrameworkError('run', { message: 'boom' })).toBe('UNHANDLED_ERROR');
    // A file that does not parse, in Vite's words and as an error that lost its SyntaxError type in a worker.
    for (const message of [
      'Failed to parse source for import analysis because the content contains invalid JS syntax. If you are using JSX, make sure to name the file with the .jsx or .tsx extension.',
      'Unexpected end of input',
    ])
      expect(classifyFrameworkError('file', { message })).toBe('SYNTAX_ERROR');
    // Playwright stopping the run is no unhandled error: --max-failures, the global timeout
    for (const message of [
      'Testing stopped early after 1 maximum allowed failures.',
      'Timed out waiting 3s for the test suite to run',
      'Timed out waiting 600s for the entire test run',
    ])
      expect(classifyFrameworkError('run', { message })).toBe('RUN_ERROR');
    expect(
      classifyFrameworkError('adapter', { message: 'A worker process has failed to exit gracefully' }),
    ).toBe('RUN_ERROR');
  });
});

describe('coverage.started / coverage.progress', () => {
  const fileCoverage = (s: Record<string, number>, line = (id: string) => Number(id) + 1) => ({
    s,
    f: { 0: s[0] ?? 0 },
    b: { 0: [s[0] ?? 0, 0] },
    statementMap: Object.fromEntries(Object.keys(s).map((id) => [id, { start: { line: line(id) } }])),
  });

  it('merges each test file coverage into the run so far', async () => {
    const { core, of, rootDir, events } = setup();
    core.runStarted({});
    core.coverageStarted({ provider: 'babel', patterns: ['src/**/*.js'] });
    core.coverageProgress(
      join(rootDir, 'a.test.js'),
      { '/src/x.js': fileCoverage({ 0: 1, 1: 0, 2: 0, 3: 0 }) },
      2,
    );
    core.coverageProgress(
      join(rootDir, 'b.test.js'),
      { '/src/x.js': fileCoverage({ 0: 0, 1: 3, 2: 0, 3: 0 }) },
      2,
    );
    await core.runCompleted({ success: true });
    expect(of('coverage.started')[0].data).toMatchObject({
      provider: 'babel',
      patterns: ['src/**/*.js'],
      totalFiles: 0,
      totalKnown: false,
    });
    const progress = of('coverage.progress').map((event) => event.data);
    expect(
      progress.map((data) => [data.filesProcessed, data.totalFiles, data.percentage, data.currentFile]),
    ).toEqual([
      [1, 2, 50, 'a.test.js'],
      [2, 2, 100, 'b.test.js'],
    ]);
    expect(progress[0].coverage).toMatchObject({ statements: 25, lines: 25, functions: 100, branches: 50 });
    // Statement 1 covered by the second file too: 2 of 4, as istanbul merges.
    expect(progress[1].coverage).toMatchObject({ statements: 50, lines: 50 });
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('counts a line once, covered when any statement on it is', () => {
    const progress = new CoverageProgress(1);
    const data = progress.add({ x: fileCoverage({ 0: 1, 1: 0 }, () => 7) }, 't');
    expect(data.coverage.lines).toBe(100);
    expect(data.coverage.statements).toBe(50);
  });
});

describe('performance.leak', () => {
  const series = (detector: LeakDetector, mbs: number[], gcForced = true) =>
    mbs.map((mb, index) =>
      detector.add({ file: `f${index}`, heapUsed: mb * MB, gcForced }, `f${index}.test.js`),
    );

  it('reports heap that rises file after file beyond the threshold, once', () => {
    const reports = series(new LeakDetector(10, 5), [40, 50, 58, 66, 75, 83, 92, 100]).filter(Boolean);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'memory_leak', leakType: 'heap_growth', file: 'f5.test.js' });
    expect(reports[0]?.size).toBeGreaterThanOrEqual(10);
  });

  it('stays silent on noise, a one-time jump, too little evidence, and below the threshold', () => {
    expect(series(new LeakDetector(10, 5), [40, 70, 45, 72, 44, 71, 46, 70]).some(Boolean)).toBe(false);
    expect(series(new LeakDetector(10, 5), [40, 41, 41, 90, 90, 89, 90, 90]).some(Boolean)).toBe(false);
    expect(series(new LeakDetector(10, 5), [40, 60, 80, 100]).some(Boolean)).toBe(false);
    expect(series(new LeakDetector(10, 5), [40, 41, 42, 43, 44, 45, 46, 47]).some(Boolean)).toBe(false);
  });

  it('needs three times the evidence and twice the growth when no GC was forced, and keeps workers apart', () => {
    const growth = [40, 50, 53, 56, 59, 62, 65, 68];
    expect(series(new LeakDetector(10, 5), growth, false).some(Boolean)).toBe(false);
    expect(series(new LeakDetector(10, 5), growth, true).some(Boolean)).toBe(true);
    // Garbage climbing for a few files, then collected: not a leak; a floor that keeps rising is.
    const sawtooth = [22, 37, 52, 67, 67, 67, 30, 45, 60, 75, 28, 43, 58, 73, 26, 41, 56, 70];
    expect(series(new LeakDetector(10, 5), sawtooth, false).some(Boolean)).toBe(false);
    const rising = Array.from({ length: 18 }, (_, index) => 20 + index * 5 + (index % 3) * 4);
    expect(series(new LeakDetector(10, 5), rising, false).filter(Boolean)).toHaveLength(1);
    const detector = new LeakDetector(10, 5);
    const interleaved = [40, 50, 58, 66, 75, 83, 92, 100].flatMap((mb, index) => [
      detector.add({ file: 'a', heapUsed: mb * MB, worker: '1', gcForced: true }, `a${index}`),
      detector.add({ file: 'b', heapUsed: 30 * MB, worker: '2', gcForced: true }, `b${index}`),
    ]);
    expect(interleaved.filter(Boolean).map((leak) => leak?.worker)).toEqual(['1']);
  });

  it('goes out as performance.leak with the evidence', async () => {
    const { core, of, rootDir, events } = setup();
    core.runStarted({});
    for (const [index, mb] of [40, 50, 58, 66, 75, 83, 92].entries())
      core.heapSample({ file: join(rootDir, `f${index}.test.js`), heapUsed: mb * MB, gcForced: true });
    await core.runCompleted({ success: true });
    const [leak] = of('performance.leak');
    expect(leak.data).toMatchObject({
      framework: 'jest',
      testName: 'f5.test.js',
      location: 'f5.test.js',
      threshold: 10,
    });
    expect(leak.data.samples).toEqual([40, 50, 58, 66, 75, 83]);
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('goes out as the runner found it for a leak() call (an open handle), before test.completed', async () => {
    const { core, of, rootDir, events } = setup({ leakThresholdMb: 0 });
    core.runStarted({});
    core.leak({
      type: 'open_handle',
      leakType: 'TCPSERVERWRAP',
      testName: 'server.test.js',
      location: 'server.test.js:3:37',
      stackTrace: ['at Object.listen (server.test.js:3:37)'],
      file: join(rootDir, 'server.test.js'),
    });
    await core.runCompleted({ success: true });
    const [leak] = of('performance.leak');
    expect(leak.data).toEqual({
      framework: 'jest',
      project: 'fixture-project',
      type: 'open_handle',
      leakType: 'TCPSERVERWRAP',
      testName: 'server.test.js',
      location: 'server.test.js:3:37',
      stackTrace: ['at Object.listen (server.test.js:3:37)'],
      file: 'server.test.js',
      size: 0,
    });
    const types = events.map((event) => event.type);
    expect(types.indexOf('performance.leak')).toBeLessThan(types.indexOf('test.completed'));
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('is off with leakThresholdMb 0', async () => {
    const { core, of } = setup({ leakThresholdMb: 0 });
    core.runStarted({});
    for (const [index, mb] of [40, 50, 58, 66, 75, 83, 92].entries())
      core.heapSample({ file: `f${index}`, heapUsed: mb * MB, gcForced: true });
    await core.runCompleted({ success: true });
    expect(of('performance.leak')).toEqual([]);
  });
});

describe('system.health', () => {
  it('goes out at the start of a run and then every interval, with the reference components', async () => {
    const { core, of, events } = setup({ healthIntervalMs: 100 });
    core.runStarted({});
    const deadline = Date.now() + 20_000;
    while (of('system.health').length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await core.runCompleted({ success: true });
    const health = of('system.health');
    expect(health.length).toBeGreaterThanOrEqual(3);
    const data = health[0].data;
    expect(data.components.map((c: { name: string }) => c.name)).toEqual([
      'test_runner',
      'event_delivery',
      'coverage_collector',
      'performance_profiler',
    ]);
    expect(data.metrics.memory.total).toBeGreaterThan(0);
    expect(data.metrics.cpu.cores).toBeGreaterThan(0);
    expect(data.metrics.cpu.load).toHaveLength(3);
    for (const event of events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
  });

  it('first tells the run as its start set it up (coverage), before its test.completed, and a broadcaster starting is no fault', async () => {
    const { core, events } = setup();
    core.runStarted({});
    core.coverageStarted({ provider: 'v8', patterns: ['src/**'] });
    core.testStarted({ file: 'a.test.js', titlePath: ['t'] });
    await core.runCompleted({ success: true });
    const types = events.map((e) => e.type);
    expect(types.indexOf('system.health')).toBeGreaterThan(types.indexOf('coverage.started'));
    const first = events.find((e) => e.type === 'system.health')?.data as any;
    expect(first.components.find((c: any) => c.name === 'coverage_collector').message).toBe(
      'collecting (v8)',
    );
    // A run with nothing but its start and end still tells it, before its end.
    const bare = setup();
    bare.core.runStarted({});
    await bare.core.runCompleted({ success: true });
    expect(
      bare.events.map((e) => e.type).filter((t) => t === 'system.health' || t === 'test.completed'),
    ).toEqual(['system.health', 'test.completed']);
    const monitor = new HealthMonitor(0, '0.0.0', () => {});
    const view = (delivery: Partial<HealthView['delivery']>): HealthView => ({
      running: 0,
      completed: 0,
      lastCallAt: 0,
      delivery: { url: undefined, starting: false, buffered: 2, dropped: 0, sink: false, ...delivery },
      coverage: undefined,
      heap: undefined,
      sampling: false,
    });
    const starting = monitor.data(view({ starting: true }), 0);
    expect(starting.status).toBe('healthy');
    expect(starting.components[1]).toMatchObject({
      status: 'healthy',
      message: 'starting the broadcaster: 2 events waiting',
    });
    expect(monitor.data(view({ starting: false }), 0).components[1].status).toBe('degraded');
  });

  it('is off with healthIntervalMs 0', async () => {
    const { core, of } = setup({ healthIntervalMs: 0 });
    core.runStarted({});
    await core.runCompleted({ success: true });
    expect(of('system.health')).toEqual([]);
  });
});
