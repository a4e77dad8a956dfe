#!/usr/bin/env node
/**
 * `pnpm bench:dashboard`: what the dashboard's models cost with big runs — the page does this work on the
 * browser's main thread, so it bounds how many tests the page follows smoothly.
 *
 *   per event   TestIndex.apply (every test.result, test.output, test.progress of a run)
 *   per render  explorerRows (the whole tree; then a search; then a status filter), timelineOf (tests)
 *
 * The models are bundled from packages/dashboard/src/app with esbuild (tsup's), as the page bundles them,
 * and run in Node. CPU time (process.cpuUsage), median of --reps repetitions. Writes
 * bench/results/dashboard-<date>.json. Options: --tests 10000,50000 --reps 5
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = String(arg('tests', '10000,50000')).split(',').map(Number);
const reps = Number(arg('reps', 5));
if (sizes.some((n) => !Number.isInteger(n) || n <= 0) || !Number.isInteger(reps) || reps <= 0) {
  process.stderr.write('bench/dashboard: --tests takes whole numbers (10000,50000), --reps a whole number\n');
  process.exit(2);
}

// esbuild is tsup's dependency (pnpm does not hoist it): resolve it from there.
const requireFromTsup = createRequire(createRequire(join(root, 'package.json')).resolve('tsup'));
const esbuild = requireFromTsup('esbuild');
const out = join(mkdtempSync(join(tmpdir(), 'testwire-bench-dashboard-')), 'models.mjs');
const entry = join(root, 'bench/dashboard/models.ts');
writeFileSync(
  entry,
  "export { TestIndex } from '../../packages/dashboard/src/app/test-index.ts';\n" +
    "export { explorerRows } from '../../packages/dashboard/src/app/explorer.ts';\n" +
    "export { timelineOf } from '../../packages/dashboard/src/app/timeline.ts';\n" +
    "export { RunStateStore } from '../../packages/protocol/src/index.ts';\n",
);
try {
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    logLevel: 'error',
  });
} finally {
  (await import('node:fs')).rmSync(entry, { force: true });
}
const { TestIndex, explorerRows, timelineOf, RunStateStore } = await import(pathToFileURL(out).href);

/** A run of `n` tests in n/50 files, 3 describe levels, 1 in 50 failing, 1 in 20 with a line of output. */
function runEvents(n) {
  const events = [];
  let seq = 0;
  const t0 = Date.UTC(2026, 0, 1);
  const ev = (type, data, ms) => ({
    type,
    seq: ++seq,
    runId: 'big',
    timestamp: new Date(t0 + ms).toISOString(),
    data: { framework: 'vitest', project: 'big', ...data },
  });
  events.push(
    ev(
      'test.started',
      {
        totalTests: n,
        testFiles: [],
        totalKnown: true,
        run: { runId: 'big', framework: 'vitest', startedAt: t0 },
      },
      0,
    ),
  );
  for (let i = 0; i < n; i++) {
    const file = `src/area${i % 7}/file${Math.floor(i / 50)}.test.ts`;
    const titlePath = [`suite ${i % 5}`, `group ${i % 3}`, `does thing ${i}`];
    const id = `t_${i}`;
    const base = { id, titlePath, testName: titlePath[2], suite: titlePath.slice(0, 2).join(' '), file };
    if (i % 10 === 0)
      events.push(
        ev(
          'test.progress',
          { ...base, status: 'running', progress: i / n, completed: i, total: n, duration: i },
          i,
        ),
      );
    if (i % 20 === 0)
      events.push(
        ev(
          'test.output',
          { ...base, output: `log line of test ${i}\n`, outputType: 'stdout', stream: 'log' },
          i,
        ),
      );
    const failed = i % 50 === 7;
    events.push(
      ev(
        'test.result',
        {
          ...base,
          status: failed ? 'failed' : 'passed',
          duration: (i * 37) % 300,
          line: 3,
          attempt: 1,
          startedAt: t0 + i,
          ...(failed ? { error: { message: 'expected 1, received 2' } } : {}),
        },
        i + 1,
      ),
    );
  }
  return events;
}

const cpuMs = (fn) => {
  const a = process.cpuUsage();
  const value = fn();
  const b = process.cpuUsage(a);
  return { ms: (b.user + b.system) / 1000, value };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const n of sizes) {
  const events = runEvents(n);
  const applyUs = [];
  const tree = [];
  const search = [];
  const filter = [];
  const timeline = [];
  let rows = 0;
  for (let r = 0; r < reps; r++) {
    const index = new TestIndex();
    const state = new RunStateStore();
    const applied = cpuMs(() => {
      for (const e of events) index.apply(e);
    });
    applyUs.push((applied.ms * 1000) / events.length);
    for (const e of events) state.update(e);
    const runs = state.snapshot();
    const t = cpuMs(() => explorerRows(runs, index, { search: '', statuses: new Set() }));
    tree.push(t.ms);
    rows = t.value.rows.length;
    search.push(cpuMs(() => explorerRows(runs, index, { search: 'thing 4242', statuses: new Set() })).ms);
    filter.push(cpuMs(() => explorerRows(runs, index, { search: '', statuses: new Set(['failed']) })).ms);
    timeline.push(cpuMs(() => timelineOf(index, 'big', 'tests', Date.UTC(2026, 0, 1) + n * 2)).ms);
  }
  const row = {
    tests: n,
    events: events.length,
    treeRows: rows,
    applyUsPerEvent: +median(applyUs).toFixed(2),
    explorerTreeMs: +median(tree).toFixed(1),
    explorerSearchMs: +median(search).toFixed(1),
    explorerFailedFilterMs: +median(filter).toFixed(1),
    timelineTestsMs: +median(timeline).toFixed(1),
  };
  results.push(row);
}

console.log('tests   events  tree rows  apply µs/event  tree ms  search ms  filter ms  timeline ms');
for (const r of results)
  console.log(
    `${String(r.tests).padStart(6)} ${String(r.events).padStart(8)} ${String(r.treeRows).padStart(10)} ${String(r.applyUsPerEvent).padStart(15)} ${String(r.explorerTreeMs).padStart(8)} ${String(r.explorerSearchMs).padStart(10)} ${String(r.explorerFailedFilterMs).padStart(10)} ${String(r.timelineTestsMs).padStart(12)}`,
  );
const date = new Date().toISOString();
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(
  root,
  `bench/results/dashboard-${date.slice(0, 16).replace(/[-:]/g, '').replace('T', 'T')}.json`,
);
writeFileSync(
  file,
  `${JSON.stringify({ date, node: process.version, loadavg: loadavg(), reps, results }, null, 2)}\n`,
);
console.log(`written ${file}`);
