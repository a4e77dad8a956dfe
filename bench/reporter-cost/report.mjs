/**
 * The cost bench's tables: one per budget, a row per runner, a column per reporter mode (old and current
 * side by side), each cell "mean (95% CI) verdict"; then the medians the figures come from.
 */
import { BUDGETS } from './analysis.mjs';

const fmt = (x, d = 1) => (x === null || x === undefined ? '-' : x.toFixed(d));
const cell = (est, d, withVerdict = true) => {
  if (!est || est.mean === null) return '-';
  const ci = est.ci95 ? ` (${fmt(est.ci95[0], d)}..${fmt(est.ci95[1], d)})` : '';
  return `${fmt(est.mean, d)}${ci}${withVerdict && est.verdict ? ` ${short(est.verdict)}` : ''}`;
};
const short = (v) => (v === 'not resolved' ? '?' : v === 'met' ? 'ok' : v);

/** Prints B1–B4 for every runner of `stored` (results carrying `figures`). */
export function printReport(stored) {
  const results = stored.results.filter((r) => r.figures);
  for (const r of stored.results.filter((x) => !x.figures))
    console.log(`\n${r.runner}: no figures (${r.problems?.[0]})`);
  if (results.length === 0) return;
  const modes = [...new Set(results.flatMap((r) => Object.keys(r.figures.modes)))];
  const k = (n) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
  const rowLabel = (r) => `${r.label} ${r.figures.sizes.map(k).join('/')}`.padEnd(20);
  const table = (title, pick, width = 26) => {
    console.log(`\n${title}`);
    console.log(`${'runner, sizes'.padEnd(20)}${modes.map((m) => ` ${m.padStart(width)}`).join('')}`);
    for (const r of results)
      console.log(
        `${rowLabel(r)}${modes
          .map((m) => ` ${(r.figures.modes[m] ? pick(r.figures.modes[m]) : '-').padStart(width)}`)
          .join('')}`,
      );
  };
  console.log(
    `\nmean (95% CI, Student t over ${results.map((r) => `${r.runner} ${r.repetitions}`).join(', ')} repetitions); ok = met, OVER, ? = not resolved. Modes: <build>-<subscribers>.`,
  );
  table(
    `B1 per test, runner's main thread CPU, µs/test (slope between the two sizes; budget ≤ ${BUDGETS.B1.limit})`,
    (f) => cell(f.B1, 1),
  );
  table(
    "B1 cross-check: the reporter's hook calls alone, wall µs/test (slope; calls under 1 ms; calls per test)",
    (f) => `${cell(f.B1.hooks, 1)} ×${fmt(f.B1.hooks.callsPerTest, 1)}`,
  );
  table('B1 verdict (the slope; else OVER when the hooks alone are over)', (f) => f.B1.overall, 16);
  table(`B2 fixed, main-thread CPU intercept, ms (budget ≤ ${BUDGETS.B2.limit})`, (f) =>
    cell(f.B2.intercept, 1),
  );
  table(
    `B2 fixed, measured directly at the smaller size: load + construct + first hook (main-thread CPU) + final hook (wall), ms (budget ≤ ${BUDGETS.B2.limit})`,
    (f) => cell(f.B2.direct, 1),
  );
  if (results.some((r) => r.short)) {
    table(
      `B2 in a short run (${results.map((r) => `${r.runner} ${r.short ?? '-'}`).join(', ')} tests), measured directly as above, ms (budget ≤ ${BUDGETS.B2.limit}; modes without subscribers)`,
      (f) => cell(f.B2.short, 1),
    );
    table(
      'B2 in a short run: its parts, medians: load / construct / first (CPU ms) / final (wall ms)',
      (f) =>
        f.B2.short
          ? ['load', 'construct', 'first', 'final']
              .map((p) => fmt(f.B2.short.parts[p][p === 'final' ? 'ms' : 'cpuMs']))
              .join(' / ')
          : '-',
    );
    table('B2 in a short run: wall time added, paired with the baseline, ms (no gate)', (f) =>
      cell(f.B2.short?.wallAdded, 0, false),
    );
  }
  table('B2 verdict (every measure met = met; any over = OVER)', (f) => f.B2.verdict, 16);
  table(
    `B3 per test, runner's whole process CPU (all threads, GC), µs/test (budget ≤ ${BUDGETS.B3.limit})`,
    (f) => cell(f.B3, 1),
  );
  table(
    "B3's part on the reporter's own thread (its CPU alone, no baseline: slope), µs/test — a cross-check",
    (f) => cell(f.B3.reporterThread, 1, false),
  );
  table('B4 wall time of the 2,000-test suite, ms added (no gate)', (f) => cell(f.B4, 0, false));
  table('B4 wall time of the 2,000-test suite, % of the baseline median', (f) =>
    f.B4.percent === null
      ? '-'
      : `${fmt(f.B4.percent)}%${f.B4.ci95Percent ? ` (${fmt(f.B4.ci95Percent[0])}..${fmt(f.B4.ci95Percent[1])})` : ''}`,
  );
  table(
    'direct B2 parts, medians at the smaller size: load / construct / first (CPU ms) / final (wall ms)',
    (f) =>
      ['load', 'construct', 'first', 'final']
        .map((p) => fmt(f.B2.direct.parts[p][p === 'final' ? 'ms' : 'cpuMs']))
        .join(' / '),
  );
  table('cross-check, process tree CPU (workers too, 10 ms ticks), µs/test', (f) =>
    cell(f.tree.slope, 1, false),
  );
  table('main thread waiting for a CPU, µs/test (slope)', (f) => cell(f.mainWait.slope, 1, false));

  table(
    'runs counted / not counted (a subscriber missed events, a non-zero exit)',
    (f) => `${f.validRuns} / ${f.invalidRuns}`,
    16,
  );

  console.log('\nmedians: wall s / main-thread CPU s / process CPU s / peak RSS MB');
  for (const r of results) {
    for (const size of r.figures.sizes) {
      const m = r.figures.medians[size];
      console.log(
        `${r.label.padEnd(11)}${String(size).padStart(6)}  ${Object.entries(m)
          .map(
            ([mode, x]) =>
              `${mode} ${fmt(x.wallMs / 1000, 2)}/${fmt(x.mainCpuMs / 1000, 2)}/${fmt(x.processCpuMs / 1000, 2)}/${fmt(x.maxRssKb / 1024, 0)}`,
          )
          .join('  ')}`,
      );
    }
  }
  for (const r of results) {
    const invalid = r.runs.filter((x) => !x.valid).length;
    if (invalid > 0 || r.problems?.length)
      console.log(`\n${r.label}: ${invalid} invalid run(s): ${r.problems.slice(0, 4).join(' || ')}`);
  }
}
