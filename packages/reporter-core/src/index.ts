/**
 * @testwire/reporter-core — what every testwire runner adapter shares: run model, stable test ids,
 * progress, output, error normalization, performance sampling, and a never-blocking queue to the
 * broadcaster. Adapters stay thin: runner hook -> one core call.
 */

export type { TestStatus } from '@testwire/protocol';
export type {
  CoverageStartInfo,
  FrameworkErrorInfo,
  HeapSample,
  PerformanceSample,
  ReporterCore,
  RunResultInfo,
  RunStartInfo,
  TestOutcome,
  TestRef,
} from './api.js';
export type { CoreCall, CoreMethod } from './calls.js';
export {
  COVERAGE_METRICS,
  type CoverageCounts,
  type CoverageMetric,
  type CoverageReport,
  checkThresholds,
  coveragePct,
  coverageTotals,
  istanbulReport,
  metricThresholds,
} from './coverage.js';
export { createReporterCore } from './create.js';
export type { BroadcasterLike } from './delivery.js';
export { detectCi, findPackageName } from './environment.js';
export { normalizeError, stripAnsi } from './errors.js';
export { FRAMEWORK_ERROR_CODES, type FrameworkErrorCode } from './framework-errors.js';
export { type DetectedFramework, detectFrameworks } from './frameworks.js';
export { createRunId, PathRelativizer, stableTestId } from './ids.js';
export type { ReporterCoreOptions, ReporterOptions } from './options.js';
