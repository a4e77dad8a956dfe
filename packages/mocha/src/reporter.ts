/**
 * The mocha reporter: runner events -> @testwire/reporter-core calls, while a wrapped terminal reporter
 * (spec by default) prints exactly what it would print alone.
 *
 *   mocha Runner ──emit──┬─> wrapped reporter (spec, dot, json, a module…)   prints, writes files
 *   (capture suspended)  └─> TestwireReporter ─> reporter-core ─> broadcaster ─> /ws, /events
 *   test code ─> console / process.stdout ─> terminal, and (serial mode) test.output of the running test
 *
 * Serial mode streams live. With `--parallel`, mocha's main process receives each file's events in one
 * burst when that file's worker finishes, and the total is not known up front (`totalKnown: false`).
 */

import type { TestStatus } from '@testwire/protocol';
import {
  checkThresholds,
  createReporterCore,
  type ReporterCore,
  type ReporterCoreOptions,
  type TestOutcome,
  type TestRef,
} from '@testwire/reporter-core';
import { OutputCapture } from './capture.js';
import { nycCoverageReport } from './coverage.js';
import { findRunningMocha, loadReporter, type MochaRuntime } from './mocha-runtime.js';
import {
  EVENTS,
  MOCHA_TIMEOUT_CODE,
  type MochaReporterConstructor,
  type MochaReporterInstance,
  type MochaReporterOptions,
  type MochaRunnable,
  type MochaRunner,
  type MochaSuite,
} from './mocha-types.js';
import { parseReporterOptions, type TestwireMochaOptions } from './options.js';
import { PendingClassifier } from './pending.js';

/** How a mocha test ended: its `state`, with the pending tests declared as `it('title')` told apart (todo). */
type MochaOutcome = 'passed' | 'failed' | 'pending' | 'todo';

/** Typed as a Record so a new outcome fails to compile until it is mapped. */
const STATUS: Record<MochaOutcome, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  todo: 'todo',
};

type HookKind = 'before all' | 'before each' | 'after each' | 'after all';
const HOOK_KIND = /^"(before all|before each|after each|after all)" hook/;

/** Defaults for {@link createTestwireReporter}: core options (e.g. a `sink`) and reporter options. */
export type TestwireReporterDefaults = Partial<Omit<ReporterCoreOptions, 'framework'>> & TestwireMochaOptions;

/** Extra bound on top of the core's own flush bound, in case the core itself misbehaves. */
const DONE_MARGIN_MS = 2000;

/**
 * Mocha reporter streaming the run through testwire. Use `mocha --reporter @testwire/mocha`; options via
 * `--reporter-option key=value` (see README): `reporter` (the terminal reporter to keep, default `spec`),
 * `port`, `host`, `url`, `apiKey`, `project`, `captureOutput`; other keys go to the wrapped reporter.
 */
export class TestwireReporter {
  /** The reporter-core instance (exposed for tools and tests). */
  readonly core: ReporterCore;
  /** The wrapped terminal reporter, if any. */
  readonly inner: MochaReporterInstance | undefined;

  private readonly runner: MochaRunner;
  private readonly options: MochaReporterOptions;
  private readonly parallel: boolean;
  private readonly capture: OutputCapture | undefined;
  private readonly flushBoundMs: number;
  private readonly pending = new PendingClassifier();
  private readonly refs = new WeakMap<object, TestRef>();
  /** Tests that share a title path in one file, told apart by arrival (see ref()). */
  private readonly twins = new Map<string, { count: number; open: boolean }>();
  /** Each ref's twins entry: a test's end closes it without keying the title path again. */
  private readonly twinsOf = new WeakMap<TestRef, { count: number; open: boolean }>();
  private readonly startedAt = new WeakMap<object, number>();
  /**
   * Tests whose final result was sent, in order. Retries run clones of the test object (a ref each), so
   * "has this test ended?" is answered by file + title path, keyed on demand (see isFinished): the question
   * comes with failures only, while every test ends.
   */
  private readonly finishedRefs: TestRef[] = [];
  private readonly finishedKeys = new Set<string>();
  private keyedRefs = 0;
  /** Tests seen so far (parallel mode announces them to the core as they arrive). */
  private readonly seen = new Set<string>();
  /** Suites (serial mode) with a failed hook, settled when the suite ends. */
  private readonly failedHooks = new Map<MochaSuite, { title: string; error: unknown }>();
  /** Where console output goes right now: a test, a file (hooks outside tests), or the run. */
  private outputTarget: TestRef | undefined;
  private lastFile: string | undefined;
  private completed = false;

