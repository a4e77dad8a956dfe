/**
 * The parts of Vitest's reported-tasks API (Vitest >= 3) this reporter reads, declared structurally.
 *
 * Why not `import type { TestCase } from 'vitest/node'`: the adapter supports Vitest 3, 4 and 5, whose
 * type declarations differ; declaring only what we read (optional where a version may lack it) keeps the
 * code honest about feature detection and the published `.d.ts` free of one major's types. Each type is
 * a structural subset of Vitest's own, so an instance of the reporter is assignable to Vitest's
 * `Reporter` (checked in test/vitest-run.test.ts).
 */

/** `TestCase.result().state` — exhaustive for Vitest 3 and 4. */
export type VitestTestState = 'passed' | 'failed' | 'skipped' | 'pending';

/** Serialized error as Vitest hands it to reporters (`TestError` / `SerializedError`). */
export interface VitestError {
  message?: string;
  name?: string;
  stack?: string;
  expected?: string;
  actual?: string;
  diff?: string;
  /** Node's error code (`ERR_WORKER_OUT_OF_MEMORY`), when the error has one. */
  code?: unknown;
  /** What caused it (`new Error(message, { cause })`): an error, or any value. */
  cause?: unknown;
  /** Vitest's word for an error outside the tests: `Unhandled Rejection`, `Uncaught Exception`, `Unhandled Error`. */
  type?: unknown;
  /** Parsed frames; a `TypeCheckError` (`--typecheck`) has its place only here, with an empty `stack`. */
  stacks?: ReadonlyArray<{ file?: string; line?: number; column?: number; method?: string }>;
}

export interface VitestProject {
  readonly name: string;
  /** The project's resolved config: its test file globs. */
  readonly config?: VitestFileGlobs;
}

/** A resolved config's test file globs: `include`, and `typecheck`'s for `--typecheck`. */
export interface VitestFileGlobs {
  readonly include?: ReadonlyArray<string>;
  readonly typecheck?: {
    readonly enabled?: boolean;
    /** `--typecheck.only`: the type tests alone. */
    readonly only?: boolean;
    readonly include?: ReadonlyArray<string>;
  };
}

interface VitestEntity {
  /** Deterministic for the same test across runs (project, module, order) — but it shifts with order. */
  readonly id: string;
  readonly project: VitestProject;
}

export interface VitestTestResult {
  readonly state: VitestTestState;
  readonly errors?: ReadonlyArray<VitestError> | undefined;
  readonly note?: string | undefined;
}

export interface VitestTestDiagnostic {
  readonly duration: number;
  readonly startTime: number;
  /** Retries performed; the attempts are `retryCount + 1`. */
  readonly retryCount: number;
  readonly repeatCount?: number;
  readonly flaky?: boolean;
  readonly slow?: boolean;
}

/** One attempt of a test (Vitest >= 5: `TestCase.attempts()`). */
export interface VitestTestAttempt {
  readonly state: string;
  readonly errors?: ReadonlyArray<VitestError> | undefined;
  readonly duration?: number;
  readonly startTime?: number;
  /** Zero-based retry index within the repeat. */
  readonly retryIndex?: number;
  /** Zero-based repeat index (`repeats` option). */
  readonly repeatIndex?: number;
}

export interface VitestTestCase extends VitestEntity {
  readonly type: 'test';
  readonly name: string;
  readonly module: VitestTestModule;
  readonly parent: VitestTestSuite | VitestTestModule;
  readonly location?: { readonly line: number; readonly column: number } | undefined;
  readonly options: {
    readonly mode: string;
    readonly retry?: unknown;
    readonly repeats?: number | undefined;
    /** `test.fails`: Vitest flips the final state (and drops the errors of an expected failure). */
    readonly fails?: boolean | undefined;
  };
  result(): VitestTestResult;
  diagnostic(): VitestTestDiagnostic | undefined;
  /** The runner task (Vitest 3 and 4): read only for a benchmark's result (`vitest bench`, see benchmark.ts). */
  readonly task?: VitestRunnerTask;
  /** Vitest >= 5 only: every attempt with its own errors and timing. */
  attempts?(): ReadonlyArray<VitestTestAttempt>;
  /** Vitest >= 3.2: what the test recorded with `annotate()` (attachments copied under attachmentsDir). */
  annotations?(): ReadonlyArray<VitestAnnotation>;
}

/**
 * tinybench's figures for one bench, as Vitest 3 and 4 keep them on the task (the same names as its
 * `--outputJson`): times in ms, `hz` per second, `rme` in percent; `sampleCount` (Vitest 4) or the `samples`
 * themselves (Vitest 3).
 */
export interface TinybenchResult {
  readonly totalTime?: number;
  readonly hz?: number;
  readonly mean?: number;
  readonly min?: number;
  readonly max?: number;
  readonly median?: number;
  readonly p75?: number;
  readonly p99?: number;
  readonly p995?: number;
  readonly p999?: number;
  readonly rme?: number;
  readonly sampleCount?: number;
  readonly samples?: readonly number[];
}

