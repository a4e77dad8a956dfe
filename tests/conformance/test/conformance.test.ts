/**
 * ONE conformance suite, run against every runner driver found in drivers/*.ts (each exports
 * `drivers: RunnerDriver[]`). For each driver the testwire stream of a run is compared with the runner's
 * own report of that same run, and the runner's behaviour with and without the reporter is compared.
 *
 * CONFORMANCE_DRIVERS=jest-30,vitest-4 restricts the drivers (comma-separated ids).
 */
import type { AnyEventEnvelope, EventEnvelope, EventType } from '@testwire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeReport, RunResult } from '../src/driver.js';
import { openStream, runStreamed, type StreamedRun } from '../src/harness.js';
import { loadDrivers } from '../src/load-drivers.js';

const drivers = await loadDrivers();

type Of<T extends EventType> = EventEnvelope<T>;
const ofType = <T extends EventType>(events: AnyEventEnvelope[], type: T) =>
  events.filter((event) => event.type === type) as unknown as Of<T>[];

const key = (test: { file: string; titlePath: string[] }) => `${test.file} :: ${test.titlePath.join(' > ')}`;

/** Final result of each test in the stream: the last test.result of each id (retries supersede). */
function finalResults(events: AnyEventEnvelope[]) {
  const byId = new Map<string, Of<'test.result'>>();
  for (const event of ofType(events, 'test.result')) byId.set(event.data.id, event);
  return [...byId.values()];
}

function countStatuses(statuses: string[]) {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  for (const status of statuses) counts[status as keyof typeof counts]++;
  return counts;
}

function nativeCounts(native: NativeReport) {
  return countStatuses(native.tests.map((test) => test.status));
}

function describeRun(result: RunResult): string {
  return `exit ${result.exitCode} signal ${result.signal} timedOut ${result.timedOut}\n--- stdout\n${result.stdout.slice(-2000)}\n--- stderr\n${result.stderr.slice(-2000)}`;
}

