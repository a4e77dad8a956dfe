/**
 * @testwire/mocha — a mocha reporter (mocha 10, 11, 12) streaming live test events through testwire.
 *
 *   mocha --reporter @testwire/mocha [--reporter-option reporter=spec]
 *
 * The CommonJS entry *is* the reporter class (`module.exports = TestwireReporter`) because mocha
 * `require`s a reporter and does not unwrap `.default`; `default` and the named exports are attached to it.
 */
import { startReporterThreadAhead } from '@testwire/reporter-core';
import { holdLoadOutput } from './hold-load-output.js';
import { watchLoadFailures } from './load-failure.js';
import { mochaLoaded } from './mocha-runtime.js';
import { TestwireReporter } from './reporter.js';

// Mocha makes its reporter just before the run, ~35 ms after loading it, and a run of a few files can be over
// ~25 ms later: started now, the reporter's thread comes up while mocha loads the test files, instead of the
// final hook waiting for all of its start (bench/README.md, "B2 in a short run"). Only when a mocha is what
// loads this module: a tool or a test that imports it for its types or options starts no thread.
if (mochaLoaded()) startReporterThreadAhead();
// mocha loads the test files after its reporter and before it makes it: what their top level prints is held
// until the run begins, then sent as their file's output (hold-load-output.ts). Only when mocha is loading this
// module as its reporter (a module that imports it for its types or options pays nothing).
if (mochaLoaded()) holdLoadOutput();
// mocha's CLI (serial mode) ends the run before it makes its reporter when a test file cannot load: that run
// is streamed from here (load-failure.ts). Only when mocha's CLI is loading this module as its reporter.
if (mochaLoaded()) watchLoadFailures();

export type { C8Start } from './c8.js';
export { type ParsedOptions, parseReporterOptions, type TestwireMochaOptions } from './options.js';
export { createTestwireReporter, TestwireReporter, type TestwireReporterDefaults } from './reporter.js';
export default TestwireReporter;
