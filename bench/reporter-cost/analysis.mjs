/**
 * The cost bench's figures, computed from the runs a result keeps (so a stored JSON can be recomputed).
 *
 * Every reporter run is paired with the baseline run of the same repetition and suite size (they ran next
 * to each other): d(size) = reporter − baseline. Per repetition, from the two sizes n1 < n2 (2,000 and 20,000):
 *
 *   slope      = (d(n2) − d(n1)) / (n2 − n1)       per-test cost
 *   intercept  = d(n1) − n1 × slope                fixed cost
 *
 * and each figure is the mean over the repetitions with a 95% confidence interval from Student's t on the
 * per-repetition values (n − 1 degrees of freedom). A budget is **met** when the whole interval is at or
 * under it, **over** when all of it is above, and **not resolved** otherwise.
 */

/** The budgets of issue 13. */
export const BUDGETS = {
  B1: { limit: 5, unit: 'µs/test', what: "per test, CPU of the runner's main thread (slope)" },
  B2: {
    limit: 15,
    unit: 'ms',
    what: "fixed, on the runner's critical path: the main-thread CPU intercept, and measured directly: CPU of load + construct + first hook, plus the final hook's wall time",
  },
  B3: {
    limit: 25,
    unit: 'µs/test',
    what: "per test, CPU of the runner's whole process, all threads (slope)",
  },
  B4: {
    limit: undefined,
    unit: 'ms',
    what: 'wall time of the 2,000-test suite, with 0 and 10 subscribers; no gate',
  },
};

/** Per-run series the figures are computed on (ms), by name. */
const SERIES = {
  main: (run) => run.mainCpuMs,
  process: (run) => run.processCpuMs,
  tree: (run) => run.treeCpuMs,
  wall: (run) => run.wallMs,
  wait: (run) => run.mainWaitMs,
};

/**
 * The reporter's own thread's CPU in a run (ms): the worker names itself `testwire` (core-worker.ts), and the
 * probe lists each live thread by name. Only the reporter's modes have it: B3's part there needs no baseline.
 */
const reporterThreadMs = (run) => run?.threads?.find(([comm]) => comm === 'testwire')?.[1];

export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

// Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal's 1.96).
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean and 95% t-interval of `xs` (no interval from fewer than two values). */
export function estimate(xs, digits = 2) {
  const values = xs.filter(Number.isFinite);
  const n = values.length;
  if (n === 0) return { n: 0, mean: null, ci95: null };
  const m = mean(values);
  if (n < 2) return { n, mean: round(m, digits), ci95: null, values: values.map((x) => round(x, digits)) };
  const sd = Math.sqrt(values.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1));
  const half = ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n);
  return {
    n,
    mean: round(m, digits),
    ci95: [round(m - half, digits), round(m + half, digits)],
    sd: round(sd, digits),
    values: values.map((x) => round(x, digits)),
  };
}

/** met / over / not resolved for an estimate against a limit. */
export function verdict(est, limit) {
  if (limit === undefined) return 'no gate';
  if (!est || est.mean === null) return 'no data';
  if (!est.ci95)
    return est.mean <= limit ? 'not resolved (1 rep; mean under)' : 'not resolved (1 rep; mean over)';
  if (est.ci95[1] <= limit) return 'met';
  if (est.ci95[0] > limit) return 'OVER';
  return 'not resolved';
}

/**
 * B1: the slope decides when its interval does. The hooks are part of what the slope measures, so when their
 * own time per test is over the budget with all of its interval, B1 is over too ("OVER (hooks)"): timed as
 * wall time, sub-millisecond calls are CPU time unless the thread was preempted inside one.
 */
function b1Overall(slope, hooks) {
  if (slope === 'met' || slope === 'OVER') return slope;
  return hooks === 'OVER' ? 'OVER (hooks)' : 'not resolved';
}

/**
 * B2 measured directly in the short run (`result.short` tests, modes without subscribers), and the wall time
 * the reporter added to it, paired with the baseline of the same repetition; undefined when there is none.
 */
