import { loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { PerformanceMetricsData } from '@testwire/protocol';

const MB = 1024 * 1024;
const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Samples this process's memory (MB), CPU usage (% of one core since the previous sample, may exceed 100
 * with threads), load average and garbage collections (those of this thread's heap since the previous
 * sample: how many, their total pause in ms, when the last one ended) on an unref'd interval, so sampling
 * never keeps the runner alive.
 */
export class PerformanceSampler {
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastTime = process.hrtime.bigint();
  /** Node reports each collection as a `gc` performance entry, in batches, off the collection itself. */
  private observer?: PerformanceObserver;
  private gc = { events: 0, time: 0, lastEnd: 0 };

  constructor(
    private readonly intervalMs: number,
    private readonly onSample: (data: Omit<PerformanceMetricsData, 'framework' | 'project'>) => void,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.lastCpu = process.cpuUsage();
    this.lastTime = process.hrtime.bigint();
    this.timer = setInterval(() => this.onSample(this.sample()), this.intervalMs);
    this.timer.unref();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.gc.events++;
        this.gc.time += entry.duration;
        this.gc.lastEnd = Math.max(this.gc.lastEnd, entry.startTime + entry.duration);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.observer?.disconnect();
    this.observer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  sample(): Omit<PerformanceMetricsData, 'framework' | 'project'> {
    const memory = process.memoryUsage();
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMicros = Number(now - this.lastTime) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastTime = now;
    const usage = elapsedMicros > 0 ? ((cpu.user + cpu.system) / elapsedMicros) * 100 : 0;
    const { gc } = this;
    const recent = {
      recentEvents: gc.events,
      totalTime: round1(gc.time),
      ...(gc.lastEnd > 0
        ? { lastEventTime: new Date(performance.timeOrigin + gc.lastEnd).toISOString() }
        : {}),
    };
    gc.events = 0;
    gc.time = 0;
    return {
      memory: {
        heapUsed: round1(memory.heapUsed / MB),
        heapTotal: round1(memory.heapTotal / MB),
        external: round1(memory.external / MB),
        rss: round1(memory.rss / MB),
      },
      cpu: { usage: round1(usage), load: loadavg().map((value) => Math.round(value * 100) / 100) },
      uptime: round1(process.uptime()),
      ...(this.observer ? { gc: recent } : {}),
    };
  }
}
