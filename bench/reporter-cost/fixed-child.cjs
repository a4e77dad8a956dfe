/**
 * One measured process of `fixed.mjs`: B2's parts for one adapter, in a fresh process that has first loaded
 * the Node built-ins its runner has loaded when it loads a reporter (so a saving the runner has already paid
 * is not credited), and its process.stdout/stderr made.
 *
 *   node fixed-child.cjs <runner> <adapter entry (dist/index.cjs)>
 *
 * Prints one JSON line, ms: load (require(entry)), construct (the constructor), first (the run-start hooks)
 * as CPU time of this thread; final as the wall time of the final hooks until they settle (and finalCpu, this
 * thread's CPU during it). Between first and final, a small run (20 files × 10 tests) through the adapter's
 * hooks (drive.cjs, as hooks-child.cjs drives them), files 15 ms apart, so the final hook has calls to flush
 * and, as in a run, the reporter's thread has started by then. The reporter has its default options (its
 * performance samples too) and owns a broadcaster on a free port in this process, as in a bench:cost run
 * with 0 subscribers.
 */
const { readFileSync } = require('node:fs');
const { driver } = require('./drive.cjs');

const [, , runner, entry] = process.argv;
const FILES = 20;
const PER_FILE = 10;
const ROOT = '/work/bench-project';

/**
 * The built-ins each runner has loaded when it requires its reporter (process.moduleLoadList at that moment,
 * Node 20, jest 30 / mocha 11 from compat/; vitest and playwright load more than jest: its list stands for them).
 */
const MOCHA =
  'events buffer path querystring async_hooks timers util fs url module os string_decoder stream/promises stream diagnostics_channel net tty fs/promises perf_hooks assert';
const JEST = `${MOCHA} timers/promises util/types constants crypto vm console dgram child_process v8`;
const PRELOAD = { mocha: MOCHA, jest: JEST, vitest: JEST, playwright: JEST };
for (const id of PRELOAD[runner].split(' ')) require(`node:${id}`);
void process.stdout;
void process.stderr;
// A runner has resolved packages through their "exports" before: Node's resolver for them is loaded and warm
// (the first two such resolutions in a process cost ~5 and ~2 ms, later ones ~0.4).
const { join } = require('node:path');
const repo = join(__dirname, '..', '..');
for (const id of ['ws', 'vitest/package.json']) require.resolve(id, { paths: [repo] });

const nap = new Int32Array(new SharedArrayBuffer(4));
/** This thread's CPU time, ms; the short wait first makes the kernel bring the figure up to date. */
function cpuMs() {
  Atomics.wait(nap, 0, 0, 0.01);
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6;
}
// the reporter's defaults, as in a run (its performance samples too), owning a broadcaster on a free port
const options = { port: 0 };
require('./vitest-tasks.cjs');
/** A run's files are tens of ms apart: the reporter's thread has started and bound its port by the end. */
const FILE_GAP_MS = 15;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  // A full GC before the measured parts (again once this harness made the run's objects, and before the final
  // hooks): a young generation left half full by the preloads, the harness or the run would be collected
  // (2–3 ms here) in whichever part fills it, moving that cost between parts and between builds.
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  gc();
  const t0 = cpuMs();
  const exported = require(entry);
  const t1 = cpuMs();
  // jest's rootDir its install: the adapter finds jest's version there, as in a run
  const jestRootDir = join(repo, 'compat', 'jest-30');
  const construct = driver(runner, exported, {
    options,
    files: FILES,
    perFile: PER_FILE,
    root: ROOT,
    jestRootDir,
  })();
  gc();
  const t2 = cpuMs();
  const run = construct();
  const t3 = cpuMs();
  run.begin();
  const t4 = cpuMs();
  for (const calls of run.files) {
    for (const call of calls) call();
    await pause(FILE_GAP_MS);
  }
  gc();
  const c5 = cpuMs();
  const at = performance.now();
  await run.end();
  const finalMs = performance.now() - at;
  const c6 = cpuMs();
  const figures = { load: t1 - t0, construct: t3 - t2, first: t4 - t3, final: finalMs, finalCpu: c6 - c5 };
  process.stdout.write(`${JSON.stringify({ runner, ...figures })}\n`);
  process.exit(0);
})();
