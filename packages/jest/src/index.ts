/**
 * @testwire/jest — a Jest 29/30 reporter that streams live test events through testwire.
 *
 *   // jest.config.js
 *   module.exports = { reporters: ['default', '@testwire/jest'] };
 */
import { TestwireJestReporter } from './reporter.js';

export { type TestwireJestOptions, TestwireJestReporter } from './reporter.js';
export { JEST_STATUS, type JestStatus, mapJestStatus } from './status.js';
export default TestwireJestReporter;
