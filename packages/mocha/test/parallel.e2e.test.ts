/**
 * `mocha --parallel` streams per test, end to end (real mocha CLI of each major, real workers, a real broadcaster and
 * WebSocket subscriber): a test's result leaves its worker while the next test of the same file still runs
 * (a gate proves it, no clock), every test is reported exactly once whether it came through the workers'
 * live stream or mocha's burst (a fixture cuts its worker's stream halfway), the counts equal mocha's own
 * JSON report of the same run, a worker's console output is attributed to its test; and --parallel streams
 * what serial mode streams (programmatic mocha with a recording sink): ids of tests with identical titles,
 * the tests a failed hook kept from running, errors, output.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, until } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAJORS, runMocha, runMochaCli, workCopy } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** Events of the run rooted in `rootName` received so far. */
function eventsOf(rootName: string): AnyEventEnvelope[] {
  const events = stream.received();
  const started = events.find((e) => e.type === 'test.started' && e.data.run?.rootName === rootName);
  return started ? events.filter((e) => e.runId === started.runId) : [];
}

function results(events: AnyEventEnvelope[]) {
  return events.filter(
    (e): e is Extract<AnyEventEnvelope, { type: 'test.result' }> => e.type === 'test.result',
  );
}

const name = (e: { data: { titlePath: string[] } }) => e.data.titlePath.join(' > ');

