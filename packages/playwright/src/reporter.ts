/**
 * The Playwright Test reporter: Playwright's reporter hooks -> @testwire/reporter-core calls.
 *
 * Runs in the Playwright runner process (never in workers), so one run has one core and one broadcaster.
 *
 *   onBegin ──────────> runStarted (total from suite.allTests(), files, shard)
 *   onTestBegin ──────> fileStarted (first test of a file) + testStarted (attempt = retry + 1)
 *   onStdOut/onStdErr > output (attributed to the running test, if any)
 *   onStepEnd ────────> testStep (`test.step` blocks; expect/hook/fixture/pw:api steps when opted in); a
 *                       beforeAll/afterAll step that failed is kept for its attempt's end
 *   onTestEnd ────────> hookFailed (each beforeAll/afterAll the attempt failed with), then testResult (one
 *                       per attempt; willRetry, expected-failure semantics; attachments by reference; each
 *                       error with the test.step it failed in)
 *   onError ──────────> fileFailed (a spec file that failed to load) or runError, named (outside-error.ts)
 *   onEnd ────────────> runCompleted (Playwright's run duration, interruptedBy 'maxFailures' when it stopped
 *                       there with tests left; awaited: test.completed + bounded flush)
 *   onExit ───────────> waits (bounded) for that flush if onEnd's was cut short
 *
 * A run is open from onBegin to onEnd; calls outside it are dropped. After the global timeout Playwright calls
 * onEnd without waiting for the worker it told to stop, and that worker's end of the interrupted test (its
 * steps, its output) can come after onEnd: passed on, it would open a second run in the core.
 *
 * Steps: `test.step` blocks stream by default (option `steps: false` for the lean stream); expect calls,
 * hooks, fixtures and API calls — dozens per test — only when named in `stepCategories`. A step goes out when
 * it ends (a parent after its children), with the titles of the steps around it.
 *
 * Every hook is guarded: in current Playwright an exception thrown by any reporter marks the whole run
 * failed (`hasReporterErrors`), and testwire must never change a run's outcome.
 */
import type {
  FullConfig,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestError,
  TestResult,
  TestStep,
} from '@playwright/test/reporter';
import {
  createReporterCore,
  type ReporterCore,
  type ReporterCoreOptions,
  type ReporterOptions,
  stripAnsi,
  untilDeadline,
} from '@testwire/reporter-core';
import { failingSteps } from './failing-step.js';
import { stoppedAtMaxFailures } from './max-failures.js';
import { classifyOutsideError } from './outside-error.js';
import { attemptStatus, willRetry } from './status.js';
import { specFileOf, TestRefs } from './test-ref.js';

/**
 * Options of `['@testwire/playwright', { … }]` in `playwright.config`. All optional; the environment
 * variables of the broadcaster (`TESTWIRE_PORT`, `TESTWIRE_URL`, `TESTWIRE=off`, …) apply when unset.
 * `project` names the run; each test's `project` is its Playwright project name.
 */
export type TestwirePlaywrightOptions = ReporterOptions;

/** What Playwright passes to a reporter's constructor: the tuple's options plus its own keys. */
type PlaywrightReporterArgs = TestwirePlaywrightOptions & { configDir?: string; _mode?: string };

/**
 * Option values are checked by reporter-core, which warns once and falls back to the default for a bad
 * one: a reporter option typo must not fail the user's test run.
 */
function asOptions(options: unknown): PlaywrightReporterArgs {
  return typeof options === 'object' && options !== null && !Array.isArray(options)
    ? (options as PlaywrightReporterArgs)
    : {};
}

type RawError = { name?: string; message: string; stack?: string; cause?: RawError };

/** A test's error with the titles of the `test.step` it failed in (reporter-core keeps them as `step`). */
type StepError = RawError & { step?: string[] };

/** Playwright ≥ 1.49 serializes an error's `cause` too (older versions' type lacks the field). */
type TestErrorWithCause = TestError & { cause?: TestError };

/** Causes followed at most (the core keeps five). */
const MAX_CAUSES = 5;

const TYPE_PREFIX = /^([A-Z][\w$]*(?:Error|Exception)|Error):\s/;

/**
 * Playwright's `TestError` is already serialized (no prototype, no `name`), its message coloured for the
 * terminal and prefixed with the class name (`Error: expect(received)…`). Rebuild an Error-like value the
 * core normalizes like any other runner's error. The matcher's expected and received values exist only as
 * text in the message (no `matcherResult` reaches reporters): the core reads them from there.
 */
