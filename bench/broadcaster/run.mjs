#!/usr/bin/env node
/**
 * Fan-out benchmark: the testwire broadcaster against a naive `ws` loop, side by side, for 1, 10 and 100
 * subscribers. `node bench/broadcaster/run.mjs` (or `pnpm bench:broadcaster`); build the broadcaster first.
 *
 *   orchestrator (this file, no flags)
 *     ├─ fork --role=server  --kind=testwire|naive   server + publisher in one process (as in a test run);
 *     │                                              CPU measured there with process.cpuUsage()
 *     └─ fork --role=clients --url=… --n=N           N real `ws` clients in another process, so their CPU
 *                                                    is not counted as the server's; they time each event
 *
 * Per (kind, N): RSS with N idle subscribers minus with 0, then a paced phase (steady rate, latency) and a
 * burst phase (everything at once, throughput). Events are realistic `test.result` envelopes (~400 B); the
 * publisher stamps `data.sentAt` = performance.timeOrigin + performance.now() (a monotonic-clock derived
 * wall time) and the clients compute latency with the same clock.
 *
 * Flags: --quick (smaller phases), --json=<path> (default bench/results/broadcaster.json),
 *        --subscribers=1,10,100, --reference (adds a floor implementation: serialize + frame once, one write
 *        per subscriber per tick), --profile[=testwire|naive|reference] (CPU profile of the server's burst
 *        phase into bench/results/profiles/). BENCH_TRACE=1 prints event-loop delays and the slowest events.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);

const now = () => performance.timeOrigin + performance.now();
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a local debugging switch of this bench, not configuration
const TRACE = process.env.BENCH_TRACE;

// ---------------------------------------------------------------------------------------------------------
// The event: a realistic test.result (~400 bytes as an envelope).

function makeEvent(i, runId) {
  const file = `src/ui/button-${i % 40}.test.tsx`;
  const title = `renders the label (#${i})`;
  return {
    type: 'test.result',
    runId,
    data: {
      framework: 'vitest',
      project: 'web-app',
      id: `t_${(0x5f3a9c1e + i).toString(16)}`,
      titlePath: ['Button', 'enabled', title],
      testName: title,
      suite: 'Button > enabled',
      status: i % 17 === 0 ? 'failed' : 'passed',
      duration: 3 + (i % 50),
      file,
      line: 10 + (i % 200),
      column: 5,
      attempt: 1,
      rawStatus: 'pass',
      startedAt: 1795257014800 + i,
      sentAt: 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Server process

async function serverRole() {
  const kind = args.kind;
  const runId = 'r_bench';
  let publish;
  let close;
  let port;
  if (kind === 'testwire') {
    const modulePath = join(root, 'packages', 'broadcaster', 'dist', 'index.js');
    const { startBroadcaster } = await import(pathToFileURL(modulePath).href);
    const broadcaster = await startBroadcaster({
      port: 0,
      host: '127.0.0.1',
      // room for the burst phase: the default 50k-event history would evict nothing here anyway
      logger: { warn: (m) => process.stderr.write(`${m}\n`) },
    });
    port = broadcaster.port;
    publish = (event) => broadcaster.publish(event);
    close = () => broadcaster.close({ timeoutMs: 1000 });
  } else if (kind === 'reference') {
    // What fan-out costs when done at the floor: serialize once, build the WebSocket frame once (server
    // frames are unmasked, so the bytes are the same for every subscriber), queue per subscriber, and write
    // each subscriber's frames of a tick as one Buffer straight to its socket (no per-frame ws.send).
    // Not a product: no subscriptions, history or bounds. It shows what packages/broadcaster could reach.
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
    const queues = new Map();
    wss.on('connection', (ws) => {
      queues.set(ws, []);
      ws.on('close', () => queues.delete(ws));
    });
    let pending = [];
    let scheduled = false;
    let seq = 0;
    const header = (length) => {
      if (length < 126) return Buffer.from([0x81, length]);
      if (length < 65536) return Buffer.from([0x81, 126, length >> 8, length & 255]);
      const h = Buffer.alloc(10);
      h[0] = 0x81;
      h[1] = 127;
      h.writeBigUInt64BE(BigInt(length), 2);
      return h;
    };
    const flush = () => {
      scheduled = false;
      const frames = [];
      for (const event of pending) {
        const json = `{"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(new Date().toISOString())},"seq":${++seq},"runId":${JSON.stringify(event.runId)},"data":${JSON.stringify(event.data)}}`;
        const payload = Buffer.from(json);
        frames.push(Buffer.concat([header(payload.length), payload]));
      }
      pending = [];
      // Per subscriber, as a broadcaster with filters must (each may get a different subset): one concat
      // (memcpy) and one write per subscriber per tick.
      for (const ws of queues.keys()) {
        if (ws.readyState === 1) ws._socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
      }
    };
    publish = (event) => {
      pending.push(event);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    };
    close = () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      });
  } else {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
    let seq = 0;
    publish = (event) => {
      const envelope = {
        type: event.type,
        timestamp: new Date().toISOString(),
        seq: ++seq,
        runId: event.runId,
        data: event.data,
      };
      // The naive loop: serialize and send per client.
      for (const client of wss.clients) if (client.readyState === 1) client.send(JSON.stringify(envelope));
    };
    close = () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      });
  }

  let cpu0;
  let index = 0;
  const profiler = args.profile ? await phaseProfiler() : undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const events = Array.from({ length: 64 }, (_, i) => makeEvent(i, runId));
  const stamp = () => {
    // A fresh object per event (a reporter builds one per test), from a template to keep generation cheap.
    const template = events[index++ % events.length];
    return { type: template.type, runId, data: { ...template.data, sentAt: now() } };
  };

  process.on('message', async (msg) => {
    if (msg.cmd === 'mem') {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 50));
      }
      process.send({ type: 'mem', rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed });
    } else if (msg.cmd === 'phase') {
      if (profiler && msg.mode === 'burst') await profiler.start();
      cpu0 = process.cpuUsage();
      loopDelay.reset();
      const wallStart = now();
      if (msg.mode === 'burst') {
        for (let i = 0; i < msg.count; i++) publish(stamp());
        // How long the publisher (the test runner, in real use) was blocked by publishing.
        process.send({ type: 'published', wallStart, blockedMs: now() - wallStart });
      } else {
        // Paced: `rate` events/s published in small batches every `intervalMs`, on schedule (no drift).
        let sent = 0;
        let blockedMs = 0;
        const t0 = performance.now();
        const tick = () => {
          const due = Math.min(msg.count, Math.floor(((performance.now() - t0) / 1000) * msg.rate));
          const before = now();
          while (sent < due) {
            publish(stamp());
            sent++;
          }
          blockedMs += now() - before;
          if (sent < msg.count) setTimeout(tick, msg.intervalMs);
          else process.send({ type: 'published', wallStart, blockedMs });
        };
        tick();
      }
    } else if (msg.cmd === 'cpu') {
      if (TRACE) {
        process.stderr.write(
          `server loop delay: max ${(loopDelay.max / 1e6).toFixed(1)} ms p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms\n`,
        );
      }
      const d = process.cpuUsage(cpu0);
      if (profiler?.running) await profiler.stop(`${kind}-${args.n}-burst.cpuprofile`);
      process.send({ type: 'cpu', user: d.user, system: d.system });
    } else if (msg.cmd === 'exit') {
      await close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port });
}

/** --profile: a CPU profile of the server during the burst phase only (bench/results/profiles/). */
async function phaseProfiler() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const profiler = {
    running: false,
    async start() {
      await session.post('Profiler.start');
      profiler.running = true;
    },
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      profiler.running = false;
      const dir = join(root, 'bench', 'results', 'profiles');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), JSON.stringify(profile));
    },
  };
  return profiler;
}

