// CommonJS entry: `require('@testwire/jest')` is the reporter class itself (jest also accepts the
// `.default` of an ES module namespace, and some tools `require()` reporters and call `new` directly).
import { TestwireJestReporter } from './reporter.js';
import { JEST_STATUS, mapJestStatus } from './status.js';

const Reporter = TestwireJestReporter as typeof TestwireJestReporter & Record<string, unknown>;
for (const [key, value] of Object.entries({
  default: TestwireJestReporter,
  TestwireJestReporter,
  JEST_STATUS,
  mapJestStatus,
})) {
  Object.defineProperty(Reporter, key, { value, enumerable: false });
}
export = Reporter;
