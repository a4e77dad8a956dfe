/**
 * A test file that cannot load, serial mode: mocha loads the test files before it makes its reporter (in
 * Mocha#run), and a file that does not load — a syntax error, a module it requires that is not there, a throw
 * at its top level — ends the run before there is one. This package is loaded by then when mocha loads it as
 * its reporter by name (the CLI checks `--reporter` by loading it; `new Mocha({ reporter: '@testwire/mocha' })`
 * loads it in the constructor), so it watches the load, and when it fails, streams the run mocha ended: a core
 * made with the options the reporter would have had, test.started, the file's failure (test.failed scope 'file'
 * and framework.error, the file named), test.completed (success: false), flushed (bounded) before the error
 * goes on to whoever called mocha.
 *
 *   CLI:     singleRun: loadFilesAsync ─ pre-require a.js ✓ ─ pre-require b.js ✗ rejects
 *                       └─> test.started, b.js failed to load, test.completed ─> flushed ─> the same rejection
 *                           to mocha (it prints "Exception during run: …" and exits 1)
 *   program: mocha.run() ─> loadFiles ─ require b.js ✗ throws ─> the same, flushed blocking ─> the same throw
 *            out of mocha.run() (or the rejection of `await mocha.loadFilesAsync()`), the program's to handle
 *   --watch: each run's mocha.run() ─> loadFiles ✗ ─> the same (a run of its own) ─> mocha prints the error
 *            and keeps watching
 *
 * Only a mocha whose reporter is this one (the run mocha would have made it for), and not with TESTWIRE=off. A
 * program that hands mocha the reporter class (createTestwireReporter) is not covered: mocha does not load this
 * package then, and nothing here runs. `--parallel` loads no test file in this process: its workers do, and
 * mocha reports a file that fails there inside the run (reporter.ts).
 */
import {
  createReporterCore,
  type ReporterCore,
  turnedOffByEnv,
  untilDeadline,
} from '@testwire/reporter-core';
import { loadedAsMochaReporter, sendLoadOutput, takeLoadOutput } from './hold-load-output.js';
import { type LoadedMocha, loadedMochas } from './mocha-runtime.js';
import type { MochaReporterOptions } from './mocha-types.js';
import { TestwireReporter } from './reporter.js';
import { runSetup, runStartInfo, tellOptionProblems } from './run-setup.js';
import { withSyntaxLocation } from './syntax-location.js';

/** What the wrapper uses of a Mocha instance (mocha 10 to 12). */
interface MochaInstance {
  options?: MochaReporterOptions;
  files?: string[];
  /** The reporter class Mocha#run will make (Mocha#reporter). */
  _reporter?: unknown;
  suite?: {
    on(event: string, listener: (...args: unknown[]) => void): unknown;
    removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  };
}

type LoadFiles = (this: MochaInstance, ...args: unknown[]) => unknown;

const WRAPPED = Symbol.for('testwire.mocha.loadFailures');

/** Mocha.prototype, as far as the wrappers go. */
interface MochaPrototype {
  loadFiles?: unknown;
  loadFilesAsync?: unknown;
  [WRAPPED]?: boolean;
}

/** mocha's suite events around each file's load (Suite.constants, mocha 10 to 12). */
const PRE_REQUIRE = 'pre-require';
const POST_REQUIRE = 'post-require';

/**
 * Watches the loading of the test files of every Mocha loaded, when mocha is loading this package as its
 * reporter (its CLI, or `new Mocha({ reporter: '@testwire/mocha' })`) and testwire is not turned off.
 */
export function watchLoadFailures(env: NodeJS.ProcessEnv = process.env): void {
  if (turnedOffByEnv(env) || !loadedAsMochaReporter()) return;
  for (const mocha of loadedMochas()) wrapLoads(mocha);
}

/**
 * Both ways mocha loads test files: Mocha#loadFilesAsync (the CLI's single run; a program's `await
 * mocha.loadFilesAsync()`) and Mocha#loadFiles, the `require` of each file Mocha#run does itself when they are
 * not loaded yet (a program's plain `mocha.run()`; every run of `--watch`), throwing out of Mocha#run before it
 * makes its reporter.
 */
