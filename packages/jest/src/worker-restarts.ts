import type { TestRef } from '@testwire/reporter-core';

/**
 * The tests of each file that started and have no result yet, and the one thing they tell: that jest ran a
 * file again in a new worker process.
 *
 * When a worker's child process exits during a file (a test calls `process.exit`, a native module crashes),
 * jest-worker starts a new child and sends it the same file, up to 3 times; the file's result is then either
 * the last child's, or the error "Jest worker encountered 4 child process exceptions, exceeding retry limit"
 * with no tests. No hook says so: the new child's tests just start again from the file's first one. Read as
 * they come, those would be new tests (a twin of every test that ran before the exit, with ids of their own)
 * and the test that was running when the child exited would run for ever.
 *
 * So a test that starts again (a test with its key has a result) while another test of its file is running
 * raises a question: is this the first test of a new child? It may also be a later twin whose start overtook
 * the running test's result (jest's dispatcher awaits each reporter in turn, and jest's own reporters have a
 * result hook but no start hook, so starts reach this reporter ahead of results sent before them), or the
 * twin of a concurrent test. Either way the running test's result is on its way: it answers the question
 * (no restart), and the file's hooks held meanwhile are called again, in order. A test that never gets its
 * result ran in a child that exited: when the file's result comes (or the run ends) with the question open,
 * the file restarted where it was raised. (An exit between two tests, in a `beforeAll`/`afterAll`, raises
 * none: the tests that ran before it are then streamed twice, as twins.)
 */
export class WorkerRestarts<K extends object> {
  /** Per test file (jest's path), its tests running now, in the order they started. */
  private readonly files = new Map<string, RunningTest<K>[]>();
  /** Per file with a question open: the tests running when it was raised, and the hooks held since. */
  private readonly questions = new Map<string, Question<K>>();

  /**
   * @param restarted called when a file restarted, with the tests the child that exited left running, the
   * key of the test whose start raised the question and when (Date.now(): the new child was up by then, so
   * the tests left running had ended), before the file's held hooks are called again.
   */
  constructor(
    private readonly restarted: (file: string, left: RunningTest<K>[], key: K, raisedAt: number) => void,
  ) {}

  /** A new run: nothing runs, nothing is held. */
  reset(): void {
    this.files.clear();
    this.questions.clear();
  }

  /**
   * True when the file's hooks are held (`hold`): a question is open. A result of a test that was running when
   * it was raised (`key`) is not held: it answers it.
   */
  holds(file: string, key?: K): boolean {
    if (this.questions.size === 0) return false;
    const question = this.questions.get(file);
    if (!question) return false;
    return key === undefined || !question.running.some((test) => test.key === key);
  }

  /** Holds a hook of a file with a question open (see `holds`): it is called again once it is answered. */
  hold(file: string, hook: () => void): void {
    this.questions.get(file)?.held.push(hook);
  }

  /**
   * True when a test with `key`, which `ranBefore` (a test with its key has a result), starts at `at` while
   * another test of its file runs: a question is raised, and the start is held with `hook`.
   */
  questioned(file: string, key: K, ranBefore: boolean, hook: () => void, at: number): boolean {
    if (!ranBefore) return false;
    const tests = this.files.get(file);
    if (!tests || tests.length === 0) return false;
    const running = tests.filter((test) => test.key !== key);
    if (running.length === 0) return false;
    this.questions.set(file, { key, running, held: [hook], raisedAt: at });
    return true;
  }

  /**
   * A test started at `at` (epoch ms); `ref` is undefined when which twin it is is left to its result
   * (twins.ts).
   */
  started(file: string, key: K, ref: TestRef | undefined, at: number): void {
    const test: RunningTest<K> = { key, ref, startedAt: at };
    const running = this.files.get(file);
    if (running) running.push(test);
    else this.files.set(file, [test]);
  }

  /**
   * A live result came for a test with this key: the first one that started with it ended. If that answers
   * the file's question (none of the tests running when it was raised runs now), the held hooks are called.
   */
  ended(file: string, key: K): void {
    const running = this.files.get(file);
    if (!running) return;
    const index = running.findIndex((test) => test.key === key);
    if (index < 0) return;
    // The file's list stays until its result (fileDone): one per file, not one per test.
    running.splice(index, 1);
    const question = this.questions.get(file);
    if (question && !question.running.some((test) => running.includes(test))) this.answer(file, question);
  }

  /**
   * The file's result came: an open question is answered (a test that still runs will get no result: the
   * file restarted), as often as the held hooks raise another. Returns the tests still running, forgotten.
   */
  fileDone(file: string): RunningTest<K>[] {
    for (let question = this.questions.get(file); question; question = this.questions.get(file))
      this.answer(file, question);
    const running = this.files.get(file) ?? [];
    this.files.delete(file);
    return running;
  }

  /** The run ends: every open question is answered (no hook may stay held). */
  answerAll(): void {
    for (const file of [...this.questions.keys()]) this.fileDone(file);
  }

  private answer(file: string, question: Question<K>): void {
    this.questions.delete(file);
    const running = this.files.get(file) ?? [];
    if (question.running.some((test) => running.includes(test))) {
      this.files.delete(file);
      this.restarted(file, running, question.key, question.raisedAt);
    }
    for (const hook of question.held) hook();
  }
}

/** A test that started and has no result yet. */
export interface RunningTest<K> {
  /** What its start and its result both name (its twin set): a result ends the first test with it. */
  readonly key: K;
  /** The test as its start was sent to the core; undefined when no start was sent (see `started`). */
  readonly ref: TestRef | undefined;
  /** When it started, in the worker (epoch ms). */
  readonly startedAt: number;
}

/** An open question: did the file restart? */
interface Question<K> {
  /** The key of the test whose start raised it. */
  readonly key: K;
  /** When the start that raised it happened (epoch ms). */
  readonly raisedAt: number;
  /** The file's tests running when it was raised. */
  readonly running: RunningTest<K>[];
  /** The file's hooks since, to call again in order once it is answered. */
  readonly held: (() => void)[];
}