function shortRun(result, valid, mode) {
  if (!result.short || !result.shortModes?.includes(mode)) return undefined;
  const at = (rep, m) => valid.find((r) => r.rep === rep && r.size === result.short && r.mode === m);
  const direct = [];
  const added = [];
  for (const rep of [...new Set(result.runs.map((r) => r.rep))].filter((r) => r >= 0)) {
    const run = at(rep, mode);
    if (!run?.reporter) continue;
    const { load, construct, first, final } = run.reporter;
    direct.push(load.cpuMs + construct.cpuMs + first.cpuMs + final.ms);
    const base = at(rep, 'baseline');
    if (base) added.push(run.wallMs - base.wallMs);
  }
  const B2short = estimate(direct, 1);
  return {
    tests: result.short,
    ...B2short,
    verdict: verdict(B2short, BUDGETS.B2.limit),
    wallAdded: estimate(added, 0),
  };
}

/** Both verdicts must be met for met; either over is over. */
function both(a, b) {
  if (a === 'OVER' || b === 'OVER') return 'OVER';
  if (a === 'met' && b === 'met') return 'met';
  return 'not resolved';
}

/**
 * Figures of one runner's result: per reporter mode (`<build>-<subscribers>`), B1–B4 and the series behind
 * them. `result.runs` holds every run: {rep, size, mode, valid, wallMs, mainCpuMs, processCpuMs, …}.
 */