  /**
   * Called by mocha as `new Reporter(runner, mochaOptions)`; reporter options are in
   * `mochaOptions.reporterOption` (mocha >= 8) or `reporterOptions`.
   */
  constructor(runner: MochaRunner, options: MochaReporterOptions = {}) {
    this.runner = runner;
    this.options = options;
    const defaults = (new.target as { defaults?: TestwireReporterDefaults }).defaults ?? {};
    const { reporter: defaultReporter, ...coreDefaults } = defaults;
    const parsed = parseReporterOptions(options.reporterOption ?? options.reporterOptions);
    if (parsed.problems.length > 0)
      warn(`invalid reporter options: ${parsed.problems.join('; ')} (using defaults)`);
    const { reporter: reporterName, ...ours } = parsed.options;
    this.parallel = options.parallel === true;

    let runtime: MochaRuntime | undefined;
    try {
      runtime = findRunningMocha(runner);
    } catch {
      runtime = undefined;
    }

    // The wrapped reporter is created first so its listeners run first, as if it were the only reporter.
    this.inner = this.createInner(
      reporterName ?? defaultReporter ?? 'spec',
      runtime,
      options,
      parsed.forwarded,
    );

    const coreOptions: ReporterCoreOptions = {
      rootDir: process.cwd(),
      ...coreDefaults,
      ...ours,
      framework: 'mocha',
      // --parallel runs tests in worker processes; serial mode on this very thread.
      testsOffThread: this.parallel,
    };
    if (runtime?.version && !coreOptions.frameworkVersion) coreOptions.frameworkVersion = runtime.version;
    this.core = createReporterCore(coreOptions);
    // The core's bound as it resolved it (option, env TESTWIRE_FLUSH_TIMEOUT or default).
    this.flushBoundMs = this.core.flushTimeoutMs + DONE_MARGIN_MS;

    // Workers of parallel mode write straight to the terminal: nothing to capture in this process.
    const captureOutput = this.core.enabled && !this.parallel && coreOptions.captureOutput !== false;
    this.capture = captureOutput
      ? new OutputCapture((text, stream, method) => this.onOutput(text, stream, method))
      : undefined;
    if (this.capture) this.suspendCaptureDuringEvents(this.capture);
    if (this.core.enabled) this.listen();
  }

