/**
 * The test that hangs, and the run that is killed — per runner (current majors), on the `hung` fixture:
 * while `waits forever` runs, the stream reports it hung (performance.bottleneck `hung_test` with elapsed,
 * file and location); SIGTERM to the runner then ends the stream with an interrupted test.completed that
 * names it with its elapsed time, and the runner's exit (code or signal) is the one it has without testwire
 * (a run without the reporter, signalled once the same test runs, side by side).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { validatePublishedEvent } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunnerDriver } from '../src/driver.js';
import { openStream } from '../src/harness.js';
import { loadDrivers } from '../src/load-drivers.js';

const CURRENT = ['jest-30', 'vitest-4', 'mocha-11', 'playwright'];
const all = await loadDrivers();
const drivers = process.env.CONFORMANCE_DRIVERS ? all : all.filter((driver) => CURRENT.includes(driver.id));
const FILE: Record<string, string> = { playwright: 'hung.spec.ts' };
const THRESHOLD_MS = 1500;

const temp = mkdtempSync(join(tmpdir(), 'testwire-hung-'));
const groups: number[] = [];
afterAll(() => {
  // Workers a runner leaves behind when it dies of the signal (jest, vitest) still wait: end them.
  for (const group of groups)
    try {
      process.kill(-group, 'SIGKILL');
    } catch {}
  rmSync(temp, { recursive: true, force: true });
});

async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs: number,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A run of the `hung` fixture; `signal()` sends SIGTERM to the runner once spawned (to its process group
 * where the driver says the runner forwards no signal).
 */
function start(driver: RunnerDriver, reporter: boolean, env: Record<string, string>) {
  let child: ChildProcess | undefined;
  // What the runner printed so far: a step that times out shows it (the result holds it only at exit).
  let output = '';
  const result = driver.run({
    fixture: 'hung',
    reporter,
    env,
    timeoutMs: 90_000,
    onSpawn: (spawned) => {
      child = spawned;
      if (spawned.pid) groups.push(spawned.pid);
      const keep = (chunk: Buffer | string) => (output = (output + String(chunk)).slice(-4000));
      spawned.stdout?.on('data', keep);
      spawned.stderr?.on('data', keep);
    },
  });
  return {
    result,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    signal: () => {
      if (driver.signalsGroup && child?.pid) process.kill(-child.pid, 'SIGTERM');
      else child?.kill('SIGTERM');
    },
    describe: () =>
      `runner ${child?.pid ?? 'not spawned'}, exit ${child?.exitCode ?? '-'}/${child?.signalCode ?? '-'}; output so far:\n${output}`,
  };
}

describe.concurrent.each(drivers.map((driver) => [driver.id, driver] as const))('%s', (_id, driver) => {
  it('reports the hung test while it runs; SIGTERM ends the stream interrupted, exit as without testwire', async () => {
    const stream = await openStream();
    try {
      const marker = join(temp, `${driver.id}.marker`);
      const plain = start(driver, false, { HUNG_MARKER: marker });
      const streamed = start(driver, true, {
        TESTWIRE_URL: stream.url,
        TESTWIRE_HUNG_TEST_THRESHOLD: String(THRESHOLD_MS),
        // Internal errors on stderr: a run that never reports the hung test says why.
        TESTWIRE_DEBUG: '1',
      });
      const isHung = (event: AnyEventEnvelope) =>
        event.type === 'performance.bottleneck' && event.data.type === 'hung_test';
      // The events seen (periodic samples by count only), with the data of the others, and the runner's output.
      const seen = () => {
        const periodic = new Set(['performance.metrics', 'system.health']);
        const samples = stream.events.filter((event) => periodic.has(event.type)).length;
        const others = stream.events
          .filter((event) => !periodic.has(event.type))
          .map((event) => `${event.type} ${JSON.stringify(event.data).slice(0, 300)}`);
        return `events seen: ${others.join('\n') || 'none'}\n(and ${samples} periodic samples)\n${streamed.describe()}`;
      };
      const hung = await until('hung_test', () => stream.events.find(isHung), 60_000, seen);
      // Reported while the runner still runs the test.
      expect(streamed.running()).toBe(true);
      expect(validatePublishedEvent(hung)).toMatchObject({ ok: true });
      const file = FILE[driver.framework] ?? 'hung.test.js';
      expect(hung.data).toMatchObject({
        type: 'hung_test',
        testName: 'waits forever',
        titlePath: ['hung', 'waits forever'],
        file,
        location: { file },
        attempt: 1,
        threshold: THRESHOLD_MS,
      });
      const data = hung.data as { elapsed: number; id: string; location: { line?: number } };
      expect(data.elapsed).toBeGreaterThan(THRESHOLD_MS);
      // Lines where the runner tells them at the test's start (jest, mocha and vitest by default do not).
      if (driver.framework === 'playwright') expect(data.location.line).toBeGreaterThan(0);
      const quick = stream.events.find(
        (event) => event.type === 'test.result' && event.data.testName === 'quick',
      );
      expect(quick?.data).toMatchObject({ status: 'passed' });

      await until('the plain run to reach the test', () => existsSync(marker), 60_000);
      plain.signal();
      streamed.signal();
      const [plainResult, streamedResult] = await Promise.all([plain.result, streamed.result]);
      // The run without testwire ends of the signal too: otherwise the harness, not the reporter, is wrong.
      expect(plainResult.timedOut, 'the run without testwire outlived SIGTERM').toBe(false);
      expect({ code: streamedResult.exitCode, signal: streamedResult.signal }).toEqual({
        code: plainResult.exitCode,
        signal: plainResult.signal,
      });
      expect(streamedResult.timedOut).toBe(false);

      const completed = await until(
        'test.completed',
        () => stream.events.find((event) => event.runId === hung.runId && event.type === 'test.completed'),
        15_000,
      );
      expect(validatePublishedEvent(completed)).toMatchObject({ ok: true });
      const end = completed.data as Record<string, any>;
      expect(end).toMatchObject({ interrupted: true, summary: { success: false } });
      const waiting = end.runningTests?.find((test: { id: string }) => test.id === data.id);
      expect(waiting, JSON.stringify(end)).toMatchObject({ testName: 'waits forever', file, attempt: 1 });
      expect(
        waiting.elapsed,
        `${JSON.stringify(end)}\n${streamedResult.stderr.slice(-2000)}`,
      ).toBeGreaterThanOrEqual(data.elapsed);
    } finally {
      await stream.close();
    }
  }, 120_000);
});
