/**
 * Coverage in a real Vitest run (v8 provider, in-process through `vitest/node`), events captured by a sink,
 * compared with what Vitest itself writes (`json-summary`) and with the exit code it sets. Vitest 3 runs the
 * same check as a child process in tests/conformance.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PublishedEvent } from '@testwire/protocol';
import { validatePublishedEvent } from '@testwire/protocol';
import { afterAll, describe, expect, test } from 'vitest';
import { createVitest } from 'vitest/node';
import TestwireVitestReporter from '../src/index.js';

const root = fileURLToPath(new URL('./fixtures/covered/', import.meta.url));
const reportsDirectory = mkdtempSync(join(tmpdir(), 'testwire-vitest-coverage-'));
afterAll(() => rmSync(reportsDirectory, { recursive: true, force: true }));

/** One in-process Vitest run of the fixture with coverage; returns the events and the exit code it set. */
async function run(thresholds: Record<string, unknown>) {
  const events: PublishedEvent[] = [];
  const reporter = new TestwireVitestReporter({ sink: (e) => events.push(e), performanceIntervalMs: 0 });
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  const vitest = await createVitest('test', {
    root,
    config: false,
    watch: false,
    include: ['*.test.js'],
    reporters: [reporter],
    coverage: {
      enabled: true,
      provider: 'v8',
      include: ['src/**'],
      reporter: ['json-summary', ['json', {}]],
      reportsDirectory,
      thresholds,
    },
  });
  let setExitCode: typeof process.exitCode;
  try {
    await vitest.start();
  } finally {
    await vitest.close();
    setExitCode = process.exitCode;
    // A threshold missed on purpose must not fail this suite.
    process.exitCode = exitCode;
  }
  const ownSummary = JSON.parse(readFileSync(join(reportsDirectory, 'coverage-summary.json'), 'utf8')).total;
  const of = (type: string) =>
    events.filter((e) => e.type === type).map((e) => e.data as Record<string, any>);
  return { events, of, exitCode: setExitCode, ownSummary };
}

describe('coverage of a real Vitest run', () => {
  test('coverage.threshold and coverage.completed before test.completed, with Vitest’s own figures', async () => {
    // The fixture leaves 1 of 3 functions and 2 of 3 branches of clamp uncovered: lines and functions miss.
    const { events, of, exitCode, ownSummary } = await run({ lines: 100, functions: 50, branches: -10 });
    const types = events.map((e) => e.type);
    expect(types.at(-1)).toBe('test.completed');
    // (the run's last progress sample may go out between them: it is sent as the run completes)
    expect(types.filter((t) => t.startsWith('coverage.') || t === 'test.completed')).toEqual([
      'coverage.started',
      'coverage.threshold',
      'coverage.completed',
      'test.completed',
    ]);
    expect(events.map(validatePublishedEvent).filter((result) => !result.ok)).toEqual([]);

    const [completed] = of('coverage.completed');
    const metrics = ['statements', 'branches', 'functions', 'lines'] as const;
    for (const metric of metrics) expect(completed?.summary[metric]).toBe(ownSummary[metric].pct);
    expect(completed).toMatchObject({
      framework: 'vitest',
      provider: 'v8',
      files: 1,
      reports: ['json-summary', 'json'],
      thresholdsMet: false,
    });
    expect(completed?.summary.lines).toBeLessThan(100);

    const [threshold] = of('coverage.threshold');
    expect(threshold).toMatchObject({
      passed: false,
      thresholds: { lines: 100, functions: 50, branches: -10 },
      actual: {
        lines: ownSummary.lines.pct,
        functions: ownSummary.functions.pct,
        branches: ownSummary.branches.total - ownSummary.branches.covered,
      },
    });
    expect(threshold?.failures.map((f: { metric: string }) => f.metric)).toEqual(['lines']);

    // Every test passed, but Vitest fails the run on the threshold: test.completed agrees with its exit code.
    const [done] = of('test.completed');
    expect(done?.summary).toMatchObject({ passed: 2, failed: 0, success: false });
    expect(exitCode).toBe(1);
    expect(done?.coverage).toEqual(completed?.summary);
  }, 60_000);

  test('glob-keyed thresholds: checked on their own files, as Vitest does (which then exits with 1)', async () => {
    const { of, exitCode } = await run({
      lines: 10,
      'src/**': { functions: 100 },
      'nothing/**': { lines: 100 },
    });
    const [threshold] = of('coverage.threshold');
    expect(threshold).toMatchObject({ passed: false, thresholds: { lines: 10 } });
    expect(threshold?.failures).toEqual([
      { metric: 'functions', threshold: 100, actual: 66.66, deficit: 33.34, glob: 'src/**' },
    ]);
    expect(of('test.completed')[0]?.summary.success).toBe(false);
    expect(exitCode).toBe(1);
  }, 60_000);

  test('thresholds met, checked per file: success stays with the tests', async () => {
    const { of, exitCode } = await run({ statements: 10, perFile: true });
    const [threshold] = of('coverage.threshold');
    expect(threshold).toMatchObject({ passed: true, perFile: true, failures: [] });
    expect(of('coverage.completed')[0]?.thresholdsMet).toBe(true);
    expect(of('test.completed')[0]?.summary.success).toBe(true);
    expect(exitCode ?? 0).toBe(0);
  }, 60_000);
});
