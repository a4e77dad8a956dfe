import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { until } from '@testwire-tests/support';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { completedRun, subscribeAll } from './helpers.js';

// A bound hit on the way to the endpoint is never silent (issue 12 §2). The endpoint is a real broadcaster in a
// process of its own that is stopped (SIGSTOP: alive, answering nothing, as a starved owner) while a reporter in
// another process, the built package as runners load it, completes a run with a small flushTimeoutMs. The bound
// is hit: one stderr line names what is not confirmed, and a system.error does too. Then the owner resumes, the
// reporter's process having lived on: every event the reporter accepted arrives, once, before a later run's.

const BROADCASTER = createRequire(import.meta.url).resolve('@testwire/broadcaster');
const CORE = join(__dirname, '..', 'dist', 'index.cjs');
// Long enough for a delivered run to be confirmed on a loaded machine (the warm run must say nothing).
const FLUSH_MS = 2500;
const LOSS_LINE = /^testwire: run .*$/gm;

interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The first stdout line matching `match`, parsed as JSON (bounded wait). */
  line<T>(match: (message: T) => boolean, what: string): Promise<T>;
}

const children: ChildProcess[] = [];
const roots: string[] = [];
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const child of children.splice(0)) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const { TESTWIRE_URL: _url, TESTWIRE_FLUSH_TIMEOUT: _flush, ...inherited } = process.env;
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...inherited, ...env },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    line: <T>(match: (message: T) => boolean, what: string) =>
      until(
        `${what}; stderr: ${stderr}`,
        () =>
          stdout
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as T)
            .find(match),
        30_000,
      ),
  };
}

/** A broadcaster (owner) in a process of its own; resolves with its URL. */
async function startOwner(): Promise<{ child: Child; url: string; wsUrl: string }> {
  const script = `
    const { startBroadcaster } = require(${JSON.stringify(BROADCASTER)});
    startBroadcaster({ port: 0, host: '127.0.0.1', keepAlive: true, logger: { warn() {} } })
      .then((b) => process.stdout.write(JSON.stringify({ url: b.url, wsUrl: b.wsUrl }) + '\\n'));
  `;
  const child = start(['-e', script]);
  const { url, wsUrl } = await child.line<{ url?: string; wsUrl: string }>((m) => !!m.url, 'the owner');
  return { child, url: url as string, wsUrl };
}

/**
 * A reporter process: on `{"run": name, "tests": n, "output": bool}` on stdin it runs n passing tests, completes
 * the run and prints `{"ran": name, runId, ms}` (ms: how long runCompleted took). Stdin keeps it alive.
 */
function startReporter(url: string, thread: boolean, extra: Record<string, unknown> = {}): Child {
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-loss-'));
  roots.push(rootDir);
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'loss-fixture' }));
  const options = {
    framework: 'mocha',
    rootDir,
    url,
    flushTimeoutMs: FLUSH_MS,
    performanceIntervalMs: 0,
    env: thread ? {} : { TESTWIRE_THREAD: 'off' },
    ...extra,
  };
  const script = `
    const { createReporterCore } = require(${JSON.stringify(CORE)});
    const core = createReporterCore(${JSON.stringify(options)});
    const say = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
    say({ kind: (core.threadId === undefined ? 'in-thread' : 'worker-thread') });
    let queue = Promise.resolve();
    require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
      const { run, tests, output } = JSON.parse(line);
      queue = queue.then(async () => {
        core.runStarted({ totalTests: tests });
        for (let i = 0; i < tests; i++) {
          const ref = { file: 'loss.test.js', titlePath: [run, 'test ' + i] };
          core.testStarted(ref);
          if (output) core.output(ref, 'output of test ' + i + '\\n', 'stdout', 'log');
          core.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 1 });
        }
        const runId = core.runId;
        const started = Date.now();
        await core.runCompleted({ success: true });
        say({ ran: run, runId, ms: Date.now() - started });
      });
    });
  `;
  return start(['-e', script]);
}

