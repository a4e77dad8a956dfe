/**
 * Counts of events by run id, then by type: what a flush could not confirm or a bounded queue dropped, so that
 * whoever hit the bound can name what is missing (the broadcaster counts, the reporter names them in a
 * `system.error` and on stderr).
 */

/** Events by run id (`''`: outside any run), then by type: `{ r_m3x9k2: { 'test.result': 3 } }`. */
export type EventCounts = Record<string, Record<string, number>>;

/** Runs tallied at most; the oldest run is forgotten first (a watch-mode process runs forever). */
const MAX_RUNS = 256;

/** A bounded tally of events by run and type. */
export class EventTally {
  private readonly runs = new Map<string, Map<string, number>>();

  add(runId: unknown, type: unknown, count = 1): void {
    const run = typeof runId === 'string' ? runId : '';
    const kind = typeof type === 'string' && type !== '' ? type : 'invalid';
    let types = this.runs.get(run);
    if (!types) {
      if (this.runs.size >= MAX_RUNS) this.runs.delete(this.runs.keys().next().value as string);
      types = new Map();
      this.runs.set(run, types);
    }
    types.set(kind, (types.get(kind) ?? 0) + count);
  }

  get empty(): boolean {
    return this.runs.size === 0;
  }

  toJSON(): EventCounts {
    const counts: EventCounts = {};
    for (const [runId, types] of this.runs) counts[runId] = Object.fromEntries(types);
    return counts;
  }
}

/** The counts of `events` by run id and type. */
export function countEvents(events: Iterable<{ type: unknown; runId: unknown }>): EventCounts {
  const tally = new EventTally();
  for (const event of events) tally.add(event.runId, event.type);
  return tally.toJSON();
}

/** `a` and `b` added up (neither is changed). */
export function addCounts(a: EventCounts, b: EventCounts): EventCounts {
  const sum: EventCounts = {};
  for (const counts of [a, b])
    for (const [runId, types] of Object.entries(counts)) {
      const into = sum[runId] ?? {};
      sum[runId] = into;
      for (const [type, n] of Object.entries(types)) into[type] = (into[type] ?? 0) + n;
    }
  return sum;
}
