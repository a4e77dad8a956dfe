import { describe, expect, it } from 'vitest';
import { addCounts, countEvents, EventTally } from '../src/index.js';

describe('event counts', () => {
  it('tally by run, then type; events without a run or a type count under "" and "invalid"', () => {
    const tally = new EventTally();
    expect(tally.empty).toBe(true);
    tally.add('r1', 'test.result');
    tally.add('r1', 'test.result', 2);
    tally.add('r2', 'test.completed');
    tally.add(undefined, 42);
    expect(tally.toJSON()).toEqual({
      r1: { 'test.result': 3 },
      r2: { 'test.completed': 1 },
      '': { invalid: 1 },
    });
  });

  it('keeps the latest 256 runs', () => {
    const tally = new EventTally();
    for (let i = 0; i < 300; i++) tally.add(`r${i}`, 'test.result');
    const runs = Object.keys(tally.toJSON());
    expect(runs).toHaveLength(256);
    expect(runs[0]).toBe('r44');
  });

  it('countEvents and addCounts', () => {
    const a = countEvents([
      { type: 'test.result', runId: 'r' },
      { type: 'test.result', runId: 'r' },
      { type: 'test.output', runId: 's' },
    ]);
    expect(a).toEqual({ r: { 'test.result': 2 }, s: { 'test.output': 1 } });
    expect(addCounts(a, { r: { 'test.result': 1, 'test.completed': 1 } })).toEqual({
      r: { 'test.result': 3, 'test.completed': 1 },
      s: { 'test.output': 1 },
    });
    expect(a).toEqual({ r: { 'test.result': 2 }, s: { 'test.output': 1 } });
  });
});
