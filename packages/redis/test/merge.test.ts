import type { PublishedEvent } from '@testwire/protocol';
import { describe, expect, test } from 'vitest';
import { GroupView } from '../src/merge.js';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');

/** The events one shard's reporter would send: started, results, completed. */
function shardEvents(
  shard: number,
  total: number,
  results: ('passed' | 'failed' | 'skipped')[],
  complete = true,
) {
  const runId = `r_${shard}`;
  const events: PublishedEvent[] = [
    {
      type: 'test.started',
      runId,
      timestamp: new Date(T0).toISOString(),
      data: {
        framework: 'vitest',
        totalTests: results.length,
        testFiles: [],
        totalKnown: true,
        run: { runId, framework: 'vitest', startedAt: T0, shard: { current: shard, total } },
      },
    } as PublishedEvent,
  ];
  results.forEach((status, i) => {
    events.push({
      type: 'test.result',
      runId,
      timestamp: new Date(T0 + i).toISOString(),
      data: {
        framework: 'vitest',
        id: `t${shard}_${i}`,
        titlePath: [`t${i}`],
        testName: `t${i}`,
        suite: '',
        file: `f${shard}.js`,
        status,
        duration: 1,
        attempt: 1,
      },
    } as PublishedEvent);
  });
  const count = (s: string) => results.filter((r) => r === s).length;
  if (complete)
    events.push({
      type: 'test.completed',
      runId,
      timestamp: new Date(T0 + 100).toISOString(),
      data: {
        framework: 'vitest',
        summary: {
          total: results.length,
          passed: count('passed'),
          failed: count('failed'),
          skipped: count('skipped'),
          duration: 100 * shard,
          success: count('failed') === 0,
        },
      },
    } as PublishedEvent);
  return events;
}

function feed(view: GroupView, events: PublishedEvent[], from = { seq: 0 }, at = T0) {
  for (const event of events) view.apply(++from.seq, event, at);
  return from;
}