// ---------------------------------------------------------------------------------------------------------
// Clients process

async function clientsRole() {
  const { default: WebSocket } = await import('ws');
  const n = Number(args.n);
  const url = args.url;
  const subscribe = args.kind === 'testwire';
  const sockets = [];
  let expected = 0;
  let counts = new Uint32Array(n);
  let latencies = new Float64Array(0);
  let trace;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let samples = 0;
  let complete = 0;
  let lastRecvAt = 0;
  let onComplete;

  const open = (i) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('error', reject);
      ws.on('close', (code) => {
        if (expected > 0 && counts[i] < expected)
          process.stderr.write(`client ${i} closed early (code ${code})\n`);
      });
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.type === 'test.result') {
          const t = now();
          if (samples < latencies.length) latencies[samples++] = t - msg.data.sentAt;
          if (trace && counts[i] < trace.length)
            trace[counts[i]] = Math.max(trace[counts[i]], t - msg.data.sentAt);
          lastRecvAt = t;
          if (++counts[i] === expected && ++complete === n) onComplete?.();
        } else if (msg.type === 'subscribed' || (!subscribe && msg.type === 'connection.established')) {
          resolve(ws);
        } else if (msg.type === 'connection.established' && subscribe) {
          ws.send(JSON.stringify({ type: 'subscribe', events: ['test.result'] }));
        } else if (msg.type === 'system.error') {
          process.stderr.write(`client ${i}: ${msg.data.error.code} ${msg.data.error.message}\n`);
        }
      });
      // the naive server sends no greeting: it is ready once open
      if (!subscribe) ws.on('open', () => resolve(ws));
    });

  for (let i = 0; i < n; i++) sockets.push(await open(i));

  process.on('message', (msg) => {
    if (msg.cmd === 'expect') {
      expected = msg.count;
      counts = new Uint32Array(n);
      latencies = new Float64Array(msg.count * n);
      // BENCH_TRACE=1: worst latency per event index, to see when slow deliveries happen
      trace = TRACE ? new Float64Array(msg.count) : undefined;
      loopDelay.reset();
      samples = 0;
      complete = 0;
      const timer = setTimeout(() => finish(true), msg.timeoutMs);
      const finish = (timedOut) => {
        clearTimeout(timer);
        onComplete = undefined;
        const sorted = latencies.subarray(0, samples).sort();
        const pct = (p) =>
          samples ? sorted[Math.min(samples - 1, Math.floor((p / 100) * samples))] : Number.NaN;
        if (trace) {
          process.stderr.write(
            `clients loop delay: max ${(loopDelay.max / 1e6).toFixed(1)} ms p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms\n`,
          );
          if (TRACE === 'all')
            process.stderr.write(`trace: ${[...trace].map((x) => x.toFixed(0)).join(' ')}\n`);
          const worst = [...trace.keys()].sort((x, y) => trace[y] - trace[x]).slice(0, 12);
          process.stderr.write(
            `worst events (index: ms): ${worst.map((k) => `${k}: ${trace[k].toFixed(1)}`).join(', ')}\n`,
          );
        }
        let received = 0;
        for (const c of counts) received += c;
        process.send({
          type: 'done',
          timedOut,
          received,
          lastRecvAt,
          p50: pct(50),
          p99: pct(99),
          max: samples ? sorted[samples - 1] : Number.NaN,
        });
      };
      onComplete = () => finish(false);
      process.send({ type: 'expecting' });
    } else if (msg.cmd === 'exit') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------------------
// Orchestrator

function child(argv, execArgv = []) {
  const proc = fork(fileURLToPath(import.meta.url), argv, {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = [];
  const inbox = [];
  proc.on('message', (msg) => {
    const i = waiting.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
    else inbox.push(msg);
  });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    proc,
    exited,
    next(type, timeoutMs = 60_000) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${type} from ${argv.join(' ')}`)),
          timeoutMs,
        );
        const entry = {
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        waiting.push(entry);
        proc.once('exit', (code) => {
          if (waiting.includes(entry))
            reject(new Error(`${argv.join(' ')} exited (${code}) while waiting for ${type}`));
        });
      });
    },
    send: (msg) => proc.send(msg),
  };
}

async function measure(kind, n, plan) {
  const profile = args.profile === kind || args.profile === true;
  const server = child(
    [`--role=server`, `--kind=${kind}`, `--n=${n}`, ...(profile ? ['--profile'] : [])],
    ['--expose-gc'],
  );
  const { port } = await server.next('ready');
  server.send({ cmd: 'mem' });
  const mem0 = await server.next('mem');
  const url = kind === 'testwire' ? `ws://127.0.0.1:${port}/ws` : `ws://127.0.0.1:${port}/`;
  const clients = child([`--role=clients`, `--kind=${kind}`, `--n=${n}`, `--url=${url}`]);
  await clients.next('ready');
  server.send({ cmd: 'mem' });
  const memN = await server.next('mem');

  const phases = {};
  // Warm-up (not measured): JIT-compiles both sides' hot paths so the first measured events do not pay for it.
  for (const phase of [
    { mode: 'warmup', count: 300, rate: 3000, intervalMs: 5, timeoutMs: 30_000 },
    ...plan,
  ]) {
    clients.send({ cmd: 'expect', count: phase.count, timeoutMs: phase.timeoutMs });
    await clients.next('expecting');
    server.send({ cmd: 'phase', ...phase });
    const { wallStart, blockedMs } = await server.next('published');
    const done = await clients.next('done', phase.timeoutMs + 5_000);
    server.send({ cmd: 'cpu' });
    const cpu = await server.next('cpu');
    if (phase.mode === 'warmup') continue;
    const deliveries = done.received;
    const seconds = (done.lastRecvAt - wallStart) / 1000;
    phases[phase.mode] = {
      events: phase.count,
      deliveries,
      complete: !done.timedOut && deliveries === phase.count * n,
      seconds: round(seconds, 3),
      deliveriesPerSecond: Math.round(deliveries / seconds),
      serverCpuMs: round((cpu.user + cpu.system) / 1000, 1),
      cpuUsPerDelivery: round((cpu.user + cpu.system) / deliveries, 3),
      latencyMs: { p50: round(done.p50, 2), p99: round(done.p99, 2), max: round(done.max, 2) },
      publisherBlockedMs: round(blockedMs, 1),
    };
    // let sockets settle between phases
    await new Promise((r) => setTimeout(r, 200));
  }
  clients.send({ cmd: 'exit' });
  await clients.exited;
  server.send({ cmd: 'exit' });
  await server.exited;
  return {
    kind,
    subscribers: n,
    rssIdleBytes: { without: mem0.rss, with: memN.rss },
    rssPerIdleSubscriberKiB: round((memN.rss - mem0.rss) / n / 1024, 1),
    heapPerIdleSubscriberKiB: round((memN.heapUsed - mem0.heapUsed) / n / 1024, 1),
    ...phases,
  };
}

const round = (x, d) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

async function orchestrate() {
  const quick = Boolean(args.quick);
  const counts =
    typeof args.subscribers === 'string' ? args.subscribers.split(',').map(Number) : [1, 10, 100];
  const plan = (n) => [
    // A steady stream in small batches every 5 ms, offered at <= 10,000 deliveries/s so that the one client
    // process is not the bottleneck (it would queue and turn latency into a measure of itself).
    // 1,000 events/s is a busy runner; latency is the figure here.
    {
      mode: 'paced',
      count: quick ? 300 : n >= 100 ? 400 : 2000,
      rate: n >= 100 ? 100 : 1000,
      intervalMs: 5,
      timeoutMs: 30_000,
    },
    // Everything at once: a reporter flushing a backlog; throughput and CPU per delivery are the figures.
    // Latency here mostly measures how fast the client process drains its sockets.
    { mode: 'burst', count: quick ? 1000 : n >= 100 ? 4000 : 10_000, timeoutMs: 60_000 },
  ];
  const results = [];
  const started = Date.now();
  for (const n of counts) {
    // alternate which server goes first, so warm caches or a busy neighbour do not favour one side
    const order = n === 10 ? ['naive', 'testwire'] : ['testwire', 'naive'];
    if (args.reference) order.push('reference');
    for (const kind of order) {
      process.stdout.write(`  ${kind.padEnd(8)} x ${String(n).padStart(3)} subscribers … `);
      const result = await measure(kind, n, plan(n));
      results.push(result);
      process.stdout.write(`${result.burst.complete && result.paced.complete ? 'ok' : 'INCOMPLETE'}\n`);
    }
  }

  const rows = [];
  for (const r of results) {
    rows.push([
      r.kind,
      r.subscribers,
      r.paced.deliveriesPerSecond,
      r.paced.cpuUsPerDelivery,
      r.paced.latencyMs.p50,
      r.paced.latencyMs.p99,
      r.burst.deliveriesPerSecond,
      r.burst.cpuUsPerDelivery,
      r.burst.latencyMs.p50,
      r.burst.latencyMs.p99,
      r.burst.publisherBlockedMs,
      r.rssPerIdleSubscriberKiB,
    ]);
  }
  const header = [
    'server',
    'subs',
    'paced del/s',
    'paced µs/del',
    'paced p50 ms',
    'paced p99 ms',
    'burst del/s',
    'burst µs/del',
    'burst p50 ms',
    'burst p99 ms',
    'pub blocked ms',
    'KiB/idle sub',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));

  const at = (kind, n) => results.find((r) => r.kind === kind && r.subscribers === n);
  const comparison = counts.map((n) => {
    const t = at('testwire', n);
    const v = at('naive', n);
    return {
      subscribers: n,
      cpuRatioPaced: round(v.paced.cpuUsPerDelivery / t.paced.cpuUsPerDelivery, 2),
      cpuRatioBurst: round(v.burst.cpuUsPerDelivery / t.burst.cpuUsPerDelivery, 2),
      p99PacedMs: { testwire: t.paced.latencyMs.p99, naive: v.paced.latencyMs.p99 },
      p99BurstMs: { testwire: t.burst.latencyMs.p99, naive: v.burst.latencyMs.p99 },
      ...(at('reference', n)
        ? {
            referenceCpuRatioBurst: round(
              v.burst.cpuUsPerDelivery / at('reference', n).burst.cpuUsPerDelivery,
              2,
            ),
            referenceCpuRatioPaced: round(
              v.paced.cpuUsPerDelivery / at('reference', n).paced.cpuUsPerDelivery,
              2,
            ),
          }
        : {}),
    };
  });
  const c100 = comparison.find((c) => c.subscribers === 100);
  const target = c100 && {
    description:
      'at 100 subscribers: >= 5x less server CPU per delivery than the naive loop (burst: throughput-bound), p99 latency no worse (paced)',
    cpuRatioBurst: c100.cpuRatioBurst,
    cpuRatioPaced: c100.cpuRatioPaced,
    cpuMet: c100.cpuRatioBurst >= 5,
    // 10% + 1 ms of slack: on a shared machine p99 moves by more than that between identical runs
    p99Met: c100.p99PacedMs.testwire <= c100.p99PacedMs.naive * 1.1 + 1,
  };
  console.log('\nnaive CPU per delivery / testwire CPU per delivery (higher is better for testwire):');
  for (const c of comparison) {
    console.log(
      `  ${String(c.subscribers).padStart(3)} subscribers: paced ${c.cpuRatioPaced}x, burst ${c.cpuRatioBurst}x; ` +
        `paced p99 testwire ${c.p99PacedMs.testwire} ms vs naive ${c.p99PacedMs.naive} ms`,
    );
  }
  if (target) {
    console.log(
      `target (${target.description}): CPU ${target.cpuMet ? 'met' : 'MISSED'} (burst ${target.cpuRatioBurst}x, paced ${target.cpuRatioPaced}x), p99 ${target.p99Met ? 'met' : 'MISSED'}`,
    );
  }

  const out = typeof args.json === 'string' ? args.json : join(root, 'bench', 'results', 'broadcaster.json');
  mkdirSync(dirname(out), { recursive: true });
  const event = makeEvent(1, 'r_bench');
  const envelopeBytes = Buffer.byteLength(
    JSON.stringify({
      type: event.type,
      timestamp: new Date().toISOString(),
      seq: 1000,
      runId: event.runId,
      data: { ...event.data, sentAt: now() },
    }),
  );
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: 'broadcaster',
        date: new Date().toISOString(),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: (await import('node:os')).cpus().length,
        loadavg: (await import('node:os')).loadavg().map((x) => round(x, 2)),
        envelopeBytes,
        quick,
        seconds: round((Date.now() - started) / 1000, 1),
        results,
        comparison,
        target,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${out} (${round((Date.now() - started) / 1000, 1)} s)`);
}

if (args.role === 'server') await serverRole();
else if (args.role === 'clients') await clientsRole();
else await orchestrate();
