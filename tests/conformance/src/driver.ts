/**
 * The contract between the conformance suite and one runner (one per runner major version).
 *
 * A driver copies a fixture project (tests/conformance/fixtures/<framework>/<fixture>/) into
 * compat/<id>/work/<unique>/, runs the real runner binary of compat/<id> on it as a child process, with
 * or without the testwire reporter, always with the runner's own machine-readable reporter, and returns
 * the exit code, the terminal output and the runner's own report normalized to NativeReport.
 */
import type { ChildProcess } from 'node:child_process';
import type { Framework, TestStatus } from '@testwire/protocol';

/** The logical fixtures every framework implements with the same tests (see fixtures/README.md). */
export type FixtureName = 'basic' | 'passing' | 'twins' | 'many' | 'baseline' | 'hung';

export interface NativeTest {
  /** Relative to the fixture root, with '/'. */
  file: string;
  titlePath: string[];
  /** Final status as the runner reports it, mapped to testwire's four. */
  status: TestStatus;
}

export interface NativeReport {
  tests: NativeTest[];
  success: boolean;
}

export interface RunOptions {
  fixture: FixtureName;
  /** Add the testwire reporter to the runner's reporters (besides its default terminal reporter). */
  reporter: boolean;
  /** Extra environment, e.g. TESTWIRE_URL of the suite's broadcaster. */
  env?: Record<string, string>;
  /** Run files in parallel worker processes where the runner has such a mode (mocha `--parallel`). */
  parallel?: boolean;
  /** Called with the runner's process once spawned (a test that signals it while it runs). */
  onSpawn?: (child: ChildProcess) => void;
  /** Kill the runner after this long (ms); the result then has `timedOut: true`. Default 120_000. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  native: NativeReport;
  /** Wall time of the child process, ms. */
  durationMs: number;
}

export interface RunnerDriver {
  /** compat package folder name, e.g. 'jest-29'. */
  id: string;
  framework: Framework;
  /** false when the runner's own report cannot tell todo from skipped (compare skipped + todo then). */
  nativeTodo: boolean;
  /**
   * Where the runner lets a reporter attribute console output: to the test that printed it (`'test'`,
   * default), or only to its file (`'file'`: jest buffers console calls per file).
   */
  outputAttribution?: 'test' | 'file';
  /**
   * The runner's first process forwards no signal to the process that runs the tests: a signal meant for the
   * run goes to its whole process group (as a terminal's Ctrl-C does). @playwright/test 1.40 re-runs itself in
   * a forked process when its config is an ES module (`restartWithExperimentalTsEsm` in its cli.js): SIGTERM to
   * the first process ends only that one, with or without a reporter, and the forked one runs on, holding the
   * output pipes.
   */
  signalsGroup?: boolean;
  run(options: RunOptions): Promise<RunResult>;
  /** Removes what legitimately differs between two runs (timings, temp dir names) from terminal output. */
  normalizeOutput(output: string): string;
}
