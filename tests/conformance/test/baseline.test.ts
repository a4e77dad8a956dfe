/**
 * Baselines, per runner, on the `baseline` fixture: a run saves `.test-baselines/main.json`
 * (TESTWIRE_BASELINE_SAVE), a rerun of the unchanged suite compared with it flags nothing, and a run of the
 * changed suite (BASELINE_FIXTURE_CHANGED=1: `slow` twice as slow, `flips` failing, `gone` removed, `extra`
 * added) is flagged — live, on each test.result as it arrives, and in baseline.compared at the end.
 *
 * BASELINE_DRIVERS=jest-29,mocha-10 picks drivers (default: the current major of each runner, or those of
 * CONFORMANCE_DRIVERS).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AnyEventEnvelope,
  type EventEnvelope,
  type EventType,
  validatePublishedEvent,
} from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runStreamed } from '../src/harness.js';
import { focusedDrivers } from '../src/load-drivers.js';

const DEFAULT_DRIVERS = ['jest-30', 'vitest-4', 'mocha-12', 'playwright'];

const drivers = await focusedDrivers('BASELINE_DRIVERS', DEFAULT_DRIVERS);

const ofType = <T extends EventType>(events: AnyEventEnvelope[], type: T) =>
  events.filter((event) => event.type === type) as unknown as EventEnvelope<T>[];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function expectValid(events: AnyEventEnvelope[]) {
  for (const event of events) {
    const result = validatePublishedEvent(event);
    expect(result.ok ? 'ok' : `${event.type}: ${result.error}`).toBe('ok');
  }
}

describe.skipIf(drivers.length === 0).each(drivers)('baseline: $id', (driver) => {
  it('flags a 2x slowdown, an added, a removed and a newly failing test live; nothing on a rerun', async () => {
    // The fixture is copied afresh for each run: the baselines live outside it.
    const dir = mkdtempSync(join(tmpdir(), `testwire-baseline-${driver.id}-`));
    dirs.push(dir);
    const env = { TESTWIRE_BASELINE_DIR: dir };

    const saved = await runStreamed(driver, {
      fixture: 'baseline',
      env: { ...env, TESTWIRE_BASELINE_SAVE: 'main' },
    });
    expect(saved.result.exitCode, saved.result.stderr).toBe(0);
    expectValid(saved.events);
    const [savedEvent] = ofType(saved.events, 'baseline.saved');
    expect(savedEvent?.data).toMatchObject({ label: 'main', framework: driver.framework, tests: 4 });
    const file = JSON.parse(readFileSync(join(dir, 'main.json'), 'utf8'));
    const source = Object.values(file.sources)[0] as {
      tests: Record<string, { test: string; status: string }>;
    };
    expect(
      Object.values(source.tests)
        .map((test) => `${test.test} ${test.status}`)
        .sort(),
    ).toEqual(['flips passed', 'gone passed', 'quick passed', 'slow passed']);

    // Both compare with the saved baseline (read only), so they run at once: the same suite again, and the
    // changed suite.
    const [rerun, changed] = await Promise.all([
      runStreamed(driver, { fixture: 'baseline', env: { ...env, TESTWIRE_BASELINE_COMPARE: 'main' } }),
      runStreamed(driver, {
        fixture: 'baseline',
        env: { ...env, TESTWIRE_BASELINE_COMPARE: 'main', BASELINE_FIXTURE_CHANGED: '1' },
      }),
    ]);

    // The same suite again: nothing to flag, whatever the machine's load did to the timings.
    expect(rerun.result.exitCode, rerun.result.stderr).toBe(0);
    expectValid(rerun.events);
    expect(ofType(rerun.events, 'test.result').filter((event) => event.data.baseline)).toEqual([]);
    const [same] = ofType(rerun.events, 'baseline.compared');
    expect(same?.data).toMatchObject({
      baseline: 'main',
      comparison: {
        testsAdded: 0,
        testsRemoved: 0,
        testsChanged: 0,
        performanceRegression: false,
        summary: { regression: false, score: 1 },
      },
      regressions: [],
    });

    // The changed suite: flagged as each result arrives, then summed up.
    expect(changed.result.exitCode).toBe(1); // `flips` fails
    expectValid(changed.events);
    const results = ofType(changed.events, 'test.result');
    const byName = new Map(results.map((event) => [event.data.testName, event]));
    expect(byName.get('slow')?.data.baseline).toMatchObject({
      label: 'main',
      regression: true,
      slower: true,
      status: 'passed',
    });
    expect(byName.get('slow')?.data.baseline?.percentage).toBeGreaterThan(50);
    expect(byName.get('flips')?.data.baseline).toEqual({
      label: 'main',
      regression: true,
      status: 'passed',
      newlyFailing: true,
    });
    expect(byName.get('extra')?.data.baseline).toEqual({ label: 'main', regression: false, added: true });
    expect(byName.get('quick')?.data.baseline).toBeUndefined();

    // Live: each flag rides on its own test.result, which comes before the tests after it and long before
    // the run's comparison (seq order is arrival order at the endpoint).
    const seqOf = (event: AnyEventEnvelope | undefined) => event?.seq ?? Number.NaN;
    const [compared] = ofType(changed.events, 'baseline.compared');
    const [completed] = ofType(changed.events, 'test.completed');
    expect(seqOf(byName.get('slow'))).toBeLessThan(seqOf(byName.get('quick')));
    expect(seqOf(byName.get('flips'))).toBeLessThan(seqOf(compared));
    expect(seqOf(compared)).toBeLessThan(seqOf(completed));

    expect(compared?.data).toMatchObject({
      baseline: 'main',
      framework: driver.framework,
      comparison: {
        testsAdded: 1,
        testsRemoved: 1,
        testsChanged: 1,
        testsNewlyFailing: 1,
        performanceRegression: true,
        summary: { regression: true },
      },
    });
    expect(compared?.data.regressions.map((regression) => regression.test)).toEqual(['slow']);
    expect(compared?.data.regressions[0].change).toBeGreaterThan(250);
    expect(compared?.data.added?.map((test) => test.test)).toEqual(['extra']);
    expect(compared?.data.removed?.map((test) => test.test)).toEqual(['gone']);
    expect(compared?.data.changed).toEqual([
      expect.objectContaining({ test: 'flips', from: 'passed', to: 'failed' }),
    ]);
  });
});
