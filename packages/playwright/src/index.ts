/**
 * @testwire/playwright — Playwright Test reporter streaming live test events through testwire.
 *
 * `reporter: [['list'], ['@testwire/playwright', { …options }]]` in playwright.config. Playwright loads
 * reporters with `require()` and unwraps `.default`, so the class is the default export of both builds.
 */
import { TestwireReporter } from './reporter.js';

export { type TestwirePlaywrightOptions, TestwireReporter, toRawError } from './reporter.js';
export { attemptStatus, type PlaywrightStatus, STATUS, willRetry } from './status.js';
export { projectOf, relativeFile, titlePathOf } from './test-ref.js';
export default TestwireReporter;
