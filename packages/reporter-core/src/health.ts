/**
 * system.health from a reporter: one at the start of each run, then one per `healthIntervalMs` while it runs,
 * on an unref'd timer (it never keeps the runner alive). Components as this reporter sees them — the test
 * runner (calls arriving), event delivery (the endpoint), the coverage collector, the performance profiler
 * (the runner's heap) — and the machine's memory and CPU. Runs on the core's thread. An endpoint answers
 * `GET /health` with the same shape for itself, on request.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { SystemHealthData } from '@testwire/protocol';

export interface HealthView {
  /** Tests running now, and completed in this run. */
  running: number;
  completed: number;
  /** Epoch ms of the last call applied. */
  lastCallAt: number;
  delivery: { url: string | undefined; starting: boolean; buffered: number; dropped: number; sink: boolean };
  coverage: { provider: string } | undefined;
  /** The runner's last heap sample (MB), and whether sampling is on. */
  heap: { used: number; total: number } | undefined;
  sampling: boolean;
}

type Component = SystemHealthData['components'][number];

const round1 = (value: number) => Math.round(value * 10) / 10;
/** A run without a single call for this long is said to be degraded (a hung test, a stuck worker). */
const QUIET_MS = 5 * 60_000;

export class HealthMonitor {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastCpu = cpuTimes();

  constructor(
    private readonly intervalMs: number,
    private readonly version: string,
    private readonly onTick: () => void,
  ) {}

  /** One per interval from now (the run's first is sent by the core once the run has started: see Core.apply). */
  start(): void {
    this.stop();
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(this.onTick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /** The event's data now. */
  data(view: HealthView, now: number): SystemHealthData {
    const lastCheck = new Date(now).toISOString();
    const quiet = now - view.lastCallAt;
    const components: Component[] = [
      {
        name: 'test_runner',
        status: quiet > QUIET_MS && view.running > 0 ? 'degraded' : 'healthy',
        message:
          quiet > QUIET_MS && view.running > 0
            ? `No call from the runner for ${Math.round(quiet / 1000)} s while ${view.running} tests run`
            : `${view.running} running, ${view.completed} completed`,
        lastCheck,
      },
      deliveryComponent(view.delivery, lastCheck),
      {
        name: 'coverage_collector',
        status: 'healthy',
        message: view.coverage
          ? `collecting (${view.coverage.provider})`
          : 'coverage is not collected in this run',
        lastCheck,
      },
      profilerComponent(view, lastCheck),
    ];
    const status = components.some((c) => c.status === 'unhealthy')
      ? 'unhealthy'
      : components.some((c) => c.status === 'degraded')
        ? 'degraded'
        : 'healthy';
    const total = totalmem() / 1024 / 1024;
    const used = total - freemem() / 1024 / 1024;
    const cpu = cpuTimes();
    const busy = cpu.busy - this.lastCpu.busy;
    const all = cpu.total - this.lastCpu.total;
    this.lastCpu = cpu;
    return {
      status,
      uptime: round1(process.uptime()),
      version: this.version,
      components,
      metrics: {
        memory: {
          total: Math.round(total),
          used: Math.round(used),
          percentage: round1((used / total) * 100),
        },
        cpu: {
          cores: Math.max(1, cpus().length),
          usage: all > 0 ? round1((busy / all) * 100) : 0,
          load: loadavg().map((value) => Math.round(value * 100) / 100),
        },
      },
    };
  }
}

function deliveryComponent(delivery: HealthView['delivery'], lastCheck: string): Component {
  if (delivery.dropped > 0)
    return {
      name: 'event_delivery',
      status: 'degraded',
      message: `${delivery.dropped} events dropped on the way`,
      lastCheck,
    };
  if (delivery.sink)
    return { name: 'event_delivery', status: 'healthy', message: 'delivering to a sink', lastCheck };
  if (delivery.url)
    return { name: 'event_delivery', status: 'healthy', message: `connected to ${delivery.url}`, lastCheck };
  // A run's first events are published while its broadcaster starts: waiting for it is no fault.
  return delivery.starting
    ? {
        name: 'event_delivery',
        status: 'healthy',
        message: `starting the broadcaster: ${delivery.buffered} events waiting`,
        lastCheck,
      }
    : {
        name: 'event_delivery',
        status: 'degraded',
        message: `no broadcaster (it could not be started): ${delivery.buffered} events waiting`,
        lastCheck,
      };
}

function profilerComponent(view: HealthView, lastCheck: string): Component {
  if (!view.sampling)
    return { name: 'performance_profiler', status: 'healthy', message: 'sampling is off', lastCheck };
  if (!view.heap)
    return { name: 'performance_profiler', status: 'healthy', message: 'no sample yet', lastCheck };
  const share = view.heap.total > 0 ? view.heap.used / view.heap.total : 0;
  return share > 0.9 && view.heap.used > 512
    ? {
        name: 'performance_profiler',
        status: 'degraded',
        message: `High memory usage detected: ${view.heap.used} MB of ${view.heap.total} MB heap`,
        lastCheck,
      }
    : { name: 'performance_profiler', status: 'healthy', message: `heap ${view.heap.used} MB`, lastCheck };
}

/** The machine's CPU time (ms) over all cores: busy and total. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}