export function toRawError(error: TestErrorWithCause, depth = 0): RawError {
  const message = stripAnsi(error.message ?? error.value ?? 'Unknown error');
  const stack = error.stack === undefined ? undefined : stripAnsi(error.stack);
  const named = TYPE_PREFIX.exec(message) ?? TYPE_PREFIX.exec(stack ?? '');
  const raw: RawError = {
    message: named && message.startsWith(named[0]) ? message.slice(named[0].length) : message,
  };
  if (named) raw.name = named[1];
  if (stack) raw.stack = stack;
  else if (error.location) {
    // Errors outside tests (a file that fails to load) carry only a location: keep it as a stack frame.
    raw.stack = `${raw.name ?? 'Error'}: ${raw.message}\n    at ${error.location.file}:${error.location.line}:${error.location.column}`;
  }
  // Its causes, for the core to keep in the message (`Caused by: …`, as for every runner).
  if (error.cause && depth < MAX_CAUSES) raw.cause = toRawError(error.cause, depth + 1);
  return raw;
}

/**
 * Playwright Test reporter streaming the run through testwire. Prints nothing: Playwright keeps its own
 * terminal reporter (`printsToStdio()` is false), and the run's exit code and output are unchanged.
 *
 * ```ts
 * // playwright.config.ts
 * export default defineConfig({ reporter: [['list'], ['@testwire/playwright']] });
 * ```
 */
export class TestwireReporter implements Reporter {
  readonly #options: PlaywrightReporterArgs;
  #core: ReporterCore | undefined;
  #refs: TestRefs | undefined;
  readonly #startedFiles = new Set<string>();
  /** The run's tests (onBegin): those without a final result when it ends are settled then (#settleUnended). */
  #suite: Suite | undefined;
  /** The run's config (onBegin): its maxFailures, globalSetup and globalTeardown. */
  #config: FullConfig | undefined;
  /** Tests whose last attempt ended; tests that began an attempt, with its number. */
  readonly #ended = new Set<TestCase>();
  readonly #began = new Map<TestCase, number>();
  /** beforeAll/afterAll steps of an attempt that ended with an error, until the attempt's end (#hookFailures). */
  readonly #failedHooks = new Map<TestResult, { hook: AllHook; error: TestError }[]>();
  #completion: Promise<void> | undefined;
  /** From onBegin to onEnd: the only time the run's tests may reach the core (#openCore). */
  #open = false;

  constructor(options?: TestwirePlaywrightOptions) {
    this.#options = asOptions(options);
  }

  /** testwire does not print; Playwright adds its default terminal reporter when no other one prints. */
  printsToStdio(): boolean {
    return false;
  }

  /** Once, after all tests are collected (sharding and filters applied): the run starts. */
  onBegin(config: FullConfig, suite: Suite): void {
    guard(() => {
      const core = this.#ensureCore(config);
      if (!core) return;
      this.#startedFiles.clear();
      this.#ended.clear();
      this.#began.clear();
      this.#failedHooks.clear();
      this.#suite = suite;
      this.#config = config;
      this.#open = true;
      this.#refs!.useProjects(suite);
      const tests = suite.allTests();
      const files = new Set<string>();
      // The spec files (a test may be declared in a helper they import); as given: the core makes them
      // root-relative once per file, as it does the tests' files.
      for (const test of tests) files.add(specFileOf(test));
      const projects = config.projects.map((project) => project.name).filter(Boolean);
      core.runStarted({
        totalTests: tests.length,
        testFiles: [...files],
        options: {
          workers: config.workers,
          retries: Math.max(0, ...config.projects.map((project) => project.retries)),
          ...(projects.length ? { projects } : {}),
          ...(config.maxFailures ? { maxFailures: config.maxFailures } : {}),
        },
        ...(config.shard ? { shard: { current: config.shard.current, total: config.shard.total } } : {}),
        ...(config.configFile ? { configPath: config.configFile } : {}),
        testPatterns: testPatternsOf(config),
      });
    });
  }

  /** Each attempt of a test, in a worker: `running` progress; the first test of a file starts the file. */
  onTestBegin(test: TestCase, result: TestResult): void {
    guard(() => {
      const core = this.#openCore();
      if (!core) return;
      const ref = this.#refs!.get(test);
      if (!this.#startedFiles.has(ref.file)) {
        this.#startedFiles.add(ref.file);
        core.fileStarted(ref.file);
      }
      this.#began.set(test, result.retry + 1);
      // Its own timeout (0: none): past it plus a grace, a test that has not ended is hung.
      core.testStarted(ref, result.retry + 1, test.timeout);
    });
  }

