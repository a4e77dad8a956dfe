/**
 * The call log: every hook an adapter calls, as data. The recorder (recorder.ts) turns each ReporterCore call
 * into one CoreCall on the runner's thread — stamped with the time of the call and the run it belongs to,
 * its errors normalized, nothing but plain data — and hands it to a sink; the core (core.ts) applies calls
 * one by one, wherever it runs: in the same thread, or on the reporter's worker thread after a postMessage.
 * The model is Playwright's tele wire: the messages are the hooks, dispatched by method.
 *
 *   adapter ─> Recorder.testResult(ref, outcome) ─> {method:'testResult', at, runId, test, outcome} ─> sink
 *                                                                     sink = Core.apply | thread batch
 */
import type { TestError } from '@testwire/protocol';
import type {
  CoverageStartInfo,
  FrameworkErrorInfo,
  HeapSample,
  LeakInfo,
  PerformanceSample,
  RunResultInfo,
  RunStartInfo,
  StepInfo,
  TestOutcome,
  TestRef,
} from './api.js';
import type { CoverageReport } from './coverage.js';

/** What every call carries: when it was made (epoch ms) and the run it belongs to. */
interface Stamp {
  /** Epoch ms of the call on the runner's thread: the events it makes carry this time. */
  at: number;
  /** The run the call belongs to (the recorder decides run ids: see RunPhases). */
  runId: string;
}

/** A test attempt's outcome with its errors already normalized (runner error objects do not cross threads). */
export type RecordedOutcome = Omit<TestOutcome, 'errors'> & { errors?: TestError[] };

/** The run's end with its errors normalized. */
export type RecordedResult = Omit<RunResultInfo, 'errors'> & { errors?: TestError[] };

export type CoreCall = Stamp &
  (
    | { method: 'runStarted'; info: RunStartInfo }
    | { method: 'testsDiscovered'; count: number; final: boolean; total?: number }
    | { method: 'fileStarted'; file: string }
    | { method: 'testStarted'; test: TestRef; attempt: number; timeout?: number }
    | { method: 'testStep'; test: TestRef; step: RecordedStep }
    /** The runner's process got a signal: the run is being interrupted (the tests running now are named). */
    | { method: 'interrupt'; signal: string }
    | { method: 'testResult'; test: TestRef; outcome: RecordedOutcome }
    | { method: 'output'; test: TestRef | undefined; text: string; stream: 'stdout' | 'stderr'; via?: string }
    | { method: 'fileFailed'; file: string; error: TestError; info?: FrameworkErrorInfo }
    | { method: 'hookFailed'; test: TestRef | undefined; error: TestError; hook?: string }
    | { method: 'runError'; error: TestError; info?: FrameworkErrorInfo }
    | { method: 'coverage'; report: CoverageReport }
    | { method: 'runCompleted'; result: RecordedResult }
    | { method: 'performanceSample'; sample: PerformanceSample }
    | { method: 'frameworkError'; error: TestError; info: FrameworkErrorInfo }
    | { method: 'coverageStarted'; info: CoverageStartInfo }
    | { method: 'coverageProgress'; testFile: string; coverage: unknown; totalTestFiles: number }
    | { method: 'heapSample'; sample: HeapSample }
    /** A leak the runner found itself: sent as it is (the heap samples are judged by the core). */
    | { method: 'leak'; leak: LeakInfo }
  );

/** A step with its error normalized. */
export type RecordedStep = Omit<StepInfo, 'error'> & { error?: TestError };

export type CoreMethod = CoreCall['method'];

/** The call of one method, e.g. `CallOf<'testResult'>`. */
export type CallOf<M extends CoreMethod> = Extract<CoreCall, { method: M }>;
