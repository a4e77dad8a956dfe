import { describe, expect, it } from 'vitest';
import { LeakDetector } from '../src/leak.js';

// performance.leak's heuristic beyond contract-events.test.ts: a cache filled once is not a leak, however the
// plateau after it moves within noise; heap that keeps rising is, slowly or with a cache on top.

const MB = 1024 * 1024;
const series = (detector: LeakDetector, mbs: number[], gcForced = true) =>
  mbs.map((mb, index) =>
    detector.add({ file: `f${index}`, heapUsed: mb * MB, gcForced }, `f${index}.test.js`),
  );
const reported = (mbs: number[], gcForced = true) =>
  series(new LeakDetector(10, 5), mbs, gcForced).filter(Boolean);
/** Noise that is the same on every run: within ±`amplitude` MB. */
const noise = (index: number, amplitude: number) => amplitude * Math.sin(index * 2.3);

describe('performance.leak: one cache filled once', () => {
  it('is not a leak: the step, then a plateau whose changes are a few hundred KB (mocha, jest -i, after a GC)', () => {
    // The samples of the report: mocha 11 under --expose-gc, one file fills a module-level cache (~40 MB).
    expect(reported([8.1, 8.1, 50.8, 51.1, 51.1, 51.1])).toEqual([]);
    expect(reported([8.2, 8.2, 8.2, 8.2, 38.6, 38.8, 38.7, 38.9, 38.8, 39.0, 38.9, 39.1])).toEqual([]);
    // jest 30 -i --logHeapUsage under --expose-gc on the conformance fixture heap/cached: the heap settles by a
    // few MB after the step (67.5 -> 72.3 -> 70.1).
    expect(reported([21.95, 21.51, 67.47, 69.9, 72.33, 70.11, 70.16, 70.22])).toEqual([]);
    // A long run: the cache is filled by any file, the plateau before and after it is noise.
    for (const at of [1, 2, 5, 20, 39]) {
      const mbs = Array.from({ length: 40 }, (_, i) => 30 + (i >= at ? 40 : 0) + noise(i, 0.3));
      expect(reported(mbs), `cache filled at file ${at}`).toEqual([]);
    }
  });

  it('is not a leak without a GC either (vitest): garbage comes and goes around the two plateaus', () => {
    for (const at of [2, 10, 25]) {
      const mbs = Array.from({ length: 40 }, (_, i) => 30 + (i >= at ? 40 : 0) + (i % 4) * 6);
      expect(reported(mbs, false), `cache filled at file ${at}`).toEqual([]);
    }
  });
});

describe('performance.leak: heap that keeps rising', () => {
  it('a steady rise is still a leak, with or without noise', () => {
    expect(reported([8, 10.5, 13, 15.5, 18, 20.5, 23])).toHaveLength(1);
    const noisy = Array.from({ length: 30 }, (_, i) => 20 + i * 0.8 + noise(i, 0.5));
    expect(reported(noisy).length).toBeGreaterThanOrEqual(1);
  });

  it('a slow rise, smaller per file than the noise, is a leak once it added up', () => {
    const slow = Array.from({ length: 200 }, (_, i) => 20 + i * 0.08 + noise(i, 0.3));
    const leaks = reported(slow);
    expect(leaks.length).toBeGreaterThanOrEqual(1);
    expect(leaks[0]?.size).toBeGreaterThanOrEqual(10);
  });

  it('a rise with a cache filled once on top is still a leak', () => {
    const mbs = Array.from({ length: 30 }, (_, i) => 20 + i * 1.5 + (i >= 4 ? 40 : 0) + noise(i, 0.3));
    expect(reported(mbs).length).toBeGreaterThanOrEqual(1);
  });
});