  /**
   * A step ended (in a worker): test.step, if its category is streamed. A beforeAll/afterAll step that ended
   * with an error is kept for the attempt's end (#hookFailures).
   */
  onStepEnd(test: TestCase, result: TestResult, step: TestStep): void {
    guard(() => {
      const core = this.#openCore();
      if (!core) return;
      if (step.category === 'hook' && step.error) {
        const hook = allHookOf(test, step);
        if (hook) {
          const failed = this.#failedHooks.get(result);
          if (failed) failed.push({ hook, error: step.error });
          else this.#failedHooks.set(result, [{ hook, error: step.error }]);
        }
      }
      if (!core.wantsStep(step.category)) return;
      const parents: string[] = [];
      for (let parent = step.parent; parent; parent = parent.parent) parents.unshift(parent.title);
      core.testStep(this.#refs!.get(test), {
        title: step.title,
        category: step.category,
        parents,
        startedAt: step.startTime.getTime(),
        duration: step.duration,
        attempt: result.retry + 1,
        ...(step.error ? { error: toRawError(step.error) } : {}),
        ...(step.location
          ? { file: step.location.file, line: step.location.line, column: step.location.column }
          : {}),
      });
    });
  }

  /** Each attempt's end: one `test.result` per attempt; failing attempts that will be retried say so. */
  onTestEnd(test: TestCase, result: TestResult): void {
    guard(() => {
      const core = this.#openCore();
      if (!core) return;
      const status = attemptStatus(test, result);
      const retrying = willRetry(test, result);
      if (!retrying) this.#ended.add(test);
      this.#hookFailures(core, test, result);
      core.testResult(this.#refs!.get(test), {
        status,
        rawStatus: result.status,
        duration: result.duration,
        attempt: result.retry + 1,
        willRetry: retrying,
        // Playwright's verdict: a serial group's retry runs its passing tests again, and they are not flaky.
        ...(result.retry > 0 && status === 'passed' ? { flaky: test.outcome() === 'flaky' } : {}),
        timedOut: result.status === 'timedOut',
        errors: errorsOf(test, result),
        startedAt: result.startTime.getTime(),
        // The worker slot (stable across worker restarts), so the dashboard's timeline has real lanes.
        ...(result.parallelIndex >= 0 ? { worker: String(result.parallelIndex) } : {}),
        ...(result.attachments?.length > 0 ? { attachments: attachmentsOf(result) } : {}),
        ...(test.annotations?.length > 0 ? { annotations: annotationsOf(test) } : {}),
      });
    });
  }

  /**
   * The beforeAll/afterAll hooks that failed during this attempt: Playwright fails the test they ran for
   * with their error (a beforeAll's group then does not run its other tests), and tells reporters no more
   * than the hook's step. One hook failure per failed hook step whose error the attempt failed with (a
   * beforeAll that calls `test.skip()` ends its step with an error too, but skips the test: not a failure).
   */
  #hookFailures(core: ReporterCore, test: TestCase, result: TestResult): void {
    const failed = this.#failedHooks.get(result);
    if (!failed) return;
    this.#failedHooks.delete(result);
    for (const { hook, error } of failed) {
      if (!result.errors.some((counted) => counted.message === error.message)) continue;
      core.hookFailed(this.#refs!.get(test), toRawError(error), hook);
    }
  }

  /** Worker stdout; `test` is undefined for output between tests (hooks of `beforeAll`, worker teardown). */
  onStdOut(chunk: string | Buffer, test?: TestCase, _result?: TestResult): void {
    this.#output(chunk, test, 'stdout');
  }

  /** Worker stderr, as `onStdOut`. */
  onStdErr(chunk: string | Buffer, test?: TestCase, _result?: TestResult): void {
    this.#output(chunk, test, 'stderr');
  }

  /**
   * An error outside any test: a file that fails to load (before any test began, with its location: the
   * file failed), the globalSetup/globalTeardown or webServer failing, no test found, a worker crash,
   * `maxFailures` reached, the global timeout (the run's). outside-error.ts tells which.
   */
  onError(error: TestError): void {
    guard(() => {
      const core = this.#openCore();
      if (!core) return;
      const outside = classifyOutsideError(this.#config, error, this.#began.size > 0);
      if (outside.kind === 'file') core.fileFailed(outside.file, toRawError(error));
      else core.runError(toRawError(error), outside.info);
    });
  }

  /**
   * After all tests (or an interruption). Awaited by Playwright, so the final flush happens here.
   * Returns nothing: a returned status would override the run's outcome.
   */
  async onEnd(result: FullResult): Promise<void> {
    await guardAsync(async () => {
      const core = this.#openCore();
      if (!core) return;
      this.#open = false;
      const left = this.#settleUnended(core);
      this.#failedHooks.clear();
      const maxFailures = stoppedAtMaxFailures(this.#config?.maxFailures, result.status, this.#ended, left);
      this.#completion = core.runCompleted({
        success: result.status === 'passed',
        rawStatus: result.status,
        interrupted: result.status === 'interrupted' || maxFailures,
        ...(maxFailures ? { interruptedBy: 'maxFailures' } : {}),
        // Playwright's own measure (its summary line, the JSON report's stats.duration): it starts before
        // onBegin (loading and collecting the test files), so the core's onBegin-to-onEnd falls short of it.
        duration: result.duration,
      });
      await this.#completion;
    });
  }

  /**
   * Right before the runner exits. The flush of `onEnd` is already bounded by `flushTimeoutMs`; this only
   * makes sure it settled (Playwright could reach here with onEnd's promise still pending if another
   * reporter's onEnd threw), bounded by the same timeout.
   */
  async onExit(): Promise<void> {
    const completion = this.#completion;
    if (!completion) return;
    const bound = this.#core?.holdBoundMs ?? 0;
    await guardAsync(() => untilDeadline(completion, Date.now() + bound));
  }

  /**
   * The core while the run is open (onBegin to onEnd), else undefined. A test's end that Playwright reports
   * after onEnd (the global timeout's interrupted test) changes nothing: onEnd settled that test already,
   * as Playwright's own report counted it (`did not run` / interrupted), so it is dropped, not sent as a
   * second result.
   */
  #openCore(): ReporterCore | undefined {
    return this.#open ? this.#core : undefined;
  }

  /**
   * The run's tests Playwright ended without a final result (`--max-failures`, the global timeout, Ctrl-C):
   * skipped, as Playwright's own report counts them. One still running when the run stopped gets the result
   * of its attempt as `interrupted`, one that never began as `skipped`. Playwright may end the running one
   * itself, before onEnd (it then has its own result) or after it (dropped: the run is closed). Returns how
   * many it settled.
   */
  #settleUnended(core: ReporterCore): number {
    let left = 0;
    for (const test of this.#suite?.allTests() ?? []) {
      if (this.#ended.has(test)) continue;
      left++;
      const attempt = this.#began.get(test);
      core.testResult(this.#refs!.get(test), {
        status: 'skipped',
        rawStatus: attempt === undefined ? 'skipped' : 'interrupted',
        duration: 0,
        attempt: attempt ?? 1,
      });
    }
    return left;
  }

  #output(chunk: string | Buffer, test: TestCase | undefined, stream: 'stdout' | 'stderr'): void {
    guard(() => {
      const core = this.#openCore();
      if (!core || this.#options.captureOutput === false) return;
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      core.output(test ? this.#refs!.get(test) : undefined, text, stream);
    });
  }

  #ensureCore(config: FullConfig): ReporterCore | undefined {
    // `playwright test --list` builds reporters too but runs nothing: no run to stream.
    if (this.#options._mode === 'list') return undefined;
    if (this.#core) return this.#core;
    const { configDir: _configDir, _mode, ...options } = this.#options;
    const coreOptions: ReporterCoreOptions = {
      ...pickDefined(options),
      framework: 'playwright',
      // Tests run in worker processes: a hung test never blocks this thread.
      testsOffThread: true,
      frameworkVersion: config.version,
      rootDir: config.rootDir,
    };
    this.#core = createReporterCore(coreOptions);
    this.#refs = new TestRefs(config.rootDir);
    return this.#core;
  }
}

type AllHook = 'beforeAll' | 'afterAll';

/** A hook as Playwright's suites keep it (`Suite._hooks`, not part of the reporter API: read defensively). */
type SuiteHook = { type?: unknown; location?: { file?: unknown; line?: unknown; column?: unknown } };

/**
 * Whether a `hook` step is a beforeAll/afterAll: by the hook its location is the declaration of (the suites
 * keep their hooks, with a titled one's type), else by the title Playwright gives an untitled one
 * (`beforeAll hook`, `afterAll hook`). beforeEach/afterEach, modifiers and the `Before Hooks` /
 * `After Hooks` / `Worker Cleanup` steps around them are not.
 */
export function allHookOf(test: TestCase, step: TestStep): AllHook | undefined {
  const location = step.location;
  if (location) {
    for (let suite: Suite | undefined = test.parent; suite; suite = suite.parent) {
      const hooks = (suite as unknown as { _hooks?: unknown })._hooks;
      if (!Array.isArray(hooks)) continue;
      for (const hook of hooks as SuiteHook[]) {
        const at = hook?.location;
        if (at?.file !== location.file || at.line !== location.line || at.column !== location.column)
          continue;
        return hook.type === 'beforeAll' || hook.type === 'afterAll' ? hook.type : undefined;
      }
    }
  }
  const titled = /^(beforeAll|afterAll) hook$/.exec(step.title);
  return titled ? (titled[1] as AllHook) : undefined;
}

/**
 * An attempt's errors, each with the `test.step` it failed in when Playwright names one (failing-step.ts). A
 * `test.fail()` test that passed has none from Playwright, which prints `Expected to fail, but passed.` for
 * it: the stream says the same (the core would otherwise say `Test failed (passed)`).
 */
function errorsOf(test: TestCase, result: TestResult): StepError[] {
  if (result.status === 'passed' && test.expectedStatus === 'failed') return [expectedToFail(test)];
  // Most attempts pass: nothing to look for in their steps.
  if (result.errors.length === 0) return [];
  const steps = failingSteps(result);
  return result.errors.map((error, index) => {
    const raw: StepError = toRawError(error);
    const step = steps[index];
    if (step) raw.step = step;
    return raw;
  });
}

/**
 * The failure of a `test.fail()` test that passed, as Playwright's terminal reporters word it, located at the
 * `test.fail()` that said so (its annotation's location: 1.65 has it, 1.40 not), else at the test.
 */
function expectedToFail(test: TestCase): StepError {
  const message = 'Expected to fail, but passed.';
  const marked = test.annotations?.find((annotation) => annotation.type === 'fail')?.location;
  const at = marked ?? test.location;
  return { message, stack: `Error: ${message}\n    at ${at.file}:${at.line}:${at.column}` };
}

/** Attachments by reference: name, type, the file's path (the core relativizes it); a body only by size. */
function attachmentsOf(result: TestResult) {
  return result.attachments.map((attachment) => ({
    name: attachment.name,
    contentType: attachment.contentType,
    ...(attachment.path ? { path: attachment.path } : {}),
    ...(attachment.body ? { size: attachment.body.length } : {}),
  }));
}

/** The test's annotations (`test.skip(reason)`, `test.slow()`, `test.info().annotations.push(…)`). */
function annotationsOf(test: TestCase) {
  return test.annotations.map((annotation) => ({
    type: annotation.type,
    message: annotation.description ?? '',
    ...(annotation.location
      ? { file: annotation.location.file, line: annotation.location.line, column: annotation.location.column }
      : {}),
  }));
}

/** Drops Playwright's private keys (`_commandHash`, …) and undefined values before they reach the core. */
function pickDefined(options: Record<string, unknown>): Partial<ReporterCoreOptions> {
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !key.startsWith('_')) picked[key] = value;
  }
  return picked as Partial<ReporterCoreOptions>;
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    warnOnce(error);
  }
}

async function guardAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    warnOnce(error);
  }
}

let warned = false;
/** A bug in testwire must not fail the user's run; say so once on stderr and carry on. */
function warnOnce(error: unknown): void {
  if (warned) return;
  warned = true;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `[testwire] @testwire/playwright: internal error, events may be incomplete: ${message}\n`,
  );
}
/** Each project's `testMatch` (globs as written, regexps as their source), once each. */
function testPatternsOf(config: FullConfig): string[] {
  const patterns = new Set<string>();
  for (const project of config.projects) {
    const match = project.testMatch;
    for (const one of Array.isArray(match) ? match : [match]) {
      if (typeof one === 'string') patterns.add(one);
      else if (one instanceof RegExp) patterns.add(one.source);
    }
  }
  return [...patterns];
}
