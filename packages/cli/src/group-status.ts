/**
 * The shape of a sharded CI group in `watch`, on an endpoint of `testwire serve --redis`. Silence is not an
 * event (docs/protocol.md, Sharded CI): serve decides it on Redis' clock. So `watch` asks serve's `/status`
 * while connected — every 2 s, unref'd — which shards are reporting, finished, silent or interrupted, and on
 * which host; it stops asking when the endpoint is not a serve of a group.
 */
import type { GroupStatus, ShardState, ShardStatus } from '@testwire/redis';
import type { Endpoint } from './endpoint.js';

export type { ShardState };

/** One shard as `/status` `group.shards[]` has it (the fields watch uses). */
export type ShardView = Pick<ShardStatus, 'shard' | 'total' | 'runId' | 'hostname' | 'state' | 'lastEventAt'>;

/** `/status` `group` (the fields watch uses). */
export type GroupView = Pick<
  GroupStatus,
  'id' | 'runId' | 'expected' | 'reporting' | 'finished' | 'silent' | 'at'
> & { shards: ShardView[]; lost?: number };

const STATES = new Set<string>([
  'reporting',
  'finished',
  'silent',
  'interrupted',
  'lost',
] satisfies ShardState[]);

/** The group of a `/status` body; undefined when the endpoint is not a `serve --redis` (or the body is odd). */
export function groupOf(body: unknown): GroupView | undefined {
  const b = body as { source?: { kind?: string }; group?: GroupView } | undefined;
  const group = b?.group;
  if (b?.source?.kind !== 'redis' || typeof group !== 'object' || group === null) return undefined;
  if (typeof group.id !== 'string' || !Array.isArray(group.shards)) return undefined;
  const shards = group.shards.filter(
    (s) => typeof s?.runId === 'string' && STATES.has(s.state) && typeof s.lastEventAt === 'number',
  );
  return { ...group, shards, at: typeof group.at === 'number' ? group.at : Date.now() };
}

/** How long a shard had been quiet when the view was taken (ms). */
export const quietFor = (group: GroupView, shard: ShardView): number =>
  Math.max(0, group.at - shard.lastEventAt);

/**
 * Polls `/status` and calls `onChange` with the group and the shards whose state changed (a shard seen for the
 * first time counts as changed). `fetchStatus` is the CLI's; failures are ignored (the event stream's
 * connection state is what watch shows), and an answer without a group stops the polling until `start()`.
 */
export class GroupPoller {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private readonly states = new Map<string, ShardState>();
  latest: GroupView | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly fetchStatus: (endpoint: Endpoint, timeoutMs: number) => Promise<unknown>,
    private readonly onChange: (group: GroupView, changed: ShardView[]) => void,
    private readonly intervalMs = 2000,
  ) {}

  /** True between start() and stop() (or an answer without a group). */
  get polling(): boolean {
    return this.timer !== undefined;
  }

  /** Polls now and every interval; a second call while polling does nothing. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    let body: unknown;
    try {
      body = await this.fetchStatus(this.endpoint, Math.max(1000, this.intervalMs));
    } catch {
      return; // not answering now: the stream's reconnects say so; ask again next time
    } finally {
      this.inFlight = false;
    }
    if (!this.timer) return;
    const group = groupOf(body);
    if (!group) {
      this.stop();
      return;
    }
    this.latest = group;
    const changed = group.shards.filter((shard) => this.states.get(shard.runId) !== shard.state);
    for (const shard of changed) this.states.set(shard.runId, shard.state);
    this.onChange(group, changed);
  }
}
