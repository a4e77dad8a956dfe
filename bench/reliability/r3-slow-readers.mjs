#!/usr/bin/env node
// R3 (issue 14), full size: slow WS and SSE readers, a snapshot spammer, snapshot hoarders and a reconnect
// storm against an owner process holding an open run of 100,000 tests (the scenario is
// packages/broadcaster/test/fixtures/slow-readers.mjs, which the CI test runs small).
// Flags: --tests=100000 --events=100000 --queue=8388608 --hoarders=20 --storm=20 --maxTestsPerRun=N --json=<path>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtures, flags, mb, ms, writeResult } from './common.mjs';

const f = flags();
const { slowReaders } = await import(pathToFileURL(join(fixtures, 'slow-readers.mjs')).href);
const options = {
  tests: f.tests ?? 100_000,
  events: f.events ?? 100_000,
  queueBytes: f.queue ?? 8 * 1024 * 1024,
  hoarders: f.hoarders ?? 20,
  storm: f.storm ?? 20,
  maxTestsPerRun: f.maxTestsPerRun,
  timeoutMs: 600_000,
  log: (m) => console.log(m),
};
const r = await slowReaders(options);
const growth = r.owner.maxRss - r.owner.idleRss;
const bound =
  3 * r.owner.historyBytes + 4 * r.snapshot.bytes + 2 * r.queueBytes * r.connections + 64 * 1024 * 1024;
console.log(`
R3: ${r.tests} tests open, ${r.events} more events, subscriber bound ${mb(r.queueBytes)} MiB, ${r.connections} connections
  healthy WS: ${r.healthy.ws}; healthy SSE: ${r.healthy.sse}; ${r.healthy.pings} pings, p50 ${ms(r.healthy.pingP50Ms)} ms, max ${ms(r.healthy.pingMaxMs)} ms
  slow WS:  ${r.slowWs.events} events ${r.slowWs.inOrder}, then SUBSCRIBER_LAGGING ${JSON.stringify(r.slowWs.notice)} (last: ${r.slowWs.noticeLast}), close ${r.slowWs.closeCode}
  slow SSE: ${r.slowSse.events} events ${r.slowSse.inOrder}, then SUBSCRIBER_LAGGING ${JSON.stringify(r.slowSse.notice)} (last: ${r.slowSse.noticeLast})
  spammer:  ${r.spammer.requests} snapshot requests, closed ${r.spammer.closeCode}
  storm:    ${r.storm.length} clients got resume.failed + a snapshot; ${r.snapshotBuilds} snapshot builds after the hoarders' one
  snapshot: ${mb(r.snapshot.bytes)} MiB, built in ${r.snapshot.buildMs} ms, longest slice ${r.snapshot.maxSliceMs} ms wall / ${r.snapshot.maxSliceCpuMs} ms CPU
  owner:    RSS idle ${mb(r.owner.idleRss)} MiB, max ${mb(r.owner.maxRss)} MiB (growth ${mb(growth)} MiB, documented bound ${mb(bound)} MiB);
            history ${mb(r.owner.historyBytes)} MiB; event loop max ${ms(r.owner.loopMaxMs)} ms, p99 ${ms(r.owner.loopP99Ms)} ms
`);
const file = writeResult(
  'r3-slow-readers',
  { options: { ...options, log: undefined }, result: r, growth, bound },
  f.json,
);
console.log(`wrote ${file}`);
