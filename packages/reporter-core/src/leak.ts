/**
 * performance.leak: heap growth across the test files of one worker or process. A file's module state is
 * meant to go when the file ends; heap that keeps rising from file to file in the same process is memory
 * something keeps (a global, a core module, a listener on `process`). Runs on the core's thread.
 *
 * The heuristic, per series (one worker or process), on the heap used after each file:
 *  - the first file is warm-up (the runner's and the shared modules load there) and is left out;
 *  - evidence: at least `minFiles` files after it when the heap was measured after a forced GC; without
 *    one, 3 x `minFiles` (garbage not yet collected climbs for many files before a major GC takes it);
 *  - growth: the floor of the last files minus the floor of the first ones (two files each after a forced
 *    GC, a third of the evidence each without one): a floor, not a sample, so that garbage not yet
 *    collected does not count once the heap has been collected in between;
 *  - growth >= threshold MB after forced GCs, 2 x threshold without;
 *  - spread: the floor rises in both halves of the series, each by at least a quarter of that threshold and
 *    an eighth of the growth: from the first files to the middle ones (as many files, in the middle of the
 *    evidence) and from those to the last ones. One cache filled once — a single step, then a plateau whose
 *    changes are noise (a few hundred KB after a GC; a few MB as the heap settles after a large step: jest
 *    -i) — rises in one half only: not a leak, however large the step; heap that keeps rising, however slowly
 *    per file, rises in both. Without a forced GC the middle floor is taken at three places half a window
 *    apart and the rises must hold at each: a window across the step has only a few files before it, whose
 *    floor is garbage rather than heap kept.
 * A series is reported once, then again only when its growth doubled since its last report.
 */
import type { PerformanceLeakData } from '@testwire/protocol';
import type { HeapSample } from './api.js';

const MB = 1024 * 1024;
const round1 = (value: number) => Math.round(value * 10) / 10;

interface Series {
  files: string[];
  mb: number[];
  gcForced: boolean;
  reported: number;
}

export class LeakDetector {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly thresholdMb: number,
    private readonly minFiles: number,
  ) {}

  /** Adds a file's sample; the leak's data when this sample makes the series a leak. */
  add(sample: HeapSample, file: string): Omit<PerformanceLeakData, 'framework'> | undefined {
    if (this.thresholdMb <= 0 || !Number.isFinite(sample.heapUsed) || sample.heapUsed <= 0) return undefined;
    const key = sample.worker ?? 'process';
    let series = this.series.get(key);
    if (!series) {
      series = { files: [], mb: [], gcForced: true, reported: 0 };
      this.series.set(key, series);
    }
    series.files.push(file);
    series.mb.push(sample.heapUsed / MB);
    if (!sample.gcForced) series.gcForced = false;
    // Bounded: the warm-up and the last 199 files.
    if (series.mb.length > 200) {
      series.files.splice(1, 1);
      series.mb.splice(1, 1);
    }
    const evidence = series.mb.slice(1);
    if (evidence.length < (series.gcForced ? this.minFiles : this.minFiles * 3)) return undefined;
    const window = series.gcForced ? 2 : Math.floor(evidence.length / 3);
    const floor = (from: number) => Math.min(...evidence.slice(from, from + window));
    const first = floor(0);
    const last = floor(evidence.length - window);
    const growth = last - first;
    const threshold = series.gcForced ? this.thresholdMb : this.thresholdMb * 2;
    if (growth < threshold) return undefined;
    // Spread (see above): the middle floor, at three places without a forced GC.
    const center = Math.floor((evidence.length - window) / 2);
    const shift = series.gcForced ? 0 : Math.floor(window / 2);
    const middles = [floor(center - shift), floor(center), floor(center + shift)];
    const rise = Math.max(threshold / 4, growth / 8);
    if (Math.min(...middles) - first < rise || last - Math.max(...middles) < rise) return undefined;
    if (series.reported > 0 && growth < series.reported * 2) return undefined;
    series.reported = growth;
    return {
      type: 'memory_leak',
      testName: file,
      leakType: 'heap_growth',
      size: round1(growth),
      location: file,
      suggestions: [
        `The heap grew ${round1(growth)} MB over ${evidence.length} test files in the same ${key === 'process' ? 'process' : 'worker'} and did not come back down`,
        'Look for state kept across files: globals, caches in shared modules, listeners on process or emitters never removed',
        'Close servers, clear intervals and remove listeners in afterAll/afterEach',
      ],
      file,
      threshold,
      samples: series.mb.map(round1),
      worker: key,
      gcForced: series.gcForced,
    };
  }
}
