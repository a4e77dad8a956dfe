/**
 * Sharded CI in `watch` (an endpoint of `testwire serve --redis`): each shard is a run of its own, labelled
 * `shard k/N`; the group's own run counts nothing itself, so it shows the sum of the shards' counts (each
 * counted by the same RunStateStore as any run).
 */
import { emptyCounts, type RunCounts, type RunSnapshot } from '@testwire/protocol';

type RunInfoWithGroup = {
  group?: { id: string; expected?: number | null };
  shard?: { current: number; total: number };
  hostname?: string;
};

const info = (run: RunSnapshot) => run.run as RunInfoWithGroup | undefined;

/** The runs, the group's run (if any) with the summed counts of the shard runs beside it. */
export function withGroupCounts(runs: RunSnapshot[]): RunSnapshot[] {
  if (!runs.some((run) => info(run)?.group)) return runs;
  const shards = runs.filter((run) => info(run)?.shard && !info(run)?.group);
  return runs.map((run) => {
    if (!info(run)?.group) return run;
    const counts = emptyCounts();
    for (const shard of shards)
      for (const key of Object.keys(counts) as (keyof RunCounts)[]) counts[key] += shard.counts[key] ?? 0;
    const totalTests = Math.max(
      run.totalTests,
      shards.reduce((n, s) => n + Math.max(s.totalTests, s.counts.completed), 0),
    );
    return { ...run, counts, totalTests };
  });
}

/** ` shard k/N @host` for a shard's run, ` group <id>` for the group's run, else ''. */
export function shardLabel(run: RunSnapshot): string {
  const i = info(run);
  if (i?.group) return ` group ${i.group.id}${i.group.expected ? ` (${i.group.expected} shards)` : ''}`;
  return i?.shard ? ` shard ${i.shard.current}/${i.shard.total}${i.hostname ? ` @${i.hostname}` : ''}` : '';
}
