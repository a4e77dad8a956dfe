/**
 * Nothing lost when the machine is starved (issue 12 §2). Each runner runs the `many` fixture (300 tests in
 * three files) while three busy processes per core compete for the CPU, and streams into a `testwire serve`
 * of its own process (TESTWIRE_URL). Once the runner exited, a sentinel is published to the same endpoint:
 * when the subscriber has it, it has everything the runner delivered. Every test.result the runner's own
 * report knows, and the run's test.completed, must be there — whatever the load did to the timings.
 *
 * STARVATION_DRIVERS=jest-29,mocha-10 picks drivers (default: the current major of each runner, or those of
 * CONFORMANCE_DRIVERS).
 */
import type { AnyEventEnvelope, EventEnvelope } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { focusedDrivers } from '../src/load-drivers.js';
import {
  type Hog,
  isSentinel,
  publishSentinel,
  type Serve,
  type Subscriber,
  startHog,
  startServe,
  subscribe,
} from '../src/starve.js';

const DEFAULT_DRIVERS = ['jest-30', 'vitest-4', 'playwright', 'mocha-11'];
/** The hog's own bound: longer than any run below, shorter than the test's timeout. */
const HOG_MS = 240_000;
/** The runner is killed after this (the result then says timedOut): far above a starved run (~15 s at most here). */
const RUN_LIMIT_MS = 240_000;

/** STARVATION_DRIVERS, else the drivers CONFORMANCE_DRIVERS names, else the current major of each runner. */
const drivers = await focusedDrivers('STARVATION_DRIVERS', DEFAULT_DRIVERS);

describe.skipIf(drivers.length === 0)('starved machine', () => {
  let hog: Hog | undefined;
  let serve: Serve | undefined;
  let subscriber: Subscriber | undefined;

  afterEach(async () => {
    hog?.stop();
    subscriber?.close();
    await serve?.stop();
    hog = serve = subscriber = undefined;
  });

  it.each(drivers.map((driver) => [driver.id, driver] as const))(
    '%s: every test.result and the test.completed reach a separate testwire serve under a CPU hog',
    { timeout: 420_000 },
    async (id, driver) => {
      serve = await startServe();
      subscriber = await subscribe(serve.wsUrl, [
        'test.started',
        'test.result',
        'test.completed',
        'system.error',
        'framework.detected',
      ]);
      hog = startHog(HOG_MS);
      const result = await driver.run({
        fixture: 'many',
        reporter: true,
        env: { TESTWIRE_URL: serve.url },
        timeoutMs: RUN_LIMIT_MS,
      });
      hog.stop();
      const context = `${id}: exit ${result.exitCode}, ${Math.round(result.durationMs)} ms under ${hog.count} busy processes\n--- stderr\n${result.stderr.slice(-3000)}`;
      expect(result.timedOut, context).toBe(false);
      expect(result.exitCode, context).toBe(0);
      expect(result.native.tests.length, context).toBe(300);

      const marker = await publishSentinel(serve.url);
      await subscriber.waitFor(isSentinel(marker), 60_000, 'the sentinel');
      const events = subscriber.events;
      const runIds = [...new Set(events.filter((e) => e.type === 'test.started').map((e) => e.runId))];
      expect(runIds, context).toHaveLength(1);
      const ofRun = events.filter((e) => e.runId === runIds[0]);
      const results = ofRun.filter((e) => e.type === 'test.result') as EventEnvelope<'test.result'>[];
      const completed = ofRun.filter((e) => e.type === 'test.completed') as EventEnvelope<'test.completed'>[];
      const errors = events.filter((e) => e.type === 'system.error') as AnyEventEnvelope[];
      console.log(
        `${id}: ${Math.round(result.durationMs)} ms under ${hog.count} busy processes; ` +
          `${results.length} test.result, ${completed.length} test.completed, ${errors.length} system.error`,
      );
      expect(
        errors.map((e) => JSON.stringify(e.data)),
        context,
      ).toEqual([]);
      expect(new Set(results.map((e) => e.data.id)).size, context).toBe(result.native.tests.length);
      expect(completed, context).toHaveLength(1);
      expect(completed[0]?.data.summary.total, context).toBe(result.native.tests.length);
      expect(ofRun.at(-1)?.type, context).toBe('test.completed');
      expect(result.stderr, context).not.toMatch(/testwire: .*(missing|dropp|not confirmed)/);
    },
  );
});
