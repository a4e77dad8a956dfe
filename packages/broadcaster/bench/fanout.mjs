// Fan-out throughput: N WebSocket subscribers on loopback, E events published by the owner.
// Prints figures and writes bench/results/fanout.json. Run after `pnpm build`:
//   node bench/fanout.mjs [subscribers=100] [events=20000]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBroadcaster } from '../dist/index.js';

const SUBSCRIBERS = Number(process.argv[2] ?? 100);
const EVENTS = Number(process.argv[3] ?? 20_000);
const broadcaster = await startBroadcaster({ port: 0 });
let received = 0;
const sockets = await Promise.all(
  Array.from({ length: SUBSCRIBERS }, () => {
    const ws = new WebSocket(`${broadcaster.wsUrl}?events=test.result`);
    ws.on('message', () => received++);
    return new Promise((resolve) => ws.once('message', () => resolve(ws)));
  }),
);
received = 0;
const event = (i) => ({
  type: 'test.result',
  runId: 'bench',
  data: {
    framework: 'vitest',
    id: `t${i}`,
    titlePath: ['bench', `t${i}`],
    testName: `t${i}`,
    suite: 'bench',
    status: 'passed',
    duration: 1,
    file: 'bench.test.ts',
    attempt: 1,
  },
});
const memoryBefore = process.memoryUsage().rss;
const started = performance.now();
let publishMs = 0;
for (let i = 1; i <= EVENTS; i++) {
  const t = performance.now();
  broadcaster.publish(event(i));
  publishMs += performance.now() - t;
  if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
}
await broadcaster.flush();
const ingested = performance.now();
while (received < SUBSCRIBERS * EVENTS) await new Promise((r) => setTimeout(r, 5));
const done = performance.now();
const result = {
  subscribers: SUBSCRIBERS,
  events: EVENTS,
  publishMicrosPerEvent: Number(((publishMs * 1000) / EVENTS).toFixed(2)),
  ingestMs: Math.round(ingested - started),
  deliveredMs: Math.round(done - started),
  framesPerSecond: Math.round((SUBSCRIBERS * EVENTS) / ((done - started) / 1000)),
  rssGrowthMB: Math.round((process.memoryUsage().rss - memoryBefore) / 1024 / 1024),
  note: 'subscribers run in the same process as the broadcaster; figures include their parsing cost',
};
console.log(result);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'fanout.json'), `${JSON.stringify(result, null, 2)}\n`);
for (const ws of sockets) ws.terminate();
await broadcaster.close();
