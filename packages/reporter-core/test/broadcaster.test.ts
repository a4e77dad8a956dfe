import { startBroadcaster } from '@testwire/broadcaster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReporterCore } from '../src/index.js';
import { completedRun, RUN_CONTEXT_EVENTS, subscribeAll } from './helpers.js';

// End to end on loopback: reporter-core joins a real broadcaster as a publisher (the `url` option, as
// TESTWIRE_URL does for a runner process), a real WebSocket subscriber receives the run.
describe('reporter-core with a real broadcaster', () => {
  let owner: Awaited<ReturnType<typeof startBroadcaster>>;
  beforeAll(async () => {
    owner = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
  });
  afterAll(async () => {
    await owner?.close({ timeoutMs: 1000 });
  });

  it('streams a run to a subscriber in order, ending with test.completed', async () => {
    const { socket, received } = await subscribeAll(owner.wsUrl);

    const core = createReporterCore({
      framework: 'mocha',
      rootDir: process.cwd(),
      url: owner.url,
      performanceIntervalMs: 0,
      env: {},
    });
    const ref = { file: 'test/a.spec.js', titlePath: ['suite', 'works'] };
    core.runStarted({ totalTests: 2 });
    core.testStarted(ref);
    core.output(ref, 'hello', 'stdout', 'log');
    core.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: 4 });
    const broken = { file: 'test/a.spec.js', titlePath: ['suite', 'breaks'] };
    core.testResult(broken, {
      status: 'failed',
      rawStatus: 'failed',
      duration: 2,
      errors: [new Error('nope')],
    });
    await core.runCompleted({ success: false });
    expect(core.url).toBe(owner.url);
    const mine = (await completedRun(received, core.runId)).filter(
      (event) => !RUN_CONTEXT_EVENTS.has(event.type),
    );
    socket.close();

    // Progress is sampled: the first test start at once, then the final counts before test.completed.
    expect(mine.map((event) => event.type)).toEqual([
      'test.started',
      'test.progress',
      'test.output',
      'test.result',
      'test.result',
      'test.failed',
      'test.progress',
      'test.completed',
    ]);
    expect(mine.at(-2)?.data).toMatchObject({ status: 'idle', completed: 2, total: 2, failed: 1 });
    for (let i = 1; i < mine.length; i++) expect(mine[i].seq).toBeGreaterThan(mine[i - 1].seq);
    const result = mine.find((event) => event.type === 'test.result')!;
    expect(result.data).toMatchObject({
      framework: 'mocha',
      id: core.idFor(ref),
      titlePath: ['suite', 'works'],
      status: 'passed',
    });
    const done = mine.at(-1)!;
    expect(done.type === 'test.completed' && done.data.summary).toMatchObject({
      total: 2,
      passed: 1,
      failed: 1,
      success: false,
    });
  });
});