interface Ran {
  ran: string;
  runId: string;
  ms: number;
}

async function run(reporter: Child, name: string, tests: number, output = false): Promise<Ran> {
  reporter.process.stdin?.write(`${JSON.stringify({ run: name, tests, output })}\n`);
  return reporter.line<Ran>((m) => m.ran === name, `run ${name}`);
}

const ofRun = (received: AnyEventEnvelope[], runId: string) => received.filter((e) => e.runId === runId);
const lossEvents = (received: AnyEventEnvelope[]) =>
  received.filter((e) => e.type === 'system.error' && e.data.component === 'reporter');

describe.each([
  ['on its own thread', true, 'worker-thread'],
  ['in-thread (TESTWIRE_THREAD=off)', false, 'in-thread'],
])('a reporter %s', (_name, thread, kind) => {
  it('says on stderr and in a system.error what the stopped owner did not confirm at the flush bound; once it resumes, everything arrives once', async () => {
    const owner = await startOwner();
    const { socket, received } = await subscribeAll(owner.wsUrl);
    sockets.push(socket);
    const reporter = startReporter(owner.url, thread);
    expect((await reporter.line<{ kind?: string }>((m) => !!m.kind, 'the core')).kind).toBe(kind);

    // Joined and delivered: nothing to say.
    const warm = await run(reporter, 'warm', 1);
    expect(reporter.stderr()).not.toMatch(LOSS_LINE);

    owner.child.process.kill('SIGSTOP');
    const starved = await run(reporter, 'starved', 50);
    // Bounded: the flush bound, plus the runner's wait for the reporter's thread at most.
    expect(starved.ms).toBeGreaterThanOrEqual(FLUSH_MS - 50);
    expect(starved.ms).toBeLessThan(FLUSH_MS + 1000 + 5000);
    const lines = reporter.stderr().match(LOSS_LINE) ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`run ${starved.runId}: `);
    expect(lines[0]).toMatch(
      new RegExp(
        `\\d+ event\\(s\\) not confirmed within the flush bound of ${FLUSH_MS} ms \\(test\\.completed 1, test\\.result 50, test\\.started 1, (?:[a-z.]+ \\d+, )*test\\.progress \\d+\\)`,
      ),
    );
    expect(lines[0]).toContain(`missing from ${owner.url} if the process exits before they are sent`);

    owner.child.process.kill('SIGCONT');
    // The reporter's process lived on: a later run's test.completed comes after everything before it.
    await completedRun(received, (await run(reporter, 'sentinel', 0)).runId, 30_000);

    const events = ofRun(received, starved.runId);
    const results = events.filter((e) => e.type === 'test.result');
    expect(results).toHaveLength(50);
    expect(new Set(results.map((e) => (e.data as { id: string }).id)).size).toBe(50);
    expect(events.filter((e) => e.type === 'test.completed')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('test.completed');
    // One notice, outside the run (test.completed stays the run's last event), naming the run and the counts.
    const notices = lossEvents(received);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      runId: '',
      data: {
        component: 'reporter',
        framework: 'mocha',
        project: 'loss-fixture',
        runId: starved.runId,
        error: { code: 'FLUSH_TIMEOUT', severity: 'error' },
        unconfirmed: { 'test.result': 50, 'test.completed': 1, 'test.started': 1 },
      },
    });
    const notice = notices[0] as AnyEventEnvelope & { type: 'system.error' };
    expect(notice.data.dropped).toBeUndefined();
    expect(notice.data.error.message).toBe((lines[0] as string).replace(/^testwire: /, ''));
    expect(ofRun(received, warm.runId).filter((e) => e.type === 'test.result')).toHaveLength(1);
    expect(reporter.stderr().match(LOSS_LINE)).toHaveLength(1);
  });
});

