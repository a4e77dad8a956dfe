/**
 * `vitest bench --run`, end to end on Vitest 3 and 4 (compat/vitest-<major>), with @testwire/vitest among the
 * benchmark reporters, into a real broadcaster and WebSocket subscriber. Each bench is one test.result whose
 * duration is the time tinybench sampled it (`totalTime` of Vitest's own JSON report, `--outputJson`), with no
 * start time (Vitest stamps a bench's start with `performance.now()`, not an epoch); a bench that throws is
 * what Vitest leaves it, never finished: `skipped` with `rawStatus: 'pending'`, and the run passes as Vitest's
 * exit code says.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
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

const BENCH = [
  "import { bench, describe } from 'vitest';",
  "bench('top ok', () => { [3, 1, 2].sort(); }, { time: 30, iterations: 5 });",
  "describe('grp', () => {",
  "  bench('grp ok', () => { [3, 1, 2].sort(); }, { time: 60, iterations: 5 });",
  "  bench('grp throws', () => { throw new Error('bench boom'); }, { time: 20, iterations: 2 });",
  '});',
  '',
].join('\n');

const CONFIG = [
  "import { defineConfig } from 'vitest/config';",
  "export default defineConfig({ test: { benchmark: { reporters: ['default', '@testwire/vitest'] } } });",
  '',
].join('\n');

/** A bench in Vitest's `--outputJson` (Vitest 3 and 4). */
interface ReportedBench {
  name: string;
  totalTime: number;
  hz: number;
  mean: number;
  min: number;
  max: number;
  median?: number;
  p75: number;
  p99: number;
  p995: number;
  p999: number;
  rme: number;
  sampleCount: number;
}

interface BenchResult {
  testName: string;
  status: string;
  rawStatus: string;
  duration: number;
  startedAt?: number;
  benchmark?: Record<string, number>;
}

describe.each([3, 4])('vitest %i: bench', (major) => {
  it("each bench's duration is the time Vitest sampled it, its statistics Vitest's; a throwing one is left pending", async () => {
    const name = `vitest-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
      'package.json': '{ "name": "vitest-bench-fixture", "private": true, "type": "module" }\n',
      'vitest.config.js': CONFIG,
      'sort.bench.js': BENCH,
    });
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'bench', '--run', '--outputJson', 'bench.json'];
      const { code, output } = await runWithOutput(process.execPath, args, dir, runnerEnv(stream.url));
      expect(code, output).toBe(0);
      const events = await stream.runOf(basename(dir));
      const results = new Map(
        events
          .filter((e) => e.type === 'test.result')
          .map((e) => [(e.data as BenchResult).testName, e.data as BenchResult]),
      );
      // Vitest's own figures, per bench.
      const report = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as {
        files: { groups: { benchmarks: ReportedBench[] }[] }[];
      };
      const reported = new Map(
        report.files.flatMap((f) => f.groups.flatMap((g) => g.benchmarks.map((b) => [b.name, b]))),
      );
      const totalTime = new Map([...reported].map(([name, bench]) => [name, bench.totalTime]));
      for (const title of ['top ok', 'grp ok']) {
        const result = results.get(title);
        expect(result, title).toMatchObject({ status: 'passed', rawStatus: 'passed' });
        expect(totalTime.get(title), title).toBeGreaterThan(0);
        expect(result?.duration, title).toBe(Math.round(totalTime.get(title) ?? Number.NaN));
        expect(result?.startedAt, title).toBeUndefined();
        // tinybench's statistics, as Vitest's own report has them.
        const bench = reported.get(title) as ReportedBench;
        expect(result?.benchmark, title).toEqual({
          hz: bench.hz,
          mean: bench.mean,
          min: bench.min,
          max: bench.max,
          ...(bench.median === undefined ? {} : { median: bench.median }),
          p75: bench.p75,
          p99: bench.p99,
          p995: bench.p995,
          p999: bench.p999,
          rme: bench.rme,
          samples: bench.sampleCount,
          totalTime: bench.totalTime,
        });
        expect(result?.benchmark?.samples, title).toBeGreaterThan(0);
      }
      expect(results.get('grp throws')?.benchmark).toBeUndefined();
      expect(results.get('grp throws')).toMatchObject({ status: 'skipped', rawStatus: 'pending' });
      expect(results.get('grp throws')?.startedAt).toBeUndefined();
      const completed = events.find((e) => e.type === 'test.completed');
      expect(completed?.data).toMatchObject({
        summary: { total: 3, passed: 2, failed: 0, skipped: 1, success: true },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
