import type { TestRef } from '@testwire/reporter-core';

/**
 * A test of a file starts again at least this long (worker clock, ms) after everything its file was known to
 * be doing: the earliest a new worker process can have started it. Jest-worker forks the new child only once
 * the old one exited, and the child then boots node, builds the test environment and loads the file before its
 * first test: hundreds of milliseconds, never under this. The tests of one child follow one another within a
 * few milliseconds.
 */
export const RESTART_GAP_MS = 50;

/**
 * The tests of each file that started and have no result yet, and the one thing they tell: that jest ran a
 * file again in a new worker process.
 *
 * When a worker's child process exits while it runs a file (a test, a hook or a timer calls `process.exit`, a
 * native module crashes), jest-worker starts a new child and sends it the same file, up to 3 times; the file's
 * result is then either the last child's, or the error "Jest worker encountered 4 child process exceptions,
 * exceeding retry limit" with no tests. No hook says so (jest-worker re-sends the request inside one call, and
 * the new child's events reach the same listener): the new child's tests just start again from the file's
 * first one. Read as they come, those would be new tests (a twin of every test that ran before the exit, with
 * ids of their own), and a test that was running when the child exited would run for ever.
 *
 * A new child always starts with the test the file started with (jest runs a file's tests in declaration
 * order, the same in every child), and it can start it no sooner than RESTART_GAP_MS after the old child's last
 * sign of life. So a start of the file's first test (by title path) that comes that long after everything the
 * file's tests are known to have done (their starts, and the ends of those with a result) raises a question:
 * did the file restart? It may also be that test's twin (a `test.each` row of the same title) after a slow
 * hook, or a twin whose start overtook the result of the test before it (jest's dispatcher awaits each
 * reporter in turn, and jest's own reporters have a result hook but no start hook, so starts reach this
 * reporter ahead of results sent before them). The file's hooks are held from that start until it is answered,
 * then called again in order:
 * - no restart, when a test running at that start gets its result from the child it ran in: the start
 *   overtook that result, so that child was still running the file. Jest 30's result says which run it is of
 *   (its `startedAt` is that test's); jest 29's does not: it is the old run's when no test of its title started
 *   since, or when it puts the test's end at most RESTART_GAP_MS before that start (jest 29 runs one test at a
 *   time) — so is the new child's result of the file's first test if its run lasted as long as the old one
 *   plus the restart, to within that;
 * - a restart, when the file's result comes while a test running at that start still has none (its child
 *   exited during it); or, with no test running at that start (the child exited between tests: in a
 *   `beforeAll`/`afterAll`, a timer), when the file's result is no child's (jest gave up) or comes from a child
 *   that started the file (`perfStats.start`) after the last thing its tests were known to do;
 * - no restart, when the run ends without the file's result.
 */
export class WorkerRestarts<K extends object> {
  /** Per test file (jest's path) that started tests, what they tell. */
  private readonly files = new Map<string, FileTests<K>>();
  /** Per file with a question open: the start that raised it, the tests running then, the hooks held since. */
  private readonly questions = new Map<string, Question<K>>();

  /**
   * @param restarted called when a file restarted, with the tests the child that exited left running, the
   * key of the test whose start raised the question and when it started (worker clock: the new child was up by
   * then, so the tests left running had ended), before the file's held hooks are called again.
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
   * A test with `key` starts at `at` (worker clock, epoch ms). True when its start is to be held (`hold`): a
   * question is open, or this start raises one.
   */
  holdsStart(file: string, key: K, at: number): boolean {
    const open = this.questions.size > 0 ? this.questions.get(file) : undefined;
    if (open) {
      if (key !== open.key) {
        open.startedAgain ??= new Set();
        open.startedAgain.add(key);
      }
      return true;
    }
    const tests = this.files.get(file);
    if (!tests || key !== tests.first || at - tests.lastAt < RESTART_GAP_MS) return false;
    this.questions.set(file, {
      key,
      raisedAt: at,
      before: tests.lastAt,
      running: [...tests.running],
      held: [],
    });
    return true;
  }

  /** Holds a hook of a file with a question open (see `holdsStart`, `holdsResult`): called again once answered. */
  hold(file: string, hook: () => void): void {
    this.questions.get(file)?.held.push(hook);
  }

  /**
   * A test started at `at` (a start `holdsStart` did not hold); `ref` is undefined when which twin it is is
   * left to its result, or not decided yet (twins.ts: set it on the test returned once it is).
   */
  started(file: string, key: K, ref: TestRef | undefined, at: number): RunningTest<K> {
    const test: RunningTest<K> = { key, ref, startedAt: at };
    const tests = this.files.get(file);
    if (!tests) {
      this.files.set(file, { first: key, running: [test], lastAt: at });
      return test;
    }
    tests.running.push(test);
    if (at > tests.lastAt) tests.lastAt = at;
    return test;
  }