describe('GroupView', () => {
  test('a shard that went quiet for good (killed, its machine died) is lost after lostAfterMs: the group completes, failed', () => {
    const view = new GroupView('lost', { silenceMs: 1000, lostAfterMs: 60_000 });
    const seq = feed(view, shardEvents(1, 2, ['passed', 'passed']), { seq: 0 }, T0);
    // shard 2 ran two tests, then nothing more: no test.completed
    feed(view, shardEvents(2, 2, ['passed', 'failed', 'passed'], false).slice(0, 3), seq, T0 + 10);
    const kinds = (now: number) => view.derive(now).map((w) => w.kind);
    expect(kinds(T0 + 30_000)).not.toContain('completed');
    expect(view.status(T0 + 30_000)).toMatchObject({ state: 'running', silent: 1, lost: 0 });
    const writes = view.derive(T0 + 61_000);
    const completed = writes.find((w) => w.kind === 'completed')?.event.data as any;
    expect(completed).toMatchObject({
      summary: { total: 4, passed: 3, failed: 1, success: false },
      interrupted: true,
      interruptedBy: 'shard_lost',
    });
    expect(completed.shards.map((s: any) => [s.shard, s.lost ?? false, s.summary.total])).toEqual([
      [1, false, 2],
      [2, true, 2],
    ]);
    expect(view.status(T0 + 61_000)).toMatchObject({ state: 'completed', lost: 1, success: false });
  });

  test('an expected shard that never sent anything (its CI job failed before the runner started) is lost lostAfterMs after the group started, named', () => {
    const view = new GroupView('never', { lostAfterMs: 60_000 });
    const seq = feed(view, shardEvents(1, 3, ['passed']), { seq: 0 }, T0);
    feed(view, shardEvents(3, 3, ['passed']), seq, T0 + 20_000);
    // Both shards seen completed; shard 2 of 3 is expected, not lost yet.
    expect(view.derive(T0 + 59_000).map((w) => w.kind)).not.toContain('completed');
    expect(view.status(T0 + 59_000)).toMatchObject({ state: 'running', lost: 0 });
    // Counted from the group's first event, not from the last shard's.
    const writes = view.derive(T0 + 61_000);
    expect(writes.map((w) => w.kind)).toContain('completed');
    const completed = writes.find((w) => w.kind === 'completed')?.event.data as any;
    expect(completed).toMatchObject({
      summary: { total: 2, passed: 2, success: false },
      rawStatus: 'failed',
      interrupted: true,
      interruptedBy: 'shard_lost',
    });
    expect(completed.errors[0].message).toMatch(/^shard 2 of 3 never reported/);
    expect(completed.shards.map((s: any) => [s.shard, s.lost ?? false])).toEqual([
      [1, false],
      [3, false],
      [2, true],
    ]);
    expect(view.status(T0 + 59_000).missing).toEqual([{ shard: 2, total: 3, state: 'expected' }]);
    expect(view.status(T0 + 61_000)).toMatchObject({
      state: 'completed',
      success: false,
      lost: 1,
      missing: [{ shard: 2, state: 'lost' }],
    });
  });

  test('expected shards none of which ever sent anything (every CI job failed before its runner started) are lost lostAfterMs after a serve began waiting: the group completes, failed', () => {
    const view = new GroupView('none', { lostAfterMs: 60_000, expected: 3, waitingSince: T0 });
    expect(view.derive(T0 + 59_000)).toEqual([]);
    expect(view.status(T0 + 59_000)).toMatchObject({ state: 'waiting', lost: 0 });
    const writes = view.derive(T0 + 61_000);
    expect(writes.map((w) => w.kind)).toEqual(['started', 'progress', 'completed']);
    const completed = writes.find((w) => w.kind === 'completed')?.event.data as any;
    expect(completed).toMatchObject({
      summary: { total: 0, passed: 0, failed: 0, duration: 0, success: false },
      rawStatus: 'failed',
      interrupted: true,
      interruptedBy: 'shard_lost',
    });
    expect(completed.errors[0].message).toMatch(/^none of the 3 expected shards reported/);
    expect(completed.shards).toHaveLength(3);
    expect(view.status(T0 + 61_000)).toMatchObject({ state: 'completed', success: false, lost: 3 });
    // Without shards expected, a group nobody reports to is not a failure: it waits.
    const open = new GroupView('open', { lostAfterMs: 60_000, waitingSince: T0 });
    expect(open.derive(T0 + 3_600_000)).toEqual([]);
    expect(open.status(T0 + 3_600_000)).toMatchObject({ state: 'waiting', lost: 0 });
  });

  test("a lost shard's own run is completed on its behalf, interrupted shard_lost, once: counts so far, the test it was running", () => {
    const view = new GroupView('lost-run', { lostAfterMs: 60_000 });
    const seq = feed(view, shardEvents(1, 2, ['passed']), { seq: 0 }, T0);
    const running = {
      type: 'test.progress',
      runId: 'r_2',
      timestamp: new Date(T0).toISOString(),
      data: { framework: 'vitest', status: 'running', id: 'slow', testName: 'slow', file: 'f2.js' },
    } as PublishedEvent;
    feed(view, [...shardEvents(2, 2, ['passed', 'failed'], false), running], seq, T0 + 10);
    const writes = view.derive(T0 + 61_000);
    expect(writes.map((w) => w.kind)).toEqual(['started', 'progress', 'shard-lost', 'completed']);
    const lost = writes[2]!;
    expect(lost.once).toBe('lost:r_2');
    expect(lost.event.runId).toBe('r_2');
    expect(lost.event.data).toMatchObject({
      summary: { total: 2, passed: 1, failed: 1, success: false },
      interrupted: true,
      interruptedBy: 'shard_lost',
      runningTests: [{ id: 'slow', testName: 'slow', file: 'f2.js' }],
    });
    expect((lost.event.data as any).errors[0].message).toMatch(
      /^shard 2 of 2 \(run r_2\) sent nothing for 60000 ms/,
    );
    // Read back from the stream (this serve's or another's): the shard stays lost, nothing is written again.
    for (const w of writes) view.wrote(w);
    feed(
      view,
      writes.map((w) => w.event),
      { seq: 100 },
      T0 + 61_000,
    );
    expect(view.derive(T0 + 62_000)).toEqual([]);
    const status = view.status(T0 + 62_000);
    expect(status).toMatchObject({ state: 'completed', success: false, lost: 1, finished: 1 });
    expect(status.shards.map((s) => s.state)).toEqual(['finished', 'lost']);
    // The shard's own test.completed, late (a slow machine): it stays lost, as the group said.
    const late = shardEvents(2, 2, ['passed', 'failed']).at(-1)!;
    expect(late.type).toBe('test.completed');
    feed(view, [late], { seq: 200 }, T0 + 63_000);
    expect(view.status(T0 + 63_000).shards.map((s) => s.state)).toEqual(['finished', 'lost']);
    // Another serve of the group that reads the same stream writes nothing either.
    const other = new GroupView('lost-run', { lostAfterMs: 60_000 });
    feed(other, shardEvents(1, 2, ['passed']), { seq: 0 }, T0);
    feed(other, [...shardEvents(2, 2, ['passed', 'failed'], false), running], seq, T0 + 10);
    feed(
      other,
      writes.map((w) => w.event),
      { seq: 100 },
      T0 + 61_000,
    );
    expect(other.derive(T0 + 62_000)).toEqual([]);
  });

  test("the group starts when Redis stored its first shard's start, whatever that shard's own clock says", () => {
    const view = new GroupView('skew');
    // Shard 2's clock is an hour behind: its events say T0 - 1 h, Redis stored them at T0 + 50.
    const skewed = shardEvents(2, 2, ['passed']).map((e) => ({
      ...e,
      timestamp: new Date(Date.parse(e.timestamp as string) - 3_600_000).toISOString(),
    }));
    feed(view, shardEvents(1, 2, ['passed']), { seq: 0 }, T0);
    feed(view, skewed, { seq: 10 }, T0 + 50);
    const writes = view.derive(T0 + 1000);
    const started = writes.find((w) => w.kind === 'started');
    expect(started).toBeDefined();
    expect((started!.event.data as any).run.startedAt).toBe(T0);
    // the group's progress runs on Redis' clock too: a second, not an hour
    const progress = writes.find((w) => w.kind === 'progress');
    expect((progress!.event.data as any).duration).toBe(1000);
  });

  test('counts of the group are the sums of the shards; completed once every expected shard completed', () => {
    const view = new GroupView('g1');
    const seq = feed(view, shardEvents(1, 2, ['passed', 'passed', 'skipped']));
    let writes = view.derive(T0 + 200);
    expect(writes.map((w) => w.kind)).toEqual(['started', 'progress']);
    for (const w of writes) view.wrote(w);
    expect(view.status(T0).state).toBe('running');
    expect(view.derive(T0 + 300)).toEqual([]); // nothing changed: nothing to write

    feed(view, shardEvents(2, 2, ['passed', 'failed']), seq);
    writes = view.derive(T0 + 400);
    expect(writes.map((w) => w.kind)).toEqual(['progress', 'completed']);
    const completed = writes[1]?.event.data as any;
    expect(completed.summary).toEqual({
      total: 5,
      passed: 3,
      failed: 1,
      skipped: 1,
      todo: 0,
      flaky: 0,
      duration: 200,
      success: false,
    });
    expect(completed.shards.map((s: any) => [s.shard, s.summary.success])).toEqual([
      [1, true],
      [2, false],
    ]);
    const status = view.status(T0);
    expect(status).toMatchObject({
      state: 'completed',
      expected: 2,
      finished: 2,
      success: false,
      totalTests: 5,
    });
    expect(status.counts).toMatchObject({ passed: 3, failed: 1, skipped: 1, completed: 5 });
  });

  test('success is false as soon as one shard has a failed test, before the group completes', () => {
    const view = new GroupView('g2');
    feed(view, shardEvents(1, 3, ['passed', 'failed'], false));
    expect(view.status(T0).success).toBe(false);
    expect(view.status(T0).state).toBe('running');
    const progress = view.derive(T0).find((w) => w.kind === 'progress');
    expect(progress?.event.data).toMatchObject({ success: false, failed: 1, passed: 1 });
  });

  test('a running shard that sent nothing for the silence time is silent; a finished one is not', () => {
    const view = new GroupView('g3', { silenceMs: 1000 });
    feed(view, shardEvents(1, 2, ['passed'], false));
    const seq = feed(view, shardEvents(2, 2, ['passed']), { seq: 10 });
    void seq;
    expect(view.status(T0 + 500).shards.map((s) => s.state)).toEqual(['reporting', 'finished']);
    expect(view.status(T0 + 1500).shards.map((s) => s.state)).toEqual(['silent', 'finished']);
    expect(view.status(T0 + 1500)).toMatchObject({ silent: 1, finished: 1, state: 'running' });
  });

  test("the group's own events read back from the stream mark what is done (another serve wrote them)", () => {
    const a = new GroupView('g4');
    const b = new GroupView('g4');
    const events = shardEvents(1, 1, ['passed']);
    feed(a, events);
    const seq = feed(b, events);
    const writes = a.derive(T0);
    expect(writes.map((w) => w.kind)).toEqual(['started', 'progress', 'completed']);
    feed(
      b,
      writes.map((w) => w.event),
      seq,
    );
    expect(b.derive(T0 + 1000)).toEqual([]);
  });
});
