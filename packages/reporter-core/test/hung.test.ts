import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishedEvent } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestRef } from '../src/api.js';
import type { CoreCall } from '../src/calls.js';
import { Core } from '../src/core.js';
import { BeaconWriter, createBeacon, readBeaconCounts } from '../src/hung.js';
import { resolveOptions } from '../src/options.js';

// The hung detector on the core's side, against what the runner's thread wrote in the beacon: the calls it
// recorded are applied here only when a test says so (a batch posted), as when a test blocks that thread.

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Waits until `done()` holds (bounded generously: the detector's timer may run late on a loaded machine). */
async function until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A core on a beacon, and a runner's thread that records calls (beacon written) and posts them when told. */
function setup(hungTestThreshold = 300) {
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-hung-'));
  roots.push(rootDir);
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'hung-fixture' }));
  const events: PublishedEvent[] = [];
  const { options } = resolveOptions({
    framework: 'mocha',
    rootDir,
    sink: (event) => events.push(event),
    hungTestThreshold,
    performanceIntervalMs: 0,
    healthIntervalMs: 0,
    env: {},
  });
  const beacon = createBeacon();
  const writer = new BeaconWriter(beacon);
  let scans: number[] = [];
  const core = new Core(options, { beacon, onHungScan: (now) => scans.push(now) });
  const runId = 'r_hung';
  const batch: CoreCall[] = [];
  const ref = (title: string): TestRef => ({
    file: join(rootDir, 'test/a.test.js'),
    titlePath: ['a', title],
  });
  const runner = {
    /** As ThreadTarget.take: the beacon now, the call into the batch. */
    start(test: TestRef, at = Date.now()) {
      writer.write(test, 1, at, undefined);
      batch.push({ method: 'testStarted', at, runId, test, attempt: 1 });
    },
    result(test: TestRef, duration: number, at = Date.now()) {
      writer.ended();
      batch.push({
        method: 'testResult',
        at,
        runId,
        test,
        outcome: { status: 'passed', rawStatus: 'passed', duration },
      });
    },
    output(text: string, at = Date.now()) {
      batch.push({ method: 'output', at, runId, test: undefined, text, stream: 'stdout' });
    },
    /** The batch posted and applied. */
    post() {
      for (const call of batch.splice(0)) core.apply(call);
    },
  };
  core.apply({ method: 'runStarted', at: Date.now(), runId, info: {} });
  const hung = () =>
    events
      .filter(
        (event) =>
          event.type === 'performance.bottleneck' && (event.data as { type?: string }).type === 'hung_test',
      )
      .map((event) => (event.data as { testName: string }).testName);
  const finish = () =>
    core.apply({ method: 'runCompleted', at: Date.now(), runId, result: { success: true } });
  /** Resolves once the detector has scanned, after now, a state more than `ms` after `from` (bounded). */
  const scannedPast = async (from: number, ms: number) => {
    scans = [];
    await until(() => scans.some((now) => now > from + ms));
  };
  return { core, runner, ref, events, hung, finish, scannedPast };
}

describe('hung_test while the runner thread is blocked', () => {
  it('names the test that blocks, not the one whose result waits in the batch', async () => {
    const { runner, ref, hung, finish, events } = setup(300);
    const first = ref('first');
    const busy = ref('busy loops');
    runner.start(first, Date.now() - 1000);
    runner.post();
    // `first` ends, `busy loops` starts and blocks the thread: neither call is posted.
    runner.result(first, 60, Date.now() - 940);
    runner.start(busy, Date.now() - 940);
    await until(() => hung().length > 0);
    expect(hung()).toEqual(['busy loops']);
    const [report] = events.filter((event) => event.type === 'performance.bottleneck');
    expect(report?.data).toMatchObject({ titlePath: ['a', 'busy loops'], file: 'test/a.test.js' });
    // The block ends: the batch arrives; `busy loops` is not reported again.
    runner.post();
    // A sentinel that hangs too: once it is reported, the scans since the post have run.
    runner.start(ref('sentinel'), Date.now() - 1000);
    await until(() => hung().length > 1);
    expect(hung()).toEqual(['busy loops', 'sentinel']);
    finish();
  });

  it('reports nothing while a hook blocks after the last test ended', async () => {
    const { runner, ref, hung, finish, scannedPast } = setup(300);
    const only = ref('only');
    const ended = Date.now() - 940;
    runner.start(only, Date.now() - 1000);
    runner.output('in the test', Date.now() - 990);
    runner.post();
    runner.result(only, 60, ended);
    // The detector has looked at this state when the hook had blocked for over twice the threshold.
    await scannedPast(ended, 2 * 300);
    expect(hung()).toEqual([]);
    runner.post();
    finish();
  });

  it('still reports a test that hangs without blocking while results of other tests are on their way', async () => {
    const { runner, ref, hung, finish } = setup(300);
    const stuck = ref('stuck');
    runner.start(stuck, Date.now() - 1000);
    runner.post();
    // Other tests (another jest worker) keep ending; some of their calls are always still in a batch.
    let index = 0;
    const others = setInterval(() => {
      const other = ref(`other ${index++}`);
      runner.post();
      runner.start(other);
      runner.result(other, 1);
    }, 10);
    try {
      await until(() => hung().length > 0);
      expect(hung()).toEqual(['stuck']);
    } finally {
      clearInterval(others);
    }
    runner.post();
    finish();
  });

  it('the beacon counts starts and results, and whether a result came after the last start', () => {
    const buffer = createBeacon();
    const writer = new BeaconWriter(buffer);
    const test: TestRef = { file: '/a.test.js', titlePath: ['a'] };
    expect(readBeaconCounts(buffer)).toEqual({ starts: 0, results: 0, lastEnded: false });
    writer.write(test, 1, 1, undefined);
    expect(readBeaconCounts(buffer)).toEqual({ starts: 1, results: 0, lastEnded: false });
    writer.ended();
    expect(readBeaconCounts(buffer)).toEqual({ starts: 1, results: 1, lastEnded: true });
    writer.ended();
    writer.write(test, 1, 2, undefined);
    expect(readBeaconCounts(buffer)).toEqual({ starts: 2, results: 2, lastEnded: false });
  });
});