describe.each(MAJORS)('mocha %i --parallel, live per test', (major) => {
  it('a worker that dies (a test calls process.exit): one run, completed, the death as its error', async () => {
    const dir = workCopy(major, 'mocha-parallel-exit', ['parallel']);
    try {
      const result = await runMochaCli(
        major,
        ['--parallel', '--jobs', '2', '--reporter', '@testwire/mocha', 'exits.test.cjs', 'twins.test.cjs'],
        dir,
        { TESTWIRE_URL: stream.url },
      );
      expect(result.exitCode, result.stderr).not.toBe(0);
      const rootName = basename(dir);
      const events = await stream.runOf(rootName);
      // mocha wraps the error in a run of its own (start, fail, end): not a second run here
      const runs = stream
        .received()
        .filter((e) => e.type === 'test.started' && e.data.run?.rootName === rootName);
      expect(runs).toHaveLength(1);
      const completed = events.find((e) => e.type === 'test.completed');
      expect(completed?.data).toMatchObject({ summary: { success: false } });
      expect(JSON.stringify(completed?.type === 'test.completed' ? completed.data.errors : [])).toMatch(
        /terminated unexpectedly/i,
      );
      expect(results(events).some((e) => name(e) === 'twins > nested > same')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('streams results before their file ends, each test once, counts as mocha’s JSON report', async () => {
    const dir = workCopy(major, 'mocha-parallel', ['parallel']);
    const gate = join(dir, 'gate.open');
    const cutGate = join(dir, 'cut.open');
    const report = join(dir, 'report.json');
    try {
      const run = runMochaCli(
        major,
        [
          '--parallel',
          '--jobs',
          '2',
          '--reporter',
          '@testwire/mocha',
          '--reporter-option',
          `reporter=json,output=${report}`,
          'gate.test.cjs',
          'twins.test.cjs',
          'cut.test.cjs',
        ],
        dir,
        { TESTWIRE_URL: stream.url, GATE_FILE: gate, CUT_GATE: cutGate },
      );
      const rootName = basename(dir);
      // The gate is closed: "waits for the gate" cannot end, so its file cannot end, until it opens.
      const opened = await until(
        'the result of "gate > opens"',
        () => results(eventsOf(rootName)).find((e) => name(e) === 'gate > opens'),
        30_000,
      );
      expect(existsSync(gate)).toBe(false);
      const soFar = eventsOf(rootName);
      expect(results(soFar).some((e) => name(e) === 'gate > waits for the gate')).toBe(false);
      // the worker's console output, attributed to its test, came before the result
      const output = soFar.find((e) => e.type === 'test.output' && e.data.output === 'one is done\n');
      expect(output?.data).toMatchObject({ testName: 'opens', id: opened.data.id, stream: 'log' });
      expect(output!.seq).toBeLessThan(opened.seq);
      writeFileSync(gate, '');
      // The cut file's first result came live too; then its worker's stream is cut and the burst has the rest.
      await until(
        'the result of "cut > before the cut"',
        () => results(eventsOf(rootName)).find((e) => name(e) === 'cut > before the cut'),
        30_000,
      );
      writeFileSync(cutGate, '');

      const result = await run;
      // mocha's exit code: its failure count (one twin, one test after the cut)
      expect(result.exitCode, `${result.stderr}\n${readFileSync(report, 'utf8')}`).toBe(2);
      const events = await stream.runOf(rootName);
      const all = results(events);
      const waited = all.find((e) => name(e) === 'gate > waits for the gate');
      expect(waited?.data.status).toBe('passed');
      expect(waited!.seq).toBeGreaterThan(opened.seq);

      // Exactly once: one result per test and attempt, whether streamed or taken from the burst.
      const keys = all.map((e) => `${e.data.id}#${e.data.attempt ?? 1}`);
      expect(new Set(keys).size).toBe(keys.length);
      const finals = all.filter((e) => !e.data.willRetry);
      expect(new Set(finals.map((e) => e.data.id)).size).toBe(finals.length);
      expect(finals.map(name).sort()).toEqual(
        [
          'gate > opens',
          'gate > waits for the gate',
          'twins > same',
          'twins > same',
          'twins > same',
          'twins > same',
          'twins > same',
          'twins > nested > same',
          'retried > flaky',
          'cut > before the cut',
          'cut > cuts the relay',
          'cut > after the cut',
          'cut > after the cut, failing',
        ].sort(),
      );
      // the cut fixture found its stream (else "cuts the relay" fails), and the burst delivered the rest
      expect(finals.find((e) => name(e) === 'cut > cuts the relay')?.data.status).toBe('passed');
      expect(finals.find((e) => name(e) === 'cut > after the cut, failing')?.data.status).toBe('failed');
      const flaky = all.filter((e) => name(e) === 'retried > flaky');
      expect(flaky.map((e) => [e.data.attempt, e.data.status, e.data.willRetry ?? false])).toEqual([
        [1, 'failed', true],
        [2, 'passed', false],
      ]);

      // Counts: test.completed's summary and the last progress equal mocha's own JSON report of this run.
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        stats: { tests: number; passes: number; failures: number; pending: number };
      };
      const completed = events.find((e) => e.type === 'test.completed');
      const summary = completed?.type === 'test.completed' ? completed.data.summary : undefined;
      expect(summary).toMatchObject({
        total: json.stats.tests,
        passed: json.stats.passes,
        failed: json.stats.failures,
        success: false,
      });
      expect((summary?.skipped ?? 0) + (summary?.todo ?? 0)).toBe(json.stats.pending);
      expect(finals).toHaveLength(json.stats.tests);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(MAJORS)('mocha %i: --parallel streams what serial mode streams', (major) => {
  it('the same results in the same order per file, ids of twins, hook-failed tests, errors, output', async () => {
    const files = ['parallel/twins.test.cjs', 'hooks.test.cjs', 'outcomes.test.cjs', 'output.test.cjs'];
    const [serial, parallel] = await Promise.all([
      runMocha(major, files),
      runMocha(major, files, { mochaOptions: { parallel: true, jobs: 2 } }),
    ]);
    expect(parallel.failures).toBe(serial.failures);
    expect(parallel.events.find((e) => e.type === 'test.started')?.data).toMatchObject({
      options: { parallel: true },
    });

    /** Per file, in order: each attempt's result (id, status, error) and each line of output. */
    const shape = (events: AnyEventEnvelope[]) => {
      const byFile: Record<string, unknown[]> = {};
      const add = (file: string, entry: unknown) => {
        byFile[file] ??= [];
        byFile[file].push(entry);
      };
      for (const e of events) {
        if (e.type === 'test.result')
          add(e.data.file, [
            name(e),
            e.data.id,
            e.data.attempt ?? 1,
            e.data.status,
            e.data.rawStatus,
            e.data.error?.message,
          ]);
        else if (e.type === 'test.output' && e.data.file)
          add(e.data.file, [e.data.titlePath ?? [], e.data.output]);
      }
      const completed = events.find((e) => e.type === 'test.completed');
      const { duration: _, ...summary } = completed?.type === 'test.completed' ? completed.data.summary : {};
      return { byFile, summary };
    };
    const expected = shape(serial.events);
    // guards the comparison: five twins with ids of their own, tests a failed hook kept from running
    const twins = results(serial.events).filter((e) => name(e) === 'twins > same');
    expect(new Set(twins.map((e) => e.data.id)).size).toBe(5);
    expect(results(serial.events).filter((e) => e.data.rawStatus === 'hook failed')).toHaveLength(4);
    expect(shape(parallel.events)).toEqual(expected);
  });
});
