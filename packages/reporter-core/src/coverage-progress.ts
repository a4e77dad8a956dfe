/**
 * coverage.progress: the run's coverage so far, as each test file hands in its own (istanbul's JSON form of
 * a coverage map: per source file its statement, function and branch hit counts — jest's
 * `testResult.coverage`). Hits of the same source file from several test files are merged (covered in any
 * is covered), then counted as istanbul counts them; lines are the lines statements start on. Runs on the
 * core's thread.
 */
import type { CoverageProgressData } from '@testwire/protocol';
import { type CoverageCounts, coverageTotals } from './coverage.js';

interface FileHits {
  /** statement id -> covered */
  s: Map<string, boolean>;
  f: Map<string, boolean>;
  /** branch id -> covered per arm */
  b: Map<string, boolean[]>;
  /** statement id -> the line it starts on */
  lines: Map<string, number>;
}

type IstanbulFileData = {
  s?: Record<string, number>;
  f?: Record<string, number>;
  b?: Record<string, number[]>;
  statementMap?: Record<string, { start?: { line?: number } }>;
};

export class CoverageProgress {
  private readonly files = new Map<string, FileHits>();
  private testFiles = 0;

  constructor(
    /** Test files of the run when known (jest: its test suites), else 0. */
    private readonly totalTestFiles: number,
  ) {}

  /** Merges one test file's coverage; the event's data (without framework/project). */
  add(coverage: unknown, currentFile: string): Omit<CoverageProgressData, 'framework'> {
    this.testFiles++;
    if (coverage && typeof coverage === 'object') {
      for (const [path, raw] of Object.entries(coverage as Record<string, unknown>)) {
        // A CoverageMap's JSON may wrap each file's data in {data: …}.
        const data = ((raw as { data?: unknown })?.data ?? raw) as IstanbulFileData;
        if (data && typeof data === 'object') this.merge(path, data);
      }
    }
    const total = Math.max(this.totalTestFiles, this.testFiles);
    return {
      filesProcessed: this.testFiles,
      totalFiles: total,
      currentFile,
      percentage: Math.round((this.testFiles / total) * 1000) / 10,
      coverage: coverageTotals(this.counts()),
      sourceFiles: this.files.size,
    };
  }

  private merge(path: string, data: IstanbulFileData): void {
    let hits = this.files.get(path);
    if (!hits) {
      hits = { s: new Map(), f: new Map(), b: new Map(), lines: new Map() };
      this.files.set(path, hits);
    }
    for (const [id, count] of Object.entries(data.s ?? {}))
      hits.s.set(id, hits.s.get(id) === true || count > 0);
    for (const [id, count] of Object.entries(data.f ?? {}))
      hits.f.set(id, hits.f.get(id) === true || count > 0);
    for (const [id, arms] of Object.entries(data.b ?? {})) {
      if (!Array.isArray(arms)) continue;
      const before = hits.b.get(id) ?? [];
      hits.b.set(
        id,
        arms.map((count, arm) => before[arm] === true || count > 0),
      );
    }
    for (const [id, location] of Object.entries(data.statementMap ?? {})) {
      const line = location?.start?.line;
      if (typeof line === 'number' && !hits.lines.has(id)) hits.lines.set(id, line);
    }
  }

  private counts(): CoverageCounts {
    const counts: CoverageCounts = {
      statements: { covered: 0, total: 0 },
      branches: { covered: 0, total: 0 },
      functions: { covered: 0, total: 0 },
      lines: { covered: 0, total: 0 },
    };
    const add = (metric: keyof CoverageCounts, covered: boolean) => {
      counts[metric].total++;
      if (covered) counts[metric].covered++;
    };
    for (const hits of this.files.values()) {
      for (const covered of hits.s.values()) add('statements', covered);
      for (const covered of hits.f.values()) add('functions', covered);
      for (const arms of hits.b.values()) for (const covered of arms) add('branches', covered);
      const lines = new Map<number, boolean>();
      for (const [id, line] of hits.lines)
        lines.set(line, lines.get(line) === true || hits.s.get(id) === true);
      for (const covered of lines.values()) add('lines', covered);
    }
    return counts;
  }
}