it('completeBeforeExit (jest --forceExit) says it too, before the process exits', async () => {
  const owner = await startOwner();
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-loss-'));
  roots.push(rootDir);
  // Joined first (a first run delivered), then the owner stops; the runner exits right after the hook.
  const script = `
    const { createReporterCore } = require(${JSON.stringify(CORE)});
    const core = createReporterCore(${JSON.stringify({ framework: 'jest', rootDir, url: owner.url, flushTimeoutMs: FLUSH_MS, performanceIntervalMs: 0, env: {} })});
    const ref = (name) => ({ file: 'f.js', titlePath: [name] });
    core.testResult(ref('warm'), { status: 'passed', rawStatus: 'passed', duration: 1 });
    core.runCompleted({ success: true }).then(() => {
      process.stdout.write('{"warm":true}\\n');
      require('node:readline').createInterface({ input: process.stdin }).once('line', () => {
        for (let i = 0; i < 20; i++) core.testResult(ref('t' + i), { status: 'passed', rawStatus: 'passed', duration: 1 });
        process.stdout.write(JSON.stringify({ runId: core.runId }) + '\\n');
        core.completeBeforeExit({ success: true });
        process.exit(0);
      });
    });
  `;
  const reporter = start(['-e', script]);
  await reporter.line<{ warm?: boolean }>((m) => m.warm === true, 'the first run');
  owner.child.process.kill('SIGSTOP');
  const exited = new Promise((resolve) => reporter.process.once('exit', resolve));
  reporter.process.stdin?.write('go\n');
  expect(await exited).toBe(0);
  const { runId } = await reporter.line<{ runId?: string }>((m) => !!m.runId, 'the run id');
  const lines = reporter.stderr().match(LOSS_LINE) ?? [];
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(
      `^testwire: run ${runId}: \\d+ event\\(s\\) not confirmed within the flush bound of ${FLUSH_MS} ms \\(test\\.completed 1, test\\.result 20, `,
    ),
  );
});

it('a full buffer while the owner cannot be reached drops output before results, and says what it dropped', async () => {
  const owner = await startOwner();
  const { socket, received } = await subscribeAll(owner.wsUrl);
  sockets.push(socket);
  // Stopped before the reporter joins: the events wait in the reporter's buffer (60 events) meanwhile.
  owner.child.process.kill('SIGSTOP');
  const reporter = startReporter(owner.url, true, { maxBufferedEvents: 60, progressIntervalMs: 0 });
  const starved = await run(reporter, 'crowded', 50, true);
  const line = (reporter.stderr().match(LOSS_LINE) ?? [])[0] ?? '';
  expect(line).toContain(`run ${starved.runId}: `);
  expect(line).toMatch(
    new RegExp(
      `not confirmed within the flush bound of ${FLUSH_MS} ms \\(test\\.completed 1, test\\.result 50, `,
    ),
  );
  expect(line).toMatch(
    /event\(s\) dropped \((?:system\.health 1, )?test\.output \d+, test\.progress \d+\): more than 60 events came before the broadcaster was up/,
  );

  owner.child.process.kill('SIGCONT');
  await completedRun(received, (await run(reporter, 'sentinel', 0)).runId, 30_000);
  const events = ofRun(received, starved.runId);
  expect(
    new Set(events.filter((e) => e.type === 'test.result').map((e) => (e.data as { id: string }).id)).size,
  ).toBe(50);
  expect(events.at(-1)?.type).toBe('test.completed');
  const [notice] = lossEvents(received);
  const data = notice?.data as {
    runId: string;
    dropped: Record<string, number>;
    unconfirmed: Record<string, number>;
  };
  expect(data.runId).toBe(starved.runId);
  expect(data.dropped['test.result']).toBeUndefined();
  expect(data.dropped['test.output']).toBeGreaterThan(0);
  // What was dropped is exactly what is missing.
  expect(events.filter((e) => e.type === 'test.output')).toHaveLength(
    50 - (data.dropped['test.output'] ?? 0),
  );
  expect(data.unconfirmed['test.result']).toBe(50);
});
