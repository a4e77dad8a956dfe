/**
 * @testwire/mocha — a mocha reporter (mocha 10, 11, 12) streaming live test events through testwire.
 *
 *   mocha --reporter @testwire/mocha [--reporter-option reporter=spec]
 *
 * The CommonJS entry *is* the reporter class (`module.exports = TestwireReporter`) because mocha
 * `require`s a reporter and does not unwrap `.default`; `default` and the named exports are attached to it.
 */
import { TestwireReporter } from './reporter.js';

export type { C8Start } from './c8.js';
export { type ParsedOptions, parseReporterOptions, type TestwireMochaOptions } from './options.js';
export { createTestwireReporter, TestwireReporter, type TestwireReporterDefaults } from './reporter.js';
export default TestwireReporter;
