import { describe, expect, it } from 'vitest';
import { JestTwins, type Twin } from '../src/twins.js';

const of = (twins: JestTwins) => twins.of(undefined, 'a.test.js', ['twins'], 'same');
/** The twin of a live result that is not held back. */
const live = (twins: JestTwins, invocations: number): Twin => {
  const twin = twins.liveResult(of(twins), invocations);
  if (!twin) throw new Error('the result was held back');
  return twin;
};

describe('JestTwins', () => {
  it('a second result with invocations 1 is a second test, not a retry', () => {
    const twins = new JestTwins();
    const first = live(twins, 1);
    first.failed = true;
    first.attempts = 1;
    const second = live(twins, 1);
    expect(first.ref.ordinal).toBeUndefined();
    expect(second.ref.ordinal).toBe(1);
    expect(second).not.toBe(first);
  });

  it('a result with invocations n is the retry of the earliest twin whose attempt n-1 failed', () => {
    const twins = new JestTwins();
    const first = live(twins, 1);
    Object.assign(first, { failed: true, attempts: 1 });
    const second = live(twins, 1);
    Object.assign(second, { failed: true, attempts: 1 });
    expect(live(twins, 2)).toBe(first);
    Object.assign(first, { failed: false, attempts: 2 });
    expect(live(twins, 2)).toBe(second);
  });

  it('a start is the next twin, unless an earlier twin failed (then it waits for its result)', () => {
    const twins = new JestTwins();
    expect(twins.started(of(twins))).toBe(of(twins).base);
    expect(of(twins).base).toEqual({ file: 'a.test.js', titlePath: ['twins', 'same'] });
    const first = live(twins, 1);
    first.attempts = 1;
    expect(twins.started(of(twins))?.ordinal).toBe(1);
    first.failed = true;
    expect(twins.started(of(twins))).toBeUndefined();
  });

  it("jest 29: a start that overtook a twin's result waits for it: the next twin after a pass, none after a failure", () => {
    const twins = new JestTwins(false);
    const decided: (string | number | undefined)[] = [];
    const wait = (ref: { ordinal?: number } | undefined) => decided.push(ref ? (ref.ordinal ?? 0) : 'none');
    expect(twins.started(of(twins), wait)).toBe(of(twins).base);
    expect(twins.started(of(twins), wait)).toBeUndefined(); // ahead of the first one's result
    expect(twins.started(of(twins), wait)).toBeUndefined();
    const first = live(twins, 1);
    first.attempts = 1; // passed
    twins.resultSent(of(twins));
    expect(decided).toEqual([1]); // the third start still waits for the second one's result
    const second = live(twins, 1);
    Object.assign(second, { attempts: 1, failed: true });
    twins.resultSent(of(twins));
    expect(decided).toEqual([1, 'none']); // the second one's retry, or a third twin: its result says
    expect(live(twins, 2)).toBe(second);
  });

  it("the file's result maps entries that ran to the live twins in order, and skipped ones after them", () => {
    const twins = new JestTwins();
    const first = live(twins, 1);
    const second = live(twins, 1);
    expect(twins.fileResult(of(twins), 0, true)).toBe(first);
    expect(twins.fileResult(of(twins), 1, true)).toBe(second);
    const skipped = twins.fileResult(of(twins), 0, false);
    expect(skipped.ref.ordinal).toBe(2);
    expect(skipped.live).toBe(false);
    // A test never reported live (an old jest without onTestCaseResult) is a new twin too.
    expect(twins.fileResult(of(twins), 2, true).ref.ordinal).toBe(3);
    twins.reset();
    expect(live(twins, 1).ref.ordinal).toBeUndefined();
  });

  it('tells tests of one block apart by title, and in another block or file by those', () => {
    const twins = new JestTwins();
    const a = twins.of(undefined, 'a.test.js', ['block'], 'a');
    const b = twins.of(undefined, 'a.test.js', ['block'], 'b');
    expect(b).not.toBe(a);
    expect(b.base.titlePath).toEqual(['block', 'b']);
    expect(twins.of(undefined, 'a.test.js', ['block'], 'a')).toBe(a);
    expect(twins.of(undefined, 'a.test.js', ['other'], 'a')).not.toBe(a);
    expect(twins.of(undefined, 'b.test.js', ['block'], 'a')).not.toBe(a);
    expect(twins.of('web', 'a.test.js', ['block'], 'a').base).toEqual({
      file: 'a.test.js',
      titlePath: ['block', 'a'],
      project: 'web',
    });
    expect(twins.of(undefined, 'a.test.js', ['block'], 'a')).toBe(a);
  });

  it("forgets a file's tests once its result came, and only that file's", () => {
    const twins = new JestTwins();
    const kept = twins.of(undefined, 'b.test.js', ['block'], 'same');
    const first = live(twins, 1);
    first.attempts = 1;
    expect(twins.started(of(twins))?.ordinal).toBe(1);
    twins.fileDone(undefined, 'a.test.js');
    expect(of(twins).twins).toEqual([]);
    expect(twins.started(of(twins))).toBe(of(twins).base);
    expect(twins.of(undefined, 'b.test.js', ['block'], 'same')).toBe(kept);
  });

  it('concurrent twins on jest 30: results while another twin runs are held back; starts are told by their position', () => {
    const twins = new JestTwins(true);
    const decided: unknown[] = [];
    const wait = (ref: { ordinal?: number } | undefined) => decided.push(ref ? (ref.ordinal ?? 0) : 'none');
    expect(twins.started(of(twins), wait)).toBe(of(twins).base);
    // Each may as well be the retry of a twin whose failed result is yet to come (seen on jest 30): they wait.
    expect(twins.started(of(twins), wait)).toBeUndefined();
    expect(twins.started(of(twins), wait)).toBeUndefined();
    // A twin ends: which one cannot be told, nor for the rest of the set (held back). But as many results came
    // as starts before the second: no failure came before it started, so it is the second twin.
    expect(twins.liveResult(of(twins), 1)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(decided).toEqual([1]);
    expect(twins.liveResult(of(twins), 1)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(decided).toEqual([1, 2]);
    expect(twins.liveResult(of(twins), 1)).toBeUndefined();
    twins.resultSent(of(twins));
    // Nothing runs: the next start is the fourth twin.
    expect(twins.started(of(twins), wait)?.ordinal).toBe(3);
    // After a failure a start may be a retry: left to its result.
    expect(twins.liveResult(of(twins), 1, true)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(twins.started(of(twins), wait)).toBeUndefined();
    expect(twins.started(of(twins), wait)).toBeUndefined();
    expect(twins.liveResult(of(twins), 2)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(decided).toEqual([1, 2, 'none']);
    // The file's result, in declaration order, gives each its ordinal.
    expect([0, 1, 2, 3].map((index) => twins.fileResult(of(twins), index, true).ref.ordinal)).toEqual([
      undefined,
      1,
      2,
      3,
    ]);
  });

  it("jest 30: a held set's result told by its start time is sent at once, with the ordinal the file's result gives it", () => {
    const twins = new JestTwins(true);
    const decided: unknown[] = [];
    const wait = (ref: { ordinal?: number } | undefined) => decided.push(ref ? (ref.ordinal ?? 0) : 'none');
    // Twins one after the other, each start overtaking the result before it (times: the worker's clock).
    expect(twins.started(of(twins), wait, 1000)).toBe(of(twins).base);
    expect(twins.started(of(twins), wait, 1020)).toBeUndefined();
    // The first one's result comes with two of the set running: the set is held, but its start time is the
    // first start's only.
    const first = twins.liveResult(of(twins), 1, false, 1000);
    expect(first?.ref.ordinal).toBeUndefined();
    twins.resultSent(of(twins));
    expect(decided).toEqual([1]);
    expect(of(twins).held).toBe(true);
    expect(twins.started(of(twins), wait, 1040)).toBeUndefined();
    expect(twins.liveResult(of(twins), 1, false, 1020)?.ref.ordinal).toBe(1);
    twins.resultSent(of(twins));
    expect(decided).toEqual([1, 2]);
    // A failure is told too (its start was told before it: no retry then); the file's result finds each.
    const third = twins.liveResult(of(twins), 1, true, 1040);
    expect(third?.ref.ordinal).toBe(2);
    expect([0, 1, 2].map((index) => twins.fileResult(of(twins), index, true))).toEqual(of(twins).twins);
    expect(of(twins).twins.map((twin) => twin.ref.ordinal)).toEqual([undefined, 1, 2]);
  });

  it('jest 30: twins that started in one millisecond, or were not told at their start, wait for the file', () => {
    const twins = new JestTwins(true);
    const wait = () => {};
    twins.started(of(twins), wait, 1000);
    twins.started(of(twins), wait, 1000);
    twins.started(of(twins), wait, 1000);
    // Which of the three ended cannot be told: held, and so are the other two (one of them ended).
    expect(twins.liveResult(of(twins), 1, false, 1000)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(twins.liveResult(of(twins), 1, false, 1000)).toBeUndefined();
    twins.resultSent(of(twins));
    expect(twins.liveResult(of(twins), 1, false, 1000)).toBeUndefined();
    twins.resultSent(of(twins));
    // A later one whose start is its own, but came after a failure (a retry, maybe: not told): held.
    expect(twins.liveResult(of(twins), 1, true, 900)).toBeUndefined();
    expect(twins.started(of(twins), wait, 2000)).toBeUndefined();
    expect(twins.liveResult(of(twins), 2, false, 2000)).toBeUndefined();
    // A result told by its time ahead of one that was not: each keeps its ordinal in the file's result.
    const other = twins.of(undefined, 'a.test.js', ['twins'], 'other');
    twins.started(other, wait, 10);
    twins.started(other, wait, 20);
    expect(twins.liveResult(other, 1, false, 20)).toBeUndefined(); // the second start was not told yet
    twins.resultSent(other);
    expect(twins.liveResult(other, 1, false, 10)?.ref.ordinal).toBeUndefined();
    expect([0, 1].map((index) => twins.fileResult(other, index, true).ref.ordinal)).toEqual([undefined, 1]);
  });

  it('concurrent twins on jest 29: results come in declaration order, live', () => {
    const twins = new JestTwins(false);
    twins.started(of(twins));
    twins.started(of(twins));
    expect(live(twins, 1).ref.ordinal).toBeUndefined();
    expect(live(twins, 1).ref.ordinal).toBe(1);
  });

  it('twins one after the other on jest 30: live, each its ordinal', () => {
    const twins = new JestTwins(true);
    expect(twins.started(of(twins))).toBe(of(twins).base);
    expect(live(twins, 1).ref.ordinal).toBeUndefined();
    expect(twins.started(of(twins))?.ordinal).toBe(1);
    expect(live(twins, 1).ref.ordinal).toBe(1);
  });
});
