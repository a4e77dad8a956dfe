/**
 * R3 (issue 14): a non-reading WebSocket, a non-reading SSE reader, a snapshot spammer, snapshot hoarders
 * and a reconnect storm against a real owner process (test/fixtures/slow-readers.mjs; full size in
 * bench/reliability/r3-slow-readers.mjs).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM fixture shared with bench/reliability
import { slowReaders } from './fixtures/slow-readers.mjs';

const MiB = 1024 * 1024;

describe('R3: slow readers and snapshot spam', () => {
  it('healthy subscribers get everything, slow ones are told their gap, owner memory stays bounded', async () => {
    const r = await slowReaders({
      tests: 10_000,
      events: 30_000,
      queueBytes: 2 * MiB,
      hoarders: 5,
      storm: 10,
      timeoutMs: 100_000,
      log: (m: string) => console.log(`[R3 ${new Date().toISOString().slice(11, 23)}] ${m}`),
    });

    // Healthy subscribers: every event up to the sentinel, in order, once; pings answered throughout.
    expect(r.healthy.ws).toBe('complete');
    expect(r.healthy.sse).toBe('complete');
    expect(r.healthy.pings).toBeGreaterThan(0);

    // The non-reading WS and SSE: everything before their gap in order, then SUBSCRIBER_LAGGING naming
    // the gap as the last message (WS close 4008, SSE end).
    for (const slow of [r.slowWs, r.slowSse]) {
      expect(slow.notice).toBeDefined();
      expect(slow.noticeLast).toBe(true);
      expect(slow.inOrder).toBe('in order');
      expect(slow.gapStartsAfterLast).toBe(true);
    }
    expect(r.slowWs.closeCode).toBe(4008);

    // The spammer is refused once two requests wait behind its stalled snapshot, then closed for abuse.
    // (1006 when it did not read its close frame within ws's close timeout, 5 s.)
    expect([1008, 1006]).toContain(r.spammer.closeCode);

    // The storm: every client got resume.failed and a complete snapshot; the builds were shared.
    expect(r.storm).toHaveLength(10);
    for (const s of r.storm) {
      expect(s.reason).toBe('EPOCH_CHANGED');
      expect(s.tests).toBe(s.completed);
      expect(s.completed).toBeGreaterThanOrEqual(10_000);
    }
    // 10 storm clients + 5 hoarders + the spammer's requests shared at most a handful of builds.
    expect(r.snapshotBuilds).toBeLessThanOrEqual(6);

    // The documented bound (README "Limits"): growth within 3x the history held, 4x the snapshot, 2x the
    // subscriber bound per connection, plus 64 MiB.
    const bound =
      3 * r.owner.historyBytes + 4 * r.snapshot.bytes + 2 * r.queueBytes * r.connections + 64 * MiB;
    expect(r.owner.maxRss - r.owner.idleRss).toBeLessThan(bound);
  }, 180_000);
});
