#!/usr/bin/env node
/**
 * B1 by the hooks alone: what the reporter costs the runner's thread per test, measured without the runner.
 *
 * In a run, the runner's thread shares the machine with its workers and the reporter's own thread, so the
 * slope of its CPU time between two suite sizes spans ±20 µs to ±1 ms here, and the hooks' wall time counts
 * every moment the thread waited for a CPU (playwright's workers keep both busy). This bench drives each
 * adapter's hooks in a process of its own (hooks-child.cjs) with objects shaped as its runner hands them,
 * and reads the thread's CPU time: `none` (the driving loop alone), `off` (the adapter, core disabled), `on`
 * (adapter + core, owning a broadcaster, as in a run). B1 = on − none, paired per repetition (modes in a
 * rotating order), mean with a 95% t-interval. Vitest's hooks get copies of its reported tasks
 * (vitest-tasks.cjs: TestCase objects with getters into their runner task, as Vitest 4 builds them).
 *
 *   node bench/reporter-cost/hooks.mjs [--runners=jest,vitest,playwright,mocha] [--reps=8] [--tests=20000]
 *                                      [--builds=current,old] [--base=<dir>] [--json=<path>]
 *
 * --base=<dir>: a build `base` rooted at <dir> (packages/<runner>/dist there), e.g. a frozen copy of the tree
 * before a change (builds.mjs currentBuild() makes one); add it to --builds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUDGETS, estimate, verdict } from './analysis.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value ?? 'true'];
  }),
);
const runners = (args.runners ?? 'jest,vitest,playwright,mocha').split(',');
const reps = Number(args.reps ?? 8);
const tests = Number(args.tests ?? 20000);
/** on10: `on` with 10 subscribers (their own process), for B3 with subscribers; --modes= to choose. */
const MODES = (args.modes ?? 'none,off,on,on10').split(',');

/** Builds: current (this tree's dist), old (the frozen build bench:cost made, if it exists). */
const oldRef = JSON.parse(readFileSync(join(here, 'old-ref.json'), 'utf8')).ref ?? '';
const builds = { current: repo, old: join(tmpdir(), 'testwire-bench-old', oldRef) };
// --base=<dir>: one more build to compare, e.g. a copy of an earlier current build (builds.mjs currentBuild()).
if (args.base) builds.base = args.base;
const buildNames = (args.builds ?? 'current,old')
  .split(',')
  .filter((name) => existsSync(join(builds[name] ?? '', 'packages', 'jest', 'dist')));

function measure(runner, build, mode) {
  const entry = join(builds[build], 'packages', runner, 'dist', 'index.cjs');
  const child = spawnSync(
    process.execPath,
    [join(here, 'hooks-child.cjs'), runner, entry, mode, String(tests)],
    {
      encoding: 'utf8',
      env: { ...process.env, TESTWIRE_PORT: undefined, TESTWIRE_URL: undefined },
      timeout: 300_000,
    },
  );
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const { usPerTest, processUsPerTest, delivered } = JSON.parse(line);
    if (delivered === false) throw new Error('a subscriber missed events');
    return { thread: usPerTest, process: processUsPerTest };
  } catch {
    throw new Error(
      `${runner} ${build} ${mode}: no figure (exit ${child.status}): ${child.stderr.slice(-500)}`,
    );
  }
}

const started = new Date();
const runs = [];
for (let rep = 0; rep < reps; rep++) {
  for (const runner of runners) {
    const order = buildNames.flatMap((build) => MODES.map((mode) => ({ build, mode })));
    // Rotate and reverse from one repetition to the next: no mode always first or always after another.
    const shift = rep % order.length;
    const rotated = [...order.slice(shift), ...order.slice(0, shift)];
    for (const { build, mode } of rep % 2 ? rotated.reverse() : rotated)
      runs.push({ rep, runner, build, mode, ...measure(runner, build, mode) });
  }
  process.stderr.write(`repetition ${rep + 1}/${reps} done\n`);
}

const figures = [];
for (const runner of runners)
  for (const build of buildNames) {
    const of = (mode, rep, clock) =>
      runs.find(
        (run) => run.runner === runner && run.build === build && run.mode === mode && run.rep === rep,
      )?.[clock];
    const paired = (mode, clock = 'thread') =>
      MODES.includes(mode)
        ? [...Array(reps).keys()].map((rep) => of(mode, rep, clock) - of('none', rep, clock))
        : [];
    const b1 = estimate(paired('on'));
    const adapter = estimate(paired('off'));
    // B3 by the hooks: everything the reporter adds to the process (all threads, GC, the final flush).
    const b3 = estimate(paired('on', 'process'));
    const b3with10 = estimate(paired('on10', 'process'));
    figures.push({
      runner,
      build,
      b1,
      adapter,
      verdict: verdict(b1, BUDGETS.B1.limit),
      b3,
      b3with10,
      b3verdict: [verdict(b3, BUDGETS.B3.limit), verdict(b3with10, BUDGETS.B3.limit)],
    });
  }

const show = (est) =>
  est.mean === null ? '-' : est.ci95 ? `${est.mean} (${est.ci95[0]}..${est.ci95[1]})` : `${est.mean}`;
console.log(
  `\nB1 by the hooks alone, µs per test on the runner's thread (${tests} tests, ${reps} repetitions)`,
);
console.log('runner      build    adapter + core (B1)     adapter alone (core off)   verdict');
for (const f of figures)
  console.log(
    `${f.runner.padEnd(11)} ${f.build.padEnd(8)} ${show(f.b1).padEnd(23)} ${show(f.adapter).padEnd(26)} ${f.verdict}`,
  );
console.log(`\nB3 by the hooks, µs per test, the whole process (all threads, GC, final flush)`);
console.log('runner      build    0 subscribers           10 subscribers            verdicts');
for (const f of figures)
  console.log(
    `${f.runner.padEnd(11)} ${f.build.padEnd(8)} ${show(f.b3).padEnd(23)} ${show(f.b3with10).padEnd(25)} ${f.b3verdict.join(' / ')}`,
  );

const json =
  args.json ??
  join(
    repo,
    'bench',
    'results',
    `reporter-hooks-${started.toISOString().slice(0, 16).replace(':', '')}.json`,
  );
mkdirSync(dirname(json), { recursive: true });
writeFileSync(
  json,
  `${JSON.stringify({ started: started.toISOString(), node: process.version, tests, reps, oldRef, figures, runs }, null, 2)}\n`,
);
console.log(`\nwritten: ${json}`);
