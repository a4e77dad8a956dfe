#!/usr/bin/env node
/**
 * What the reporter costs a run whose tests take a while (each waits `gap` ms, as tests doing I/O do): there the
 * cost is not the calls but the wakeups — each post of a batch wakes the reporter's thread, each batching timer
 * the runner's, and on a virtual machine a wakeup is charged hundreds of µs of CPU. bench:cost's suites are of
 * fast tests, where batches are full and wakeups few. Each build and the baseline (no reporter) run in fresh
 * processes (sparse-child.cjs), alternating, `--procs` times; prints per thread the medians per test of CPU
 * (µs) and wakeups, the reporter's part as the difference with the baseline; writes JSON.
 *
 *   node bench/reporter-cost/sparse.mjs [--gaps=1,15,50] [--tests=200] [--procs=5] [--base=<dir>] [--json=<path>]
 *
 * --base=<dir>: a second reporter-core build (its directory, with dist/), e.g. a copy from before a change.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './builds.mjs';

const { values: args } = parseArgs({
  options: {
    gaps: { type: 'string', default: '1,15,50' },
    tests: { type: 'string', default: '200' },
    procs: { type: 'string', default: '5' },
    base: { type: 'string' },
    json: { type: 'string' },
  },
});
const gaps = args.gaps.split(',').map(Number);
const tests = Number(args.tests);
const procs = Number(args.procs);
const builds = {
  none: 'none',
  current: join(repoRoot, 'packages', 'reporter-core'),
  ...(args.base ? { base: args.base } : {}),
};
const CHILD = join(repoRoot, 'bench', 'reporter-cost', 'sparse-child.cjs');
const GROUPS = ['main', 'testwire', 'other'];

function measure(build, gap) {
  const child = spawnSync(process.execPath, [CHILD, builds[build], String(tests), String(gap)], {
    encoding: 'utf8',
    env: { ...process.env, TESTWIRE_PORT: undefined, TESTWIRE_URL: undefined },
    timeout: 300_000,
  });
  const line = child.stdout.trim().split('\n').pop();
  if (child.status !== 0 || !line?.startsWith('{'))
    throw new Error(`${build} gap ${gap}: exit ${child.status}\n${child.stderr}`);
  return JSON.parse(line).perTest;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const runs = {};
for (const gap of gaps) {
  runs[gap] = Object.fromEntries(Object.keys(builds).map((build) => [build, []]));
  for (let p = 0; p < procs; p++)
    for (const build of Object.keys(builds)) runs[gap][build].push(measure(build, gap));
}

const figures = {};
console.log(`tests of ${tests} that wait <gap> ms each, ${procs} processes per build; medians per test`);
for (const gap of gaps) {
  figures[gap] = {};
  for (const build of Object.keys(builds)) {
    const row = {};
    for (const group of GROUPS) {
      row[group] = {
        cpuUs: median(runs[gap][build].map((r) => r[group].cpuUs)),
        wakeups: median(runs[gap][build].map((r) => r[group].wakeups)),
      };
    }
    row.processCpuUs = GROUPS.reduce((sum, group) => sum + row[group].cpuUs, 0);
    figures[gap][build] = row;
  }
  for (const build of Object.keys(builds)) {
    const row = figures[gap][build];
    const added =
      build === 'none'
        ? ''
        : `  added to the process: ${(row.processCpuUs - figures[gap].none.processCpuUs).toFixed(0)} µs`;
    console.log(
      `gap ${String(gap).padStart(3)} ms  ${build.padEnd(8)} ` +
        GROUPS.map((g) => `${g} ${row[g].cpuUs.toFixed(0)} µs / ${row[g].wakeups.toFixed(2)} wakeups`).join(
          ';  ',
        ) +
        added,
    );
  }
}

const json =
  args.json ??
  join(
    repoRoot,
    'bench',
    'results',
    `reporter-sparse-${new Date().toISOString().slice(0, 16).replace(/:/g, '')}.json`,
  );
mkdirSync(dirname(json), { recursive: true });
writeFileSync(json, `${JSON.stringify({ tests, procs, gaps, builds, figures, runs }, null, 2)}\n`);
console.log(`wrote ${json}`);
