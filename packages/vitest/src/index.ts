/**
 * @testwire/vitest — a Vitest reporter (Vitest 3, 4 and 5) that streams the run live through testwire.
 *
 *   // vitest.config.ts
 *   export default defineConfig({ test: { reporters: ['default', '@testwire/vitest'] } });
 */
import { TestwireVitestReporter } from './reporter.js';

export { outcomesOf, STATUS, statusOf } from './outcome.js';
export { type TestwireVitestOptions, TestwireVitestReporter } from './reporter.js';
export type * from './vitest-types.js';
export default TestwireVitestReporter;
