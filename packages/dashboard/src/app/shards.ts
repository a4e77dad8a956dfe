/**
 * The shard view of a CI run group (`testwire serve --redis`, docs/protocol.md "Sharded CI"): the group's
 * own run (`runId` `group:<id>`) carries `group` {id, expected, reporting} and `shards` [{shard, runId,
 * state}] on its test.started / test.progress / test.completed; each shard streams its own run. This
 * keeps the latest of those per group run and lists each shard with its run's counts. Pure.
 */
import type { AnyEventEnvelope, RunSnapshot } from '@testwire/protocol';

export interface GroupInfo {
  id: string;
  expected?: number;
  reporting?: number;
  /** `runId` absent: a shard that never reported (`testwire serve --redis` lists it as expected, then lost). */
  shards: { shard?: number; total?: number; runId?: string; state: string }[];
}

export interface ShardRow {
  key: string;
  /** `shard 2/3`, or the run's id when the shard did not say. */
  label: string;
  /** `reporting`, `finished`, `interrupted`, `silent`, `lost`, `expected` (not started yet) */
  state: string;
  completed: number;
  total: number;
  failed: number;
}

/** The group facts an event carries, merged into what was known; undefined when it carries none. */
export function groupUpdate(envelope: AnyEventEnvelope, known: GroupInfo | undefined): GroupInfo | undefined {
  const d = (envelope.data ?? {}) as Record<string, any>;
  const group = d.group ?? d.run?.group;
  if (!group || typeof group.id !== 'string') return undefined;
  const info: GroupInfo = {
    id: group.id,
    expected: typeof group.expected === 'number' ? group.expected : known?.expected,
    reporting: typeof group.reporting === 'number' ? group.reporting : known?.reporting,
    shards: known?.shards ?? [],
  };
  if (Array.isArray(d.shards)) {
    info.shards = d.shards
      .filter((s: any) => s && (typeof s.runId === 'string' || typeof s.shard === 'number' || s.missing))
      .map((s: any) => ({
        shard: typeof s.shard === 'number' ? s.shard : undefined,
        total: typeof s.total === 'number' ? s.total : undefined,
        ...(typeof s.runId === 'string' ? { runId: s.runId } : {}),
        // test.completed lists each shard's summary instead of a state: it finished (or was interrupted).
        state:
          typeof s.state === 'string'
            ? s.state
            : s.lost
              ? 'lost'
              : s.interrupted
                ? 'interrupted'
                : 'finished',
      }));
  }
  return info;
}

/** One row per shard (those not reporting yet too, up to `expected`), in shard order. */
export function shardRows(info: GroupInfo, runs: ReadonlyMap<string, RunSnapshot>): ShardRow[] {
  const rows: ShardRow[] = info.shards.map((s, index) => {
    const run = s.runId !== undefined ? runs.get(s.runId) : undefined;
    const total = s.total ?? run?.run?.shard?.total ?? info.expected;
    const n = s.shard ?? run?.run?.shard?.current;
    const key = s.runId ?? `missing:${n ?? index}`;
    return {
      key,
      label:
        n !== undefined
          ? `shard ${n}${total ? `/${total}` : ''}`
          : (s.runId ?? 'a shard that never reported'),
      state: s.state,
      completed: run?.counts.completed ?? 0,
      total: Math.max(run?.totalTests ?? 0, run?.counts.completed ?? 0),
      failed: run?.counts.failed ?? 0,
    };
  });
  const seen = new Set(rows.map((r) => r.label));
  for (let n = 1; info.expected !== undefined && n <= info.expected; n++) {
    const label = `shard ${n}/${info.expected}`;
    if (!seen.has(label) && rows.length < info.expected)
      rows.push({ key: `expected:${n}`, label, state: 'expected', completed: 0, total: 0, failed: 0 });
  }
  const order = (label: string) => Number(/^shard (\d+)/.exec(label)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return rows.sort((a, b) => order(a.label) - order(b.label));
}
