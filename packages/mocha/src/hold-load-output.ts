/**
 * The main process's hold on what the test files print while mocha loads them (load-output.ts): started when
 * mocha loads this package as its reporter (index.ts), taken by the reporter when it is made (reporter.ts), or
 * by the run of a file that failed to load, which mocha ends before it makes one (load-failure.ts).
 * Its own file, apart from load-output.ts, because it reads the environment's switches with the core's
 * reading, and the `--parallel` workers' reporter (worker-reporter.ts), which uses load-output.ts, must not
 * load the core for it.
 */
import { resolve } from 'node:path';
import { type ReporterCore, switchedOff, turnedOffByEnv } from '@testwire/reporter-core';
import { currentStack, type HeldOutput, LoadOutput, writtenFrom } from './load-output.js';

/** This process's capture of the test files' loading (serial mode), when one was started (index.ts). */
let loading: LoadOutput | undefined;

/**
 * Starts holding output when mocha is loading this package as its reporter (`mocha --reporter
 * @testwire/mocha`, a .mocharc, `new Mocha({ reporter: '@testwire/mocha' })`): a tool or a test that imports
 * the package, or a program that passes mocha the reporter class, starts nothing. Not with TESTWIRE=off or
 * TESTWIRE_CAPTURE_OUTPUT=0.
 */
export function holdLoadOutput(env: NodeJS.ProcessEnv = process.env): void {
  if (loading || !loadOutputWanted(env) || !loadedAsMochaReporter()) return;
  loading = new LoadOutput().start();
}

/** Stops the capture holdLoadOutput started, and returns what it held (nothing when none was started). */
export function takeLoadOutput(): HeldOutput[] {
  const held = loading;
  loading = undefined;
  held?.stop();
  return held?.take() ?? [];
}

/**
 * What the test files printed while mocha loaded them, as each file's output (mocha's `files`: the run's test
 * files). What none of them wrote (mocha's own warnings) is not the tests' output.
 */
export function sendLoadOutput(core: ReporterCore, held: readonly HeldOutput[], files: unknown): void {
  if (held.length === 0) return;
  const testFiles = new Set(Array.isArray(files) ? files.map((file) => resolve(String(file))) : []);
  for (const output of held) {
    const file = writtenFrom(output, testFiles);
    if (file) core.output({ file, titlePath: [] }, output.text, output.stream, output.method);
  }
}

/**
 * Whether testwire and its output capture are on, as far as the environment says (options come later), read
 * as the core reads both switches.
 */
function loadOutputWanted(env: NodeJS.ProcessEnv): boolean {
  return !turnedOffByEnv(env) && !switchedOff(env.TESTWIRE_CAPTURE_OUTPUT);
}

/**
 * mocha loading a reporter: its CLI checks `--reporter` by loading it (lib/cli/run-helpers: validateLegacyPlugin,
 * mocha 10 to 12), `new Mocha()` loads one it does not have yet (lib/mocha: Mocha#reporter; a worker of
 * `--parallel` loads its reporter so).
 */
const MOCHA_LOADS_REPORTER =
  /\bat (?:exports\.validateLegacyPlugin|Mocha\.reporter) \(.*[\\/]mocha[\\/]lib[\\/]/;

/** Whether mocha is loading the calling module as its reporter (a frame of its reporter loading on the stack). */
export function loadedAsMochaReporter(): boolean {
  return MOCHA_LOADS_REPORTER.test(currentStack());
}