/** What of a runner task a benchmark is told by: `meta.benchmark`, and tinybench's figures on its result. */
export interface VitestRunnerTask {
  readonly meta?: { readonly benchmark?: boolean };
  readonly result?: { readonly benchmark?: TinybenchResult };
}

export interface VitestAnnotation {
  readonly message: string;
  readonly type: string;
  readonly location?: { readonly file: string; readonly line: number; readonly column: number };
  readonly attachment?: { readonly contentType?: string; readonly path?: string; readonly body?: unknown };
}

export interface VitestTestCollection {
  allTests(): Iterable<VitestTestCase>;
  allSuites(): Iterable<VitestTestSuite>;
  /** Vitest >= 3: the number of direct children, and the child at an index (no generator). */
  readonly size?: number;
  at?(index: number): VitestTestCase | VitestTestSuite | undefined;
}

export interface VitestTestSuite extends VitestEntity {
  readonly type: 'suite';
  readonly name: string;
  readonly module: VitestTestModule;
  readonly parent: VitestTestSuite | VitestTestModule;
  readonly children: VitestTestCollection;
  errors(): ReadonlyArray<VitestError>;
}

export interface VitestTestModule extends VitestEntity {
  readonly type: 'module';
  /** Usually an absolute path; can be a virtual id. */
  readonly moduleId: string;
  readonly children: VitestTestCollection;
  errors(): ReadonlyArray<VitestError>;
  state(): string;
  /** Vitest >= 3: `heap` (bytes after the file, with `logHeapUsage`), among timings. */
  diagnostic?(): { readonly heap?: number | undefined } | undefined;
}

export type VitestEntityNode = VitestTestCase | VitestTestSuite | VitestTestModule;

export interface VitestTestSpecification {
  readonly moduleId: string;
  readonly project?: VitestProject;
}

export type VitestHookContext =
  | { readonly name: 'beforeAll' | 'afterAll'; readonly entity: VitestTestSuite | VitestTestModule }
  | { readonly name: 'beforeEach' | 'afterEach'; readonly entity: VitestTestCase };

export interface VitestUserConsoleLog {
  content: string;
  type: 'stdout' | 'stderr';
  /** Test, suite or module id; an unknown id when Vitest could not tell (`__vitest__unknown_test__`). */
  taskId?: string;
  time?: number;
}

export type VitestRunEndReason = 'passed' | 'failed' | 'interrupted';

/** The `Vitest` instance handed to `onInit`. */
export interface VitestContext {
  readonly version?: string;
  readonly config: VitestFileGlobs & {
    readonly root: string;
    readonly watch?: boolean;
    readonly dangerouslyIgnoreUnhandledErrors?: boolean;
    readonly shard?: { readonly index: number; readonly count: number } | undefined;
    /** The sequencer class: its `shard` picks a shard's files (the pool calls it after onTestRunStart). */
    readonly sequence?: { readonly sequencer?: VitestSequencerClass };
    readonly pool?: unknown;
    readonly bail?: unknown;
    readonly testTimeout?: unknown;
    readonly coverage?: VitestCoverageOptions;
    readonly logHeapUsage?: boolean;
    /** A run without test files passes (`--passWithNoTests`; `--changed` sets it). */
    readonly passWithNoTests?: boolean;
    /** `test` or `benchmark`. */
    readonly mode?: string;
  };
  /** The run's projects (`test.projects`; one, the root, without them). */
  readonly projects?: ReadonlyArray<VitestProject>;
  /** The Vite server: its config names the config file. */
  readonly vite?: { readonly config?: { readonly configFile?: string | false } };
  /**
   * Vitest's state manager (experimental API, Vitest 3 and 4): its count of failed tasks is what decides
   * whether Vitest reports coverage.
   */
  readonly state?: { readonly getCountOfFailedTests?: () => number };
}

/** `config.sequence.sequencer`: Vitest's BaseSequencer, or the user's subclass. */
export type VitestSequencerClass = new (
  vitest: never,
) => {
  shard(files: VitestTestSpecification[]): VitestTestSpecification[] | PromiseLike<VitestTestSpecification[]>;
};

/** The resolved `test.coverage` options this reporter reads. */
export interface VitestCoverageOptions {
  readonly enabled?: boolean;
  /** `v8`, `istanbul` or `custom`. */
  readonly provider?: string;
  /** Resolved to `[name, options]` tuples; a bare name where a version keeps it. */
  readonly reporter?: ReadonlyArray<unknown>;
  /** Metric keys (a negative number: most uncovered items), `100`, `perFile`, `autoUpdate`, glob keys. */
  readonly thresholds?: object;
  readonly include?: ReadonlyArray<string>;
  readonly exclude?: ReadonlyArray<string>;
  /** Report coverage (and check its thresholds) when tests failed too; Vitest's default is false. */
  readonly reportOnFailure?: boolean;
}
