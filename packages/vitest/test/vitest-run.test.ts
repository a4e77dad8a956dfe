/**
 * The reporter inside a real Vitest run (the Vitest this package is tested with, in-process through
 * `vitest/node`), events captured by a sink: the hooks arrive as Vitest really sends them. The conformance
 * suite (tests/conformance) covers Vitest 3 and 4 as child processes with a real broadcaster.
 */
import { fileURLToPath } from 'node:url';
import type { PublishedEvent } from '@testwire/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Reporter } from 'vitest/node';
import { createVitest } from 'vitest/node';
import TestwireVitestReporter from '../src/index.js';

const root = fileURLToPath(new URL('./fixtures/project/', import.meta.url));

describe('in a real Vitest run', () => {
  const events: PublishedEvent[] = [];
  const of = (type: string) =>
    events.filter((e) => e.type === type).map((e) => e.data as Record<string, any>);
  let moduleStates: Record<string, string> = {};

  beforeAll(async () => {
    const reporter = new TestwireVitestReporter({ sink: (e) => events.push(e), performanceIntervalMs: 0 });
    // Compile-time check: the reporter fits Vitest's own Reporter type.
    const asVitestReporter: Reporter = reporter;
    const exitCode = process.exitCode;
    const vitest = await createVitest('test', {
      root,
      config: false,
      watch: false,
      include: ['*.test.js'],
      reporters: [asVitestReporter],
      fileParallelism: false,
      // Vitest records where each test is declared only when asked to.
      includeTaskLocation: true,
    });
    try {
      await vitest.start();
      moduleStates = Object.fromEntries(
        vitest.state.getTestModules().map((m) => [m.relativeModuleId, m.state()]),
      );
    } finally {
      await vitest.close();
      // The inner run failed on purpose; that must not fail this suite.
      process.exitCode = exitCode;
    }
  }, 60_000);

  afterAll(() => {
    events.length = 0;
  });

  test('one run, every event of it with the same run id, ending in test.completed', () => {
    expect(events[0].type).toBe('test.started');
    expect(events.at(-1)?.type).toBe('test.completed');
    expect(new Set(events.map((e) => e.runId)).size).toBe(1);
    expect(of('test.started')[0].testFiles.sort()).toEqual([
      'basic.test.js',
      'broken.test.js',
      'hooks.test.js',
    ]);
    expect(Object.keys(moduleStates).sort()).toEqual(['basic.test.js', 'broken.test.js', 'hooks.test.js']);
  });

  test("the test's annotations on its result, an attached body by size only", () => {
    const result = of('test.result').find((r) => r.testName === 'passes and logs');
    expect(result?.annotations).toEqual([
      { type: 'notice', message: 'see the log', location: { file: 'basic.test.js', line: 7, column: 11 } },
      { type: 'notice', message: 'a note', location: { file: 'basic.test.js', line: 8, column: 11 } },
    ]);
    expect(result?.attachments).toEqual([
      { name: 'a note', contentType: 'text/plain', size: expect.any(Number) },
    ]);
    expect(JSON.stringify(events)).not.toContain('note body');
  });

  test('results per attempt, statuses mapped, todo told apart from skip', () => {
    const results = of('test.result').map(
      (r) =>
        `${r.titlePath.join(' > ')}#${r.attempt} ${r.status}${r.willRetry ? ' (retry)' : ''}${r.flaky ? ' (flaky)' : ''}`,
    );
    expect(results.sort()).toEqual(
      [
        'basic > fails#1 failed',
        'basic > is skipped#1 skipped',
        'basic > is todo#1 todo',
        'basic > passes and logs#1 passed',
        'basic > passes on the third attempt#1 failed (retry)',
        'basic > passes on the third attempt#2 failed (retry)',
        'basic > passes on the third attempt#3 passed (flaky)',
        // Vitest skips the tests of a suite whose beforeAll failed.
        'needs a database > queries#1 skipped',
      ].sort(),
    );
    const failed = of('test.result').find((r) => r.testName === 'fails');
    expect(failed?.error).toMatchObject({
      message: expect.stringContaining('expected 2 to be 3'),
      expected: '3',
      actual: '2',
    });
    expect(failed?.location).toMatchObject({ file: 'basic.test.js', line: 14 });
  });

  test('console output is attributed to its test, or to its file when logged outside any test', () => {
    const outputs = of('test.output').map((o) => [
      o.output.trim(),
      o.titlePath?.join(' > ') ?? o.file,
      o.outputType,
    ]);
    expect(outputs).toEqual(
      expect.arrayContaining([
        ['hello from a test', 'basic > passes and logs', 'stdout'],
        ['and from stderr', 'basic > passes and logs', 'stderr'],
        ['logged while importing', 'hooks.test.js', 'stdout'],
      ]),
    );
    // Each test's output comes after its test started and before its result.
    const index = (predicate: (e: PublishedEvent) => boolean) => events.findIndex(predicate);
    const data = (e: PublishedEvent) => e.data as Record<string, any>;
    const started = index(
      (e) =>
        e.type === 'test.progress' && data(e).testName === 'passes and logs' && data(e).status === 'running',
    );
    const output = index((e) => e.type === 'test.output' && data(e).testName === 'passes and logs');
    const result = index((e) => e.type === 'test.result' && data(e).testName === 'passes and logs');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(started).toBeLessThan(output);
    expect(output).toBeLessThan(result);
  });

  test('a failing beforeAll and a file that cannot be imported are reported as such', () => {
    const failures = of('test.failed').filter((f) => f.scope !== 'test');
    expect(failures.map((f) => [f.scope, f.testName, f.file, f.error.message])).toEqual(
      expect.arrayContaining([
        ['hook', '"beforeAll" hook for "needs a database"', 'hooks.test.js', 'cannot connect'],
        ['file', 'broken.test.js', 'broken.test.js', 'this file cannot be imported'],
      ]),
    );
    expect(failures).toHaveLength(2);
    expect(of('framework.error').map((e) => [e.error.code, e.file])).toEqual(
      expect.arrayContaining([['HOOK_FAILED', 'hooks.test.js']]),
    );
  });

  test('the summary agrees with Vitest', () => {
    const completed = of('test.completed')[0];
    expect(completed.summary).toMatchObject({
      total: 6,
      passed: 2,
      failed: 1,
      skipped: 2,
      todo: 1,
      flaky: 1,
      success: false,
    });
    expect(completed.rawStatus).toBe('failed');
    expect(moduleStates['basic.test.js']).toBe('failed');
  });
});

