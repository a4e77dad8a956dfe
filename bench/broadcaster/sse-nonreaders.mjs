#!/usr/bin/env node
/**
 * What SSE subscribers that never read cost the test process: a mocha-like run of 20,000 tests with output
 * published into the broadcaster (in this process's child, as in a test run) while N raw SSE connections
 * (in another child, so their memory is not counted) hold their streams open and read nothing. A connection
 * closed by the broadcaster (made to lag) opens again at once, as a hostile or hung local process would.
 *
 *   node bench/broadcaster/sse-nonreaders.mjs [--subscribers=0,1,50,200] [--tests=20000] [--per-tick=1]
 *                                             [--dist=<dir>] [--repeat=2] [--json=<path>]
 *
 *   orchestrator ── fork --role=server --dist=… ── the broadcaster + publisher; samples its memory
 *                └─ fork --role=clients --url=… --n=N ── N raw sockets: GET /events, then never read
 *
 * Figures per N: peak RSS, peak `arrayBuffers` (Buffers outside the heap: frames, socket buffers) and peak
 * `heapUsed` during the run, sampled every 50 ms, and the broadcaster's own count of queued bytes (`/status` subscriberQueues:
 * peakBytes, shed). `--dist` compares builds (default: packages/broadcaster/dist). `--per-tick`: tests
 * published between two turns of the event loop (1: as a runner, each test its own turn; 100: bursts).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Server: the broadcaster and a mocha-like run published into it.

async function serverRole() {
  const dist = resolve(args.dist ?? join(root, 'packages', 'broadcaster', 'dist'));
  const { startBroadcaster } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const b = await startBroadcaster({ port: 0, heartbeatMs: 600_000 });
  process.send({ type: 'url', url: `${b.url}/events?events=*` });
  const n = Number(args.n);
  await new Promise((r) => process.once('message', r)); // the clients are connected
  while (b.hub.subscribers.size < n) await new Promise((r) => setTimeout(r, 20));

  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakArrayBuffers = base.arrayBuffers;
  let peakHeap = base.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.arrayBuffers > peakArrayBuffers) peakArrayBuffers = m.arrayBuffers;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  }, 50);

  const tests = Number(args.tests ?? 20_000);
  const perTick = Number(args['per-tick'] ?? 1);
  const runId = 'r_bench';
  const started = performance.now();
  b.publish({
    type: 'test.started',
    runId,
    data: { framework: 'mocha', totalTests: tests, testFiles: ['test/parser/case-0.spec.js'] },
  });
  for (let i = 0; i < tests; i++) {
    const title = `handles case ${i} of the parser`;
    const file = `test/parser/case-${i % 200}.spec.js`;
    // Output: what a chatty suite prints per test (~300 B).
    b.publish({
      type: 'test.output',
      runId,
      data: {
        framework: 'mocha',
        output: `[parser] case ${i}: tokens=${i % 97} depth=${i % 13} ${'·'.repeat(200)}\n`,
        outputType: 'stdout',
        stream: 'log',
      },
    });
    b.publish({
      type: 'test.result',
      runId,
      data: {
        framework: 'mocha',
        id: `t_${i.toString(16)}`,
        titlePath: ['parser', `case ${i % 200}`, title],
        suite: `parser > case ${i % 200}`,
        testName: title,
        status: i % 31 === 0 ? 'failed' : 'passed',
        duration: 1 + (i % 9),
        file,
        attempt: 1,
      },
    });
    // As a runner does: a test, then the event loop turns (--per-tick: tests between turns, a burst).
    if ((i + 1) % perTick === 0) await new Promise((r) => setImmediate(r));
  }
  b.publish({
    type: 'test.completed',
    runId,
    data: {
      framework: 'mocha',
      summary: { total: tests, passed: tests, failed: 0, skipped: 0, duration: 1, success: true },
    },
  });
  await b.flush?.();
  await new Promise((r) => setTimeout(r, 300));
  const runMs = performance.now() - started;
  clearInterval(sampler);
  const status = await (await fetch(`${b.url}/status`)).json();
  if (b.hub.seq < 2 * tests) throw new Error(`only ${b.hub.seq} events were taken in`);
  global.gc?.();
  const after = process.memoryUsage();
  process.send({
    type: 'result',
    result: {
      subscribers: n,
      runMs: Math.round(runMs),
      baseRssMiB: +(base.rss / MiB).toFixed(1),
      peakRssMiB: +(peakRss / MiB).toFixed(1),
      peakArrayBuffersMiB: +(peakArrayBuffers / MiB).toFixed(1),
      peakHeapMiB: +(peakHeap / MiB).toFixed(1),
      afterArrayBuffersMiB: +(after.arrayBuffers / MiB).toFixed(1),
      queuedPeakMiB: +((status.subscriberQueues?.peakBytes ?? 0) / MiB).toFixed(1),
      shed: status.subscriberQueues?.shed ?? 0,
    },
  });
  await b.close();
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Clients: N sockets that ask for the stream and never read; one closed opens again.

function clientsRole() {
  const url = new URL(args.url);
  const n = Number(args.n);
  let stopping = false;
  const open = () => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
      );
    });
    // Never read: the kernel's receive buffer fills, then the server's send buffer, then its queue.
    socket.pause();
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!stopping) open();
    });
    return socket;
  };
  for (let i = 0; i < n; i++) open();
  process.on('message', () => {
    stopping = true;
    process.exit(0);
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------------------

async function once(n) {
  const server = fork(fileURLToPath(import.meta.url), ['--role=server', `--n=${n}`, ...passThrough()], {
    execArgv: ['--expose-gc'],
  });
  const url = await new Promise((r) => server.once('message', (m) => r(m.url)));
  let clients;
  if (n > 0) {
    clients = fork(fileURLToPath(import.meta.url), ['--role=clients', `--url=${url}`, `--n=${n}`]);
    await new Promise((r) => clients.once('message', r));
  }
  server.send('go');
  const result = await new Promise((r) => server.on('message', (m) => m.type === 'result' && r(m.result)));
  clients?.send('stop');
  await new Promise((r) => server.once('exit', r));
  return result;
}

function passThrough() {
  return ['tests', 'dist', 'per-tick'].filter((k) => args[k] !== undefined).map((k) => `--${k}=${args[k]}`);
}

async function main() {
  const counts = String(args.subscribers ?? '0,1,50,200')
    .split(',')
    .map(Number);
  const repeat = Number(args.repeat ?? 2);
  const results = [];
  for (let r = 0; r < repeat; r++)
    for (const n of counts) {
      const result = await once(n);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  if (args.json)
    writeFileSync(
      args.json,
      `${JSON.stringify({ dist: args.dist ?? 'packages/broadcaster/dist', perTick: Number(args['per-tick'] ?? 1), node: process.version, results }, null, 2)}\n`,
    );
}

if (args.role === 'server') await serverRole();
else if (args.role === 'clients') clientsRole();
else await main();
