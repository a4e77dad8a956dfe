// One shard of the bench: publishes `count` paced test.result events (then a burst of `burst`) either to a
// Redis group (ShardPublisher, as a shard's reporter does) or to a broadcaster owner on this machine (joining
// it as a publisher, the single-machine path). Prints its CPU per event, as JSON, on stdout.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [mode, target, group, shard, count, rate, burst] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();

const sink =
  mode === 'redis'
    ? new (require('../../packages/redis/dist/index.cjs').ShardPublisher)({ url: target, group })
    : await require('../../packages/broadcaster/dist/index.cjs').getBroadcaster({ url: target });

const runId = `r_bench_${shard}`;
let n = 0;
const event = (phase) => ({
  type: 'test.result',
  runId,
  timestamp: new Date().toISOString(),
  data: {
    framework: 'vitest',
    project: 'bench',
    id: `t_${shard}_${n}`,
    titlePath: ['bench', `shard ${shard}`, `test ${n}`],
    testName: `test ${n}`,
    suite: 'bench',
    file: `src/shard-${shard}.test.ts`,
    status: 'passed',
    duration: 3,
    attempt: 1,
    phase,
    n: n++,
    sentAt: now(),
  },
});

async function phase(name, total, perSecond) {
  const cpu = process.cpuUsage();
  const started = now();
  const perTick = Math.max(1, Math.round(perSecond / 200)); // a batch every 5 ms
  for (let sent = 0; sent < total; ) {
    for (let i = 0; i < perTick && sent < total; i++, sent++) sink.publish(event(name));
    if (perSecond < Number.POSITIVE_INFINITY) await new Promise((r) => setTimeout(r, 5));
  }
  const flushed = await sink.flush(30_000);
  const used = process.cpuUsage(cpu);
  return {
    phase: name,
    events: total,
    delivered: flushed.delivered,
    seconds: (now() - started) / 1000,
    cpuUsPerEvent: (used.user + used.system) / total,
  };
}

const paced = await phase('paced', Number(count), Number(rate));
const burstResult = await phase('burst', Number(burst), Number.POSITIVE_INFINITY);
process.stdout.write(`${JSON.stringify({ shard: Number(shard), paced, burst: burstResult })}\n`);
await sink.close({ timeoutMs: 2000 });
process.exit(0);
