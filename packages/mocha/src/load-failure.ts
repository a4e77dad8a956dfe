/**
 * A test file that cannot load, serial mode: mocha's CLI loads the test files (Mocha#loadFilesAsync) before it
 * makes its reporter (in Mocha#run). A file that does not load — a syntax error, a module it requires that is
 * not there, a throw at its top level — rejects the load: mocha prints "Exception during run: …" and exits 1,
 * its reporter never made. This package is loaded by then (the CLI checks `--reporter` by loading it), so it
 * watches the load, and when it fails, streams the run mocha ended: a core made with the options the reporter
 * would have had, test.started, the file's failure (test.failed scope 'file' and framework.error, the file
 * named), test.completed (success: false), flushed (bounded) before mocha goes on to print the error and exit.
 *
 *   CLI: validateLegacyPlugin ─> this package loads ─> watchLoadFailures(): Mocha#loadFilesAsync wrapped
 *   singleRun: loadFilesAsync ─ pre-require a.js ✓ ─ pre-require b.js ✗ rejects
 *              └─> test.started, b.js failed to load, test.completed ─> flushed ─> the same rejection to mocha
 *
 * Only mocha's CLI (a program driving `new Mocha()` handles its own rejection), only a mocha whose reporter is
 * this one (the run mocha would have made it for), and not with TESTWIRE=off. `--parallel` loads no test file
 * in this process: its workers do, and mocha reports a file that fails there inside the run (reporter.ts).
 * Watch mode prints a load failure and keeps watching (not covered: its runs reload files in Mocha#run).
 */
import { createReporterCore, turnedOffByEnv, untilDeadline } from '@testwire/reporter-core';
import { sendLoadOutput, takeLoadOutput } from './hold-load-output.js';
import { currentStack } from './load-output.js';
import { type LoadedMocha, loadedMochas } from './mocha-runtime.js';
import type { MochaReporterOptions } from './mocha-types.js';
import { TestwireReporter } from './reporter.js';
import { runSetup, runStartInfo, tellOptionProblems } from './run-setup.js';

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

type LoadFilesAsync = (this: MochaInstance, ...args: unknown[]) => Promise<unknown>;

/** mocha's suite events around each file's load (Suite.constants, mocha 10 to 12). */
const PRE_REQUIRE = 'pre-require';
const POST_REQUIRE = 'post-require';

/** mocha's CLI loading its reporter: its check of `--reporter` (lib/cli/run-helpers, mocha 10 to 12). */
const MOCHA_CLI_LOADS_REPORTER = /\bat exports\.validateLegacyPlugin \(.*[\\/]mocha[\\/]lib[\\/]cli[\\/]/;

const WRAPPED = Symbol.for('testwire.mocha.loadFailures');

/**
 * Watches the loading of the test files of every Mocha loaded, when mocha's CLI is loading this package as
 * its reporter and testwire is not turned off.
 */
export function watchLoadFailures(env: NodeJS.ProcessEnv = process.env): void {
  if (turnedOffByEnv(env) || !MOCHA_CLI_LOADS_REPORTER.test(currentStack())) return;
  for (const mocha of loadedMochas()) wrapLoadFilesAsync(mocha);
}

function wrapLoadFilesAsync({ Mocha, version }: LoadedMocha): void {
  const prototype = Mocha.prototype as { loadFilesAsync?: unknown; [WRAPPED]?: boolean };
  const original = prototype.loadFilesAsync;
  if (typeof original !== 'function' || prototype[WRAPPED]) return;
  prototype[WRAPPED] = true;
  prototype.loadFilesAsync = function loadFilesAsync(this: MochaInstance, ...args: unknown[]) {
    const suite = this.suite;
    if (!isTestwireReporter(this._reporter) || !suite) return original.apply(this, args);
    // The file being loaded: mocha announces each before it loads it, and after.
    let loading: string | undefined;
    const pre = (_context: unknown, file: unknown) => {
      loading = typeof file === 'string' ? file : undefined;
    };
    const post = () => {
      loading = undefined;
    };
    suite.on(PRE_REQUIRE, pre);
    suite.on(POST_REQUIRE, post);
    const stop = () => {
      suite.removeListener(PRE_REQUIRE, pre);
      suite.removeListener(POST_REQUIRE, post);
    };
    return Promise.resolve((original as LoadFilesAsync).apply(this, args)).then(
      (value) => {
        stop();
        return value;
      },
      async (error: unknown) => {
        stop();
        await reportLoadFailure(this, loading, error, version);
        // mocha's own handling, as without testwire: it prints the error and exits 1
        throw error;
      },
    );
  };
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
 * run's, when no file was loading), test.completed; flushed, bounded as the reporter's own final flush. Never
 * throws: mocha's handling of the error comes next, whatever happens here.
 */
async function reportLoadFailure(
  mocha: MochaInstance,
  file: string | undefined,
  error: unknown,
  version: string | undefined,
): Promise<void> {
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
    if (!core.enabled) return;
    // mocha runs no test: none is counted
    core.runStarted(runStartInfo(options, 0));
    tellOptionProblems(core, setup.problems);
    if (core.captureOutput) sendLoadOutput(core, held, options.files);
    if (file) core.fileFailed(file, error);
    else core.runError(error);
    const flushed = core.runCompleted({ success: false, rawStatus: 'failed' });
    await untilDeadline(flushed, Date.now() + core.holdBoundMs, { ref: true });
  } catch {
    // never into mocha
  }
}
