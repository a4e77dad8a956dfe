/**
 * The parts of mocha's objects the adapter reads, typed structurally so one adapter fits mocha 10, 11 and 12
 * and both the live objects of serial mode and the deserialized copies parallel mode replays from workers
 * (where `$$titlePath` etc. become `titlePath()` functions and `parent` is a stub without tests).
 */

/** A test or a hook as mocha hands it to reporters. */
export interface MochaRunnable {
  title: string;
  /** Absolute path of the file that declared it (undefined for programmatically added tests). */
  file?: string;
  /** 'test' | 'hook'; undefined for the phony runnable of an error outside any test. */
  type?: string;
  /** Source of the test function; '' when declared without one (`it('title')`, a todo). */
  body?: string;
  fn?: unknown;
  duration?: number;
  state?: 'passed' | 'failed' | 'pending';
  pending?: boolean;
  /** Hooks: the title before mocha appended `for "<test>"` / `in "<suite>"`. */
  originalTitle?: string;
  parent?: MochaSuite;
  ctx?: { currentTest?: MochaRunnable };
  titlePath(): string[];
  fullTitle?(): string;
  currentRetry?(): number;
  /** Tests: the test a retry's clone was cloned from (undefined for the test itself). */
  retriedTest?(): MochaRunnable | undefined;
  isPending?(): boolean;
}

export interface MochaSuite {
  title: string;
  root?: boolean;
  file?: string;
  /** Present on live suites (serial mode), absent on parallel-mode stubs. */
  tests?: MochaRunnable[];
  suites?: MochaSuite[];
  parent?: MochaSuite;
  /** Live suites: whether it or a suite in it has `.only` tests or suites (mocha 10 to 12). */
  hasOnly?(): boolean;
  /** Live suites: whether it stops at the run's first failure (`--bail`, `this.bail(true)`; inherited). */
  _bail?: boolean;
  /** Its timeout in ms (mocha's parse of `--timeout`: '2s' is 2000; 0 is none). */
  timeout?(): number;
  /** Its slow threshold in ms (mocha's parse of `--slow`). */
  slow?(): number;
}

/** The runner: serial `Runner` or parallel `ParallelBufferedRunner` (both EventEmitters). */
export interface MochaRunner {
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  /** Tests that will run (grep applied); 0 in parallel mode where the main process loads no files. */
  total?: number;
  suite?: MochaSuite;
  failures?: number;
  /** Private in mocha, read defensively to tell which unfinished tests a failed hook affected. */
  _grep?: RegExp;
  _invert?: boolean;
  /** Set by `Runner#abort` (an error after a test passed, SIGINT): the run stopped, not by bail. */
  _abort?: boolean;
  /** The suite's tests the run's grep selects (mocha 10 to 12; public). */
  grepTotal?(suite: MochaSuite): number;
}

/** What mocha passes as the reporter's second argument: its options (`Mocha#options`). */
export interface MochaReporterOptions {
  reporterOption?: Record<string, unknown>;
  reporterOptions?: Record<string, unknown>;
  parallel?: boolean;
  watch?: boolean;
  files?: string[];
  [key: string]: unknown;
}

/** A reporter class as mocha instantiates it: `new Reporter(runner, options)`, optional `done`. */
export interface MochaReporterInstance {
  done?(failures: number, fn: (failures: number) => void): void;
}
export type MochaReporterConstructor = new (runner: any, options: any) => MochaReporterInstance;

/** Runner event names; identical in mocha 10, 11 and 12 (`Mocha.Runner.constants`). */
export const EVENTS = {
  RUN_BEGIN: 'start',
  RUN_END: 'end',
  SUITE_BEGIN: 'suite',
  SUITE_END: 'suite end',
  TEST_BEGIN: 'test',
  TEST_END: 'test end',
  TEST_PASS: 'pass',
  TEST_FAIL: 'fail',
  TEST_PENDING: 'pending',
  TEST_RETRY: 'retry',
  HOOK_BEGIN: 'hook',
  HOOK_END: 'hook end',
} as const;

/** `err.code` of mocha's timeout error in every supported major. */
export const MOCHA_TIMEOUT_CODE = 'ERR_MOCHA_TIMEOUT';
