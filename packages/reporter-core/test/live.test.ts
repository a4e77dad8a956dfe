import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroadcaster } from '@testwire/broadcaster';
import { type AnyEventEnvelope, validatePublishedEvent } from '@testwire/protocol';
import { until } from '@testwire-tests/support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { sinkCore, subscribeAll } from './helpers.js';

// Hung tests, interrupted runs, steps and attachments: what is live beyond results.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('in-thread core', () => {
  it('reports a test that runs past the threshold while it runs, once per attempt, as hung_test', async () => {
    // Metrics samples are the sentinels below: the same thread's timers as the detector's scans (every 100 ms).
    const context = sinkCore({ hungTestThreshold: 300, performanceIntervalMs: 150 });
    cleanups.push(context.cleanup);
    const { core, of, events } = context;
    const ref = { file: join(context.rootDir, 'test/a.test.js'), titlePath: ['suite', 'hangs'], line: 4 };
    const quick = { file: join(context.rootDir, 'test/a.test.js'), titlePath: ['suite', 'quick'] };
    core.runStarted({});
    core.testStarted(quick);
    core.testResult(quick, { status: 'passed', rawStatus: 'passed', duration: 1 });
    core.testStarted(ref);
    const hung = await until('hung_test', () =>
      of('performance.bottleneck').find((event) => event.data.type === 'hung_test'),
    );
    expect(validatePublishedEvent(hung)).toMatchObject({ ok: true });
    expect(hung.data).toMatchObject({
      type: 'hung_test',
      testName: 'hangs',
      id: core.idFor(ref),
      file: 'test/a.test.js',
      location: { file: 'test/a.test.js', line: 4 },
      titlePath: ['suite', 'hangs'],
      attempt: 1,
      threshold: 300,
    });
    expect(hung.data.elapsed).toBeGreaterThan(300);
    // Three metrics samples after the report (over 300 ms of the core's timers, scans among them): still one
    // report for the attempt, none for the quick test.
    await until(
      'three performance.metrics after the report',
      () =>
        events.slice(events.indexOf(hung)).filter((event) => event.type === 'performance.metrics').length >=
        3,
    );
    expect(of('performance.bottleneck').filter((event) => event.data.type === 'hung_test')).toHaveLength(1);
    core.testResult(ref, { status: 'failed', rawStatus: 'failed', duration: 900 });
    await core.runCompleted({ success: false });
    expect(of('test.completed')[0]?.data.interrupted).toBeUndefined();
  });

  it("uses a test's own timeout (plus 1 s) when the adapter gives one", async () => {
    const context = sinkCore({ hungTestThreshold: 60_000 });
    cleanups.push(context.cleanup);
    const { core, of } = context;
    const ref = { file: 'test/b.test.js', titlePath: ['stuck'] };
    core.runStarted({});
    core.testStarted(ref, 1, 100);
    const hung = await until('hung_test', () => of('performance.bottleneck')[0]);
    expect(hung.data).toMatchObject({ type: 'hung_test', threshold: 1100, testName: 'stuck' });
    await core.runCompleted({ success: false });
  });

  it('streams steps in the order they end, with nesting and attempt, filtered by category', async () => {
    const context = sinkCore({ stepCategories: ['expect'] });
    cleanups.push(context.cleanup);
    const { core, of } = context;
    const ref = { file: 'tests/steps.spec.ts', titlePath: ['checkout'] };
    core.runStarted({});
    core.testStarted(ref, 2);
    expect(core.wantsStep('test.step')).toBe(true);
    expect(core.wantsStep('expect')).toBe(true);
    expect(core.wantsStep('fixture')).toBe(false);
    const step = { attempt: 2, duration: 5, startedAt: Date.now() };
    core.testStep(ref, { ...step, title: 'inner', category: 'test.step', parents: ['outer'] });
    core.testStep(ref, { ...step, title: 'fixture: page', category: 'fixture', parents: [] });
    core.testStep(ref, {
      ...step,
      title: 'expect.toBe',
      category: 'expect',
      parents: ['outer'],
      error: new Error('expected 1'),
    });
    core.testStep(ref, { ...step, title: 'outer', category: 'test.step', parents: [], duration: 12 });
    await core.runCompleted({ success: true });
    const steps = of('test.step');
    expect(steps.map((event) => [event.data.title, event.data.depth])).toEqual([
      ['inner', 1],
      ['expect.toBe', 1],
      ['outer', 0],
    ]);
    for (const event of steps) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
    expect(steps[0]?.data).toMatchObject({ id: core.idFor(ref), attempt: 2, stepPath: ['outer'] });
    expect(steps[1]?.data.error).toMatchObject({ message: 'expected 1' });
  });

  it('steps off: the lean stream has no test.step', async () => {
    const context = sinkCore({ steps: false });
    cleanups.push(context.cleanup);
    const { core, of } = context;
    core.runStarted({});
    expect(core.wantsStep('test.step')).toBe(false);
    core.testStep(
      { file: 'a.ts', titlePath: ['t'] },
      { title: 's', category: 'test.step', parents: [], duration: 1, attempt: 1 },
    );
    await core.runCompleted({ success: true });
    expect(of('test.step')).toHaveLength(0);
    expect(of('test.completed')).toHaveLength(1);
  });

  it('announces attachments by reference: relative path, never an absolute one, never the bytes', async () => {
    const context = sinkCore();
    cleanups.push(context.cleanup);
    const { core, of, rootDir } = context;
    const ref = { file: 'tests/a.spec.ts', titlePath: ['shot'] };
    core.runStarted({});
    core.testResult(ref, {
      status: 'passed',
      rawStatus: 'passed',
      duration: 3,
      attachments: [
        { name: 'screenshot', contentType: 'image/png', path: join(rootDir, 'test-results/a/shot.png') },
        { name: 'note', contentType: 'text/plain', size: 12 },
      ],
    });
    await core.runCompleted({ success: true });
    const result = of('test.result')[0];
    expect(validatePublishedEvent(result)).toMatchObject({ ok: true });
    expect(result?.data.attachments).toEqual([
      { name: 'screenshot', contentType: 'image/png', path: 'test-results/a/shot.png' },
      { name: 'note', contentType: 'text/plain', size: 12 },
    ]);
  });
});