describe.skipIf(drivers.length === 0)('conformance', () => {
  it('found drivers', () => {
    expect(drivers.map((driver) => driver.id).length).toBeGreaterThan(0);
  });

  describe.each(drivers.map((driver) => [driver.id, driver] as const))('%s', (_id, driver) => {
    let plainBasic: RunResult;
    let plainPassing: RunResult;
    let basic: StreamedRun;
    let basicAgain: StreamedRun;
    let passing: StreamedRun;

    beforeAll(async () => {
      // Sequential on purpose: 2 cores, and timing-sensitive fixtures.
      plainBasic = await driver.run({ fixture: 'basic', reporter: false });
      basic = await runStreamed(driver, { fixture: 'basic' });
      basicAgain = await runStreamed(driver, { fixture: 'basic' });
      plainPassing = await driver.run({ fixture: 'passing', reporter: false });
      passing = await runStreamed(driver, { fixture: 'passing' });
    });

    it('runs the fixtures to completion, on their own (no kill, no forced exit)', () => {
      for (const result of [plainBasic, basic.result, basicAgain.result, plainPassing, passing.result]) {
        expect(result.timedOut, describeRun(result)).toBe(false);
        expect(result.exitCode, describeRun(result)).not.toBeNull();
        const output = result.stdout + result.stderr;
        expect(output).not.toMatch(/did not exit one second after|open handles? (?:potentially )?keeping/i);
      }
      expect(plainBasic.exitCode).not.toBe(0);
      expect(plainPassing.exitCode).toBe(0);
    });

    it('owning the broadcaster (no endpoint to join), the runner still exits on its own, same code and output', async () => {
      // runnerEnv() gives TESTWIRE_PORT=0: the reporter binds an ephemeral port and serves it until the end.
      const owner = await driver.run({ fixture: 'passing', reporter: true });
      expect(owner.timedOut, describeRun(owner)).toBe(false);
      expect(owner.exitCode, describeRun(owner)).toBe(plainPassing.exitCode);
      expect(owner.stdout + owner.stderr).not.toMatch(
        /did not exit one second after|open handles? (?:potentially )?keeping/i,
      );
      expect(driver.normalizeOutput(owner.stderr)).toBe(driver.normalizeOutput(plainPassing.stderr));
      expect(driver.normalizeOutput(owner.stdout)).toBe(driver.normalizeOutput(plainPassing.stdout));
    });

    it('adding the reporter changes neither the exit code nor the terminal output', () => {
      expect(basic.result.exitCode).toBe(plainBasic.exitCode);
      expect(passing.result.exitCode).toBe(plainPassing.exitCode);
      expect(driver.normalizeOutput(basic.result.stdout)).toBe(driver.normalizeOutput(plainBasic.stdout));
      expect(driver.normalizeOutput(basic.result.stderr)).toBe(driver.normalizeOutput(plainBasic.stderr));
      expect(driver.normalizeOutput(passing.result.stdout)).toBe(driver.normalizeOutput(plainPassing.stdout));
      expect(driver.normalizeOutput(passing.result.stderr)).toBe(driver.normalizeOutput(plainPassing.stderr));
    });

    it('the native reports agree with the fixture definition', () => {
      // Guards the comparison itself: a driver that parsed nothing would make every check below vacuous.
      expect(basic.result.native.tests.length).toBe(9);
      expect(passing.result.native.tests.length).toBe(3);
      expect(basic.result.native.success).toBe(false);
      expect(passing.result.native.success).toBe(true);
    });

    it.each([
      ['basic', () => basic],
      ['passing', () => passing],
    ] as const)('%s: the stream reports the same tests, statuses and outcome as the runner', (_name, get) => {
      const { result, events } = get();
      const finals = finalResults(events);
      // Same tests: file (relative to the root) and title path.
      expect(finals.map((event) => key(event.data)).sort()).toEqual(result.native.tests.map(key).sort());
      // Same status per test.
      const nativeByKey = new Map(result.native.tests.map((test) => [key(test), test.status]));
      for (const event of finals) {
        const expected = nativeByKey.get(key(event.data));
        if (driver.nativeTodo || (expected !== 'skipped' && expected !== 'todo')) {
          expect(`${key(event.data)}: ${event.data.status}`).toBe(`${key(event.data)}: ${expected}`);
        } else {
          expect(['skipped', 'todo']).toContain(event.data.status);
        }
      }
      // Same counts in the summary, and the same outcome as the exit code.
      const [completed] = ofType(events, 'test.completed');
      const summary = completed.data.summary;
      const native = nativeCounts(result.native);
      expect({ passed: summary.passed, failed: summary.failed }).toEqual({
        passed: native.passed,
        failed: native.failed,
      });
      if (driver.nativeTodo) {
        expect({ skipped: summary.skipped, todo: summary.todo }).toEqual({
          skipped: native.skipped,
          todo: native.todo,
        });
      } else {
        expect(summary.skipped + (summary.todo ?? 0)).toBe(native.skipped + native.todo);
      }
      expect(summary.total).toBe(result.native.tests.length);
      expect(summary.success).toBe(result.native.success);
      expect(summary.success).toBe(result.exitCode === 0);
      expect(completed.data.framework).toBe(driver.framework);
    });

    it('orders the stream: test.started first, test.completed last, seq strictly increasing', () => {
      for (const { events } of [basic, basicAgain, passing]) {
        expect(events[0].type).toBe('test.started');
        expect(events.at(-1)!.type).toBe('test.completed');
        expect(ofType(events, 'test.started')).toHaveLength(1);
        expect(ofType(events, 'test.completed')).toHaveLength(1);
        for (let i = 1; i < events.length; i++) expect(events[i].seq).toBeGreaterThan(events[i - 1].seq);
        const started = ofType(events, 'test.started')[0];
        expect(started.data.framework).toBe(driver.framework);
        expect(started.data.run?.runId).toBe(started.runId);
      }
      expect(basic.events[0].runId).not.toBe(basicAgain.events[0].runId);
    });

    it('every test.result has a stable id, title path, root-relative file and a duration', () => {
      const idsOf = (events: AnyEventEnvelope[]) =>
        new Map(finalResults(events).map((event) => [key(event.data), event.data.id]));
      const first = idsOf(basic.events);
      const second = idsOf(basicAgain.events);
      expect(first.size).toBe(9);
      expect([...second.entries()].sort()).toEqual([...first.entries()].sort());
      expect(new Set(first.values()).size).toBe(first.size);
      for (const event of ofType(basic.events, 'test.result')) {
        const data = event.data;
        expect(data.id).toMatch(/^t_[0-9a-f]{16}$/);
        expect(data.titlePath.length).toBeGreaterThan(0);
        expect(data.testName).toBe(data.titlePath.at(-1));
        expect(data.file).toMatch(/^(?!\/)(?![A-Za-z]:)(?!\.\.)[^\\]+$/);
        expect(['math', 'strings']).toContain(data.file.replace(/\.(test|spec)\.[cm]?[jt]s$/, ''));
        expect(typeof data.duration).toBe('number');
        expect(data.attempt).toBeGreaterThanOrEqual(1);
      }
      // No absolute path of the machine on the wire.
      const wire = JSON.stringify(basic.events);
      expect(wire).not.toMatch(/compat\/[^"]*\/work\//);
    });

    it('each failure has a message and a stack, and a matching test.failed', () => {
      const failedResults = ofType(basic.events, 'test.result').filter(
        (event) => event.data.status === 'failed',
      );
      expect(failedResults.length).toBeGreaterThanOrEqual(2); // divides by zero, flaky test's first attempt
      const failures = ofType(basic.events, 'test.failed');
      for (const result of failedResults) {
        expect(result.data.error?.message).toBeTruthy();
        expect(result.data.error?.stack).toBeTruthy();
        const failed = failures.find(
          (event) => event.data.id === result.data.id && event.data.attempt === result.data.attempt,
        );
        expect(failed, `test.failed for ${key(result.data)} attempt ${result.data.attempt}`).toBeDefined();
        expect(failed!.data.error.message).toBe(result.data.error!.message);
        expect(failed!.data.scope).toBe('test');
      }
      const divides = failedResults.find((event) => event.data.testName === 'divides by zero')!;
      expect(divides.data.titlePath).toEqual(['math', 'edge', 'divides by zero']);
      expect(divides.data.error!.message).toMatch(/Infinity/);
      expect(divides.data.error!.stack).toMatch(/math\.(test|spec)\.[cm]?[jt]s:\d+/);
    });

    it('the flaky test gives one result per attempt, the last one flagged flaky', () => {
      const attempts = ofType(basic.events, 'test.result').filter(
        (event) => event.data.testName === 'flaky test',
      );
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.map((event) => event.data.attempt)).toEqual(attempts.map((_, index) => index + 1));
      expect(attempts.slice(0, -1).every((event) => event.data.status === 'failed')).toBe(true);
      // Every runner says so while it happens: a failed attempt it will retry is retrying, not a failure.
      expect(attempts.slice(0, -1).map((event) => event.data.willRetry)).toEqual(
        attempts.slice(0, -1).map(() => true),
      );
      const last = attempts.at(-1)!;
      expect(last.data.status).toBe('passed');
      expect(last.data.flaky).toBe(true);
      expect(ofType(basic.events, 'test.completed')[0].data.summary.flaky).toBe(1);
    });

    it('attributes console output where the runner does', () => {
      const outputs = ofType(basic.events, 'test.output');
      const adding = outputs.find((event) => event.data.output.includes('adding numbers'));
      expect(adding, 'test.output "adding numbers"').toBeDefined();
      expect(adding!.data.outputType).toBe('stdout');
      expect(adding!.data.file).toMatch(/^math\.(test|spec)\.[cm]?[jt]s$/);
      if ((driver.outputAttribution ?? 'test') === 'test') {
        expect(adding!.data.titlePath).toEqual(['math', 'adds']);
        const adds = finalResults(basic.events).find((event) => event.data.testName === 'adds')!;
        expect(adding!.data.id).toBe(adds.data.id);
      }
      const warning = outputs.find((event) => event.data.output.includes('warning from strings'));
      expect(warning, 'test.output "warning from strings"').toBeDefined();
      expect(warning!.data.outputType).toBe('stderr');
      expect(warning!.data.file).toMatch(/^strings\.(test|spec)\.[cm]?[jt]s$/);
    });

    it('reports progress with completed/total ending at the number of tests', () => {
      const progress = ofType(basic.events, 'test.progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.some((event) => event.data.status === 'running' && event.data.testName)).toBe(true);
      for (const event of progress) expect(event.data.completed).toBeLessThanOrEqual(event.data.total);
      const last = progress.at(-1)!;
      expect(last.data.completed).toBe(9);
      expect(last.data.total).toBe(9);
    });
  });

  describe.runIf(drivers.length >= 2)('two runners at once', () => {
    it('stream into one endpoint; one subscriber sees both runs complete', async () => {
      const first = drivers.find((driver) => driver.id === 'jest-30') ?? drivers[0];
      const second =
        drivers.find((driver) => driver.framework !== first.framework) ??
        drivers.find((driver) => driver !== first)!;
      const stream = await openStream();
      try {
        const env = { TESTWIRE_URL: stream.url };
        const settled = await Promise.allSettled([
          first.run({ fixture: 'passing', reporter: true, env }),
          second.run({ fixture: 'passing', reporter: true, env }),
        ]);
        for (const outcome of settled) {
          if (outcome.status === 'rejected') throw outcome.reason;
          expect(outcome.value.exitCode, describeRun(outcome.value)).toBe(0);
        }
        const runs = await stream.waitForCompletedRuns(2, 15_000);
        expect(runs.size).toBe(2);
        const frameworks = [...runs.values()]
          .map((events) => events[0].data)
          .map((data) => (data as { framework: string }).framework);
        expect(frameworks.sort()).toEqual([first.framework, second.framework].sort());
        for (const events of runs.values()) {
          expect(events[0].type).toBe('test.started');
          expect(events.at(-1)!.type).toBe('test.completed');
          expect(finalResults(events)).toHaveLength(3);
        }
      } finally {
        await stream.close();
      }
    });
  });
});
