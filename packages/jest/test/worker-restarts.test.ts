/**
 * WorkerRestarts' answers, on the hook sequences jest 29 and 30 give (the end-to-end runs are in
 * worker-restarts.e2e.test.ts): the sequences where the timing decides, which a real run hits only by chance.
 */
import { describe, expect, it } from 'vitest';
import { RESTART_GAP_MS, type RunningTest, WorkerRestarts } from '../src/worker-restarts.js';

const FILE = 'a.test.js';

/** A file's hooks as the reporter feeds them: starts and results, held ones logged when called again. */
function harness() {
  const restarts: { left: string[]; raisedAt: number }[] = [];
  const names = new Map<object, string>();
  const log: string[] = [];
  const restartsOf = new WorkerRestarts<object>((_file, left: RunningTest<object>[], _key, raisedAt) =>
    restarts.push({ left: left.map((test) => names.get(test.key) ?? '?'), raisedAt }),
  );
  const keys = new Map<string, object>();
  const key = (name: string) => {
    let k = keys.get(name);
    if (!k) {
      k = {};
      keys.set(name, k);
      names.set(k, name);
    }
    return k;
  };
  const start = (name: string, at: number): void => {
    if (restartsOf.holdsStart(FILE, key(name), at)) {
      restartsOf.hold(FILE, () => start(name, at));
      return;
    }
    restartsOf.started(FILE, key(name), undefined, at);
    log.push(`start ${name}`);
  };
  const result = (name: string, duration: number, startedAt?: number): void => {
    if (restartsOf.holdsResult(FILE, key(name), startedAt, duration)) {
      restartsOf.hold(FILE, () => result(name, duration, startedAt));
      return;
    }
    log.push(`result ${name}`);
    restartsOf.settle(FILE);
  };
  return { restartsOf, restarts, log, start, result };
}

describe('WorkerRestarts', () => {
  it('twins of the first test a few ms apart raise no question', () => {
    const { log, start, result, restarts } = harness();
    start('row', 0);
    result('row', 2);
    start('row', 3);
    result('row', 2);
    expect(log).toEqual(['start row', 'result row', 'start row', 'result row']);
    expect(restarts).toEqual([]);
  });

  it("jest 29: a slow first test's twin whose start overtook its result: no restart, in order", () => {
    const { log, start, result, restarts } = harness();
    start('row', 0);
    start('row', 100); // overtook the result below: held
    expect(log).toEqual(['start row']);
    result('row', 100); // ended when the twin started: the same child
    expect(log).toEqual(['start row', 'result row', 'start row']);
    expect(restarts).toEqual([]);
  });

  it("jest 29: the new child's result of the first test, which the old child exited in, is held", () => {
    const { restartsOf, log, start, result, restarts } = harness();
    start('first', 0);
    start('first', 1000); // the new child (the old one exited 50 ms into the test)
    result('first', 60); // ends at 60: long before the start above
    start('second', 1061);
    result('second', 1);
    expect(log).toEqual(['start first']);
    restartsOf.fileDone(FILE, 900);
    expect(restarts).toEqual([{ left: ['first'], raisedAt: 1000 }]);
    expect(log).toEqual(['start first', 'start first', 'result first', 'start second', 'result second']);
  });

  it('jest 29: a running test whose title did not start again since gets its own result, however late', () => {
    const { log, start, result, restarts } = harness();
    start('a', 0);
    result('a', 1);
    start('b', 2);
    start('a', 300); // after b (100 ms) and a 198 ms pause of the worker, overtaking b's result: held
    result('b', 100);
    expect(log).toEqual(['start a', 'result a', 'start b', 'result b', 'start a']);
    expect(restarts).toEqual([]);
  });

  it("jest 30: a result whose start is the running test's answers; the new child's is held", () => {
    const { restartsOf, log, start, result, restarts } = harness();
    start('before', 0);
    result('before', 5, 0);
    start('exits', 6);
    start('before', 1000); // the new child: held
    result('before', 5, 1000);
    start('exits', 1006);
    result('exits', 60, 1006); // the new child's run of it: held, the old one still runs
    expect(log).toEqual(['start before', 'result before', 'start exits']);
    restartsOf.fileDone(FILE, 900);
    expect(restarts).toEqual([{ left: ['exits'], raisedAt: 1000 }]);
    expect(log.slice(3)).toEqual(['start before', 'result before', 'start exits', 'result exits']);
  });

  it('nothing running: the file result tells a restart (a later child) from a slow hook (the same child)', () => {
    for (const [childStartedAt, restarted] of [
      [500, true], // a child that started the file after `t`'s first run ended
      [undefined, true], // no child's: jest gave up
      [1, false], // the child that ran `t` first
    ] as const) {
      const { restartsOf, log, start, result, restarts } = harness();
      start('t', 0);
      result('t', 2);
      start('t', 2 + RESTART_GAP_MS + 100); // after an afterAll: of this child, or of a new one
      result('t', 1);
      expect(log).toEqual(['start t', 'result t']);
      restartsOf.fileDone(FILE, childStartedAt);
      expect(restarts.length).toBe(restarted ? 1 : 0);
      // Called again once: the answer is not asked again.
      expect(log).toEqual(['start t', 'result t', 'start t', 'result t']);
    }
  });

  it('the run ends with a question open: the hooks are called, no restart unless a test was left running', () => {
    const { restartsOf, log, start, restarts } = harness();
    start('t', 0);
    start('t', 200);
    restartsOf.answerAll();
    expect(restarts).toEqual([{ left: ['t'], raisedAt: 200 }]);
    expect(log).toEqual(['start t', 'start t']);
  });
});
