// bench/redis: 8 shard processes into one Redis and one `testwire serve --redis`, one WebSocket subscriber;
// side by side with the single-machine path (8 processes joining one broadcaster owner as publishers).
// Figures per path: events/s delivered to the subscriber in a burst, p50/p99 shard->subscriber latency of a
// paced stream, and each shard's CPU per event (process.cpuUsage around publish + flush). Paired repetitions
// (redis, join, redis, join, …). Prints a table and writes bench/results/redis-<date>.json.
//
//   node bench/redis/run.mjs [--reps 3] [--shards 8] [--events 1000] [--rate 200] [--burst 5000]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    shards: { type: 'string', default: '8' },
    events: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    burst: { type: 'string', default: '5000' },
  },
});
const REPS = Number(values.reps);
const SHARDS = Number(values.shards);
const EVENTS = Number(values.events);
const RATE = Number(values.rate);
const BURST = Number(values.burst);
const now = () => performance.timeOrigin + performance.now();

function freePort() {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

function child(cmd, args) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
  proc.out = '';
  proc.stdout.on('data', (c) => (proc.out += c));
  proc.done = new Promise((r) => proc.on('close', r));
  return proc;
}

async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A subscriber of every test.result: latency of the paced phase, arrival times of the burst. */
async function subscribe(wsUrl) {
  const ws = new WebSocket(wsUrl);
  const got = { paced: [], burst: [], firstBurst: 0, lastBurst: 0, count: 0 };
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw));
    if (msg.type === 'connection.established')
      ws.send(JSON.stringify({ type: 'subscribe', events: ['test.result'] }));
    if (msg.type !== 'test.result' || msg.runId.startsWith('group:')) return;
    const at = now();
    got.count++;
    if (msg.data.phase === 'paced') got.paced.push(at - msg.data.sentAt);
    else {
      got.firstBurst ||= at;
      got.lastBurst = at;
      got.burst.push(at);
    }
  });
  await new Promise((r) => ws.on('open', r));
  return { ws, got };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function runShards(mode, target, group, got) {
  const procs = Array.from({ length: SHARDS }, (_, i) =>
    child(process.execPath, [
      join(here, 'shard.mjs'),
      mode,
      target,
      group,
      String(i + 1),
      String(EVENTS),
      String(RATE),
      String(BURST),
    ]),
  );
  const burstStart = now();
  await Promise.all(procs.map((p) => p.done));
  const total = SHARDS * (EVENTS + BURST);
  await until(`${total} events at the subscriber (${mode})`, () => got.count >= total, 60_000);
  const shards = procs.map((p) => JSON.parse(p.out.trim().split('\n').at(-1)));
  return { shards, burstStart };
}

function figures(mode, got, shards) {
  const burstSeconds = (got.lastBurst - got.firstBurst) / 1000;
  return {
    mode,
    delivered: got.count,
    burstEventsPerSecond: Math.round((SHARDS * BURST) / Math.max(burstSeconds, 1e-3)),
    pacedLatencyMs: { p50: pct(got.paced, 50), p99: pct(got.paced, 99) },
    shardCpuUsPerEvent: {
      paced: mean(shards.map((s) => s.paced.cpuUsPerEvent)),
      burst: mean(shards.map((s) => s.burst.cpuUsPerEvent)),
    },
  };
}

async function redisRep(rep) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'testwire-bench-redis-'));
  const redis = child('/usr/bin/redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    '--logfile',
    '',
  ]);
  await new Promise((r) => setTimeout(r, 300));
  const url = `redis://127.0.0.1:${port}`;
  const group = `bench-${Date.now().toString(36)}-${rep}`;
  const servePort = await freePort();
  const serve = child(process.execPath, [
    join(root, 'packages/cli/dist/cli.js'),
    'serve',
    '--redis',
    url,
    '--group',
    group,
    '--port',
    String(servePort),
  ]);
  await until('serve', () => serve.out.includes('listening at'));
  const { ws, got } = await subscribe(`ws://127.0.0.1:${servePort}/ws`);
  const { shards } = await runShards('redis', url, group, got);
  ws.terminate();
  serve.kill('SIGTERM');
  await serve.done;
  redis.kill('SIGTERM');
  await redis.done;
  return figures('redis', got, shards);
}

async function joinRep() {
  const port = await freePort();
  const owner = child(process.execPath, [
    '-e',
    `require(${JSON.stringify(join(root, 'packages/broadcaster/dist/index.cjs'))}).startBroadcaster({port:${port},keepAlive:true,dashboardDir:false}).then(b=>console.log('listening at '+b.url))`,
  ]);
  await until('owner', () => owner.out.includes('listening at'));
  const { ws, got } = await subscribe(`ws://127.0.0.1:${port}/ws`);
  const { shards } = await runShards('join', `http://127.0.0.1:${port}`, '', got);
  ws.terminate();
  owner.kill('SIGTERM');
  await owner.done;
  return figures('join', got, shards);
}

const reps = [];
for (let rep = 1; rep <= REPS; rep++) {
  const redis = await redisRep(rep);
  const joined = await joinRep();
  reps.push({ rep, redis, join: joined });
  console.log(
    `rep ${rep}: redis ${redis.burstEventsPerSecond} ev/s p50 ${redis.pacedLatencyMs.p50.toFixed(1)} ms p99 ${redis.pacedLatencyMs.p99.toFixed(1)} ms cpu ${redis.shardCpuUsPerEvent.paced.toFixed(1)}/${redis.shardCpuUsPerEvent.burst.toFixed(1)} us/ev | ` +
      `join ${joined.burstEventsPerSecond} ev/s p50 ${joined.pacedLatencyMs.p50.toFixed(1)} ms p99 ${joined.pacedLatencyMs.p99.toFixed(1)} ms cpu ${joined.shardCpuUsPerEvent.paced.toFixed(1)}/${joined.shardCpuUsPerEvent.burst.toFixed(1)} us/ev`,
  );
}

const median = (xs) => pct(xs, 50);
const summary = Object.fromEntries(
  ['redis', 'join'].map((mode) => [
    mode,
    {
      burstEventsPerSecond: median(reps.map((r) => r[mode].burstEventsPerSecond)),
      pacedLatencyP50Ms: median(reps.map((r) => r[mode].pacedLatencyMs.p50)),
      pacedLatencyP99Ms: median(reps.map((r) => r[mode].pacedLatencyMs.p99)),
      shardCpuUsPerEventPaced: median(reps.map((r) => r[mode].shardCpuUsPerEvent.paced)),
      shardCpuUsPerEventBurst: median(reps.map((r) => r[mode].shardCpuUsPerEvent.burst)),
    },
  ]),
);
console.log(
  '\nmedians over',
  REPS,
  'paired repetitions,',
  SHARDS,
  'shards,',
  EVENTS,
  `paced events/shard at ${RATE}/s,`,
  BURST,
  'burst events/shard',
);
console.log('path   burst ev/s   p50 ms   p99 ms   shard CPU us/event (paced / burst)');
for (const [mode, s] of Object.entries(summary))
  console.log(
    `${mode.padEnd(6)} ${String(s.burstEventsPerSecond).padStart(10)}   ${s.pacedLatencyP50Ms.toFixed(1).padStart(6)}   ${s.pacedLatencyP99Ms.toFixed(1).padStart(6)}   ${s.shardCpuUsPerEventPaced.toFixed(1)} / ${s.shardCpuUsPerEventBurst.toFixed(1)}`,
  );
const out = join(
  root,
  'bench/results',
  `redis-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), shards: SHARDS, events: EVENTS, rate: RATE, burst: BURST, reps, summary }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);