export function analyze(result) {
  const sizes = [...result.sizes].sort((a, b) => a - b);
  const [n1, n2] = [sizes[0], sizes[sizes.length - 1]];
  const valid = result.runs.filter((r) => r.valid);
  const find = (rep, size, mode) => valid.find((r) => r.rep === rep && r.size === size && r.mode === mode);
  const reps = [...new Set(result.runs.map((r) => r.rep))].filter((r) => r >= 0).sort((a, b) => a - b);
  // B4 is judged on the 2,000-test suite (the smaller size where a runner has no 2,000)
  const b4Size = sizes.includes(2000) ? 2000 : n1;
  const baseWall = median(
    valid.filter((r) => r.mode === 'baseline' && r.size === b4Size).map((r) => r.wallMs),
  );
  const modes = {};
  for (const mode of result.modes.filter((m) => m !== 'baseline')) {
    const perRep = { slope: {}, intercept: {}, d1: {}, d2: {} };
    for (const key of Object.keys(SERIES)) for (const k of Object.keys(perRep)) perRep[k][key] = [];
    const direct = [];
    const directWall = [];
    /** Per repetition: the reporter's hook time on the runner's thread per test (slope, µs). */
    const hookSlope = [];
    /** Per repetition: the reporter's thread's CPU per test (slope, µs) — part of B3, measured directly. */
    const threadSlope = [];
    for (const rep of reps) {
      const [b1, m1, b2, m2] = [
        find(rep, n1, 'baseline'),
        find(rep, n1, mode),
        find(rep, n2, 'baseline'),
        find(rep, n2, mode),
      ];
      for (const [key, of] of Object.entries(SERIES)) {
        const d1 = b1 && m1 ? of(m1) - of(b1) : Number.NaN;
        const d2 = b2 && m2 ? of(m2) - of(b2) : Number.NaN;
        const slope = (d2 - d1) / (n2 - n1);
        perRep.d1[key].push(d1);
        perRep.d2[key].push(d2);
        // µs per test
        perRep.slope[key].push(slope * 1000);
        perRep.intercept[key].push(d1 - n1 * slope);
      }
      const [t1, t2] = [reporterThreadMs(m1), reporterThreadMs(m2)];
      if (t1 !== undefined && t2 !== undefined) threadSlope.push(((t2 - t1) / (n2 - n1)) * 1000);
      if (m1?.reporter?.hooks && m2?.reporter?.hooks)
        hookSlope.push(((m2.reporter.hooks.ms - m1.reporter.hooks.ms) / (n2 - n1)) * 1000);
      const reporter = m1?.reporter;
      if (reporter) {
        // The synchronous parts hold the runner's thread for their CPU time (their wall time adds the time
        // the thread waited for a CPU, which other load decides); the final hook holds the run until it
        // settles (the reporter's thread flushing meanwhile), so its wall time is what the run waits.
        direct.push(
          reporter.load.cpuMs + reporter.construct.cpuMs + reporter.first.cpuMs + reporter.final.ms,
        );
        directWall.push(reporter.load.ms + reporter.construct.ms + reporter.first.ms + reporter.final.ms);
      }
    }
    const of = (kind, key, digits = 2) => estimate(perRep[kind][key], digits);
    const B1 = of('slope', 'main');
    const B1hooks = estimate(hookSlope);
    const B2 = of('intercept', 'main', 1);
    const B2direct = estimate(direct, 1);
    const B3 = of('slope', 'process');
    const B4 = of(b4Size === n1 ? 'd1' : 'd2', 'wall', 0);
    const parts = ['load', 'construct', 'first', 'final'];
    const partsAt = (size) =>
      Object.fromEntries(
        parts.map((p) => {
          const rs = valid
            .filter((r) => r.mode === mode && r.size === size && r.reporter)
            .map((r) => r.reporter[p]);
          return [
            p,
            { ms: round(median(rs.map((x) => x.ms)), 2), cpuMs: round(median(rs.map((x) => x.cpuMs)), 2) },
          ];
        }),
      );
    const short = shortRun(result, valid, mode);
    modes[mode] = {
      B1: {
        ...B1,
        verdict: verdict(B1, BUDGETS.B1.limit),
        overall: b1Overall(verdict(B1, BUDGETS.B1.limit), verdict(B1hooks, BUDGETS.B1.limit)),
        // cross-check: the hooks' own time (calls under 1 ms), without GC, timers or wrappers
        hooks: {
          ...B1hooks,
          verdict: verdict(B1hooks, BUDGETS.B1.limit),
          slowCalls: round(
            median(
              valid.filter((r) => r.mode === mode && r.size === n2).map((r) => r.reporter?.hooks?.slowCalls),
            ),
            0,
          ),
          callsPerTest: round(
            median(
              valid
                .filter((r) => r.mode === mode && r.size === n2 && r.reporter?.hooks)
                .map((r) => (r.reporter.hooks.calls + r.reporter.hooks.slowCalls) / n2),
            ),
            2,
          ),
        },
      },
      B2: {
        intercept: { ...B2, verdict: verdict(B2, BUDGETS.B2.limit) },
        direct: {
          ...B2direct,
          verdict: verdict(B2direct, BUDGETS.B2.limit),
          allWall: estimate(directWall, 1),
          // medians of each part, wall / main-thread CPU (ms)
          parts: partsAt(n1),
        },
        ...(short ? { short: { ...short, parts: partsAt(result.short) } } : {}),
        verdict: [
          verdict(B2, BUDGETS.B2.limit),
          verdict(B2direct, BUDGETS.B2.limit),
          ...(short ? [short.verdict] : []),
        ].reduce(both),
      },
      B3: {
        ...B3,
        verdict: verdict(B3, BUDGETS.B3.limit),
        intercept: of('intercept', 'process', 1),
        // cross-check, not gated: the part of B3 on the reporter's own thread (not its GC helpers, not the
        // runner's thread), from that thread's CPU alone
        reporterThread: estimate(threadSlope),
      },
      B4: {
        ...B4,
        percent: B4.mean === null ? null : round((B4.mean / baseWall) * 100, 1),
        ci95Percent: B4.ci95 ? B4.ci95.map((x) => round((x / baseWall) * 100, 1)) : null,
        size: b4Size,
      },
      // cross-checks, not gated: the runner's whole process tree (worker processes too, /usr/bin/time, 10 ms
      // ticks) and the time the main thread waited for a CPU
      tree: { slope: of('slope', 'tree'), intercept: of('intercept', 'tree', 1) },
      mainWait: { slope: of('slope', 'wait'), intercept: of('intercept', 'wait', 1) },
      validRuns: valid.filter((r) => r.mode === mode).length,
      invalidRuns: result.runs.filter((r) => r.mode === mode && !r.valid).length,
    };
  }
  const medians = {};
  for (const size of sizes) {
    medians[size] = {};
    for (const mode of result.modes) {
      const rs = valid.filter((r) => r.mode === mode && r.size === size);
      medians[size][mode] = Object.fromEntries(
        ['wallMs', 'mainCpuMs', 'processCpuMs', 'treeCpuMs', 'maxRssKb'].map((k) => [
          k,
          round(median(rs.map((r) => r[k]))),
        ]),
      );
    }
  }
  return { sizes: [n1, n2], baselineWallMs: round(baseWall), medians, modes };
}
