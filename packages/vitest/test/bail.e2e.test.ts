/**
 * `--bail`, end to end on Vitest 3 and 4 (compat/vitest-<major>): `vitest run --bail=1` with the default
 * reporter beside @testwire/vitest, into a real broadcaster and WebSocket subscriber. test.completed says the
 * run was interrupted by `bail` (not by a signal), and its counts are Vitest's `Tests` line: the same total,
 * passed and failed; the tests Vitest left neither run nor skipped (state `pending`, counted in its total
 * only) are `skipped` with `rawStatus: 'pending'`, the contract's four statuses summing to the total.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
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

const file = (name: string, failing?: string) =>
  [
    "import { test } from 'vitest';",
    ...['a', 'b', 'c', 'd'].map(
      (t) =>
        `test('${name} ${t}', () => {${t === failing ? ` throw new Error('${name} ${t} fails');` : ''} });`,
    ),
    '',
  ].join('\n');

/** Vitest's `Tests` line: `1 failed | 5 passed | 4 skipped (12)` -> its counts. */
function vitestCounts(output: string): Record<string, number> {
  const line = /^\s*Tests\s+(.*)$/m.exec(output)?.[1] ?? '';
  const counts: Record<string, number> = { failed: 0, passed: 0, skipped: 0, todo: 0 };
  for (const [, n, word] of line.matchAll(/(\d+) (failed|passed|skipped|todo)/g)) counts[word] = Number(n);
  counts.total = Number(/\((\d+)\)/.exec(line)?.[1]);
  return counts;
}

describe.each([3, 4])('vitest %i: --bail', (major) => {
  it('test.completed is interrupted by bail, with the counts Vitest prints', async () => {
    const name = `vitest-bail-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
      'package.json': '{ "name": "vitest-bail-fixture", "private": true, "type": "module" }\n',
      'one.test.js': file('one', 'b'),
      'two.test.js': file('two'),
      'three.test.js': file('three'),
    });
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--bail=1', '--reporter=default', '--reporter=@testwire/vitest'];
      const { code, output } = await runWithOutput(process.execPath, args, dir, runnerEnv(stream.url));
      expect(code, output).toBe(1);
      const events = await stream.runOf(basename(dir));
      const completed = events.find((e) => e.type === 'test.completed')?.data as unknown as {
        summary: Record<string, number>;
        interrupted?: boolean;
        interruptedBy?: string;
      };
      expect(completed).toMatchObject({ interrupted: true, interruptedBy: 'bail' });

      const vitest = vitestCounts(output);
      const { summary } = completed;
      expect(summary.failed, output).toBe(1);
      expect([summary.total, summary.passed, summary.failed, summary.todo], output).toEqual([
        vitest.total,
        vitest.passed,
        vitest.failed,
        vitest.todo,
      ]);
      // Vitest's skipped, plus the tests it left pending: each of those is `skipped` with rawStatus `pending`.
      const results = events
        .filter((e) => e.type === 'test.result')
        .map((e) => e.data as { status: string; rawStatus?: string });
      const pending = results.filter((r) => r.rawStatus === 'pending');
      // The failing file's tests after the failure: the runner was cancelled before them.
      expect(pending.length, output).toBeGreaterThan(0);
      expect(pending.every((r) => r.status === 'skipped')).toBe(true);
      expect(summary.skipped, output).toBe(vitest.skipped + pending.length);
      expect(summary.passed + summary.failed + summary.skipped + (summary.todo ?? 0)).toBe(summary.total);
      expect(results.length).toBe(summary.total);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