  /**
   * A live result came for a test with `key`, which started at `startedAt` (jest 30; undefined on jest 29)
   * and ran `duration` ms. True when it is to be held (`hold`): a question is open, and it is not the result
   * of a test that was running when it was raised. Otherwise it ends the running test it is about; call
   * `settle` once it is handled.
   */
  holdsResult(file: string, key: K, startedAt: number | undefined, duration: number): boolean {
    const tests = this.files.get(file);
    const question = this.questions.size > 0 ? this.questions.get(file) : undefined;
    if (question && !this.answers(question, tests, key, startedAt, duration)) return true;
    if (!tests) return false;
    // Twins run one after the other but on jest 30 (concurrently): there the start time says which one ended.
    let index = tests.running.findIndex((test) => test.key === key && test.startedAt === startedAt);
    if (index < 0) index = tests.running.findIndex((test) => test.key === key);
    if (index < 0) return false;
    const [test] = tests.running.splice(index, 1);
    const end = (startedAt ?? test.startedAt) + duration;
    if (end > tests.lastAt) tests.lastAt = end;
    return false;
  }

  /**
   * After a result `holdsResult` did not hold: when none of the tests running at the file's question runs now,
   * their child was alive after the start that raised it: no restart, and the held hooks are called.
   */
  settle(file: string): void {
    const question = this.questions.size > 0 ? this.questions.get(file) : undefined;
    if (!question || question.running.length === 0) return;
    const running = this.files.get(file)?.running ?? [];
    if (!question.running.some((test) => running.includes(test))) this.answer(file, question, false);
  }

  /**
   * The file's result came: its open questions are answered (a question the held hooks raise again too).
   * `childStartedAt` is when the child whose result it is started the file (worker clock, `perfStats.start`);
   * undefined when no child's (jest gave up on the file). Returns the tests still running, forgotten.
   */
  fileDone(file: string, childStartedAt: number | undefined): RunningTest<K>[] {
    for (let question = this.questions.get(file); question; question = this.questions.get(file)) {
      const running = this.files.get(file)?.running ?? [];
      const restart =
        question.running.length > 0
          ? question.running.some((test) => running.includes(test))
          : childStartedAt === undefined || question.before < childStartedAt;
      this.answer(file, question, restart);
    }
    const running = this.files.get(file)?.running ?? [];
    this.files.delete(file);
    return running;
  }

  /** The run ends: every open question is answered (no hook may stay held), as no restart if nothing says so. */
  answerAll(): void {
    // Held hooks called again may raise another question: until none is open (each holds fewer hooks).
    for (let next = this.questions.entries().next(); !next.done; next = this.questions.entries().next()) {
      const [file, question] = next.value;
      const running = this.files.get(file)?.running ?? [];
      this.answer(
        file,
        question,
        question.running.some((test) => running.includes(test)),
      );
    }
  }

  /**
   * Whether a result with `key` is that of a test running when `question` was raised: one with its key still
   * runs, and the result's start is that test's (jest 30). Jest 29's results carry no start: the result is that
   * test's when no test with its key started since (a result never comes before its own start); else when the
   * test ended no sooner than RESTART_GAP_MS before the start that raised the question, and not after it (jest
   * 29 runs one test at a time) — a result of the new child's run of it ended later, or long before.
   */
  private answers(
    question: Question<K>,
    tests: FileTests<K> | undefined,
    key: K,
    startedAt: number | undefined,
    duration: number,
  ): boolean {
    if (!tests) return false;
    for (const test of question.running) {
      if (test.key !== key || !tests.running.includes(test)) continue;
      if (startedAt !== undefined) return startedAt === test.startedAt;
      if (key !== question.key && !question.startedAgain?.has(key)) return true;
      const end = test.startedAt + duration;
      return end <= question.raisedAt && question.raisedAt - end < RESTART_GAP_MS;
    }
    return false;
  }

  private answer(file: string, question: Question<K>, restart: boolean): void {
    this.questions.delete(file);
    const tests = this.files.get(file);
    if (restart) {
      this.files.delete(file);
      this.restarted(file, tests?.running ?? [], question.key, question.raisedAt);
    } else if (tests && question.raisedAt > tests.lastAt) {
      // The child was alive when that start happened: called again, it raises no question.
      tests.lastAt = question.raisedAt;
    }
    for (const hook of question.held) hook();
  }
}

/** A test that started and has no result yet. */
export interface RunningTest<K> {
  /** What its start and its result both name (its twin set): a result ends the first test with it. */
  readonly key: K;
  /** The test as its start was sent to the core; undefined when no start was sent (see `started`). */
  ref: TestRef | undefined;
  /** When it started, in the worker (epoch ms). */
  readonly startedAt: number;
}

/** What the tests of one file tell, since it started (or restarted). */
interface FileTests<K> {
  /** The key of the file's first test to start: a new child starts with it. */
  readonly first: K;
  /** Its tests running now, in the order they started. */
  readonly running: RunningTest<K>[];
  /** The latest instant its tests are known to have run at (worker clock): starts, and ends of results. */
  lastAt: number;
}

/** An open question: did the file restart? */
interface Question<K> {
  /** The key of the test whose start raised it. */
  readonly key: K;
  /** When the start that raised it happened (worker clock, epoch ms). */
  readonly raisedAt: number;
  /** The file's `lastAt` then: its child was known alive until this instant. */
  readonly before: number;
  /** The file's tests running when it was raised. */
  readonly running: RunningTest<K>[];
  /** The file's hooks since, to call again in order once it is answered. */
  readonly held: (() => void)[];
  /** The keys of the starts held since, but its own (made when one is held). */
  startedAgain?: Set<K>;
}
