/**
 * Attempts as Vitest ran them, end to end on Vitest 3 and 4 (compat/vitest-<major>): `vitest run --retry=1`
 * with the default reporter beside @testwire/vitest, into a real broadcaster and WebSocket subscriber. Every
 * streamed attempt is one Vitest ran, with its outcome: a repeated test that never failed (Vitest 3 counts
 * retries for it) and an expected failure (`test.fails`, which the runner retries) are one passed attempt,
 * with no test.failed; a real retry keeps its failed attempt and its error; the counts are Vitest's.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const OWN_RETRY = [
  "import { expect, test } from 'vitest';",
  "test('always passes, repeats 2', { retry: 1, repeats: 2 }, () => {});",
  "test.fails('fails as expected', { retry: 1 }, () => { expect(1).toBe(2); });",
  'let runs = 0;',
  "test('flaky once', { retry: 2 }, () => { runs++; if (runs === 1) throw new Error('first run fails'); });",
  "test('always fails', { retry: 1 }, () => { throw new Error('always'); });",
  '',
].join('\n');

/** Tests without options of their own: `--retry=1` is theirs. */
const RUN_RETRY = [
  "import { expect, test } from 'vitest';",
  "test('repeated', { repeats: 2 }, () => {});",
  "test.fails('expected failure', () => { expect(1).toBe(2); });",
  "test('plain', () => {});",
  '',
].join('\n');

interface Attempt {
  attempt: number;
  status: string;
  willRetry?: boolean;
  error?: { message: string };
}

/**
 * Vitest's `Tests` line: `1 failed | 6 passed (7)` -> its counts. Vitest 4.1 prints `test.fails` tests that
 * failed as expected apart (`4 passed | 2 expected fail`): their state is passed, and so is their status.
 */
function vitestCounts(output: string): Record<string, number> {
  const line = /^\s*Tests\s+(.*)$/m.exec(output)?.[1] ?? '';
  const counts: Record<string, number> = {};
  for (const [, n, word] of line.matchAll(/(\d+) (failed|passed|skipped|todo|expected fail)/g)) {
    const key = word === 'expected fail' ? 'passed' : word;
    counts[key] = (counts[key] ?? 0) + Number(n);
  }
  counts.total = Number(/\((\d+)\)/.exec(line)?.[1]);
  return counts;
}

describe.each([3, 4])('vitest %i: retries, repeats and test.fails', (major) => {
  it('streams only the attempts Vitest ran, with their outcome, and its counts', async () => {
    const name = `vitest-retries-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), {
      'package.json': '{ "name": "vitest-retries-fixture", "private": true, "type": "module" }\n',
      'own.test.js': OWN_RETRY,
      'run.test.js': RUN_RETRY,
    });
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--retry=1', '--reporter=default', '--reporter=@testwire/vitest'];
      const { code, output } = await runWithOutput(process.execPath, args, dir, runnerEnv(stream.url));
      expect(code, output).toBe(1);
      const events = await stream.runOf(basename(dir));
      const attempts = (title: string): Attempt[] =>
        events
          .filter((e) => e.type === 'test.result' && e.data.testName === title)
          .map((e) => {
            const data = e.data as Attempt & { attempt?: number };
            return {
              attempt: data.attempt ?? 1,
              status: data.status,
              ...(data.willRetry ? { willRetry: true } : {}),
              ...(data.error ? { error: { message: data.error.message } } : {}),
            };
          });
      const failed = (title: string) =>
        events.filter((e: AnyEventEnvelope) => e.type === 'test.failed' && e.data.testName === title).length;

      for (const title of ['always passes, repeats 2', 'fails as expected', 'repeated', 'expected failure']) {
        expect(attempts(title), title).toEqual([{ attempt: 1, status: 'passed' }]);
        expect(failed(title), title).toBe(0);
      }
      expect(attempts('flaky once')).toEqual([
        { attempt: 1, status: 'failed', willRetry: true, error: { message: 'first run fails' } },
        { attempt: 2, status: 'passed' },
      ]);
      expect(attempts('always fails')).toEqual([
        { attempt: 1, status: 'failed', willRetry: true, error: { message: 'always' } },
        { attempt: 2, status: 'failed', error: { message: 'always' } },
      ]);
      // No test.failed that Vitest has no error for: none says the placeholder "Test failed (failed)".
      const messages = events
        .filter((e) => e.type === 'test.failed')
        .map((e) => (e.data as { error?: { message: string } }).error?.message);
      expect(messages.sort()).toEqual(['always', 'always', 'first run fails']);

      const completed = events.find((e) => e.type === 'test.completed');
      expect(vitestCounts(output), output).toEqual({ failed: 1, passed: 6, total: 7 });
      expect(completed?.data).toMatchObject({
        summary: { total: 7, passed: 6, failed: 1, skipped: 0, flaky: 1 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
