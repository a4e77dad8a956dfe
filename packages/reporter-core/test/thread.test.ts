import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createReporterCore, type ReporterCoreOptions } from '../src/index.js';
import { completedRun, RUN_CONTEXT_EVENTS, subscribeAll } from './helpers.js';

// The core on its own thread (thread.ts), against a real broadcaster and a real subscriber: what the
// hook thread decides (run ids, call times, normalized errors) is what subscribers see.
describe('reporter core on a worker thread', () => {
  let owner: Awaited<ReturnType<typeof startBroadcaster>>;
  let socket: WebSocket;
  let received: AnyEventEnvelope[] = [];
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-thread-'));
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'thread-fixture' }));

  beforeAll(async () => {
    owner = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    ({ socket, received } = await subscribeAll(owner.wsUrl));
  });
  afterAll(async () => {
    socket?.close();
    await owner?.close({ timeoutMs: 1000 });
    rmSync(rootDir, { recursive: true, force: true });
  });

  const core = (overrides: Partial<ReporterCoreOptions> = {}) =>
    createReporterCore({
      framework: 'mocha',
      rootDir,
      url: owner.url,
      performanceIntervalMs: 0,
      env: {},
      ...overrides,
    });

  // What the tests and coverage make, without the run's context (framework.*, system.health).
  const runOf = async (runId: string) =>
    (await completedRun(received, runId)).filter((event) => !RUN_CONTEXT_EVENTS.has(event.type));

  it('streams the run with the hook thread’s run id, call times and root-relative errors', async () => {
    const reporter = core();
    expect((reporter as { threadId?: number }).threadId).toBeTypeOf('number');
    const ref = { file: join(rootDir, 'test', 'a.spec.js'), titlePath: ['suite', 'breaks'] };
    const error = new TypeError('boom');
    error.stack = `TypeError: boom\n    at Context.<anonymous> (${join(rootDir, 'test', 'a.spec.js')}:3:9)`;
    const before = Date.now();
    reporter.runStarted({ totalTests: 1, options: { grep: 'x', reporter: () => {} } });
    reporter.testStarted(ref);
    reporter.output(ref, 'hello\n', 'stdout', 'log');
    reporter.testResult(ref, { status: 'failed', rawStatus: 'failed', duration: 3, errors: [error] });
    const called = Date.now();
    await reporter.runCompleted({ success: false });
    expect(reporter.url).toBe(owner.url);

    const events = await runOf(reporter.runId);
    expect(events.map((e) => e.type)).toEqual([
      'test.started',
      'test.progress',
      'test.output',
      'test.result',
      'test.failed',
      'test.progress',
      'test.completed',
    ]);
    const started = events[0] as AnyEventEnvelope & { type: 'test.started' };
    // A function in the runner's options does not cross threads (nor reach the wire); the rest does.
    expect(started.data.options).toEqual({ grep: 'x' });
    // Stamped when the hook ran, not when the thread got to it.
    const stamp = Date.parse(events[3]?.timestamp ?? '');
    expect(stamp).toBeGreaterThanOrEqual(before - 1);
    expect(stamp).toBeLessThanOrEqual(called + 1);
    const failed = events[4] as AnyEventEnvelope & { type: 'test.failed' };
    expect(failed.data.error).toMatchObject({ message: 'boom', type: 'TypeError' });
    expect(failed.data.error.stack).toContain('(test/a.spec.js:3:9)');
    expect(failed.data.error.stack).not.toContain(rootDir);
    expect(failed.data).toMatchObject({ file: 'test/a.spec.js', id: reporter.idFor(ref) });
    expect(events.at(-1)).toMatchObject({ data: { summary: { total: 1, failed: 1, success: false } } });
  });

  it.runIf(existsSync('/proc/self/task'))('names its thread `testwire` (top -H, ps -L, /proc)', async () => {
    const reporter = core();
    reporter.runStarted({ totalTests: 0 });
    await reporter.runCompleted({ success: true });
    const names = readdirSync('/proc/self/task').map((tid) => {
      try {
        return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      } catch {
        return ''; // a thread that ended meanwhile
      }
    });
    expect(names).toContain('testwire');
  });

  it('gives a watch-mode rerun a new run id, the same on both threads', async () => {
    const reporter = core();
    const ref = { file: 'test/b.spec.js', titlePath: ['passes'] };
    const ids: string[] = [];
    for (let run = 0; run < 2; run++) {
      reporter.runStarted({ watch: true });
      ids.push(reporter.runId);
      reporter.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 1 });
      await reporter.runCompleted({ success: true });
    }
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) {
      const events = await runOf(id);
      expect(events[0]).toMatchObject({ type: 'test.started', data: { run: { runId: id, watch: true } } });
      expect(events.filter((e) => e.type === 'test.result')).toHaveLength(1);
    }
    // Output after the end belongs to no run: dropped on the hook thread, as in-thread.
    reporter.output(undefined, 'late', 'stdout');
    await reporter.runCompleted({ success: true });
    expect(received.filter((e) => e.type === 'test.output' && ids.includes(e.runId))).toHaveLength(0);
  });

  it('sends coverage as plain data: coverage.completed and test.completed’s coverage from the thread', async () => {
    const reporter = core({ framework: 'vitest' });
    const metric = (covered: number, total: number) => ({ covered, total });
    // What an adapter may pass: a runner object with methods and getters (the structured clone refuses those).
    const totals = {
      statements: metric(3, 4),
      branches: metric(1, 2),
      functions: metric(2, 2),
      get lines() {
        return metric(3, 4);
      },
      toJSON: () => 'not this',
    };
    reporter.runStarted({});
    reporter.coverage({ provider: 'v8', totals, files: 1, thresholds: { functions: 100 } });
    await reporter.runCompleted({ success: true });
    const events = await runOf(reporter.runId);
    expect(events.map((e) => e.type)).toEqual([
      'test.started',
      'coverage.threshold',
      'coverage.completed',
      'test.completed',
    ]);
    const summary = { statements: 75, branches: 50, functions: 100, lines: 75, total: 75 };
    expect(events[1]?.data).toMatchObject({ passed: true, failures: [], actual: { functions: 100 } });
    expect(events[2]?.data).toMatchObject({ provider: 'v8', summary, thresholdsMet: true, files: 1 });
    expect(events[3]?.data).toMatchObject({ coverage: summary });
  });

  it('sends what JSON keeps of a ref the structured clone refuses', async () => {
    const reporter = core();
    const ref = { file: 'test/c.spec.js', titlePath: ['odd'], extra: () => 'not cloneable' };
    reporter.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 1 });
    await reporter.runCompleted({ success: true });
    const events = await runOf(reporter.runId);
    expect(events.find((e) => e.type === 'test.result')).toMatchObject({
      data: { titlePath: ['odd'], file: 'test/c.spec.js' },
    });
  });

  it('samples the hook thread’s process and sends the samples with the run’s counts', async () => {
    const reporter = core({ performanceIntervalMs: 100 });
    reporter.runStarted({});
    reporter.testResult(
      { file: 'test/d.spec.js', titlePath: ['t'] },
      { status: 'passed', rawStatus: 'passed', duration: 1 },
    );
    // Short-lived garbage: young-generation collections happen before the samples.
    let kept = 0;
    for (let i = 0; i < 200_000; i++) kept += [i, { i }].length;
    expect(kept).toBe(400_000);
    // Samples come every 100 ms: wait for two, one of them after a collection.
    const samples = () =>
      received.filter((e) => e.runId === reporter.runId && e.type === 'performance.metrics') as any[];
    for (
      const deadline = Date.now() + 30_000;
      Date.now() < deadline && (samples().length < 2 || !samples().some((e) => e.data.gc?.recentEvents > 0));
    )
      await new Promise((r) => setTimeout(r, 10));
    await reporter.runCompleted({ success: true });
    const metrics = (await runOf(reporter.runId)).filter((e) => e.type === 'performance.metrics');
    expect(metrics.length).toBeGreaterThanOrEqual(2);
    expect(metrics.at(-1)).toMatchObject({
      data: { memory: { heapUsed: expect.any(Number) }, tests: { completed: 1 } },
    });
    // Each sample says the collections since the one before (the contract's `gc`).
    const gcs = metrics.map((e) => (e.data as any).gc);
    for (const gc of gcs)
      expect(gc).toMatchObject({ recentEvents: expect.any(Number), totalTime: expect.any(Number) });
    const collected = gcs.filter((gc) => gc.recentEvents > 0);
    expect(collected.length).toBeGreaterThan(0);
    expect(Date.parse(collected[0].lastEventTime)).toBeGreaterThan(Date.now() - 60_000);
    // system.health, made on the reporter's thread, knows the samples come from the runner's.
    const health = (await completedRun(received, reporter.runId)).find((e) => e.type === 'system.health');
    const profiler = (health?.data as any)?.components.find((c: any) => c.name === 'performance_profiler');
    expect(profiler.message).not.toBe('sampling is off');
  });

  it('computes the same ids as the thread when the project comes from TESTWIRE_PROJECT', async () => {
    const reporter = core({ env: { TESTWIRE_PROJECT: 'from-env' } });
    const ref = { file: 'test/e.spec.js', titlePath: ['named'] };
    reporter.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 1 });
    await reporter.runCompleted({ success: true });
    const result = (await runOf(reporter.runId)).find((e) => e.type === 'test.result');
    expect(result).toMatchObject({ data: { project: 'from-env', id: reporter.idFor(ref) } });
  });

  it.each([
    ['on the command line', true],
    ['in NODE_OPTIONS', false],
  ])("does not run the runner's --require preloads on its thread (%s)", async (_where, onCommandLine) => {
    // A runner started as `node --require <preload> runner.js`, or with the preload in NODE_OPTIONS (how
    // APM agents and ts-node are often put in): the preload must not run again on the
    // core thread (it would cost its start-up, or worse). The child uses the built package, as runners do.
    const preload = join(rootDir, 'preload.cjs');
    writeFileSync(
      preload,
      "const { isMainThread } = require('node:worker_threads');\n" +
        "process.stdout.write('preload:' + (isMainThread ? 'main' : 'thread') + '\\n');",
    );
    const script = `
      const { createReporterCore } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.cjs'))});
      const core = createReporterCore({ framework: 'mocha', rootDir: ${JSON.stringify(rootDir)}, url: ${JSON.stringify(owner.url)}, performanceIntervalMs: 0, env: {} });
      core.testResult({ file: 'f.js', titlePath: ['preloaded'] }, { status: 'passed', rawStatus: 'passed', duration: 1 });
      core.runCompleted({ success: true }).then(() => process.stdout.write('runId:' + core.runId + '\\n'));
    `;
    const child = spawn(process.execPath, [...(onCommandLine ? ['--require', preload] : []), '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: onCommandLine ? process.env : { ...process.env, NODE_OPTIONS: `--require ${preload}` },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toContain('preload:main');
    expect(stdout).not.toContain('preload:thread');
    const runId = /runId:(\S+)/.exec(stdout)?.[1] ?? '';
    expect((await runOf(runId)).some((e) => e.type === 'test.result')).toBe(true);
  });

  it('completeBeforeExit: the run reaches subscribers though the process exits right after it', async () => {
    // jest --forceExit: process.exit follows the hook at once. The hook thread waits; the core's thread
    // replays, publishes and flushes meanwhile. (The built package in a child process, as runners load it.)
    const script = `
      const { createReporterCore } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.cjs'))});
      const core = createReporterCore({ framework: 'jest', rootDir: ${JSON.stringify(rootDir)}, url: ${JSON.stringify(owner.url)}, performanceIntervalMs: 0, env: {} });
      core.runStarted({ totalTests: 1 });
      core.testResult({ file: 'f.js', titlePath: ['exits at once'] }, { status: 'passed', rawStatus: 'passed', duration: 1 });
      process.stdout.write('runId:' + core.runId + ' kind:' + (core.threadId === undefined ? 'in-thread' : 'worker-thread') + '\\n');
      core.completeBeforeExit({ success: false, rawStatus: 'failed' });
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(stdout).toContain('kind:worker-thread');
    const runId = /runId:(\S+)/.exec(stdout)?.[1] ?? '';
    const events = await runOf(runId);
    expect(events[0]?.type).toBe('test.started');
    expect(events.filter((e) => e.type === 'test.result')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: 'test.completed',
      data: { summary: { passed: 1, success: false } },
    });
  });

  it.each([
    ['ESM', 'index.js'],
    ['CommonJS', 'index.cjs'],
  ])(
    'the built %s entry streams in-thread too (TESTWIRE_THREAD=off): it loads the broadcaster on first use',
    async (_format, entry) => {
      // The in-thread core loads @testwire/broadcaster (and ids load node:crypto) only when first needed; the
      // ESM build once turned that lazy require into a shim that throws, so it published nothing.
      const dist = join(__dirname, '..', 'dist', entry);
      const script = `
      const { createReporterCore, stableTestId } = ${entry.endsWith('.cjs') ? `(await import('node:module')).createRequire(${JSON.stringify(dist)})(${JSON.stringify(dist)})` : `await import(${JSON.stringify(dist)})`};
      const core = createReporterCore({ framework: 'mocha', rootDir: ${JSON.stringify(rootDir)}, url: ${JSON.stringify(owner.url)}, performanceIntervalMs: 0, env: { TESTWIRE_THREAD: 'off' } });
      core.testResult({ file: 'f.js', titlePath: ['in thread'] }, { status: 'passed', rawStatus: 'passed', duration: 1 });
      await core.runCompleted({ success: true });
      process.stdout.write(JSON.stringify({ kind: (core.threadId === undefined ? 'in-thread' : 'worker-thread'), runId: core.runId, id: core.idFor({ file: 'f.js', titlePath: ['in thread'] }), hash: stableTestId({ framework: 'mocha', file: 'f.js', titlePath: ['in thread'] }) }));
    `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
      const out = JSON.parse(stdout) as { kind: string; runId: string; id: string; hash: string };
      expect(out.kind).toBe('in-thread');
      expect(out.id).toMatch(/^t_[0-9a-f]{16}$/);
      const result = (await runOf(out.runId)).find((e) => e.type === 'test.result');
      expect(result).toMatchObject({ data: { testName: 'in thread', id: out.id } });
    },
  );

  it('serves every reporter core of the process from one thread (mocha --watch makes a reporter per run)', async () => {
    const threads = () => (existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : 0);
    const first = core();
    first.testResult(
      { file: 'w.js', titlePath: ['first run'] },
      { status: 'passed', rawStatus: 'passed', duration: 1 },
    );
    await first.runCompleted({ success: true });
    const before = threads();
    const reruns = Array.from({ length: 5 }, () => core());
    for (const [i, rerun] of reruns.entries()) {
      rerun.testResult(
        { file: 'w.js', titlePath: [`rerun ${i}`] },
        { status: 'passed', rawStatus: 'passed', duration: 1 },
      );
      await rerun.runCompleted({ success: true });
    }
    // no thread per reporter left behind (Linux: the process's threads)
    expect(threads()).toBe(before);
    const threadId = (c: unknown) => (c as { threadId?: number }).threadId;
    expect(threadId(first)).toBeTypeOf('number');
    for (const rerun of reruns) expect(threadId(rerun)).toBe(threadId(first));
    const runIds = new Set([first, ...reruns].map((c) => c.runId));
    expect(runIds.size).toBe(6);
    for (const [i, rerun] of reruns.entries()) {
      const result = (await runOf(rerun.runId)).find((e) => e.type === 'test.result');
      expect(result).toMatchObject({ data: { testName: `rerun ${i}` } });
    }
  });

  it('never throws into the runner, whatever an adapter passes', async () => {
    const reporter = core();
    const hostile = {
      toString() {
        throw new Error('no string for you');
      },
    };
    expect(() => reporter.runStarted(null as never)).not.toThrow();
    expect(() => reporter.testResult(undefined as never, { errors: 5 } as never)).not.toThrow();
    expect(() => reporter.output(undefined, hostile as never, 'stdout')).not.toThrow();
    expect(() => reporter.fileFailed(hostile as never, hostile)).not.toThrow();
    // Still streaming afterwards, as one run.
    reporter.testResult(
      { file: 'f.js', titlePath: ['after'] },
      { status: 'passed', rawStatus: 'passed', duration: 1 },
    );
    await reporter.runCompleted({ success: true });
    const events = await runOf(reporter.runId);
    expect(events.filter((e) => e.type === 'test.started')).toHaveLength(1);
    expect(events.some((e) => e.type === 'test.result' && e.data.testName === 'after')).toBe(true);
  });

  it('runs in this thread with TESTWIRE_THREAD=off, or with a sink', () => {
    const threadId = (c: unknown) => (c as { threadId?: number }).threadId;
    expect(threadId(core({}))).toBeTypeOf('number');
    expect(threadId(core({ env: { TESTWIRE_THREAD: 'off' } }))).toBeUndefined();
    expect(threadId(core({ sink: () => {} }))).toBeUndefined();
  });
});