// The core on its worker thread, in a child process of its own: signals and a blocked runner thread.
describe('reporter process', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const dist = join(here, '..', 'dist', 'index.js');
  let owner: Awaited<ReturnType<typeof startBroadcaster>>;
  let socket: WebSocket;
  let received: AnyEventEnvelope[] = [];
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-live-'));
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'live-fixture' }));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    owner = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    ({ socket, received } = await subscribeAll(owner.wsUrl));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    socket?.close();
    await owner?.close({ timeoutMs: 1000 });
    rmSync(rootDir, { recursive: true, force: true });
  });

  /** A child process running `body` after a core (threaded, joined to the owner) started a run. */
  function child(runTag: string, body: string, options: Record<string, unknown> = {}, prelude = '') {
    const script = `
      ${prelude}
      const { createReporterCore } = await import(${JSON.stringify(dist)});
      const core = createReporterCore({ framework: 'mocha', rootDir: ${JSON.stringify(rootDir)},
        url: ${JSON.stringify(owner.url)}, performanceIntervalMs: 0, env: process.env,
        ...${JSON.stringify(options)} });
      core.runStarted({ options: { tag: ${JSON.stringify(runTag)} } });
      const ref = (title) => ({ file: 'test/live.spec.js', titlePath: ['live', title], line: 7 });
      ${body}`;
    const { TESTWIRE_THREAD: _off, ...env } = process.env;
    const process_ = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    children.push(process_);
    let stdout = '';
    process_.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    process_.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      process_.on('close', (code, signal) => resolve({ code, signal })),
    );
    const runId = () =>
      received.find(
        (event) => event.type === 'test.started' && (event.data.options as { tag?: string })?.tag === runTag,
      )?.runId;
    return { process: process_, exited, runId, output: () => stdout };
  }

  it('SIGTERM: an interrupted test.completed names the running tests, then the process dies of it', async () => {
    const run = child(
      'sigterm',
      `core.testStarted(ref('waits'));
       core.testStarted({ file: 'test/other.spec.js', titlePath: ['also running'] });
       setInterval(() => {}, 1000);
       console.log('ready');`,
    );
    await until('the running test', () => {
      const id = run.runId();
      return id && received.some((e) => e.runId === id && e.type === 'test.progress') ? id : undefined;
    });
    const runId = run.runId() as string;
    const signalled = Date.now();
    run.process.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit.signal).toBe('SIGTERM');
    const completed = await until('test.completed', () =>
      received.find((e) => e.runId === runId && e.type === 'test.completed'),
    );
    expect(validatePublishedEvent(completed)).toMatchObject({ ok: true });
    const data = completed.data as Record<string, any>;
    expect(data).toMatchObject({ interrupted: true, interruptedBy: 'SIGTERM', summary: { success: false } });
    expect(data.runningTests.map((test: { testName: string }) => test.testName).sort()).toEqual([
      'also running',
      'waits',
    ]);
    const waits = data.runningTests.find((test: { testName: string }) => test.testName === 'waits');
    expect(waits).toMatchObject({ file: 'test/live.spec.js', titlePath: ['live', 'waits'], attempt: 1 });
    expect(waits.elapsed).toBeGreaterThan(0);
    expect(waits.elapsed).toBeLessThan(Date.now() - signalled + 60_000);
  }, 30_000);

  it("SIGTERM, when the runner's own listener came first and exits at once (vitest 3): the run still ends interrupted", async () => {
    // Vitest 3's logger: on SIGTERM it calls process.exit inside its listener, and on 'exit' calls it again.
    const vitest3 = `const onExit = () => { process.exitCode = 143; process.exit(); };
      process.once('SIGTERM', onExit);
      process.once('exit', onExit);`;
    const run = child(
      'runner-exits',
      `core.testStarted(ref('waits')); setInterval(() => {}, 1000);`,
      {},
      vitest3,
    );
    await until('the running test', () => {
      const id = run.runId();
      return id && received.some((e) => e.runId === id && e.type === 'test.progress') ? id : undefined;
    });
    const runId = run.runId() as string;
    run.process.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 143, signal: null });
    const completed = await until('test.completed', () =>
      received.find((e) => e.runId === runId && e.type === 'test.completed'),
    );
    const data = completed.data as Record<string, any>;
    // Completed by the reporter on its way out (the endpoint's stand-in for a lost publisher has no elapsed).
    expect(data, run.output()).toMatchObject({ interrupted: true, interruptedBy: 'SIGTERM' });
    expect(data.runningTests).toMatchObject([
      { testName: 'waits', titlePath: ['live', 'waits'], attempt: 1 },
    ]);
    expect(data.runningTests[0].elapsed).toBeGreaterThan(0);
  }, 30_000);

  it('process.exit() while a test runs (mocha serial): the run ends interrupted by the exit, nothing recorded is lost', async () => {
    // The worst case: the exit comes at once, before the reporter's thread is up or anything was posted.
    const run = child(
      'exits',
      `core.testStarted(ref('passes'));
       core.testResult(ref('passes'), { status: 'passed', duration: 1 });
       core.testStarted(ref('calls exit'));
       process.exit(3);`,
    );
    expect(await run.exited).toEqual({ code: 3, signal: null });
    const runId = await until('the run', () => run.runId());
    const completed = await until('test.completed', () =>
      received.find((e) => e.runId === runId && e.type === 'test.completed'),
    );
    expect(validatePublishedEvent(completed)).toMatchObject({ ok: true });
    const data = completed.data as Record<string, any>;
    // Completed by the reporter on its way out, not by the endpoint's stand-in for a lost publisher.
    expect(data, run.output()).toMatchObject({
      interrupted: true,
      interruptedBy: 'exit',
      summary: { success: false, passed: 1 },
      runningTests: [{ testName: 'calls exit', titlePath: ['live', 'calls exit'], attempt: 1 }],
    });
    expect(data.errors[0].message).toContain('exit code 3');
    expect(
      received
        .filter((e) => e.runId === runId && e.type === 'test.result')
        .map((e) => (e.data as { status?: string }).status),
    ).toEqual(['passed']);
  }, 30_000);

  it('SIGKILL of a joined process: the endpoint completes its open run as interrupted with its running test', async () => {
    const run = child('sigkill', `core.testStarted(ref('was running')); setInterval(() => {}, 1000);`);
    const runId = await until('the running test', () => {
      const id = run.runId();
      return id &&
        received.some((e) => e.runId === id && e.type === 'test.progress' && e.data.status === 'running')
        ? id
        : undefined;
    });
    run.process.kill('SIGKILL');
    await run.exited;
    const completed = await until('test.completed from the endpoint', () =>
      received.find((e) => e.runId === runId && e.type === 'test.completed'),
    );
    expect(validatePublishedEvent(completed)).toMatchObject({ ok: true });
    expect(completed.data).toMatchObject({
      interrupted: true,
      interruptedBy: 'publisher_lost',
      summary: { success: false },
      errors: [{ code: 'PUBLISHER_LOST' }],
      runningTests: [
        { testName: 'was running', titlePath: ['live', 'was running'], file: 'test/live.spec.js' },
      ],
    });
  }, 30_000);

  it('a test blocking the runner thread is reported hung by the core thread while it blocks', async () => {
    const run = child(
      'blocked',
      // As in a runner: the run started a while before the test that blocks (its start got posted).
      `await new Promise((resolve) => setTimeout(resolve, 300));
       core.testStarted(ref('spins'));
       const end = Date.now() + 20000;
       while (Date.now() < end) {}
       console.log('loop ended');`,
      { hungTestThreshold: 500 },
    );
    const hung = await until(
      'hung_test from a blocked thread',
      () => {
        const id = run.runId();
        return received.find(
          (e) => e.runId === id && e.type === 'performance.bottleneck' && e.data.type === 'hung_test',
        );
      },
      18_000,
    );
    // Still blocked: the loop has not ended.
    expect(run.output()).not.toContain('loop ended');
    expect(hung.data).toMatchObject({
      testName: 'spins',
      titlePath: ['live', 'spins'],
      file: 'test/live.spec.js',
    });
    run.process.kill('SIGKILL');
    await run.exited;
  }, 30_000);

  /** The hung_test events of the child's run so far. */
  const hungOf = (run: ReturnType<typeof child>) =>
    received.filter(
      (e) => e.runId === run.runId() && e.type === 'performance.bottleneck' && e.data.type === 'hung_test',
    );

  it('a test that blocks right after another ended: the one that blocks is hung, not the one whose result waits', async () => {
    // mocha serial: `first` ends (its result waits in the batch) and the next test blocks the thread at once.
    const run = child(
      'blocked-after-result',
      `await new Promise((resolve) => setTimeout(resolve, 300));
       core.testStarted(ref('first'));
       await new Promise((resolve) => setTimeout(resolve, 60));
       core.testResult(ref('first'), { status: 'passed', rawStatus: 'passed', duration: 60 });
       core.testStarted(ref('spins'));
       const end = Date.now() + 20000;
       while (Date.now() < end) {}
       console.log('loop ended');`,
      { hungTestThreshold: 500, performanceIntervalMs: 250 },
    );
    const hung = await until('hung_test from a blocked thread', () => hungOf(run)[0], 18_000);
    expect(hung.data).toMatchObject({ testName: 'spins', titlePath: ['live', 'spins'] });
    // `first` started before `spins`: had it been taken for running, its elapsed time would have passed the
    // threshold first, so it would have been reported before `spins` or in the same scan. Sentinels: two
    // metrics samples of the run after the report (the core's thread goes on while the runner's is blocked).
    await until(
      'two performance.metrics after the hung report',
      () =>
        received
          .slice(received.indexOf(hung))
          .filter((e) => e.runId === run.runId() && e.type === 'performance.metrics').length >= 2,
      18_000,
    );
    expect(run.output()).not.toContain('loop ended');
    expect(hungOf(run).map((e) => (e.data as { testName?: string }).testName)).toEqual(['spins']);
    run.process.kill('SIGKILL');
    await run.exited;
  }, 30_000);

  it('a test that blocks the thread at once after the run starts: the run and its hung test still stream', async () => {
    const run = child(
      'blocked-at-once',
      `core.testStarted(ref('spins at once'));
       const end = Date.now() + 20000;
       while (Date.now() < end) {}
       console.log('loop ended');`,
      { hungTestThreshold: 500 },
    );
    const hung = await until('hung_test from a thread blocked from the start', () => hungOf(run)[0], 18_000);
    expect(run.output()).not.toContain('loop ended');
    expect(hung.data).toMatchObject({ testName: 'spins at once', titlePath: ['live', 'spins at once'] });
    run.process.kill('SIGKILL');
    await run.exited;
  }, 30_000);
});
