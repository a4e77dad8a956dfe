#!/usr/bin/env node
/**
 * B2's parts in isolation: what loading, constructing, starting and finishing the reporter costs the runner's
 * thread, without the runner. In a bench:cost run these parts vary with whatever else the machine runs (the
 * final hook's wall time 2–120 ms at load 8–10); here each is read in a fresh process of its own
 * (fixed-child.cjs: the runner's built-ins loaded first, thread CPU from /proc/thread-self/schedstat), many
 * times, builds alternating, and the medians compared.
 *
 *   node bench/reporter-cost/fixed.mjs [--runners=jest,vitest,playwright,mocha] [--procs=12]
 *                                      [--builds=current,base] [--base=<dir>] [--json=<path>]
 *
 * --base=<dir>: a build `base` rooted at <dir> (packages/<runner>/dist there), e.g. a copy of the tree before a
 * change (builds.mjs currentBuild() makes one). Prints per runner and build the medians (and the quartiles) of
 * load / construct / first (CPU ms) and final (wall ms; finalCpu its CPU); writes JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './builds.mjs';

const { values: args } = parseArgs({
  options: {
    runners: { type: 'string', default: 'jest,vitest,playwright,mocha' },
    procs: { type: 'string', default: '12' },
    builds: { type: 'string' },
    base: { type: 'string' },
    json: { type: 'string' },
  },
});
const runners = args.runners.split(',');
const procs = Number(args.procs);
if (!(procs >= 1)) throw new Error(`--procs wants a number of processes, got ${args.procs}`);
const builds = { current: repoRoot, ...(args.base ? { base: args.base } : {}) };
const buildNames = (args.builds ?? Object.keys(builds).join(',')).split(',');
for (const name of buildNames)
  if (!builds[name]) throw new Error(`--builds: no build "${name}" (base needs --base=<dir>)`);
const CHILD = join(repoRoot, 'bench', 'reporter-cost', 'fixed-child.cjs');
const PARTS = ['load', 'construct', 'first', 'final', 'finalCpu'];

function measure(runner, build) {
  const entry = join(builds[build], 'packages', runner, 'dist', 'index.cjs');
  const child = spawnSync(process.execPath, [CHILD, runner, entry], {
    encoding: 'utf8',
    env: { ...process.env, TESTWIRE_PORT: undefined, TESTWIRE_URL: undefined },
    timeout: 120_000,
  });
  const line = child.stdout.trim().split('\n').pop();
  if (child.status !== 0 || !line?.startsWith('{'))
    throw new Error(`${runner} ${build}: exit ${child.status}\n${child.stderr}`);
  return JSON.parse(line);
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
};

const samples = {};
for (let i = 0; i < procs; i++)
  for (const runner of runners) {
    // builds alternate, their order reversed every other round
    const order = i % 2 === 0 ? buildNames : [...buildNames].reverse();
    for (const build of order) {
      const key = `${runner} ${build}`;
      samples[key] ??= [];
      samples[key].push(measure(runner, build));
    }
  }

const summary = {};
console.log(
  `B2's parts, medians (quartiles) of ${procs} processes, ms: load / construct / first = CPU; final = wall`,
);
for (const [key, runs] of Object.entries(samples)) {
  summary[key] = {};
  const cells = PARTS.map((part) => {
    const values = runs.map((run) => run[part]);
    const figure = { median: quantile(values, 0.5), q1: quantile(values, 0.25), q3: quantile(values, 0.75) };
    summary[key][part] = figure;
    return `${part} ${figure.median.toFixed(2)} (${figure.q1.toFixed(1)}..${figure.q3.toFixed(1)})`;
  });
  const sum = summary[key].load.median + summary[key].construct.median + summary[key].first.median;
  console.log(`${key.padEnd(18)} ${cells.join('  ')}  | load+construct+first ${sum.toFixed(2)}`);
}
const json =
  args.json ??
  join(repoRoot, 'bench', 'results', `reporter-fixed-${new Date().toISOString().slice(0, 16)}.tmp.json`);
mkdirSync(dirname(json), { recursive: true });
writeFileSync(
  json,
  JSON.stringify({ at: new Date().toISOString(), procs, builds, summary, samples }, null, 2),
);
console.log(`written ${json}`);
