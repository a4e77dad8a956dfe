#!/usr/bin/env node
// Issue 14 item 1: the cost of a `snapshot` of an open run of 100,000 tests, in an owner process.
//   streamed (today): time to build (shared, time-sliced), longest slice, owner event-loop max delay
//     while one client and then `--storm` clients at once ask for it, snapshot builds, owner RSS;
//   one-shot (before): what answering it with one JSON.stringify of the whole state costs (the old path:
//     RunStateStore.snapshot() + JSON.stringify), timed in this process on the same state.
// Repeated `--reps` times, alternating. Flags: --tests=100000 --storm=20 --reps=3 --json=<path>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtures, flags, mb, ms, root, writeResult } from './common.mjs';

const f = flags();
const tests = f.tests ?? 100_000;
const storm = f.storm ?? 20;
const reps = f.reps ?? 3;
const { openWs, spawnOwner, until } = await import(pathToFileURL(join(fixtures, 'clients.mjs')).href);
const { testResultEvent } = await import(pathToFileURL(join(fixtures, 'events.mjs')).href);
const { RunStateStore } = await import(
  pathToFileURL(join(root, 'packages', 'protocol', 'dist', 'index.js')).href
);

/** The old path, on the same state: build the whole snapshot message and stringify it in one go. */
function oneShot() {
  const store = new RunStateStore();
  store.update({
    type: 'test.started',
    runId: 'r_big',
    seq: 1,
    timestamp: '',
    data: { framework: 'mocha', totalTests: tests },
  });
  for (let i = 1; i <= tests; i++) {
    const { type, runId, data } = testResultEvent('r_big', i);
    store.update({ type, runId, seq: i + 1, timestamp: '', data });
  }
  const before = process.memoryUsage().heapUsed;
  const t = performance.now();
  const json = JSON.stringify({ type: 'snapshot', epoch: 'e', seq: tests + 1, runs: store.snapshot() });
  const blockedMs = performance.now() - t;
  return { blockedMs, bytes: Buffer.byteLength(json), heapMiB: mb(process.memoryUsage().heapUsed - before) };
}

async function streamed() {
  const owner = await spawnOwner({ heartbeatMs: 600_000, runState: { maxTestsPerRun: tests } });
  try {
    await owner.call({ cmd: 'run', runId: 'r_big', tests, batch: 1000 });
    const idle = await owner.call({ cmd: 'mem' });
    const builds0 = (await owner.status()).snapshots.builds;
    // One client.
    await owner.call({ cmd: 'resetLoop' });
    const one = openWs(owner.wsUrl);
    await until(() => one.find((m) => m.type === 'connection.established'), 'connected');
    const t = performance.now();
    one.send({ type: 'snapshot', id: 1 });
    const snapshot = await until(() => one.find((m) => m.type === 'snapshot'), 'the snapshot', 600_000);
    const oneMs = performance.now() - t;
    const loopOne = await owner.call({ cmd: 'mem' });
    const status = await owner.status();
    const testsReceived = snapshot.runs[0].tests.length;
    one.ws.terminate();
    // A storm: `storm` clients at once (after an event, so the state changed and a new build is due).
    await owner.call({ cmd: 'sentinel', text: 'state changes' });
    await owner.call({ cmd: 'events', runId: 'r_big', from: tests + 1, count: 1 });
    await owner.call({ cmd: 'resetLoop' });
    const clients = Array.from({ length: storm }, () => openWs(owner.wsUrl));
    await Promise.all(
      clients.map((c) => until(() => c.find((m) => m.type === 'connection.established'), 'connected')),
    );
    const t2 = performance.now();
    for (const c of clients) c.send({ type: 'snapshot', id: 1 });
    await Promise.all(
      clients.map((c) =>
        until(() => c.find((m) => m.type === 'snapshot'), 'a storm snapshot', 600_000).then(() => {
          c.messages.length = 0;
          c.ws.terminate();
        }),
      ),
    );
    const stormMs = performance.now() - t2;
    const loopStorm = await owner.call({ cmd: 'mem' });
    const builds = (await owner.status()).snapshots.builds - builds0;
    return {
      bytes: status.snapshots.latest.bytes,
      testsReceived,
      buildMs: status.snapshots.latest.buildMs,
      maxSliceMs: status.snapshots.latest.maxSliceMs,
      maxSliceCpuMs: status.snapshots.latest.maxSliceCpuMs,
      oneClientMs: oneMs,
      oneClientLoopMaxMs: loopOne.loopMaxMs,
      stormMs,
      stormLoopMaxMs: loopStorm.loopMaxMs,
      builds,
      idleRss: idle.rss,
      maxRss: loopStorm.maxRss,
    };
  } finally {
    owner.kill();
  }
}

const rows = [];
for (let rep = 1; rep <= reps; rep++) {
  const s = await streamed();
  const o = oneShot();
  rows.push({ rep, streamed: s, oneShot: o });
  console.log(
    `rep ${rep}: streamed ${mb(s.bytes)} MiB (${s.testsReceived} tests) built in ${ms(s.buildMs)} ms, longest slice ${ms(s.maxSliceMs)} ms wall / ${ms(s.maxSliceCpuMs)} ms CPU; ` +
      `1 client: ${ms(s.oneClientMs)} ms, owner loop max ${ms(s.oneClientLoopMaxMs)} ms; ` +
      `${storm} clients: ${ms(s.stormMs)} ms, loop max ${ms(s.stormLoopMaxMs)} ms, ${s.builds} builds; ` +
      `owner RSS ${mb(s.idleRss)} -> max ${mb(s.maxRss)} MiB | one-shot: blocks ${ms(o.blockedMs)} ms for ${mb(o.bytes)} MiB (+${o.heapMiB} MiB heap)`,
  );
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = {
  streamedMaxSliceMs: median(rows.map((r) => r.streamed.maxSliceMs)),
  streamedMaxSliceCpuMs: median(rows.map((r) => r.streamed.maxSliceCpuMs)),
  streamedBuildMs: median(rows.map((r) => r.streamed.buildMs)),
  oneClientLoopMaxMs: median(rows.map((r) => r.streamed.oneClientLoopMaxMs)),
  stormLoopMaxMs: median(rows.map((r) => r.streamed.stormLoopMaxMs)),
  stormBuilds: median(rows.map((r) => r.streamed.builds)),
  oneShotBlockedMs: median(rows.map((r) => r.oneShot.blockedMs)),
};
console.log(`\nmedians over ${reps}: ${JSON.stringify(summary)}`);
const file = writeResult('snapshot-100k', { tests, storm, reps, summary, rows }, f.json);
console.log(`wrote ${file}`);
