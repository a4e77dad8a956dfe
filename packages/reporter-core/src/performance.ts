import { loadavg } from 'node:os';
import type { PerformanceMetricsData } from '@testwire/protocol';

const MB = 1024 * 1024;
const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Samples this process's memory (MB), CPU usage (% of one core since the previous sample, may exceed 100
 * with threads) and load average on an unref'd interval, so sampling never keeps the runner alive.
 */
export class PerformanceSampler {
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastTime = process.hrtime.bigint();

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
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
    return {
      memory: {
        heapUsed: round1(memory.heapUsed / MB),
        heapTotal: round1(memory.heapTotal / MB),
        external: round1(memory.external / MB),
        rss: round1(memory.rss / MB),
      },
      cpu: { usage: round1(usage), load: loadavg().map((value) => Math.round(value * 100) / 100) },
      uptime: round1(process.uptime()),
    };
  }
}
