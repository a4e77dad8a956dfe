/**
 * Identity, per runner: tests that share a title path in one file (plain twins, `each` rows, concurrent
 * twins, same-titled describes, a twin that is retried) and tests with hostile names are each one test of
 * their own in the stream, in the broadcaster's snapshot and in a RunStateStore — as many as the runner's
 * own report has, with the same statuses, and with the same ids in a second run.
 */
import {
  type AnyEventEnvelope,
  type EventEnvelope,
  type EventType,
  type RunSnapshot,
  RunStateStore,
} from '@testwire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeReport, RunnerDriver } from '../src/driver.js';
import { runStreamed, type StreamedRun } from '../src/harness.js';
import { loadDrivers } from '../src/load-drivers.js';

const drivers = await loadDrivers();

const ofType = <T extends EventType>(events: AnyEventEnvelope[], type: T) =>
  events.filter((event) => event.type === type) as unknown as EventEnvelope<T>[];

const keyOf = (test: { file: string; titlePath: string[] }) => JSON.stringify([test.file, test.titlePath]);

/** The names of fixtures/<framework>/twins/names.test.js, as the test source writes them. */
const HOSTILE_NAMES = [
  'nul \u0000 inside',
  'control \u0001\u0007\u001b[31mred\u001b[0m',
  'emoji 🧪🔥 done',
  'rtl עברית مرحبا',
  'lone \ud800 surrogate',
  `long ${'x'.repeat(10 * 1024)}`,
];

/** Final result per id: the last test.result of each id (retries supersede). */
function finals(events: AnyEventEnvelope[]) {
  const byId = new Map<string, EventEnvelope<'test.result'>>();
  for (const event of ofType(events, 'test.result')) byId.set(event.data.id, event);
  return [...byId.values()];
}

function counts(statuses: string[]) {
  const result = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  for (const status of statuses) result[status as keyof typeof result]++;
  return result;
}

/** `key status` lines, sorted: the multiset of tests and their final statuses. */
function statusLines(tests: { file: string; titlePath: string[]; status: string }[]) {
  return tests.map((test) => `${keyOf(test)} ${test.status}`).sort();
}

/** key -> sorted ids: which ids each title path got. */
function idsByKey(events: AnyEventEnvelope[]) {
  const byKey = new Map<string, string[]>();
  for (const event of finals(events)) {
    const list = byKey.get(keyOf(event.data)) ?? [];
    list.push(event.data.id);
    byKey.set(keyOf(event.data), list);
  }
  return [...byKey.entries()].map(([key, ids]) => [key, ids.sort()] as const).sort();
}

function describeNative(native: NativeReport) {
  return `${native.tests.length} tests: ${statusLines(native.tests).join('\n')}`;
}

interface Variant {
  name: string;
  driver: RunnerDriver;
  parallel: boolean;
}

const variants: Variant[] = drivers.flatMap((driver) => [
  { name: driver.id, driver, parallel: false },
  ...(driver.framework === 'mocha' ? [{ name: `${driver.id} --parallel`, driver, parallel: true }] : []),
]);

describe.skipIf(variants.length === 0)('identity', () => {
  describe.each(variants.map((variant) => [variant.name, variant] as const))('%s', (_name, variant) => {
    const { driver, parallel } = variant;
    // Playwright refuses twins in a file: its twins are projects × repeats (fixtures/README.md).
    const expectedTotal = driver.framework === 'playwright' ? 36 : 19;
    let first: StreamedRun;
    let second: StreamedRun;

    beforeAll(async () => {
      first = await runStreamed(driver, { fixture: 'twins', parallel });
      second = await runStreamed(driver, { fixture: 'twins', parallel });
    });

    it('the runner ran every twin (guards the comparisons below)', () => {
      expect(first.result.native.tests.length, describeNative(first.result.native)).toBe(expectedTotal);
      expect(first.result.native.success).toBe(false);
      expect(first.result.exitCode).not.toBe(0);
    });

    it('one distinct id per test: as many ids as the runner ran tests', () => {
      for (const run of [first, second]) {
        const ids = new Set(ofType(run.events, 'test.result').map((event) => event.data.id));
        expect(ids.size, describeNative(run.result.native)).toBe(run.result.native.tests.length);
      }
    });

    it('the same ids in a second run, title path by title path', () => {
      expect(idsByKey(second.events)).toEqual(idsByKey(first.events));
    });

    it('each twin keeps its own final status, as the runner reports it', () => {
      const streamed = finals(first.events).map((event) => event.data);
      if (driver.nativeTodo) {
        expect(statusLines(streamed)).toEqual(statusLines(first.result.native.tests));
      } else {
        const asSkipped = (tests: { file: string; titlePath: string[]; status: string }[]) =>
          tests.map((test) => ({ ...test, status: test.status === 'todo' ? 'skipped' : test.status }));
        expect(statusLines(asSkipped(streamed))).toEqual(statusLines(asSkipped(first.result.native.tests)));
      }
      // Only the retried twin is flaky; the passing twin of a failing one is not a retry of it.
      const flaky = finals(first.events).filter((event) => event.data.flaky);
      const retried = driver.framework === 'playwright' ? ['twins', 'again'] : ['retried', 'twin'];
      expect(flaky.map((event) => event.data.titlePath)).toEqual(flaky.map(() => retried));
      expect(flaky).toHaveLength(driver.framework === 'playwright' ? 4 : 1);
      // Every failed twin has its own test.failed.
      const failedIds = new Set(ofType(first.events, 'test.failed').map((event) => event.data.id));
      for (const event of finals(first.events).filter((result) => result.data.status === 'failed'))
        expect(failedIds.has(event.data.id), event.data.titlePath.join(' > ')).toBe(true);
    });

    it('the summary, the broadcaster snapshot and a RunStateStore count what the runner counted', () => {
      const native = counts(first.result.native.tests.map((test) => test.status));
      const summary = ofType(first.events, 'test.completed')[0].data.summary;
      const store = new RunStateStore();
      let stored: RunSnapshot | undefined;
      for (const event of first.events) stored = store.apply(event) ?? stored;
      const snapshot = first.snapshot;
      expect(snapshot, 'the broadcaster has a snapshot of the run').toBeDefined();
      for (const [source, got] of [
        ['summary', summary],
        ['snapshot', snapshot!.counts],
        ['RunStateStore', stored!.counts],
      ] as const) {
        expect({
          source,
          passed: got.passed,
          failed: got.failed,
          other: got.skipped + (got.todo ?? 0),
        }).toEqual({
          source,
          passed: native.passed,
          failed: native.failed,
          other: native.skipped + native.todo,
        });
      }
      expect(summary.total).toBe(first.result.native.tests.length);
      expect(snapshot!.tests).toHaveLength(first.result.native.tests.length);
      expect(stored!.tests).toHaveLength(first.result.native.tests.length);
    });

    it('names survive the wire byte for byte', () => {
      const names = finals(first.events)
        .filter((event) => event.data.titlePath[0] === 'names')
        .map((event) => event.data.testName);
      const perName = driver.framework === 'playwright' ? 4 : 1;
      expect(new Set(names)).toEqual(new Set(HOSTILE_NAMES));
      expect(names).toHaveLength(HOSTILE_NAMES.length * perName);
      // The runner's own report has them the same.
      const native = first.result.native.tests
        .filter((test) => test.titlePath[0] === 'names')
        .map((test) => test.titlePath.at(-1));
      expect(new Set(native)).toEqual(new Set(HOSTILE_NAMES));
    });
  });
});