  /**
   * Mocha calls this after the run (and global teardown), before it exits: the final flush is awaited here,
   * bounded in time, then `fn(failures)` lets mocha exit. The wrapped reporter's own `done` (xunit closing
   * its file) runs alongside.
   */
  done(failures: number, fn?: (failures: number) => void): void {
    let called = false;
    let result = failures;
    const finish = () => {
      if (called) return;
      called = true;
      fn?.(result);
    };
    this.capture?.uninstall();

    const innerDone = new Promise<void>((resolve) => {
      const inner = this.inner;
      if (!inner || typeof inner.done !== 'function') return resolve();
      try {
        inner.done(failures, (value) => {
          if (typeof value === 'number') result = value;
          resolve();
        });
      } catch (error) {
        warn(`the wrapped reporter failed in done(): ${message(error)}`);
        resolve();
      }
    });

    // Deliberately not unref'd: until fn(failures) runs, mocha has not set its exit code, so the process must
    // not end early. The timer is cleared as soon as the flush settles and never outlives the bound.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.flushBoundMs);
    });
    let success = failures === 0;
    if (!this.completed && !this.parallel) {
      try {
        const coverage = nycCoverageReport();
        if (coverage) {
          this.core.coverage(coverage);
          // `nyc --check-coverage` fails the command on a missed threshold once mocha has exited.
          if (checkThresholds(coverage)?.passed === false) success = false;
        }
      } catch (error) {
        if (process.env.TESTWIRE_DEBUG) warn(`could not read nyc's coverage: ${message(error)}`);
      }
    }
    const flushed = this.completed
      ? Promise.resolve()
      : this.core.runCompleted({ success, rawStatus: failures === 0 ? 'passed' : 'failed' });
    this.completed = true;
    Promise.race([flushed, bound])
      .then(() => innerDone)
      .catch(() => undefined)
      .finally(() => {
        if (timer) clearTimeout(timer);
        finish();
      });
  }

  // -------------------------------------------------------------------------------------------------------

  private createInner(
    reporter: string | MochaReporterConstructor,
    runtime: MochaRuntime | undefined,
    options: MochaReporterOptions,
    forwarded: Record<string, unknown>,
  ): MochaReporterInstance | undefined {
    if (reporter === 'none') return undefined;
    let ctor: MochaReporterConstructor | undefined;
    if (typeof reporter === 'function') ctor = reporter;
    else {
      const loaded = loadReporter(reporter, runtime);
      if ('reporter' in loaded) ctor = loaded.reporter;
      else {
        const spec = runtime?.reporters.spec;
        warn(
          `${loaded.error}; ${spec && reporter !== 'spec' ? 'using "spec"' : 'printing no terminal output'}`,
        );
        ctor = reporter !== 'spec' ? spec : undefined;
      }
    }
    if (ctor === (this.constructor as unknown) || ctor === TestwireReporter) {
      warn('reporter=@testwire/mocha would wrap itself; using "spec"');
      ctor = runtime?.reporters.spec;
    }
    if (!ctor) return undefined;
    // The wrapped reporter sees mocha's options with only its own reporter options (`output=` and such).
    const innerOptions = { ...options, reporterOption: forwarded, reporterOptions: forwarded };
    return new ctor(this.runner, innerOptions);
  }

  /**
   * Everything printed while the runner emits an event is reporter output (spec's lines, the epilogue), not
   * test output: test code never runs inside `emit`. Wrapping the instance's `emit` covers every reporter
   * listening on this runner, whatever the order of registration.
   */
  private suspendCaptureDuringEvents(capture: OutputCapture): void {
    const runner = this.runner;
    const emit = runner.emit;
    runner.emit = function (this: MochaRunner, ...args: unknown[]) {
      return capture.suspend(emit as (...args: unknown[]) => boolean, this, args);
    };
  }

  private listen(): void {
    const on = (event: string, handler: (...args: any[]) => void) => {
      this.runner.on(event, (...args: unknown[]) => {
        try {
          handler(...args);
        } catch (error) {
          // The core never throws; this guards the adapter's own reading of mocha objects.
          if (process.env.TESTWIRE_DEBUG) warn(`internal error on mocha "${event}" event: ${message(error)}`);
        }
      });
    };
    on(EVENTS.RUN_BEGIN, () => this.onRunBegin());
    on(EVENTS.SUITE_BEGIN, (suite: MochaSuite) => {
      this.outputTarget = undefined;
      if (suite.file) this.noteFile(suite.file);
    });
    on(EVENTS.SUITE_END, (suite: MochaSuite) => {
      this.outputTarget = undefined;
      this.settleFailedHook(suite);
    });
    on(EVENTS.HOOK_BEGIN, (hook: MochaRunnable) => this.onHookBegin(hook));
    on(EVENTS.HOOK_END, (hook: MochaRunnable) => {
      if (!isEachHook(hook)) this.outputTarget = undefined;
    });
    on(EVENTS.TEST_BEGIN, (test: MochaRunnable) => this.onTestBegin(test));
    on(EVENTS.TEST_PASS, (test: MochaRunnable) => this.result(test, 'passed'));
    on(EVENTS.TEST_FAIL, (runnable: MochaRunnable, error: unknown) => this.onFail(runnable, error));
    on(EVENTS.TEST_PENDING, (test: MochaRunnable) => {
      this.ref(test, 'pending');
      this.result(test, this.pendingKind(test));
    });
    on(EVENTS.TEST_RETRY, (test: MochaRunnable, error: unknown) => this.result(test, 'failed', error, true));
    on(EVENTS.TEST_END, (test: MochaRunnable) => {
      const ref = this.ref(test);
      this.finishedRefs.push(ref);
      const twins = this.twinsOf.get(ref);
      if (twins) twins.open = false;
    });
    on(EVENTS.RUN_END, () => {
      this.outputTarget = undefined;
      this.capture?.uninstall();
    });
  }

  private onRunBegin(): void {
    const options = this.options;
    this.core.runStarted({
      // Parallel mode loads test files in workers only: the main process learns of tests as files finish.
      totalTests: this.parallel ? undefined : (this.runner.total ?? undefined),
      testFiles: Array.isArray(options.files) ? options.files : [],
      options: pickOptions(options),
      ...(typeof options.watch === 'boolean' ? { watch: options.watch } : {}),
    });
    this.capture?.install();
  }

  private onTestBegin(test: MochaRunnable): void {
    const ref = this.ref(test, 'begin');
    this.noteTest(ref, test.file);
    if (!this.parallel) this.startedAt.set(test, Date.now());
    this.outputTarget = ref;
    this.core.testStarted(ref, attemptOf(test));
  }

  private onHookBegin(hook: MochaRunnable): void {
    if (!this.capture) return;
    const test = hook.ctx?.currentTest;
    if (isEachHook(hook)) {
      // beforeEach/afterEach run for one test: what they print belongs to it.
      this.outputTarget = test && typeof test.titlePath === 'function' ? this.ref(test) : this.outputTarget;
    } else {
      this.outputTarget = hook.file ? { file: hook.file, titlePath: [] } : undefined;
    }
  }

  private onFail(runnable: MochaRunnable, error: unknown): void {
    if (runnable.type === 'hook') {
      this.onHookFail(runnable, error);
      return;
    }
    if (runnable.type !== 'test' || typeof runnable.titlePath !== 'function') {
      // mocha's phony "Uncaught error outside test suite" runnable
      this.core.runError(error);
      return;
    }
    const ref = this.ref(runnable);
    if (this.isFinished(ref)) {
      // Failed after it ended (an async error after the test passed): mocha counts it, we report it as a run
      // error rather than a second final result.
      this.core.runError(error);
      return;
    }
    this.result(runnable, 'failed', error);
  }

  private onHookFail(hook: MochaRunnable, error: unknown): void {
    const kind = hookKind(hook);
    const current = hook.ctx?.currentTest;
    let test: TestRef | undefined;
    if (current) {
      test =
        typeof current.titlePath === 'function'
          ? this.ref(current, 'unseen') // a before-all hook's currentTest has not begun; others are known
          : // parallel mode: currentTest is a {title, id} stub; its path is the hook's suite path + title
            { file: hook.file ?? '', titlePath: [...safeTitlePath(hook).slice(0, -1), current.title] };
    } else if (hook.file) {
      test = { file: hook.file, titlePath: [] };
    }
    this.core.hookFailed(test, error, kind ?? hook.originalTitle ?? hook.title);
    // before all / before each / after each failures make mocha skip the rest of the hook's suite; the tests
    // it will not run are reported as failed when the suite ends (serial mode: live suites know their tests).
    const suite = hook.parent;
    if (kind !== 'after all' && suite && Array.isArray(suite.tests) && !this.failedHooks.has(suite)) {
      this.failedHooks.set(suite, { title: hook.title, error });
    }
  }

  private settleFailedHook(suite: MochaSuite): void {
    const failure = this.failedHooks.get(suite);
    if (!failure) return;
    this.failedHooks.delete(suite);
    const hookError = failure.error as { message?: unknown; stack?: unknown; name?: unknown } | undefined;
    const reason = typeof hookError?.message === 'string' ? hookError.message : String(failure.error);
    const error = {
      name: typeof hookError?.name === 'string' ? hookError.name : 'Error',
      message: `${failure.title} failed: ${reason}`,
      stack: typeof hookError?.stack === 'string' ? hookError.stack : undefined,
    };
    const grep = this.runner._grep instanceof RegExp ? this.runner._grep : undefined;
    const invert = this.runner._invert === true;
    const visit = (s: MochaSuite) => {
      for (const test of s.tests ?? []) {
        if (grep && typeof test.fullTitle === 'function' && grep.test(test.fullTitle()) === invert) continue;
        const ref = this.ref(test, 'unseen');
        if (this.isFinished(ref)) continue;
        const pending = typeof test.isPending === 'function' ? test.isPending() : test.pending === true;
        if (pending) this.result(test, this.pendingKind(test));
        else this.result(test, 'failed', error, false, 'hook failed');
        this.finishedRefs.push(ref);
      }
      for (const child of s.suites ?? []) visit(child);
    };
    visit(suite);
  }

  private result(
    test: MochaRunnable,
    outcome: MochaOutcome,
    error?: unknown,
    willRetry = false,
    rawStatus?: string,
  ): void {
    const ref = this.ref(test);
    this.noteTest(ref, test.file);
    const started = this.startedAt.get(test);
    const duration =
      typeof test.duration === 'number' ? test.duration : started !== undefined ? Date.now() - started : 0;
    const timedOut =
      outcome === 'failed' && (error as { code?: unknown } | undefined)?.code === MOCHA_TIMEOUT_CODE;
    // Runs for every test: one object, no spreads.
    const result: TestOutcome = {
      status: STATUS[outcome],
      rawStatus: rawStatus ?? (outcome === 'todo' ? 'pending' : outcome),
      duration: outcome === 'pending' || outcome === 'todo' ? 0 : duration,
      attempt: attemptOf(test),
    };
    if (willRetry) result.willRetry = true;
    if (timedOut) result.timedOut = true;
    if (error !== undefined) result.errors = [error];
    if (started !== undefined) result.startedAt = started;
    this.core.testResult(ref, result);
  }

  private pendingKind(test: MochaRunnable): 'pending' | 'todo' {
    return this.pending.classify(test) === 'todo' ? 'todo' : 'pending';
  }

  private onOutput(text: string, stream: 'stdout' | 'stderr', method: string | undefined): void {
    this.core.output(this.outputTarget, text, stream, method);
  }

  /** A new file: tell the core (serial: as the run reaches it; parallel: as its burst arrives). */
  private noteFile(file: string): void {
    if (file === this.lastFile) return;
    this.lastFile = file;
    this.core.fileStarted(file);
  }

  private noteTest(ref: TestRef, file: string | undefined): void {
    if (file) this.noteFile(file);
    if (!this.parallel) return;
    const key = keyOf(ref);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.core.testsDiscovered(1);
  }

  private isFinished(ref: TestRef): boolean {
    // key the refs finished since the last question
    for (; this.keyedRefs < this.finishedRefs.length; this.keyedRefs++)
      this.finishedKeys.add(keyOf(this.finishedRefs[this.keyedRefs]));
    return this.finishedKeys.has(keyOf(ref));
  }

  /**
   * The ref of a mocha test object. Tests that share a title path in one file (twins) get ordinals by
   * arrival, which is declaration order: a test that begins is the next twin (a retry — a clone with
   * currentRetry() > 0 — is the last one again), a pending test that did not begin is the next twin, a test
   * that never ran (its suite's hook failed) is the next twin, and any other event is about the last twin.
   * Serial mode hands out one object per test (remembered); parallel mode a new object per event, which is
   * why arrival, not the object, decides.
   */
  private ref(test: MochaRunnable, arrival: 'begin' | 'pending' | 'unseen' | 'other' = 'other'): TestRef {
    const known = this.refs.get(test);
    if (known) return known;
    const ref: TestRef = { file: test.file ?? '', titlePath: safeTitlePath(test) };
    const key = keyOf(ref, false);
    let twins = this.twins.get(key);
    if (!twins) {
      twins = { count: 0, open: false };
      this.twins.set(key, twins);
    }
    const next =
      twins.count === 0 ||
      arrival === 'unseen' ||
      (arrival === 'begin' && attemptOf(test) === 1) ||
      (arrival === 'pending' && !twins.open);
    if (next) twins.count++;
    if (arrival === 'begin') twins.open = true;
    const ordinal = twins.count - 1;
    if (ordinal > 0) ref.ordinal = ordinal;
    this.refs.set(test, ref);
    this.twinsOf.set(ref, twins);
    return ref;
  }
}

