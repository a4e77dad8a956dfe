/**
 * A worker that dies in the middle of a test file, end to end on Vitest 3 and 4 (compat/vitest-<major>):
 * `vitest run` with the default reporter, Vitest's json reporter (the oracle) and `@testwire/vitest`,
 * streaming into a real broadcaster seen by a real WebSocket subscriber.
 *
 * Vitest reports such a file as never finished: its tests stay `pending` (its json reporter says so; its
 * `Tests` line counts them in the total only), the file is in the `Test Files` total but not among the passed,
 * and the crash is one unhandled error naming no file (Vitest 4: `[vitest-pool]: Worker forks emitted error.`
 * caused by `Worker exited unexpectedly`). The stream keeps those results (not run: `skipped`, rawStatus
 * `pending`) and counts, and says which file the worker died in and during which test: one test.failed with
 * scope 'file' for it and one framework.error WORKER_CRASHED naming the file and the test, whose error keeps
 * Vitest's cause; the test the worker died in carries that crash as its error.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** How the worker dies in the test `crashes`. */
const CRASHES = {
  // A fork killed outright (as the kernel's OOM killer or a `kill -9` would).
  kill: "process.kill(process.pid, 'SIGKILL');",
  // A thread (or fork) that exits without Vitest's process.exit guard (native code, a library calling exit).
  exit: 'process.reallyExit(3);',
  // A thread out of heap: Node ends the thread (ERR_WORKER_OUT_OF_MEMORY).
  oom: 'const a = []; for (;;) a.push(new Array(1e5).fill({ x: Math.random() }));',
} as const;

