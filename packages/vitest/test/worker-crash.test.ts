import { describe, expect, test } from 'vitest';
import { withCauses } from '../src/error-cause.js';
import { isWorkerCrash, placeWorkerCrashes } from '../src/worker-crash.js';
import { module } from './fakes.js';

describe('withCauses', () => {
  test('an error without a cause is the error itself', () => {
    const error = new Error('plain');
    expect(withCauses(error)).toBe(error);
  });

  test("each cause is a line of the message, named as Vitest's `Caused by:` names it", () => {
    const root = new RangeError('root');
    const error = new Error('top', { cause: new TypeError('middle', { cause: root }) });
    const copy = withCauses(error);
    expect(copy).toMatchObject({ name: 'Error', stack: error.stack });
    expect(copy.message).toBe('top\nCaused by: TypeError: middle\nCaused by: RangeError: root');
  });

  test('a cause Vitest already printed (renamed `Caused by: Error`) is named as the cause', () => {
    const cause = new Error('Worker exited unexpectedly');
    cause.name = 'Caused by: Error';
    expect(withCauses(new Error('[vitest-pool]: Worker forks emitted error.', { cause })).message).toBe(
      '[vitest-pool]: Worker forks emitted error.\nCaused by: Error: Worker exited unexpectedly',
    );
  });

  test('a value that is not an error, and a cause that loops, end the chain', () => {
    expect(withCauses({ message: 'a', cause: 42 }).message).toBe('a\nCaused by: 42');
    const loop: { message: string; cause?: unknown } = { message: 'loop' };
    loop.cause = loop;
    expect(withCauses(loop).message).toBe('loop');
    const a: { message: string; name: string; cause?: unknown } = { message: 'a', name: 'Error' };
    a.cause = { message: 'b', name: 'Error', cause: a };
    expect(withCauses(a).message).toBe('a\nCaused by: Error: b');
  });
});

describe('placeWorkerCrashes', () => {
  const v4 = (pool: string) =>
    new Error(`[vitest-pool]: Worker ${pool} emitted error.`, {
      cause: new Error('Worker exited unexpectedly'),
    });
  const oom = Object.assign(
    new Error('Worker terminated due to reaching memory limit: JS heap out of memory'),
    {
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    },
  );
  const finished = (file: string) => Object.assign(module(file), { _state: 'passed' });

  test('the pool errors of a worker that died, in the error or its cause', () => {
    expect(isWorkerCrash(v4('forks'))).toBe(true);
    expect(isWorkerCrash(new Error('Worker exited unexpectedly'))).toBe(true);
    expect(isWorkerCrash(oom)).toBe(true);
    expect(isWorkerCrash(new Error('wrapped', { cause: new Error('Worker exited unexpectedly') }))).toBe(
      true,
    );
    expect(isWorkerCrash(new Error('expected worker to exist'))).toBe(false);
    expect(isWorkerCrash({ message: 'Unhandled rejection' })).toBe(false);
  });

  test('one crash, one file left pending: the crash is that file', () => {
    const crashed = module('crashed.test.ts');
    const rejection = new Error('unhandled rejection');
    const placed = placeWorkerCrashes([finished('ok.test.ts'), crashed], [rejection, v4('threads')]);
    expect(placed.files.map((f) => [f.module, f.error.message])).toEqual([
      [crashed, '[vitest-pool]: Worker threads emitted error.'],
    ]);
    expect(placed.runErrors).toEqual([rejection]);
  });

  test('crashes that all say the same, in as many pending files: one each', () => {
    const a = module('a.test.ts');
    const b = module('b.test.ts');
    const placed = placeWorkerCrashes([a, finished('ok.test.ts'), b], [v4('forks'), v4('forks')]);
    expect(placed.files.map((f) => f.module)).toEqual([a, b]);
    expect(placed.runErrors).toEqual([]);
  });

  test("crashes that differ, or not one per pending file: the run's errors, no file given another's", () => {
    const errors = [v4('forks'), oom];
    expect(placeWorkerCrashes([module('a.test.ts'), module('b.test.ts')], errors)).toEqual({
      files: [],
      runErrors: errors,
    });
    const one = [v4('forks')];
    expect(placeWorkerCrashes([module('a.test.ts'), module('b.test.ts')], one)).toEqual({
      files: [],
      runErrors: one,
    });
    expect(placeWorkerCrashes([finished('a.test.ts')], one)).toEqual({ files: [], runErrors: one });
  });
});
