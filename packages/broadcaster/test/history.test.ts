/** The history ring: bounded by count and bytes, O(1) lookup by seq. */
import { describe, expect, it } from 'vitest';
import { History, type HistoryEntry } from '../src/history.js';

const entry = (seq: number, bytes = 10): HistoryEntry => ({
  seq,
  type: 'test.output',
  runId: 'r',
  data: {},
  frame: Buffer.alloc(bytes),
});

describe('History', () => {
  it('keeps the newest maxEvents', () => {
    const h = new History(3, 1e9);
    for (let s = 1; s <= 10; s++) h.push(entry(s));
    expect([h.size, h.oldestSeq, h.newestSeq]).toEqual([3, 8, 10]);
    expect(h.get(7)).toBeUndefined();
    expect(h.get(8)?.seq).toBe(8);
    expect(h.get(11)).toBeUndefined();
  });

  it('keeps within maxBytes but always the newest event', () => {
    const h = new History(1000, 100);
    for (let s = 1; s <= 20; s++) h.push(entry(s, 30));
    expect(h.byteSize).toBeLessThanOrEqual(100);
    expect([h.oldestSeq, h.newestSeq]).toEqual([18, 20]);
    h.push(entry(21, 500));
    expect([h.size, h.oldestSeq]).toEqual([1, 21]);
  });

  it('grows past its initial capacity and answers covers()', () => {
    const h = new History(5000, 1e9);
    for (let s = 1; s <= 3000; s++) h.push(entry(s));
    expect(h.get(1)?.seq).toBe(1);
    expect(h.get(2999)?.seq).toBe(2999);
    expect(h.covers(0, 3000)).toBe(true);
    const small = new History(10, 1e9);
    for (let s = 1; s <= 30; s++) small.push(entry(s));
    expect(small.covers(20, 30)).toBe(true);
    expect(small.covers(19, 30)).toBe(false);
    expect(small.covers(30, 30)).toBe(true);
  });
});
