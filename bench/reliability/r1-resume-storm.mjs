#!/usr/bin/env node
/**
 * R1 (issue 14): 50 subscribers × 100,000 events, every subscriber's connection cut at random moments, a
 * separate publisher process, a CPU hog on every core. Each @testwire/client, and raw `ws` clients that follow
 * docs/protocol.md, must end with events 1..N exactly once, in order.
 *
 *   orchestrator (this file)
 *     ├─ hog: one bounded busy loop per core
 *     ├─ --role=owner       startBroadcaster on an ephemeral port (publishes nothing itself)
 *     ├─ --role=clients ×k  a cutting proxy (each connection cut after 0.3–3 s, until the publisher is done)
 *     │                     in front of the owner; @testwire/client subscribers and raw clients behind it
 *     └─ --role=publisher   getBroadcaster({port}) joins the owner and publishes N test.output events
 *
 * `node bench/reliability/r1-resume-storm.mjs` (build first). Flags: --subscribers=50 --raw=5 --count=100000
 * --clientProcs=2 --cutMinMs=300 --cutMaxMs=3000 --hog=1 (0: no hog) --quick (10 × 10,000)
 * --json=<path> (default bench/results/reliability-r1.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checker,
  cuttingProxy,
  load,
  parseArgs,
  quantiles,
  rawClient,
  root,
  sleep,
  startHog,
  startRole,
} from './client-harness.mjs';

const self = fileURLToPath(import.meta.url);
const args = parseArgs();
const quick = Boolean(args.quick);
const COUNT = Number(args.count ?? (quick ? 10_000 : 100_000));
const SUBSCRIBERS = Number(args.subscribers ?? (quick ? 10 : 50));
const RAW = Number(args.raw ?? (quick ? 2 : 5));
const PROCS = Number(args.clientProcs ?? 2);
const HISTORY = { maxEvents: COUNT * 2, maxBytes: 1024 * 1024 * 1024 };
const line = (text) => process.stdout.write(`${text}\n`);

if (args.role === 'owner') {
  const { startBroadcaster } = await load('broadcaster');
  const b = await startBroadcaster({ port: 0, history: HISTORY, logger: { warn() {} } });
  line(`ready ${b.port}`);
  setInterval(() => {}, 60_000);
} else if (args.role === 'publisher') {
  const { getBroadcaster } = await load('broadcaster');
  const b = await getBroadcaster({
    port: Number(args.port),
    history: HISTORY,
    publisherQueue: { maxEvents: COUNT * 2, maxBytes: 1024 * 1024 * 1024 },
    logger: { warn: (m) => process.stderr.write(`${m}\n`), info() {} },
  });
  line(`role ${b.role}`);
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 1; i <= COUNT; i++) {
    b.publish({
      type: 'test.output',
      runId: 'r_r1',
      data: { framework: 'vitest', output: String(i), outputType: 'stdout', stream: 'stdout' },
    });
    if (i % 1000 === 0) await sleep(20);
    if (i % 10_000 === 0) await b.flush(60_000);
  }
  const result = await b.flush(120_000);
  const used = process.cpuUsage(cpu);
  line(
    `done ${JSON.stringify({ delivered: result.delivered, dropped: result.dropped, seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 })}`,
  );
  await b.close();
  process.exit(0);
} else if (args.role === 'clients') {
  const { createClient } = await load('client');
  const { backoffDelay } = await load('protocol');
  const { default: WebSocket } = await import('ws');
  const proxy = await cuttingProxy(Number(args.port), {
    minMs: Number(args.cutMinMs ?? 300),
    maxMs: Number(args.cutMaxMs ?? 3000),
  });
  const subs = [];
  for (let i = 0; i < Number(args.n); i++) {
    const check = checker(COUNT);
    const sub = { kind: 'client', check, reconnects: 0, resyncs: [], errors: {} };
    const client = createClient({
      url: proxy.url,
      events: ['test.output'],
      reconnect: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 100, maxDelayMs: 2000 },
    });
    client.on('test.output', (data) => check.see(Number(data.output)));
    client.onState((state) => state === 'reconnecting' && sub.reconnects++);
    client.onResync((info) => sub.resyncs.push(info.reason));
    client.onError((error) => {
      const code = error.serverCode ?? error.code;
      sub.errors[code] = (sub.errors[code] ?? 0) + 1;
    });
    sub.close = () => client.close();
    subs.push(sub);
    await client.connect();
  }
  for (let i = 0; i < Number(args.raw); i++) {
    const check = checker(COUNT);
    const raw = rawClient(proxy.url, {
      events: ['test.output'],
      onEvent: (msg) => check.see(Number(msg.data.output)),
      backoffDelay,
      WebSocket,
    });
    subs.push({ kind: 'raw', check, raw, close: () => raw.close() });
  }
  line('ready');
  process.on('message', (message) => {
    if (message === 'stop-cutting') proxy.stopCutting();
  });
  const started = performance.now();
  while (!subs.every((s) => s.check.complete)) {
    await sleep(500);
    if (performance.now() - started > Number(args.limitMs ?? 1_200_000)) break;
  }
  const results = subs.map((s) => ({
    kind: s.kind,
    ...s.check.result(),
    ...(s.kind === 'client'
      ? { reconnects: s.reconnects, resyncs: s.resyncs, errors: s.errors }
      : {
          connections: s.raw.stats.connections,
          resumeFailed: s.raw.stats.resumeFailed,
          lagging: s.raw.stats.lagging,
        }),
  }));
  line(`done ${JSON.stringify({ cuts: proxy.cuts, results })}`);
  for (const s of subs) s.close();
  await proxy.close();
  process.exit(0);
} else {
  await orchestrate();
}

async function orchestrate() {
  const hog = args.hog === '0' ? undefined : startHog(1800);
  const procs = [];
  try {
    line(
      `R1: ${SUBSCRIBERS} @testwire/client + ${RAW} raw subscribers × ${COUNT} events, connections cut every ${args.cutMinMs ?? 300}–${args.cutMaxMs ?? 3000} ms, ${hog ? `CPU hog on ${hog.cores} cores` : 'no hog'}`,
    );
    const owner = startRole(self, ['--role=owner', `--count=${COUNT}`]);
    procs.push(owner);
    const port = Number((await owner.line((l) => l.startsWith('ready '))).split(' ')[1]);
    const clientProcs = [];
    for (let p = 0; p < PROCS; p++) {
      const share = (total) => Math.floor(total / PROCS) + (p < total % PROCS ? 1 : 0);
      const c = startRole(self, [
        '--role=clients',
        `--port=${port}`,
        `--n=${share(SUBSCRIBERS)}`,
        `--raw=${share(RAW)}`,
        `--count=${COUNT}`,
        `--cutMinMs=${args.cutMinMs ?? 300}`,
        `--cutMaxMs=${args.cutMaxMs ?? 3000}`,
      ]);
      procs.push(c);
      clientProcs.push(c);
    }
    await Promise.all(clientProcs.map((c) => c.line((l) => l === 'ready')));
    const t0 = performance.now();
    const publisher = startRole(self, ['--role=publisher', `--port=${port}`, `--count=${COUNT}`]);
    procs.push(publisher);
    const role = await publisher.line((l) => l.startsWith('role '));
    const published = JSON.parse((await publisher.line((l) => l.startsWith('done '))).slice(5));
    const publishedAt = performance.now();
    for (const c of clientProcs) c.child.send('stop-cutting');
    const outcomes = await Promise.all(
      clientProcs.map(async (c) => JSON.parse((await c.line((l) => l.startsWith('done '))).slice(5))),
    );
    const convergedAt = performance.now();
    const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
    const results = outcomes.flatMap((o) => o.results);
    const of = (kind) => results.filter((r) => r.kind === kind);
    const ok = (list) => list.filter((r) => r.exactlyOnceInOrder).length;
    const sum = (list, key) => list.reduce((n, r) => n + (r[key] ?? 0), 0);
    const clients = of('client');
    const raws = of('raw');
    const summary = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      config: { subscribers: SUBSCRIBERS, raw: RAW, count: COUNT, clientProcs: PROCS, hog: Boolean(hog) },
      publisherRole: role.slice(5),
      publisher: published,
      publishSeconds: (publishedAt - t0) / 1000,
      convergeSecondsAfterPublisherDone: (convergedAt - publishedAt) / 1000,
      cuts: outcomes.reduce((n, o) => n + o.cuts, 0),
      client: {
        exactlyOnceInOrder: `${ok(clients)}/${clients.length}`,
        reconnects: quantiles(clients.map((r) => r.reconnects)),
        duplicates: sum(clients, 'duplicates'),
        gaps: sum(clients, 'gaps'),
        resyncs: clients.flatMap((r) => r.resyncs).length,
        resyncStalled: clients.reduce((n, r) => n + (r.errors.RESYNC_STALLED ?? 0), 0),
        lagging: clients.reduce((n, r) => n + (r.errors.SUBSCRIBER_LAGGING ?? 0), 0),
      },
      raw: {
        exactlyOnceInOrder: `${ok(raws)}/${raws.length}`,
        connections: quantiles(raws.map((r) => r.connections)),
        duplicates: sum(raws, 'duplicates'),
        gaps: sum(raws, 'gaps'),
        resumeFailed: raws.flatMap((r) => r.resumeFailed),
      },
      owner: { seq: status.seq, lagged: status.lagged, dropped: status.dropped },
      results,
    };
    line(
      `publisher: ${summary.publisherRole}, ${COUNT} events in ${summary.publishSeconds.toFixed(1)} s (publisher CPU ${published.cpuSeconds.toFixed(1)} s), delivered=${published.delivered}, dropped=${JSON.stringify(published.dropped)}`,
    );
    line(
      `connections cut: ${summary.cuts}; converged ${summary.convergeSecondsAfterPublisherDone.toFixed(1)} s after the publisher finished`,
    );
    line(
      `@testwire/client: exactly once, in order: ${summary.client.exactlyOnceInOrder}; duplicates ${summary.client.duplicates}, gaps ${summary.client.gaps}, resyncs ${summary.client.resyncs}, RESYNC_STALLED ${summary.client.resyncStalled}, lagging notices ${summary.client.lagging}; reconnects per client median ${summary.client.reconnects.median} (max ${summary.client.reconnects.max})`,
    );
    line(
      `raw ws client (docs/protocol.md): exactly once, in order: ${summary.raw.exactlyOnceInOrder}; duplicates ${summary.raw.duplicates}, gaps ${summary.raw.gaps}, resume.failed ${summary.raw.resumeFailed.length}; connections per client median ${summary.raw.connections.median}`,
    );
    line(`owner: seq ${status.seq}, lagged ${status.lagged}, dropped ${status.dropped}`);
    const out = args.json ?? join(root, 'bench', 'results', 'reliability-r1.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
    line(`wrote ${out}`);
    const pass = ok(clients) === clients.length && ok(raws) === raws.length;
    line(pass ? 'R1 holds' : 'R1 does NOT hold');
    process.exitCode = pass ? 0 : 1;
  } finally {
    hog?.stop();
    for (const p of procs) p.kill();
  }
}