function wrapLoads({ Mocha, version }: LoadedMocha): void {
  const prototype = Mocha.prototype as MochaPrototype;
  if (prototype[WRAPPED]) return;
  prototype[WRAPPED] = true;
  const loadFilesAsync = prototype.loadFilesAsync;
  if (typeof loadFilesAsync === 'function')
    prototype.loadFilesAsync = function (this: MochaInstance, ...args: unknown[]) {
      const loading = watchLoading(this);
      if (!loading) return (loadFilesAsync as LoadFiles).apply(this, args);
      return Promise.resolve((loadFilesAsync as LoadFiles).apply(this, args)).then(
        (value) => {
          loading.stop();
          return value;
        },
        async (error: unknown) => {
          loading.stop();
          const ended = streamLoadFailure(this, loading.file, error, version);
          if (ended)
            await untilDeadline(ended.core.runCompleted(FAILED), Date.now() + ended.core.holdBoundMs, {
              ref: true,
            });
          // mocha's own handling, as without testwire: the CLI prints the error and exits 1
          throw error;
        },
      );
    };
  const loadFiles = prototype.loadFiles;
  if (typeof loadFiles === 'function')
    prototype.loadFiles = function (this: MochaInstance, ...args: unknown[]) {
      const loading = watchLoading(this);
      if (!loading) return (loadFiles as LoadFiles).apply(this, args);
      try {
        return (loadFiles as LoadFiles).apply(this, args);
      } catch (error) {
        loading.stop();
        // a file's require threw (not the callback mocha calls once all are loaded)
        if (loading.file) completeNow(streamLoadFailure(this, loading.file, error, version));
        throw error;
      } finally {
        loading.stop();
      }
    };
}

/** The run of a file that did not load has failed. */
const FAILED = { success: false, rawStatus: 'failed' } as const;

/**
 * A synchronous load failure is thrown on at once, into whoever called Mocha#run: a program may exit right
 * after it. The run is flushed first, blocking this thread (bounded, as the reporter's own final flush) while
 * the core's thread sends; an in-thread core cannot flush so, and flushes as it can.
 */
function completeNow(ended: { core: ReporterCore } | undefined): void {
  if (!ended) return;
  try {
    if (ended.core.completeBeforeExit) ended.core.completeBeforeExit(FAILED);
    else void ended.core.runCompleted(FAILED);
  } catch {
    // never into mocha
  }
}

/** The file mocha is loading, while it loads the files of a Mocha whose reporter is this package's. */
interface Loading {
  readonly file: string | undefined;
  stop(): void;
}

function watchLoading(mocha: MochaInstance): Loading | undefined {
  const suite = mocha.suite;
  if (!isTestwireReporter(mocha._reporter) || !suite) return undefined;
  // mocha announces each file before it loads it, and after
  const loading: { file: string | undefined; stop(): void } = {
    file: undefined,
    stop: () => {
      suite.removeListener(PRE_REQUIRE, pre);
      suite.removeListener(POST_REQUIRE, post);
    },
  };
  const pre = (_context: unknown, file: unknown) => {
    loading.file = typeof file === 'string' ? file : undefined;
  };
  const post = () => {
    loading.file = undefined;
  };
  suite.on(PRE_REQUIRE, pre);
  suite.on(POST_REQUIRE, post);
  return loading;
}

/** The reporter mocha would have made is this package's (or a class of createTestwireReporter). */
function isTestwireReporter(reporter: unknown): boolean {
  return (
    typeof reporter === 'function' &&
    (reporter === TestwireReporter || reporter.prototype instanceof TestwireReporter)
  );
}

/**
 * The run mocha ended while loading its files: test.started, the failure of the file that did not load (the
 * run's, when no file was loading); test.completed is the caller's (awaited, or blocking). Never throws:
 * mocha's handling of the error comes next, whatever happens here. Undefined when testwire is off.
 */
function streamLoadFailure(
  mocha: MochaInstance,
  file: string | undefined,
  error: unknown,
  version: string | undefined,
): { core: ReporterCore } | undefined {
  try {
    const options: MochaReporterOptions = { ...mocha.options, files: mocha.files };
    const defaults = (mocha._reporter as { defaults?: Parameters<typeof runSetup>[1] }).defaults;
    const setup = runSetup(options, defaults, version);
    if (setup.problems.length > 0)
      process.stderr.write(
        `testwire: invalid reporter options: ${setup.problems.join('; ')} (using defaults)\n`,
      );
    const core = createReporterCore(setup.coreOptions);
    const held = takeLoadOutput();
    if (!core.enabled) return undefined;
    // mocha runs no test: none is counted
    core.runStarted(runStartInfo(options, 0));
    tellOptionProblems(core, setup.problems);
    if (core.captureOutput) sendLoadOutput(core, held, options.files);
    // a file that does not parse: where, as mocha prints it (the error's first frame)
    const located = withSyntaxLocation(error);
    if (file) core.fileFailed(file, located);
    else core.runError(located);
    return { core };
  } catch {
    // never into mocha
    return undefined;
  }
}
