import { describe, expect, test } from 'vitest';
import { fileCrashError, isWorkerCrash, placeWorkerCrashes, testCrashError } from '../src/worker-crash.js';
import { module } from './fakes.js';

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

describe('the errors of a crash', () => {
  const crash = Object.assign(new Error('[vitest-pool]: Worker forks emitted error.'), {
    cause: new Error('Worker exited unexpectedly'),
    code: 'ERR_WORKER_OUT_OF_MEMORY',
  });

  test("the file's names the tests the worker was running, Vitest's error its cause (its stack and code kept)", () => {
    expect(fileCrashError(crash, [['worker', 'a'], ['b']])).toEqual({
      name: 'Error',
      message: 'The worker died while running "worker > a", "b".',
      cause: crash,
      stack: crash.stack,
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    });
  });

  test("the file's is Vitest's own when no test had started", () => {
    expect(fileCrashError(crash, [])).toBe(crash);
  });

  test("the test's says the worker died while it ran, without the pool's stack", () => {
    expect(testCrashError(crash)).toEqual({
      name: 'Error',
      message: 'The worker died while running this test.',
      cause: crash,
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    });
  });
});