function project(major: number, crash: keyof typeof CRASHES): string {
  const name = `vitest-crash-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
    'package.json': '{ "name": "vitest-crash-fixture", "private": true, "type": "module" }\n',
    'crash.test.js': [
      "import { existsSync } from 'node:fs';",
      "import { beforeEach, describe, expect, test } from 'vitest';",
      "describe('worker', () => {",
      // Vitest's worker sends a test's start with its next task update, at most one per 100 ms, and drops a
      // deferred one now and then (README, "A hung test whose start Vitest never sends"): this hook's end,
      // 150 ms after the test's start, sends it for sure; the test dies once the stream has its start (the gate
      // file the e2e writes then; at most 60 s).
      '  beforeEach(() => new Promise((resolve) => setTimeout(resolve, 150)));',
      "  test('before the crash', () => { expect(1).toBe(1); });",
      "  test('crashes', async () => {",
      '    const deadline = Date.now() + 60_000;',
      '    while (!existsSync(process.env.FIXTURE_GATE) && Date.now() < deadline)',
      '      await new Promise((resolve) => setTimeout(resolve, 20));',
      `    ${CRASHES[crash]}`,
      '  }, 90_000);',
      "  test('after the crash', () => { expect(1).toBe(1); });",
      '});',
      '',
    ].join('\n'),
    'ok.test.js': [
      "import { expect, test } from 'vitest';",
      "test('one', () => { expect(1).toBe(1); });",
      "test('two', () => { expect(2).toBe(2); });",
      '',
    ].join('\n'),
  });
}

/** Vitest's printed counts: `Tests  2 passed (5)` (the crashed file's tests in the total only), `Errors  1 error`. */
function printedCounts(output: string) {
  const line = /^\s*Tests\s+(.*)\((\d+)\)\s*$/m.exec(output);
  expect(line, output).not.toBeNull();
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line?.[1] ?? '')?.[1] ?? 0);
  return {
    total: Number(line?.[2]),
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    todo: count('todo'),
    errors: Number(/^\s*Errors\s+(\d+) errors?/m.exec(output)?.[1] ?? 0),
  };
}

/** Vitest's json report: its counts, and each test's status (`pending`: never finished) by title path. */
function jsonReport(dir: string) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  const statuses: Record<string, string> = {};
  for (const file of report.testResults)
    for (const test of file.assertionResults)
      statuses[[basename(file.name), ...test.ancestorTitles, test.title].join(' > ')] = test.status;
  const counts = {
    total: report.numTotalTests as number,
    passed: report.numPassedTests as number,
    failed: report.numFailedTests as number,
    pending: report.numPendingTests as number,
    todo: report.numTodoTests as number,
  };
  return { statuses, counts };
}

/** What the stream's status is for each of the json reporter's: a test that never finished did not run. */
const STREAM_STATUS: Record<string, string> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  skipped: 'skipped',
  todo: 'todo',
};

async function run(major: number, pool: string, crash: keyof typeof CRASHES, nodeArgs: string[] = []) {
  const dir = project(major, crash);
  try {
    const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
    const args = [
      ...nodeArgs,
      bin,
      'run',
      `--pool=${pool}`,
      '--reporter=default',
      '--reporter=json',
      '--outputFile.json=report.json',
      '--reporter=@testwire/vitest',
    ];
    const gate = join(dir, 'crash.gate');
    const seen = stream.received().length;
    const running = runWithOutput(process.execPath, args, dir, {
      ...runnerEnv(stream.url),
      TESTWIRE_PROGRESS_INTERVAL: '0',
      FIXTURE_GATE: gate,
    });
    // The test `crashes` dies once its start is in the stream (every start is, with the interval 0).
    const started = () =>
      stream
        .received()
        .slice(seen)
        .some(
          (e) =>
            e.type === 'test.progress' &&
            (e.data as any).status === 'running' &&
            (e.data as any).titlePath?.at(-1) === 'crashes',
        );
    const deadline = Date.now() + 60_000;
    let exited = false;
    void running.then(() => (exited = true));
    while (!started() && !exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(gate, '');
    const { code, output } = await running;
    const events = await stream.runOf(basename(dir));
    const data = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as any);
    return { code, output, data, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The stream mirrors Vitest's report of a run in which the worker running crash.test.js died in the test
 * `crashes`; `vitestError` is Vitest's error for the crash, as the stream's text has it (causes folded in).
 */
function expectMirrored(result: Awaited<ReturnType<typeof run>>, vitestError: string) {
  const { code, output, data, dir } = result;
  try {
    expect(code, output).toBe(1);
    const printed = printedCounts(output);
    // Vitest's own view: the test before the crash passed, the crashed file's other tests never finished,
    // one unhandled error.
    const { statuses: oracle, counts: json } = jsonReport(dir);
    expect(oracle['crash.test.js > worker > before the crash'], output).toBe('passed');
    expect(oracle['crash.test.js > worker > crashes'], output).toBe('pending');
    expect(oracle['crash.test.js > worker > after the crash'], output).toBe('pending');
    expect(printed.errors, output).toBe(1);

    // Per test: the stream's final status is Vitest's, a test that never finished is not run.
    const results = new Map<string, any>();
    for (const r of data('test.result')) results.set([r.file, ...r.titlePath].join(' > '), r);
    expect(
      Object.fromEntries([...results].map(([key, r]) => [key, [r.status, r.rawStatus]])),
      output,
    ).toEqual(
      Object.fromEntries(
        Object.entries(oracle).map(([key, status]) => [key, [STREAM_STATUS[status], status]]),
      ),
    );

    // The counts Vitest prints, and its json reporter's. The stream counts every test once among passed,
    // failed, skipped and todo (the protocol has no fifth status), a test that never finished as not run:
    // skipped. Vitest's `Tests` line counts those in its total only; its json reporter counts the test the
    // worker died in (state `run`) as pending, the tests after it (never started) nowhere but in the total.
    const summary = data('test.completed')[0].summary;
    const notRun = Object.values(oracle).filter((status) => status === 'pending').length;
    expect(summary, output).toMatchObject({
      total: printed.total,
      passed: printed.passed,
      failed: printed.failed,
      skipped: (printed.skipped ?? 0) + notRun,
      todo: printed.todo,
      success: false,
    });
    const neverStarted = 1; // 'after the crash'
    expect(summary, output).toMatchObject({
      total: json.total,
      passed: json.passed,
      failed: json.failed,
      skipped: json.pending + neverStarted,
      todo: json.todo,
    });

    // The test the worker died in: Vitest's status, the crash as its error.
    const dying = results.get('crash.test.js > worker > crashes');
    expect(dying?.error?.message, output).toBe(
      `The worker died while running this test.\nCaused by: Error: ${vitestError}`,
    );
    expect(results.get('crash.test.js > worker > after the crash')?.error, output).toBeUndefined();

    // The crash is the file's failure, naming the test, with Vitest's cause in its text; no nameless run
    // error beside it.
    const fileMessage = `The worker died while running "worker > crashes".\nCaused by: Error: ${vitestError}`;
    const failures = data('test.failed');
    expect(
      failures.map((f) => [f.scope, f.file, f.testName, f.error.message]),
      output,
    ).toEqual([['file', 'crash.test.js', 'crash.test.js', fileMessage]]);
    expect(
      data('framework.error').map((e) => [e.error.code, e.file, e.error.message]),
      output,
    ).toEqual([['WORKER_CRASHED', 'crash.test.js', fileMessage]]);
    const completed = data('test.completed')[0];
    expect(completed.errors.map((e: any) => e.message)).toEqual([fileMessage]);

    // Nothing left running: every test that started has its result, and the run completed as a run.
    const started = new Set(data('test.progress').flatMap((p) => (p.status === 'running' ? [p.id] : [])));
    const finished = new Set(data('test.result').map((r) => r.id));
    expect([...started].filter((id) => !finished.has(id))).toEqual([]);
    expect(completed.interrupted).toBeUndefined();
    expect(completed.runningTests).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('vitest 4: a worker that dies in a test file', () => {
  it('forks: the fork SIGKILLed', async () => {
    const result = await run(4, 'forks', 'kill');
    expectMirrored(
      result,
      '[vitest-pool]: Worker forks emitted error.\nCaused by: Error: Worker exited unexpectedly',
    );
  }, 120_000);

  it('threads: the thread exits', async () => {
    const result = await run(4, 'threads', 'exit');
    expectMirrored(
      result,
      '[vitest-pool]: Worker threads emitted error.\nCaused by: Error: Worker exited unexpectedly',
    );
  }, 120_000);

  it('vmForks: the fork exits', async () => {
    const result = await run(4, 'vmForks', 'exit');
    expectMirrored(
      result,
      '[vitest-pool]: Worker vmForks emitted error.\nCaused by: Error: Worker exited unexpectedly',
    );
  }, 120_000);
});

describe('vitest 3: a worker that dies in a test file', () => {
  it('threads: the thread runs out of heap', async () => {
    // The heap limit of the process is the threads' too (Vitest 3 refuses --max-old-space-size in execArgv).
    const result = await run(3, 'threads', 'oom', ['--max-old-space-size=200']);
    expectMirrored(result, 'Worker terminated due to reaching memory limit: JS heap out of memory');
  }, 120_000);

  it('vmForks: the fork exits', async () => {
    const result = await run(3, 'vmForks', 'exit');
    expectMirrored(result, 'Worker exited unexpectedly');
  }, 120_000);

  it('forks: Vitest itself dies with the fork (tinypool: "Channel closed"), and the run is interrupted', async () => {
    // Vitest 3's forks pool rejects a send to the dead fork, unhandled: the main process exits 1 with no
    // report. The stream ends the run as interrupted by that exit, naming the tests still running.
    const { code, output, data, dir } = await run(3, 'forks', 'kill');
    try {
      expect(code, output).toBe(1);
      expect(output).toMatch(/Channel closed/);
      const completed = data('test.completed')[0];
      expect(completed).toMatchObject({
        interrupted: true,
        interruptedBy: 'exit',
        summary: { success: false },
      });
      // The test the fork died in is among them.
      expect(
        (completed.runningTests ?? []).map((t: any) => t.titlePath),
        output,
      ).toContainEqual(['worker', 'crashes']);
      const finished = new Set(data('test.result').map((r) => r.id));
      const running = new Set((completed.runningTests ?? []).map((t: any) => t.id));
      const started = new Set(data('test.progress').flatMap((p) => (p.status === 'running' ? [p.id] : [])));
      expect([...started].filter((id) => !finished.has(id) && !running.has(id))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
