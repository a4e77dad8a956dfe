/**
 * One measured process of `hooks.mjs`: drives one adapter's hooks, without its runner, with objects shaped
 * as the runner hands them (the fields the adapter reads), and prints the CPU time of this thread per test.
 *
 *   node hooks-child.cjs <runner> <adapter entry (dist/index.cjs)> <mode> <tests>
 *
 * mode: `none` (the driving loop alone; the reporter made with its core disabled, so that its run-start and
 * final hooks add nothing), `off` (the adapter with its core disabled: the adapter's own work), `on` (the
 * adapter and the core, owning a broadcaster on port 0 in this process, as in a run), `on10` (`on` with 10
 * subscribers in a process of their own, subscribers.mjs, attached after the warm-up pass).
 * Each hook's objects are made before the measured loop, so the loop's own cost is the calls and the ticks.
 * Output: one JSON line {runner, mode, tests, usPerTest, processUsPerTest, delivered} — the best of 5 passes
 * (CPU time lags by up to a scheduler tick; the minimum is the pass least disturbed by other load):
 * usPerTest is this thread's CPU during the loop (B1); processUsPerTest is the whole process's
 * (process.cpuUsage(): every thread, GC) from the loop's start until the final hooks settled (B3).
 * `passes` holds each pass's figures (thread, process, and the process's system time alone).
 */
const { readFileSync } = require('node:fs');
const { driver } = require('./drive.cjs');

const [, , runner, entry, modeArg, testsArg] = process.argv;
/** `on10`: `on` with 10 subscribers in a process of their own (subscribers.mjs), attached before the first pass. */
const SUBSCRIBERS = modeArg === 'on10' ? 10 : 0;
const mode = SUBSCRIBERS ? 'on' : modeArg;
const TESTS = Number(testsArg ?? 20000);
const FILES = 20;
const PER_FILE = TESTS / FILES;
const ROOT = '/work/bench-project';

/** This thread's CPU time in µs (schedstat's first field, ns). */
function threadCpuUs() {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000;
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

const options =
  mode === 'off' || mode === 'none'
    ? { enabled: false }
    : { port: 0, performanceIntervalMs: 0, captureOutput: true };

/** The subscribers' process and its answers (on10). */
const subscribers = { child: undefined, waiting: new Map(), expected: 0 };
function ask(cmd, extra = {}) {
  return new Promise((resolve) => {
    subscribers.waiting.set(cmd, resolve);
    subscribers.child.send({ cmd, ...extra });
  });
}
async function startSubscribers() {
  const { fork } = require('node:child_process');
  const { createServer } = require('node:net');
  options.port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  subscribers.child = fork(require('node:path').join(__dirname, 'subscribers.mjs'), { stdio: 'inherit' });
  subscribers.child.on('message', (msg) => {
    const key = { ready: 'ready', attached: 'attach', established: 'established', counts: 'counts' }[
      msg.type
    ];
    subscribers.waiting.get(key)?.(msg);
  });
  await new Promise((resolve) => subscribers.waiting.set('ready', resolve));
  await ask('attach', { port: options.port, count: SUBSCRIBERS });
}

/**
 * A pass's hook calls as closures over objects made for it, grouped per file (drive.cjs). Each pass's files
 * are in a directory of their own, so its tests are new to the reporter, as every test of a run is: the same
 * tests again would find their identities (id, titles) remembered from the pass before.
 */
let passCount = 0;
function nextRun() {
  const dir = `test-${passCount++}`;
  return driver(runner, require(entry), { options, files: FILES, perFile: PER_FILE, root: ROOT, dir })()();
}

/**
 * A full GC, without a global `gc` (the mocha adapter calls one after each file when the user exposes it).
 * Run before each measured loop: the objects a pass prepares are then old, so the loop's first scavenges do
 * not pay for moving them — which would charge whatever allocates in the loop (the hooks) for the driver.
 */
require('node:v8').setFlagsFromString('--expose-gc');
const collect = require('node:vm').runInNewContext('gc');

async function pass() {
  const { begin, files, end } = nextRun();
  begin();
  collect();
  collect();
  const before = threadCpuUs();
  const processBefore = process.cpuUsage();
  for (const calls of files) {
    for (let i = 0; i < calls.length; i++) {
      if (mode !== 'none') calls[i]();
      // The runner's loop turns between tests: the batching timer gets its turn as in a run.
      if (i % 50 === 49) await tick();
    }
    // With subscribers, a file at a time: this loop makes tests far faster than a runner does, and a
    // subscriber left behind by more than its queue's bound is cut (SUBSCRIBER_LAGGING), which would
    // leave its share of the fan-out out of the figure. Waiting costs no CPU.
    if (SUBSCRIBERS) {
      subscribers.expected += PER_FILE;
      await ask('counts', { results: subscribers.expected, timeoutMs: 60_000 });
    }
  }
  const used = threadCpuUs() - before;
  await end();
  const all = process.cpuUsage(processBefore);
  return { thread: used / TESTS, process: (all.user + all.system) / TESTS, system: all.system / TESTS };
}

(async () => {
  if (SUBSCRIBERS) await startSubscribers();
  await pass(); // warm-up: compile, first broadcaster start
  if (SUBSCRIBERS) {
    // The warm-up bound the port (one broadcaster per process, kept for every pass); the subscribers connect
    // to it, resume from the start of its history, and stay for every pass.
    const established = await ask('established', { timeoutMs: 60_000 });
    if (established.count < SUBSCRIBERS) throw new Error(`only ${established.count} subscribers connected`);
    subscribers.expected = (await ask('counts', { results: 0, timeoutMs: 0 })).minResults;
  }
  const measured = [];
  for (let i = 0; i < 5; i++) measured.push(await pass());
  const usPerTest = Math.min(...measured.map((p) => p.thread));
  const processUsPerTest = Math.min(...measured.map((p) => p.process));
  let delivered;
  if (SUBSCRIBERS) {
    // Every subscriber must have every measured pass's results.
    const counts = await ask('counts', { results: subscribers.expected, timeoutMs: 60_000 });
    delivered = counts.minResults >= subscribers.expected;
    if (!delivered)
      process.stderr.write(`subscribers got ${counts.minResults} of ${subscribers.expected} results\n`);
    subscribers.child.send({ cmd: 'exit' });
  }
  process.stdout.write(
    `${JSON.stringify({ runner, mode: modeArg, tests: TESTS, usPerTest, processUsPerTest, delivered, passes: measured })}\n`,
  );
  process.exit(0);
})();
