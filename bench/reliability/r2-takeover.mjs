#!/usr/bin/env node
/**
 * R2 (issue 14): the owner is SIGKILLed mid-run, 10 times (10 trials). In each trial two separate publisher
 * processes publish N test.output events each; the owner (a process that publishes nothing) is killed once
 * both have published a third; one publisher takes the port over, the other joins it. Measured: the time
 * from the SIGKILL to the new owner bound (the publisher's own clock, same machine) and to `/status`
 * answering with the new epoch. Checked: every @testwire/client and raw `ws` client (docs/protocol.md) gets
 * both publishers' events exactly once, in order — nothing lost, no duplicates.
 *
 * `node bench/reliability/r2-takeover.mjs` (build first). Flags: --trials=10 --count=20000 --clients=3
 * --raw=1 --hog=1 (0: no CPU hog) --quick (3 trials × 5,000) --json=<path>
 * (default bench/results/reliability-r2.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checker,
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
const TRIALS = Number(args.trials ?? (quick ? 3 : 10));
const COUNT = Number(args.count ?? (quick ? 5000 : 20_000));
const CLIENTS = Number(args.clients ?? 3);
const RAW = Number(args.raw ?? 1);
const TAGS = ['a', 'b'];
const HISTORY = { maxEvents: 1_000_000, maxBytes: 1024 * 1024 * 1024 };
const line = (text) => process.stdout.write(`${text}\n`);

if (args.role === 'owner') {
  const { startBroadcaster } = await load('broadcaster');
  const b = await startBroadcaster({ port: 0, history: HISTORY, logger: { warn() {} } });
  line(`ready ${b.port} ${b.epoch}`);
  setInterval(() => {}, 60_000);
} else if (args.role === 'publisher') {
  const { getBroadcaster } = await load('broadcaster');
  const b = await getBroadcaster({
    port: Number(args.port),
    history: HISTORY,
    publisherQueue: { maxEvents: 1_000_000, maxBytes: 1024 * 1024 * 1024 },
    logger: { warn: (m) => process.stderr.write(`${m}\n`), info() {} },
  });
  line(`role ${b.role}`);
  // When this process saw the owner's socket close (a private field, read here to split the takeover time).
  b.ws?.on('close', () => line(`lost ${Date.now()}`));
  // When this process becomes the owner, on its own clock (the orchestrator's SIGKILL is on the same machine's).
  const watch = setInterval(() => {
    if (b.role === 'owner') {
      line(`owner ${Date.now()}`);
      clearInterval(watch);
    }
  }, 2);
  for (let i = 1; i <= COUNT; i++) {
    b.publish({
      type: 'test.output',
      runId: `r_${args.tag}`,
      data: { framework: 'vitest', output: `${args.tag} ${i}`, outputType: 'stdout', stream: 'stdout' },
    });
    if (i % 500 === 0) {
      line(`published ${i}`);
      await sleep(25);
    }
  }
  const result = await b.flush(120_000);
  line(`done ${JSON.stringify({ delivered: result.delivered, dropped: result.dropped, role: b.role })}`);
  process.stdin.on('end', async () => {
    await b.close({ timeoutMs: 1000 });
    process.exit(0);
  });
  process.stdin.resume();
} else {
  await orchestrate();
}

async function trial(n, { createClient, backoffDelay, WebSocket }) {
  const procs = [];
  const subs = [];
  try {
    const owner = startRole(self, ['--role=owner']);
    procs.push(owner);
    const [, port, epoch] = (await owner.line((l) => l.startsWith('ready '))).split(' ');
    const url = `http://127.0.0.1:${port}`;
    const see = (checks, output) => {
      const [tag, i] = output.split(' ');
      checks[tag]?.see(Number(i));
    };
    for (let i = 0; i < CLIENTS; i++) {
      const checks = Object.fromEntries(TAGS.map((t) => [t, checker(COUNT)]));
      const client = createClient({
        url,
        events: ['test.output'],
        reconnect: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 25, maxDelayMs: 1000 },
      });
      const sub = { kind: 'client', checks, resyncs: [], close: () => client.close() };
      client.on('test.output', (data) => see(checks, data.output));
      client.onResync((info) => sub.resyncs.push(`${info.reason}${info.replayed ? ' (replayed)' : ''}`));
      await client.connect();
      subs.push(sub);
    }
    for (let i = 0; i < RAW; i++) {
      const checks = Object.fromEntries(TAGS.map((t) => [t, checker(COUNT)]));
      const raw = rawClient(url, {
        events: ['test.output'],
        onEvent: (msg) => see(checks, msg.data.output),
        backoffDelay,
        WebSocket,
      });
      subs.push({ kind: 'raw', checks, raw, close: () => raw.close() });
    }
    const publishers = TAGS.map((tag) => {
      const p = startRole(self, ['--role=publisher', `--port=${port}`, `--tag=${tag}`, `--count=${COUNT}`]);
      procs.push(p);
      return p;
    });
    const roles = await Promise.all(publishers.map((p) => p.line((l) => l.startsWith('role '))));
    await Promise.all(
      publishers.map((p) =>
        p.line((l) => l.startsWith('published ') && Number(l.split(' ')[1]) >= COUNT / 3),
      ),
    );
    const killedAt = Date.now();
    owner.kill('SIGKILL');
    let statusMs;
    for (;;) {
      try {
        const status = await (await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) })).json();
        if (status.epoch !== epoch) {
          statusMs = Date.now() - killedAt;
          break;
        }
      } catch {}
      if (Date.now() - killedAt > 60_000) break;
      await sleep(5);
    }
    const ownerLine = await Promise.race(
      publishers.map((p, i) => p.line((l) => l.startsWith('owner '), 60_000).then((l) => [TAGS[i], l])),
    );
    const bindMs = Number(ownerLine[1].split(' ')[1]) - killedAt;
    const winner = publishers[TAGS.indexOf(ownerLine[0])];
    const lostLine = winner.lines.find((l) => l.startsWith('lost '));
    const detectMs = lostLine ? Number(lostLine.split(' ')[1]) - killedAt : undefined;
    const done = await Promise.all(
      publishers.map(async (p) => JSON.parse((await p.line((l) => l.startsWith('done '))).slice(5))),
    );
    const deadline = Date.now() + 180_000;
    while (!subs.every((s) => TAGS.every((t) => s.checks[t].complete)) && Date.now() < deadline)
      await sleep(100);
    const results = subs.map((s) => {
      const perTag = TAGS.map((t) => s.checks[t].result());
      return {
        kind: s.kind,
        exactlyOnceInOrder: perTag.every((r) => r.exactlyOnceInOrder),
        duplicates: perTag.reduce((x, r) => x + r.duplicates, 0),
        lost: perTag.reduce((x, r) => x + (COUNT - r.last) + r.gaps, 0),
        ...(s.kind === 'client'
          ? { resyncs: s.resyncs }
          : { repeatsDropped: s.raw.stats.repeatsDropped, resumeFailed: s.raw.stats.resumeFailed }),
      };
    });
    for (const p of publishers) p.child.stdin.end();
    await Promise.all(
      publishers.map(
        (p) =>
          new Promise((resolve) => (p.child.exitCode !== null ? resolve() : p.child.on('exit', resolve))),
      ),
    );
    const out = {
      trial: n,
      roles: roles.map((r) => r.slice(5)),
      newOwner: ownerLine[0],
      detectMs,
      bindMs,
      statusMs,
      publishers: done,
      results,
    };
    const ok = results.filter((r) => r.exactlyOnceInOrder).length;
    line(
      `trial ${n}: takeover ${bindMs} ms (owner's socket closed at ${detectMs} ms; port bound by publisher ${out.newOwner}), /status on the new epoch after ${statusMs} ms; exactly once, in order: ${ok}/${results.length}; duplicates ${results.reduce((x, r) => x + r.duplicates, 0)}, lost ${results.reduce((x, r) => x + r.lost, 0)}`,
    );
    return out;
  } finally {
    for (const s of subs) s.close();
    for (const p of procs) p.kill();
  }
}

async function orchestrate() {
  const { createClient } = await load('client');
  const { backoffDelay } = await load('protocol');
  const { default: WebSocket } = await import('ws');
  const hog = args.hog === '0' ? undefined : startHog(1800);
  try {
    line(
      `R2: ${TRIALS} trials, owner SIGKILLed mid-run, 2 publisher processes × ${COUNT} events, ${CLIENTS} @testwire/client + ${RAW} raw subscribers, ${hog ? `CPU hog on ${hog.cores} cores` : 'no hog'}`,
    );
    const trials = [];
    for (let n = 1; n <= TRIALS; n++) trials.push(await trial(n, { createClient, backoffDelay, WebSocket }));
    const all = trials.flatMap((t) => t.results);
    const summary = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      config: { trials: TRIALS, count: COUNT, clients: CLIENTS, raw: RAW, hog: Boolean(hog) },
      takeoverMs: quantiles(trials.map((t) => t.bindMs)),
      detectMs: quantiles(trials.map((t) => t.detectMs ?? Number.POSITIVE_INFINITY)),
      statusMs: quantiles(trials.map((t) => t.statusMs ?? Number.POSITIVE_INFINITY)),
      exactlyOnceInOrder: `${all.filter((r) => r.exactlyOnceInOrder).length}/${all.length}`,
      duplicates: all.reduce((x, r) => x + r.duplicates, 0),
      lost: all.reduce((x, r) => x + r.lost, 0),
      publisherDrops: trials
        .flatMap((t) => t.publishers.map((p) => p.dropped))
        .filter((d) => Object.keys(d).length),
      trials,
    };
    line(
      `takeover (SIGKILL -> port bound): median ${summary.takeoverMs.median} ms, p90 ${summary.takeoverMs.p90} ms, max ${summary.takeoverMs.max} ms`,
    );
    line(
      `SIGKILL -> /status answers on the new epoch: median ${summary.statusMs.median} ms, max ${summary.statusMs.max} ms`,
    );
    line(
      `subscribers exactly once, in order: ${summary.exactlyOnceInOrder}; duplicates ${summary.duplicates}; lost ${summary.lost}; publisher drops ${summary.publisherDrops.length}`,
    );
    const outPath = args.json ?? join(root, 'bench', 'results', 'reliability-r2.json');
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(summary, null, 2)}\n`);
    line(`wrote ${outPath}`);
    const pass =
      summary.takeoverMs.median <= 1000 &&
      summary.duplicates === 0 &&
      summary.lost === 0 &&
      all.every((r) => r.exactlyOnceInOrder);
    line(pass ? 'R2 holds' : 'R2 does NOT hold');
    process.exitCode = pass ? 0 : 1;
  } finally {
    hog?.stop();
  }
}
