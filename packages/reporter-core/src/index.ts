/**
 * @testwire/reporter-core — what every testwire runner adapter shares: run model, stable test ids,
 * progress, output, error normalization, performance sampling, and a never-blocking queue to the
 * broadcaster. Adapters stay thin: runner hook -> one core call.
 */

// The one deadline helper, for adapters (inlined at build from the broadcaster's timers).
export { TIMED_OUT, untilDeadline } from '@testwire/broadcaster/timers';
export type { TestStatus } from '@testwire/protocol';
export type {
  CoverageStartInfo,
  FrameworkErrorInfo,
  HeapSample,
  LeakInfo,
  PerformanceSample,
  ReporterCore,
  RunResultInfo,
  RunStartInfo,
  TestOutcome,
  TestRef,
} from './api.js';
export { builtFile, requireBuilt } from './built-file.js';
export type { CoreCall, CoreMethod } from './calls.js';
export { type CausedError, withCauses } from './causes.js';
export {
  COVERAGE_METRICS,
  type CoverageCounts,
  type CoverageMetric,
  type CoverageReport,
} from './coverage.js';
// Loaded on first use (dist/coverage.cjs): only a run with coverage calls them.
export {
  checkThresholds,
  coveragePct,
  coverageTotals,
  istanbulReport,
  metricThresholds,
} from './coverage-loader.js';
export { createReporterCore, startReporterThreadAhead } from './create.js';
export type { BroadcasterLike } from './delivery.js';
export { detectCi, findPackageName } from './environment.js';
export { FRAMEWORK_ERROR_CODES, type FrameworkErrorCode } from './framework-errors.js';
export type { DetectedFramework } from './frameworks.js';
// Loaded on first use (dist/frameworks.cjs): the CLI's, no reporter's.
export { detectFrameworks } from './frameworks-loader.js';
export { createRunId, PathRelativizer, stableTestId } from './ids.js';
export { normalizeError } from './in-thread-loader.js';
export {
  type BaselineOptions,
  type ReporterCoreOptions,
  type ReporterOptions,
  switchedOff,
  turnedOffByEnv,
} from './options.js';
export { PathNode } from './path-map.js';
export { stripAnsi } from './text.js';
