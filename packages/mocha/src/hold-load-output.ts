/**
 * The main process's hold on what the test files print while mocha loads them (load-output.ts): started when
 * mocha loads this package as its reporter (index.ts), taken by the reporter when it is made (reporter.ts).
 * Its own file, apart from load-output.ts, because it reads the environment's switches with the core's
 * reading, and the `--parallel` workers' reporter (worker-reporter.ts), which uses load-output.ts, must not
 * load the core for it.
 */
import { switchedOff, turnedOffByEnv } from '@testwire/reporter-core';
import { currentStack, type HeldOutput, LoadOutput } from './load-output.js';

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
function loadedAsMochaReporter(): boolean {
  return MOCHA_LOADS_REPORTER.test(currentStack());
}