/**
 * A reporter class with defaults baked in — for programmatic use (`new Mocha({reporter: …})`) and tests:
 * `createTestwireReporter({ sink: (event) => events.push(event), reporter: 'none' })`. Options given on the
 * command line still win over these defaults.
 */
export function createTestwireReporter(defaults: TestwireReporterDefaults): typeof TestwireReporter {
  return class ConfiguredTestwireReporter extends TestwireReporter {
    static defaults = defaults;
  };
}

function attemptOf(test: MochaRunnable): number {
  const retry = typeof test.currentRetry === 'function' ? test.currentRetry() : 0;
  return typeof retry === 'number' && retry >= 0 ? retry + 1 : 1;
}

function hookKind(hook: MochaRunnable): HookKind | undefined {
  const match = HOOK_KIND.exec(hook.originalTitle ?? hook.title ?? '');
  return match ? (match[1] as HookKind) : undefined;
}

function isEachHook(hook: MochaRunnable): boolean {
  const kind = hookKind(hook);
  return kind === 'before each' || kind === 'after each';
}

function safeTitlePath(runnable: MochaRunnable): string[] {
  try {
    const path = runnable.titlePath();
    return Array.isArray(path) ? path.map(String) : [String(runnable.title)];
  } catch {
    return [String(runnable.title)];
  }
}

/** A test's key: with its ordinal (one test), or without (every twin of a title path). */
function keyOf(ref: TestRef, withOrdinal = true): string {
  return JSON.stringify([ref.file, ref.titlePath, withOrdinal ? (ref.ordinal ?? 0) : 0]);
}

/** The run options worth showing on test.started (JSON primitives only). */
function pickOptions(options: MochaReporterOptions): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of [
    'parallel',
    'jobs',
    'retries',
    'timeout',
    'slow',
    'bail',
    'dryRun',
    'forbidOnly',
    'ui',
  ]) {
    const value = options[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      picked[key] = value;
  }
  if (options.grep !== undefined && options.grep !== null) picked.grep = String(options.grep);
  return picked;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function warn(text: string): void {
  try {
    process.stderr.write(`testwire: ${text}\n`);
  } catch {
    // stderr closed
  }
}
