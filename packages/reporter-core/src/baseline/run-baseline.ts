/**
 * One run's baseline work inside the core (core.ts), on the core's thread: the baseline to compare against,
 * read once when the run starts; each final test result judged as it arrives (the `baseline` of its
 * `test.result`); at the run's end `baseline.compared`, then the run saved (`baseline.saved`), both before
 * `test.completed`.
 *
 *   startRun ─> RunBaseline (reads <dir>/<compare>.json)
 *   testResult ─> record(): final result kept, judged ─> data.baseline
 *   runCompleted ─> finish(): compareRun ─> baseline.compared; saveRun ─> baseline.saved
 */
import { relative, sep } from 'node:path';
import type {
  BaselineComparedData,
  BaselineSavedData,
  BaselineTestComparison,
  CoverageTotals,
  TestStatus,
} from '@testwire/protocol';
import { type BaselineThresholds, compareRun, coverageTotal, judgeTest } from './compare.js';
import {
  BaselineError,
  type BaselineFile,
  type BaselineRun,
  type BaselineSource,
  baselinePath,
  type RunTest,
  readBaseline,
  saveRun,
  sourceKey,
} from './file.js';

/** The resolved `baseline` reporter option. */
export interface BaselineSettings {
  /** Save the run under this label. */
  save?: string;
  /** Compare the run with this label. */
  compare?: string;
  /** Absolute folder of the baseline files. */
  dir: string;
  thresholds: BaselineThresholds;
}

type Emitted =
  | { type: 'baseline.compared'; data: Omit<BaselineComparedData, 'framework' | 'project'> }
  | {
      type: 'baseline.saved';
      data: Omit<BaselineSavedData, 'framework' | 'project'> & { framework: string };
    };

export class RunBaseline {
  /** The baseline's part for this runner (and package project), when comparing and it has one. */
  private readonly source: BaselineSource | undefined;
  private readonly comparing: boolean;
  /** Final results by test id (a retry replaces its failed attempt). */
  private readonly results = new Map<string, RunTest>();

  constructor(
    private readonly settings: BaselineSettings,
    private readonly framework: string,
    private readonly project: string | undefined,
    private readonly rootDir: string,
    /** A sharded run has part of the suite: missing tests are not "removed". */
    private readonly partial: boolean,
    private readonly warn: (message: string) => void,
  ) {
    let file: BaselineFile | undefined;
    const label = settings.compare;
    if (label) {
      try {
        file = readBaseline(baselinePath(settings.dir, label));
      } catch (error) {
        // The first run of "compare with X and save as X" has nothing to compare with yet: not worth a word.
        const first =
          error instanceof BaselineError && error.code === 'BASELINE_NOT_FOUND' && settings.save === label;
        if (!first)
          this.warn(
            `${(error as Error).message}; this run is not compared${error instanceof BaselineError && error.code === 'BASELINE_NOT_FOUND' ? ` (save one with the reporter option baseline: { save: '${label}' } or \`testwire baseline save ${label}\`)` : ''}`,
          );
      }
    }
    this.comparing = file !== undefined;
    this.source = file?.sources[sourceKey(framework, project)];
    if (file && !this.source)
      this.warn(
        `baseline "${label}" has no tests of ${sourceKey(framework, project)} (it has ${Object.keys(file.sources).join(', ') || 'none'}); every test counts as added`,
      );
  }

  /** Keeps a final result and judges it: what its `test.result` carries in `baseline`, if anything. */
  record(test: RunTest, status: TestStatus, duration: number): BaselineTestComparison | undefined {
    this.results.set(test.id, test);
    if (!this.comparing || !this.settings.compare) return undefined;
    return judgeTest(
      this.settings.compare,
      this.source?.tests[test.id],
      status,
      duration,
      this.settings.thresholds,
    );
  }

  /** The run ended: its comparison, then its save (each an event to emit, in this order). */
  finish(
    runId: string,
    at: number,
    summary: BaselineRun['summary'],
    coverage: CoverageTotals | undefined,
  ): Emitted[] {
    const out: Emitted[] = [];
    const { compare, save, dir, thresholds } = this.settings;
    if (compare && this.comparing) {
      const data = compareRun(
        compare,
        this.source,
        { tests: this.results.values(), coverage, partial: this.partial },
        thresholds,
      );
      data.path = this.wirePath(baselinePath(dir, compare));
      out.push({ type: 'baseline.compared', data });
    }
    if (save) {
      const path = baselinePath(dir, save);
      try {
        const { file, size } = saveRun(path, save, {
          runId,
          framework: this.framework,
          ...(this.project !== undefined ? { project: this.project } : {}),
          tests: this.results.values(),
          summary,
          ...(coverage ? { coverage } : {}),
          at,
        });
        const source = file.sources[sourceKey(this.framework, this.project)];
        const total = coverageTotal(coverage);
        out.push({
          type: 'baseline.saved',
          data: {
            label: save,
            framework: this.framework,
            path: this.wirePath(path),
            size,
            tests: Object.keys(source.tests).length,
            ...(total !== undefined ? { coverage: total } : {}),
            runs: source.runs.length,
          },
        });
      } catch (error) {
        this.warn(`baseline "${save}" not saved: ${(error as Error).message}`);
      }
    }
    return out;
  }

  /** Relative to the run's root, `./`-prefixed as in the reference (absolute paths never go on the wire). */
  private wirePath(path: string): string {
    const rel = relative(this.rootDir, path).split(sep).join('/');
    return rel.startsWith('../') ? rel : `./${rel}`;
  }
}
