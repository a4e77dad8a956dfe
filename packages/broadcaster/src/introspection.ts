/**
 * What the owner tells about itself: `GET /status` (epoch, seq, connections, runs, history) and `GET /health`
 * (the data of a `system.health` event: components and machine metrics).
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { PROTOCOL_VERSION } from '@testwire/protocol';
import type { Hub } from './hub.js';
import type { ResolvedOptions } from './options.js';
import { VERSION } from './version.js';

/** A component of `/health` (system.health's `components`). */
export interface HealthComponent {
  name: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  message?: string;
  lastCheck?: string;
}

/** What introspection reads of the owner. */
export interface Introspected {
  readonly hub: Hub;
  readonly options: Pick<ResolvedOptions, 'historyMaxBytes'>;
  readonly url: string;
  /** True once close() began. */
  readonly closed: boolean;
  readonly dropped: number;
  /** Fields a mirror adds to `/status` (none for a plain owner). */
  statusExtra?(): Record<string, unknown>;
  /** Components a mirror adds to `/health` (its source's). */
  healthExtra?(): HealthComponent[];
  /** Open connections by kind. */
  connections(): { webSocket: number; sse: number; publishers: number };
}

export class Introspection {
  /** CPU usage is measured between two /health requests. */
  private lastCpu = process.cpuUsage();
  private lastCpuAt = Date.now();

  constructor(private readonly owner: Introspected) {}

  /** The `/status` body. */
  status(): Record<string, unknown> {
    const { hub } = this.owner;
    const connections = this.owner.connections();
    let subscribers = 0;
    for (const s of hub.subscribers) if (!s.subscription.empty) subscribers++;
    return {
      server: 'testwire',
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      epoch: hub.epoch,
      seq: hub.seq,
      uptime: (Date.now() - hub.startedAt) / 1000,
      activeConnections: connections.webSocket + connections.sse + connections.publishers,
      subscribers,
      publishers: connections.publishers,
      runs: hub.runBriefs(),
      history: {
        events: hub.history.size,
        bytes: hub.history.byteSize,
        oldestSeq: hub.history.oldestSeq,
      },
      snapshots: snapshotFigures(hub),
      dropped: this.owner.dropped,
      lagged: hub.lagged,
      // What all subscribers hold together (queue + socket buffer, counted as they go) and its bound.
      subscriberQueues: {
        bytes: hub.queued.bytes,
        peakBytes: hub.queued.peakBytes,
        maxBytes: hub.queued.maxBytes,
        shed: hub.queued.shed,
      },
      pid: process.pid,
      url: this.owner.url,
      ...this.owner.statusExtra?.(),
    };
  }

  /** `system.health` data (reference shape). */
  health(): Record<string, unknown> {
    const { hub, closed, url } = this.owner;
    const connections = this.owner.connections();
    const now = new Date().toISOString();
    const total = totalmem() / 1024 / 1024;
    const used = total - freemem() / 1024 / 1024;
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsed = Math.max(1, Date.now() - this.lastCpuAt);
    const cores = Math.max(1, cpus().length);
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = Date.now();
    const usage = Math.min(100, ((cpu.user + cpu.system) / 1000 / elapsed / cores) * 100);
    const historyFull = hub.history.byteSize > this.owner.options.historyMaxBytes * 0.9;
    const extra = this.owner.healthExtra?.() ?? [];
    const source = extra.some((component) => component.status !== 'healthy') ? 'degraded' : 'healthy';
    return {
      status: closed ? 'unhealthy' : source,
      uptime: (Date.now() - hub.startedAt) / 1000,
      version: VERSION,
      components: [
        {
          name: 'http',
          status: closed ? 'unhealthy' : 'healthy',
          message: `listening on ${url}`,
          lastCheck: now,
        },
        {
          name: 'history',
          status: 'healthy',
          message: `${hub.history.size} events, oldest seq ${hub.history.oldestSeq}${historyFull ? ' (full: oldest events are being evicted)' : ''}`,
          lastCheck: now,
        },
        {
          name: 'subscribers',
          status: 'healthy',
          message: `${connections.webSocket} WebSocket, ${connections.sse} SSE, ${connections.publishers} publishers; ${hub.lagged} disconnected for lagging`,
          lastCheck: now,
        },
        ...extra.map((component) => ({ lastCheck: now, ...component })),
      ],
      metrics: {
        memory: { total: round(total), used: round(used), percentage: round((used / total) * 100) },
        cpu: { cores, usage: round(usage), load: loadavg().map(round) },
      },
    };
  }
}

/** Snapshot builds since start and the latest one's size and cost (what a reconnect storm shares). */
function snapshotFigures(hub: Hub): Record<string, unknown> {
  const latest = hub.snapshots.latest;
  return {
    builds: hub.snapshots.builds,
    ...(latest
      ? {
          latest: {
            seq: latest.seq,
            bytes: latest.bytes,
            complete: latest.tail !== undefined,
            ...(latest.buildMs !== undefined ? { buildMs: round(latest.buildMs) } : {}),
            maxSliceMs: round(latest.maxSliceMs),
            maxSliceCpuMs: round(latest.maxSliceCpuMs),
          },
        }
      : {}),
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