describe('in a real Vitest watch session', () => {
  test('each rerun is a new run: its own run id, started and completed once', async () => {
    const events: PublishedEvent[] = [];
    const reporter = new TestwireVitestReporter({ sink: (e) => events.push(e), performanceIntervalMs: 0 });
    const exitCode = process.exitCode;
    const vitest = await createVitest('test', {
      root,
      config: false,
      watch: true,
      include: ['basic.test.js'],
      reporters: [reporter],
    });
    try {
      await vitest.start();
      await vitest.rerunTestSpecifications(await vitest.globTestSpecifications());
    } finally {
      await vitest.close();
      process.exitCode = exitCode;
    }
    const runIds = [...new Set(events.map((e) => e.runId))];
    expect(runIds).toHaveLength(2);
    for (const runId of runIds) {
      const types = events.filter((e) => e.runId === runId).map((e) => e.type);
      expect(types[0]).toBe('test.started');
      expect(types.at(-1)).toBe('test.completed');
      expect(types.filter((t) => t === 'test.started' || t === 'test.completed')).toHaveLength(2);
      const started = events.find((e) => e.runId === runId && e.type === 'test.started')?.data as Record<
        string,
        any
      >;
      expect(started.run.watch).toBe(true);
      const completed = events.find((e) => e.runId === runId && e.type === 'test.completed')?.data as Record<
        string,
        any
      >;
      expect(completed.summary).toMatchObject({ total: 5, passed: 2, failed: 1, skipped: 1, todo: 1 });
    }
  }, 60_000);
});

describe('in a real sharded Vitest run (--shard)', () => {
  test("the run lists the shard's files, not every file, and its total becomes known", async () => {
    const events: PublishedEvent[] = [];
    const reporter = new TestwireVitestReporter({ sink: (e) => events.push(e), performanceIntervalMs: 0 });
    const vitest = await createVitest('test', {
      root: fileURLToPath(new URL('./fixtures/sharded/', import.meta.url)),
      config: false,
      watch: false,
      include: ['*.test.js'],
      reporters: [reporter],
      shard: '2/3',
    });
    try {
      await vitest.start();
    } finally {
      await vitest.close();
    }
    const of = (type: string) =>
      events.filter((e) => e.type === type).map((e) => e.data as Record<string, any>);
    const ran = [...new Set(of('test.result').map((r) => r.file))].sort();
    // 6 files in 3 shards: this one runs 2 of them.
    expect(ran).toHaveLength(2);
    expect([...of('test.started')[0].testFiles].sort()).toEqual(ran);
    expect(of('test.started')[0].run.shard).toEqual({ current: 2, total: 3 });
    expect(of('test.progress').at(-1)).toMatchObject({ total: 2, totalKnown: true });
    expect(of('test.completed')[0].summary).toMatchObject({ total: 2, passed: 2 });
  }, 60_000);
});
