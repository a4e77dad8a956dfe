/**
 * Baselines: the file (`.test-baselines/<label>.json`) and the comparison of a run with it, for the core
 * and for `testwire baseline`. Entry `@testwire/reporter-core/baseline` (loads no broadcaster).
 */
export {
  type BaselineThresholds,
  type ComparedRun,
  compareRun,
  coverageTotal,
  DEFAULT_THRESHOLDS,
  durationChange,
  judgeTest,
} from './compare.js';
export {
  BASELINE_FORMAT,
  BASELINE_VERSION,
  BASELINE_WINDOW,
  BaselineError,
  type BaselineFile,
  type BaselineRun,
  type BaselineSource,
  type BaselineTest,
  baselinePath,
  type DurationStats,
  durationStats,
  foldRun,
  listBaselines,
  type RunTest,
  readBaseline,
  type SavedRun,
  saveRun,
  sourceKey,
  writeBaseline,
} from './file.js';
export { BASELINE_DIR, labelProblem } from './label.js';
