#!/usr/bin/env node
/**
 * Reporter overhead: wall and CPU time of a generated 2,000-test suite per runner (jest 30, vitest 4,
 * playwright, mocha 11), without and with the testwire reporter, side by side in one run.
 * `node bench/reporter-overhead/run.mjs` (or `pnpm bench:reporter`); build the packages first.
 *
 *   bench process (timing + bookkeeping only)
 *     ├─ fork --role=hub: the broadcaster (startBroadcaster, ephemeral port), started once for the bench
 *     ├─ fork --role=subscribers: 10 `ws` subscribers of the hub (events: *, each parses every event), in
 *     │    a process of their own, as dashboards and monitors are
 *     └─ spawns /usr/bin/time <runner binary of compat/<runner>/> on compat/<runner>/work/bench-<pid>/
 *          baseline: the runner's default terminal reporter only
 *          off:      the same + the testwire reporter configured, TESTWIRE=off (noise floor)
 *          testwire: the same + the testwire reporter, joining the hub via TESTWIRE_URL
 *          minimal:  the same + minimal-reporter.cjs, the least a live reporter can do (a thread publishing
 *                    one small event per test into the hub): what streaming costs whatever the reporter
 *
 * Per runner: one unmeasured warm-up of baseline, testwire and minimal (transform caches), then `--reps` repetitions (default
 * 5; jest 8, vitest 6, playwright 3, mocha 15) of all four modes, the order reversed every other
 * repetition. Figures: medians, and the mean of per-repetition paired differences (mode - baseline), for
 * wall time, the CPU time of the runner's process tree and of its main thread. A testwire or minimal run
 * only counts when every subscriber received every test.result and the test.completed of that run.
 *
 * Flags: --runners=jest,vitest,playwright,mocha  --reps=5  --tests=2000  --quick (400 tests, 1 repetition)
 * --json=<path> (default bench/results/reporter-overhead.json)  --keep (leave the generated suites in place)
 * --summarize=<json> [--write]: the table of a stored run, recomputed from its runs (--write stores it back).
 */
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
// --quick: a small suite and one repetition, to iterate on the bench or the reporters
const REPS = Number(args.reps ?? (args.quick ? 1 : 5));
const TESTS = Number(args.tests ?? (args.quick ? 400 : 2000));
const FILES = 20;
const PER_FILE = Math.ceil(TESTS / FILES);
const SUBSCRIBERS = 10;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

// ---------------------------------------------------------------------------------------------------------
// Suites. Each test does a little real work (a sort and a string build) so it looks like a fast unit test:
// the worst case for relative overhead, since the runner's own per-test cost dominates.

const body = (assert) => `const input = Array.from({ length: 50 }, (_, k) => (k * 7919 + i) % 101);
      const sorted = [...input].sort((a, b) => a - b);
      const text = sorted.slice(0, 5).join(',');
      ${assert}`;

function testsOf(fileIndex, make) {
  const blocks = [];
  const perBlock = 10;
  for (let b = 0; b * perBlock < PER_FILE; b++) {
    const cases = [];
    for (let t = b * perBlock; t < Math.min(PER_FILE, (b + 1) * perBlock); t++) {
      cases.push(make(`computes case ${fileIndex}.${t}`, fileIndex * 1000 + t));
    }
    blocks.push({ name: `block ${b}`, cases });
  }
  return blocks;
}

const runners = {
  jest: {
    compat: 'jest-30',
    // ~4 s per run
    reps: 8,
    bin: 'jest',
    ext: '.test.js',
    file: (i) =>
      testsOf(
        i,
        (name, n) =>
          `    test('${name}', () => {\n      const i = ${n};\n      ${body('expect(text.length).toBeGreaterThan(0);')}\n    });`,
      )
        .map((b) => `describe('${b.name}', () => {\n${b.cases.join('\n')}\n});`)
        .join('\n'),
    config: (dir, testwire) => ({
      name: 'jest.config.cjs',
      text: `module.exports = ${JSON.stringify(
        {
          rootDir: dir,
          testMatch: ['**/*.test.js'],
          cacheDirectory: join(dir, '.jest-cache'),
          reporters: testwire ? ['default', testwire] : ['default'],
        },
        null,
        2,
      )};\n`,
    }),
    argv: (dir, config) => ['--ci', '--config', join(dir, config)],
  },
  vitest: {
    compat: 'vitest-4',
    // ~8 s per run
    reps: 6,
    bin: 'vitest',
    ext: '.test.mjs',
    file: (i) =>
      `import { describe, expect, test } from 'vitest';\n${testsOf(
        i,
        (name, n) =>
          `  test('${name}', () => {\n    const i = ${n};\n    ${body('expect(text.length).toBeGreaterThan(0);')}\n  });`,
      )
        .map((b) => `describe('${b.name}', () => {\n${b.cases.join('\n')}\n});`)
        .join('\n')}`,
    config: (_dir, testwire) => ({
      name: 'vitest.config.mjs',
      text: `export default { test: { include: ['**/*.test.mjs'], reporters: ${JSON.stringify(
        testwire ? ['default', testwire] : ['default'],
      )} } };\n`,
    }),
    argv: (dir, config) => ['run', '--root', dir, '--config', join(dir, config)],
  },
  playwright: {
    compat: 'playwright',
    // ~25 s per run: 3 repetitions keep the full bench under ~8 min
    reps: 3,
    bin: 'playwright',
    ext: '.spec.mjs',
    file: (i) =>
      `import { expect, test } from '@playwright/test';\n${testsOf(
        i,
        (name, n) =>
          `  test('${name}', () => {\n    const i = ${n};\n    ${body('expect(text.length).toBeGreaterThan(0);')}\n  });`,
      )
        .map((b) => `test.describe('${b.name}', () => {\n${b.cases.join('\n')}\n});`)
        .join('\n')}`,
    config: (_dir, testwire) => ({
      name: 'playwright.config.mjs',
      text: `export default { testMatch: '**/*.spec.mjs', reporter: ${JSON.stringify(
        testwire ? [['list'], [testwire]] : [['list']],
      )} };\n`,
    }),
    argv: (dir, config) => ['test', '--config', join(dir, config)],
  },
  mocha: {
    compat: 'mocha-11',
    // ~0.6 s per run: many repetitions are cheap
    reps: 15,
    bin: 'mocha',
    ext: '.test.cjs',
    file: (i) =>
      `const assert = require('node:assert');\n${testsOf(
        i,
        (name, n) =>
          `  it('${name}', () => {\n    const i = ${n};\n    ${body('assert.ok(text.length > 0);')}\n  });`,
      )
        .map((b) => `describe('${b.name}', () => {\n${b.cases.join('\n')}\n});`)
        .join('\n')}`,
    // mocha takes one --reporter: @testwire/mocha wraps `spec` (the default) so the terminal output is the same
    config: () => undefined,
    argv: (dir, _config, testwire) => [
      ...(testwire ? ['--reporter', testwire] : []),
      join(dir, '*.test.cjs'),
    ],
  },
};

function generate(name) {
  const runner = runners[name];
  const compatDir = join(root, 'compat', runner.compat);
  if (!existsSync(join(compatDir, 'node_modules', '.bin', runner.bin))) {
    throw new Error(
      `${compatDir}/node_modules/.bin/${runner.bin} is missing: run pnpm install at the repo root`,
    );
  }
  const dir = join(compatDir, 'work', `bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(dir, `suite-${String(i).padStart(2, '0')}${runner.ext}`), `${runner.file(i)}\n`);
  // The testwire modes load the reporter through a timing wrapper (see timedReporter).
  const reporter = join(dir, 'testwire-timed.cjs');
  writeFileSync(reporter, timedReporter(name, compatDir));
  // The minimal mode's reporter (minimal-reporter.cjs); mocha's wraps spec from the compat install.
  const minimal = join(dir, 'testwire-minimal.cjs');
  const minimalModule = JSON.stringify(join(here, 'minimal-reporter.cjs'));
  writeFileSync(
    minimal,
    name === 'mocha'
      ? `module.exports = require(${minimalModule}).mocha(require(${JSON.stringify(
          createRequire(join(compatDir, 'package.json')).resolve('mocha/lib/reporters/spec.js'),
        )}));\n`
      : `module.exports = require(${minimalModule}).${name};\n`,
  );
  const configs = {};
  const reporters = { baseline: undefined, testwire: reporter, minimal };
  for (const [kind, path] of Object.entries(reporters)) {
    const config = runner.config(dir, path);
    if (config) {
      const file = config.name.replace(/(\.[a-z]+)$/, `.${kind}$1`);
      writeFileSync(join(dir, file), config.text);
      configs[kind] = file;
    }
  }
  return { dir, compatDir, configs, reporters };
}

/**
 * The reporter as the runner loads it in the testwire modes: @testwire/<runner> (resolved from the compat
 * install) subclassed so that the time the runner's thread spends in it is measured from inside — loading
 * it, constructing it, each hook the runner calls, and the final hook the runner awaits (jest onRunComplete,
 * vitest onTestRunEnd, playwright onEnd/onExit, mocha done) until it returns. Written to
 * $TESTWIRE_BENCH_HOOKS at exit. Wall-time differences between whole runs move by more than 3% between
 * identical runs on a shared machine; this is the reporter's own share of the runner's thread, which they
 * cannot resolve. Not counted: the reporter's timers (batch posts) and, for mocha, the output capture's
 * wrappers around console/stdout and runner.emit. The wrapper itself costs two performance.now() per hook.
 */
function timedReporter(name, compatDir) {
  const entry = createRequire(join(compatDir, 'package.json')).resolve(`@testwire/${name}`);
  return `'use strict';
const { performance } = require('node:perf_hooks');
const { writeFileSync } = require('node:fs');
const stats = { loadMs: 0, constructMs: 0, hookMs: 0, finalMs: 0, calls: 0 };
const out = process.env.TESTWIRE_BENCH_HOOKS;
if (out) process.on('exit', () => writeFileSync(out, JSON.stringify(stats)));
const loadStart = performance.now();
const loaded = require(${JSON.stringify(entry)});
stats.loadMs = performance.now() - loadStart;
const Real = typeof loaded === 'function' ? loaded : loaded.default;
const FINAL = new Set(['onRunComplete', 'onTestRunEnd', 'onEnd', 'onExit', 'done']);
function timed(name, fn) {
  return function (...args) {
    const start = performance.now();
    const result = fn.apply(this, args);
    if (FINAL.has(name)) {
      if (result && typeof result.then === 'function')
        return result.finally(() => { stats.finalMs += performance.now() - start; });
      stats.finalMs += performance.now() - start;
      return result;
    }
    stats.hookMs += performance.now() - start;
    stats.calls++;
    return result;
  };
}
class Timed extends Real {
  constructor(...args) {
    const start = performance.now();
    super(...args);
    stats.constructMs += performance.now() - start;
  }
}
${
  name === 'mocha'
    ? `// mocha: the hooks are listeners our listen() registers on the runner; done(failures, fn) ends when fn is called.
Timed.prototype.listen = function () {
  const runner = this.runner;
  const on = runner.on;
  runner.on = function (event, listener) { return on.call(this, event, timed(event, listener)); };
  try { Real.prototype.listen.call(this); } finally { runner.on = on; }
};
Timed.prototype.done = function (failures, fn) {
  const start = performance.now();
  return Real.prototype.done.call(this, failures, (...args) => {
    stats.finalMs += performance.now() - start;
    if (fn) fn(...args);
  });
};`
    : `for (const key of Object.getOwnPropertyNames(Real.prototype))
  if (/^on[A-Z]/.test(key) && typeof Real.prototype[key] === 'function') Timed.prototype[key] = timed(key, Real.prototype[key]);`
}
module.exports = Timed;
`;
}

// ---------------------------------------------------------------------------------------------------------
// Hub process: the broadcaster the reporter joins (TESTWIRE_URL), started once for the whole bench, away
// from the bench's bookkeeping; during baseline and TESTWIRE=off runs it sits idle with its subscribers
// connected, as it would on a developer machine.

async function hubRole() {
  const { startBroadcaster } = await import(
    pathToFileURL(join(root, 'packages', 'broadcaster', 'dist', 'index.js')).href
  );
  const broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn: () => {} } });
  answerCpu();
  process.on('message', async (msg) => {
    if (msg.cmd === 'exit') {
      await broadcaster.close({ timeoutMs: 1000 });
      process.disconnect();
    }
  });
  process.send({ type: 'ready', url: broadcaster.url });
}

// Subscribers process: the 10 subscribers, each a `ws` client of the hub parsing every event, as dashboards
// and monitors are processes of their own (so their parsing does not delay the broadcaster's acks).
async function subscribersRole() {
  const { default: WebSocket } = await import('ws');
  const wsUrl = `${args.url.replace(/^http/, 'ws')}/ws`;
  const counters = [];
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const counter = { results: 0, completed: 0 };
    counters.push(counter);
    const ws = new WebSocket(wsUrl);
    sockets.push(ws);
    await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.type === 'connection.established')
          ws.send(JSON.stringify({ type: 'subscribe', events: ['*'] }));
        else if (msg.type === 'subscribed') resolve();
        if (msg.type === 'test.result') counter.results++;
        else if (msg.type === 'test.completed') counter.completed++;
      });
    });
  }
  const ok = (results) => counters.every((c) => c.results >= results && c.completed >= 1);
  answerCpu();
  process.on('message', async (msg) => {
    if (msg.cmd === 'reset') {
      for (const c of counters) {
        c.results = 0;
        c.completed = 0;
      }
      process.send({ type: 'reset' });
    } else if (msg.cmd === 'settle') {
      // bounded wait until every subscriber saw `results` test.result events and one test.completed
      const deadline = Date.now() + msg.timeoutMs;
      while (!ok(msg.results) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      process.send({
        type: 'settled',
        ok: ok(msg.results),
        minResults: Math.min(...counters.map((c) => c.results)),
        minCompleted: Math.min(...counters.map((c) => c.completed)),
      });
    } else if (msg.cmd === 'exit') {
      for (const ws of sockets) ws.terminate();
      process.disconnect();
    }
  });
  process.send({ type: 'ready' });
}

/** Each role process tells the bench its CPU time (ms, user + system) when asked. */
function answerCpu() {
  process.on('message', (msg) => {
    if (msg.cmd !== 'cpu') return;
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', ms: (user + system) / 1000 });
  });
}

/**
 * The whole machine's CPU time so far from /proc/stat (Linux; undefined elsewhere), in ms: busy (user,
 * nice, system, irq, softirq), idle (idle + iowait) and steal (taken by the hypervisor for other guests).
 */
function machineCpu() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    return {
      busy: (user + nice + system + irq + softirq) * tick,
      idle: (idle + iowait) * tick,
      steal: (steal || 0) * tick,
    };
  } catch {
    return undefined;
  }
}

function forkRole(role, extra = []) {
  const proc = fork(fileURLToPath(import.meta.url), [`--role=${role}`, ...extra], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const onMessage = (msg) => {
        if (msg.type !== type) return;
        cleanup();
        resolve(msg);
      };
      const onExit = (code) => {
        cleanup();
        reject(new Error(`the ${role} process exited (${code}) while the bench waited for ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${type} from the ${role} process`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });
  const exited = new Promise((r) => proc.once('exit', r));
  const close = async () => {
    if (proc.connected) proc.send({ cmd: 'exit' });
    const timer = setTimeout(() => proc.kill(), 5000);
    await exited;
    clearTimeout(timer);
  };
  const cpu = async () => {
    proc.send({ cmd: 'cpu' });
    return (await next('cpu')).ms;
  };
  return { proc, next, close, cpu };
}

/** The broadcaster process and the subscribers process, driven as one hub. */
async function startHub() {
  const hub = forkRole('hub');
  const { url } = await hub.next('ready');
  const subscribers = forkRole('subscribers', [`--url=${url}`]);
  const { proc, next, close } = subscribers;
  await next('ready');
  return {
    url,
    /** CPU time so far of the broadcaster's and the subscribers' processes. */
    async cpu() {
      const [broadcaster, subs] = await Promise.all([hub.cpu(), subscribers.cpu()]);
      return { broadcaster, subscribers: subs };
    },
    async reset() {
      proc.send({ cmd: 'reset' });
      await next('reset');
    },
    async settled(results, timeoutMs = 5000) {
      proc.send({ cmd: 'settle', results, timeoutMs });
      return next('settled', timeoutMs + 5000);
    },
    async close() {
      await close();
      await hub.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Runs. Modes: baseline (default reporter only), off (testwire reporter configured, TESTWIRE=off: the noise
// floor plus the cost of loading a disabled reporter), testwire (reporter on, joined to the hub), minimal
// (minimal-reporter.cjs joined to the hub: the cost of streaming live that no reporter design avoids).

const MODES = ['baseline', 'off', 'testwire', 'minimal'];
/** The modes that stream into the hub (their runs count only if every subscriber received the whole run). */
const STREAMING = new Set(['testwire', 'minimal']);

function runOnce(name, suite, mode, hubUrl) {
  const runner = runners[name];
  // off loads the testwire configuration (TESTWIRE=off disables it)
  const kind = mode === 'off' ? 'testwire' : mode;
  const bin = join(suite.compatDir, 'node_modules', '.bin', runner.bin);
  const env = { ...process.env, CI: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) if (key.startsWith('TESTWIRE')) delete env[key];
  // Every mode: the CPU time of the runner process's main thread (where reporters run), written at exit.
  const threadFile = join(suite.dir, '.thread-cpu');
  rmSync(threadFile, { force: true });
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${join(here, 'thread-cpu.cjs')}`.trim();
  env.TESTWIRE_BENCH_THREAD_CPU = threadFile;
  const hooksFile = join(suite.dir, '.hooks.json');
  rmSync(hooksFile, { force: true });
  if (STREAMING.has(mode)) env.TESTWIRE_URL = hubUrl;
  if (mode === 'testwire') env.TESTWIRE_BENCH_HOOKS = hooksFile;
  if (mode === 'off') env.TESTWIRE = 'off';
  const argv = runner.argv(suite.dir, suite.configs[kind], suite.reporters[kind]);
  // /usr/bin/time reports the CPU of the runner and every process it waited for (workers): less sensitive
  // than wall time to other load on the machine.
  const cpuFile = join(suite.dir, '.cpu');
  const [command, commandArgs] = TIME ? [TIME, ['-f', '%U %S', '-o', cpuFile, bin, ...argv]] : [bin, argv];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, commandArgs, { cwd: suite.dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      let cpuMs;
      try {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        cpuMs = (user + sys) * 1000;
      } catch {}
      let hooks;
      try {
        hooks = JSON.parse(readFileSync(hooksFile, 'utf8'));
      } catch {}
      let threadMs;
      let waitMs;
      try {
        [threadMs, waitMs] = readFileSync(threadFile, 'utf8').trim().split(' ').map(Number);
      } catch {}
      resolve({ ms, cpuMs, threadMs, waitMs, code, stderr, hooks });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

// Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal's 1.96).
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * Overhead of `mode` against the baseline: medians, the mean of per-repetition paired differences, and the
 * 95% confidence interval of that mean (t-interval): what the run can and cannot tell apart from 3%.
 */
function overhead(samples, mode, tests) {
  const base = samples.baseline;
  const other = samples[mode];
  const pairs = other.map((x, i) => x - base[i]).filter(Number.isFinite);
  const baseMedian = median(base);
  const pairedMean = mean(pairs);
  const n = pairs.length;
  const sd = n > 1 ? Math.sqrt(pairs.reduce((a, x) => a + (x - pairedMean) ** 2, 0) / (n - 1)) : Number.NaN;
  const half = ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n);
  const ci = [pairedMean - half, pairedMean + half];
  return {
    medianPercent: round(((median(other) - baseMedian) / baseMedian) * 100, 2),
    medianMs: round(median(other) - baseMedian),
    pairedMeanMs: round(pairedMean),
    pairedMeanPercent: round((pairedMean / baseMedian) * 100, 2),
    // null with fewer than two pairs: one repetition has no spread to judge by
    pairedCi95Ms: n > 1 ? ci.map((x) => round(x)) : null,
    pairedCi95Percent: n > 1 ? ci.map((x) => round((x / baseMedian) * 100, 2)) : null,
    pairedMinMaxMs: [round(Math.min(...pairs)), round(Math.max(...pairs))],
    usPerTest: round((pairedMean * 1000) / tests, 1),
  };
}

/** The overheads of one runner's result, from the runs it keeps (also for --summarize of an older JSON). */
function withOverheads(result) {
  const { tests } = result;
  // every mode the runs have (a JSON from before 2026-11-22 08:30 UTC has `delivery` instead of `minimal`)
  const of = (runs) =>
    Object.fromEntries(
      Object.keys(runs)
        .filter((mode) => mode !== 'baseline' && runs[mode]?.length)
        .map((mode) => [mode, overhead(runs, mode, tests)]),
    );
  const wallOverhead = of(result.wallMs.runs);
  return {
    ...result,
    overheadPercent: wallOverhead.testwire.medianPercent,
    wallOverhead,
    ...(result.cpuMs ? { cpuOverhead: of(result.cpuMs.runs) } : {}),
    ...(result.mainThreadCpuMs ? { mainThreadCpuOverhead: of(result.mainThreadCpuMs.runs) } : {}),
    ...(result.outsideCpuMs ? { cpuBudget: cpuBudget(result) } : {}),
  };
}

/**
 * Where added wall time can come from. A mode adds CPU work anywhere on the machine — the runner's process
 * tree (its reporter thread included), the broadcaster, the subscribers — while the baseline runs
 * left some of the machine idle. Work beyond that idle time has to stretch the run: the wall time cannot grow
 * by less than (added CPU - baseline idle) / cores, whatever the reporter does on the runner's thread
 * (`floor`). How long the runner's main thread waited for a CPU while ready (`mainThreadWaitMs`, from
 * schedstat) is that stretch as the runner's own thread felt it.
 */
function cpuBudget(result) {
  const { cpuMs, outsideCpuMs, machineCpuMs, mainThreadWaitMs, mainThreadCpuMs, wallMs } = result;
  if (!cpuMs) return undefined;
  const cores = result.cores ?? 1;
  const baseWall = wallMs.median.baseline;
  // the modes of this result (an older JSON has `delivery` instead of `minimal`)
  const modes = Object.keys(wallMs.runs);
  const paired = (series, mode) =>
    mean(series.runs[mode].map((x, i) => x - series.runs.baseline[i]).filter(Number.isFinite));
  const idle = machineCpuMs ? median(machineCpuMs.runs.baseline.map((m) => m.idle)) : undefined;
  const of = (mode) => {
    const runner = paired(cpuMs, mode);
    const outside = paired(outsideCpuMs, mode);
    const added = runner + outside;
    const figures = { runnerCpuMs: round(runner), outsideCpuMs: round(outside), addedCpuMs: round(added) };
    if (mainThreadCpuMs) figures.mainThreadCpuMs = round(paired(mainThreadCpuMs, mode));
    if (mainThreadWaitMs) figures.mainThreadWaitMs = round(paired(mainThreadWaitMs, mode));
    if (idle !== undefined) {
      const floor = Math.max(0, added - idle) / cores;
      figures.floorMs = round(floor);
      figures.floorPercent = round((floor / baseWall) * 100, 1);
    }
    return figures;
  };
  return {
    cores,
    ...(idle !== undefined
      ? {
          baselineIdleMs: round(idle),
          baselineIdlePercent: round((idle / (cores * baseWall)) * 100, 1),
          stealMs: Object.fromEntries(
            modes.map((m) => [m, round(median(machineCpuMs.runs[m].map((x) => x.steal)))]),
          ),
        }
      : {}),
    ...Object.fromEntries(modes.filter((m) => m !== 'baseline').map((m) => [m, of(m)])),
  };
}

/**
 * Against the 3% target, from the 95% interval of the paired mean: met when all of it is at or under 3%,
 * over when all of it is above, otherwise not resolved by this run (the machine's noise is wider).
 */
function verdict(r) {
  if (!r.valid) return `INVALID: ${r.problems[0]}`;
  const interval = r.wallOverhead.testwire.pairedCi95Percent;
  if (!interval) return 'not resolved (one repetition)';
  const [lo, hi] = interval;
  const m = r.wallOverhead.minimal?.pairedCi95Percent;
  const minimal = m && m[0] > 3 ? '; the minimal reporter alone is over 3%' : '';
  if (hi <= 3) return `ok (<= 3%)${minimal}`;
  if (lo > 3) return `OVER 3%${minimal}`;
  return `not resolved (95% CI ${lo}..${hi}%)${minimal}`;
}

async function benchRunner(name, hub) {
  const reps = Number(args.reps ?? (args.quick ? 1 : (runners[name].reps ?? REPS)));
  const suite = generate(name);
  const perMode = () => Object.fromEntries(MODES.map((m) => [m, []]));
  const wall = perMode();
  const cpu = perMode();
  const thread = perMode();
  /** How long the runner's main thread waited for a CPU while ready to run. */
  const waiting = perMode();
  /** CPU of the processes outside the runner (broadcaster, subscribers) and of the machine. */
  const outside = perMode();
  const outsideParts = perMode();
  const machine = perMode();
  const problems = [];
  /** Per testwire run: the reporter's own time on the runner's thread (timedReporter). */
  const hooks = [];
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  const once = async (mode, rep) => {
    await hub.reset();
    // CPU snapshots around the run (not the delivery that may still go on after the runner exited: what
    // competes with the runner is what runs beside it)
    const before = { roles: await hub.cpu(), machine: machineCpu() };
    const result = await runOnce(name, suite, mode, hub.url);
    const after = { machine: machineCpu(), roles: await hub.cpu() };
    if (result.code !== 0) {
      problems.push(
        `${mode} run exited ${result.code}: ${result.stderr.trim().split('\n').slice(-6).join(' | ')}`,
      );
    }
    if (STREAMING.has(mode)) {
      const delivery = await hub.settled(FILES * PER_FILE);
      if (!delivery.ok) {
        problems.push(
          `${mode} run: a subscriber received only ${delivery.minResults}/${FILES * PER_FILE} test.result and ${delivery.minCompleted} test.completed`,
        );
      }
    }
    if (rep >= 0) {
      wall[mode][rep] = result.ms;
      cpu[mode][rep] = result.cpuMs;
      thread[mode][rep] = result.threadMs;
      waiting[mode][rep] = result.waitMs;
      const roles = Object.fromEntries(
        Object.keys(after.roles).map((k) => [k, round(after.roles[k] - before.roles[k])]),
      );
      outside[mode][rep] = round(roles.broadcaster + roles.subscribers);
      outsideParts[mode][rep] = roles;
      if (before.machine && after.machine) {
        machine[mode][rep] = Object.fromEntries(
          Object.keys(before.machine).map((k) => [k, round(after.machine[k] - before.machine[k])]),
        );
      }
      if (mode === 'testwire') {
        if (result.hooks) hooks.push(result.hooks);
        else problems.push('testwire run: the timing wrapper wrote no figures');
      }
    }
    process.stdout.write(`${mode[0].toUpperCase()}${rep < 0 ? '(w)' : ''} ${round(result.ms / 1000, 2)}  `);
  };
  process.stdout.write(`  ${name.padEnd(10)} `);
  // warm-ups (each config has transform caches of its own); the off mode uses the testwire mode's config
  await once('baseline', -1);
  await once('testwire', -1);
  await once('minimal', -1);
  for (let rep = 0; rep < reps; rep++) {
    // alternate the order so a drift in machine load does not favour one mode
    for (const mode of rep % 2 === 0 ? MODES : [...MODES].reverse()) await once(mode, rep);
  }
  process.stdout.write('\n');
  if (!args.keep) rmSync(suite.dir, { recursive: true, force: true });
  const tests = FILES * PER_FILE;
  const hasCpu = MODES.every((m) => cpu[m].every(Number.isFinite));
  const r1 = (xs) => xs.map((x) => round(x));
  return {
    runner: name,
    compat: runners[name].compat,
    tests,
    repetitions: reps,
    loadavg: { before: loadBefore, after: os.loadavg().map((x) => round(x, 2)) },
    wallMs: {
      runs: Object.fromEntries(MODES.map((m) => [m, r1(wall[m])])),
      median: Object.fromEntries(MODES.map((m) => [m, round(median(wall[m]))])),
    },
    ...(hasCpu
      ? {
          cpuMs: {
            runs: Object.fromEntries(MODES.map((m) => [m, r1(cpu[m])])),
            median: Object.fromEntries(MODES.map((m) => [m, round(median(cpu[m]))])),
          },
        }
      : {}),
    ...(MODES.every((m) => thread[m].every(Number.isFinite))
      ? {
          mainThreadCpuMs: {
            runs: Object.fromEntries(MODES.map((m) => [m, r1(thread[m])])),
            median: Object.fromEntries(MODES.map((m) => [m, round(median(thread[m]))])),
          },
        }
      : {}),
    ...(MODES.every((m) => waiting[m].every(Number.isFinite))
      ? {
          mainThreadWaitMs: {
            runs: Object.fromEntries(MODES.map((m) => [m, r1(waiting[m])])),
            median: Object.fromEntries(MODES.map((m) => [m, round(median(waiting[m]))])),
          },
        }
      : {}),
    cores: os.cpus().length,
    outsideCpuMs: {
      runs: Object.fromEntries(MODES.map((m) => [m, outside[m]])),
      median: Object.fromEntries(MODES.map((m) => [m, round(median(outside[m]))])),
      /** Medians of each process's share: broadcaster, subscribers. */
      parts: Object.fromEntries(
        MODES.map((m) => [
          m,
          Object.fromEntries(
            ['broadcaster', 'subscribers'].map((k) => [k, round(median(outsideParts[m].map((x) => x[k])))]),
          ),
        ]),
      ),
    },
    ...(MODES.every((m) => machine[m].length === reps && machine[m].every(Boolean))
      ? { machineCpuMs: { runs: Object.fromEntries(MODES.map((m) => [m, machine[m]])) } }
      : {}),
    reporterThread: reporterThread(hooks, median(wall.baseline), tests),
    valid: problems.length === 0,
    problems,
  };
}

/** The per-runner table: wall, CPU and main-thread CPU overheads, the reporter's own time, the verdict. */
function printTable(results) {
  const pct = (x) => (x == null ? '-' : `${x > 0 ? '+' : ''}${x}%`);
  const ms = (x) => (x == null ? '-' : `${x > 0 ? '+' : ''}${Math.round(x)}ms`);
  const ci = (o) =>
    o?.pairedCi95Percent ? o.pairedCi95Percent.map((x) => `${Math.round(x)}`).join('..') : '-';
  const cols = [
    ['runner', 11, (r) => r.runner],
    ['base s', 8, (r) => round(r.wallMs?.median.baseline / 1000, 2)],
    ['off s', 8, (r) => round(r.wallMs?.median.off / 1000, 2)],
    ['tw s', 8, (r) => round(r.wallMs?.median.testwire / 1000, 2)],
    ['wall med', 10, (r) => pct(r.wallOverhead?.testwire.medianPercent)],
    ['wall pair', 11, (r) => ms(r.wallOverhead?.testwire.pairedMeanMs)],
    ['pair CI %', 11, (r) => ci(r.wallOverhead?.testwire)],
    ['off pair', 10, (r) => ms(r.wallOverhead?.off.pairedMeanMs)],
    ['off CI %', 10, (r) => ci(r.wallOverhead?.off)],
    ['min pair', 10, (r) => ms(r.wallOverhead?.minimal?.pairedMeanMs)],
    ['min CI %', 10, (r) => ci(r.wallOverhead?.minimal)],
    ['cpu pair', 10, (r) => ms(r.cpuOverhead?.testwire.pairedMeanMs)],
    ['main pair', 10, (r) => ms(r.mainThreadCpuOverhead?.testwire.pairedMeanMs)],
    ['own ms', 8, (r) => r.reporterThread?.medianMs.total],
    ['own %', 8, (r) => pct(r.reporterThread?.percentOfBaseline)],
    [
      'µs/hook',
      9,
      (r) =>
        r.reporterThread && round((r.reporterThread.medianMs.hooks * 1000) / r.reporterThread.hookCalls, 1),
    ],
  ];
  console.log(`\n${cols.map(([h, w], i) => (i ? h.padStart(w) : h.padEnd(w))).join('')}  verdict`);
  for (const r of results) {
    const cells = cols.map(([, wd, f], i) => {
      const value = r.wallMs ? f(r) : i ? '-' : r.runner;
      return i ? String(value ?? '-').padStart(wd) : String(value).padEnd(wd);
    });
    console.log(`${cells.join('')}  ${r.wallMs ? verdict(r) : `INVALID: ${r.problems?.[0]}`}`);
  }
  printBudget(results.filter((r) => r.cpuBudget));
}

/** The CPU budget table (cpuBudget): paired means over the repetitions, ms per run. */
function printBudget(results) {
  if (results.length === 0) return;
  const ms = (x) => (x == null ? '-' : `${x > 0 ? '+' : ''}${Math.round(x)}`);
  const cols = [
    ['runner', 11, (r) => r.runner],
    ['base wall', 10, (r) => Math.round(r.wallMs.median.baseline)],
    [
      'idle (base)',
      12,
      (r) =>
        r.cpuBudget.baselineIdleMs == null
          ? '-'
          : `${Math.round(r.cpuBudget.baselineIdleMs)} ${Math.round(r.cpuBudget.baselineIdlePercent)}%`,
    ],
    ['tw runner', 10, (r) => ms(r.cpuBudget.testwire.runnerCpuMs)],
    ['tw outside', 11, (r) => ms(r.cpuBudget.testwire.outsideCpuMs)],
    ['tw added', 9, (r) => ms(r.cpuBudget.testwire.addedCpuMs)],
    ['main cpu', 9, (r) => ms(r.cpuBudget.testwire.mainThreadCpuMs)],
    ['main wait', 11, (r) => ms(r.cpuBudget.testwire.mainThreadWaitMs)],
    [
      'floor',
      12,
      (r) =>
        r.cpuBudget.testwire.floorMs == null
          ? '-'
          : `${ms(r.cpuBudget.testwire.floorMs)} ${r.cpuBudget.testwire.floorPercent}%`,
    ],
    ['min added', 10, (r) => ms(r.cpuBudget.minimal?.addedCpuMs)],
    ['min wait', 10, (r) => ms(r.cpuBudget.minimal?.mainThreadWaitMs)],
    [
      'steal b/t',
      14,
      (r) =>
        r.cpuBudget.stealMs
          ? `${Math.round(r.cpuBudget.stealMs.baseline)}/${Math.round(r.cpuBudget.stealMs.testwire)}`
          : '-',
    ],
  ];
  console.log(
    `\nCPU budget (ms per run; "added" = paired mean over the runner's process tree and the hub and subscriber processes; "floor" = the least the wall time must grow, (added - idle during baseline) / ${results[0].cpuBudget.cores} cores)`,
  );
  console.log(cols.map(([h, w], i) => (i ? h.padStart(w) : h.padEnd(w))).join(''));
  for (const r of results)
    console.log(cols.map(([, w, f], i) => (i ? String(f(r)).padStart(w) : String(f(r)).padEnd(w))).join(''));
}

/** --summarize=<json>: the table of a stored run, its overheads recomputed from the runs it keeps. */
function summarize(file) {
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  console.log(
    `${file}: ${stored.date}, load ${stored.loadavg?.start?.join(' ')} .. ${stored.loadavg?.end?.join(' ')}`,
  );
  const results = stored.results.map((r) => (r.wallMs ? withOverheads(r) : r));
  printTable(results);
  // --write: store the recomputed overheads back (a JSON written before a figure was added gains it)
  if (args.write) writeFileSync(file, `${JSON.stringify({ ...stored, results }, null, 2)}\n`);
}

/** Medians over the testwire runs of the reporter's own time on the runner's thread, and its share of the baseline. */
function reporterThread(runs, baselineMs, tests) {
  if (runs.length === 0) return undefined;
  const total = runs.map((r) => r.loadMs + r.constructMs + r.hookMs + r.finalMs);
  const med = (key) => round(median(runs.map((r) => r[key])), 1);
  return {
    runs: runs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v, 2)]))),
    medianMs: {
      load: med('loadMs'),
      construct: med('constructMs'),
      hooks: med('hookMs'),
      final: med('finalMs'),
      total: round(median(total), 1),
    },
    hookCalls: med('calls'),
    hookUsPerTest: round((median(runs.map((r) => r.hookMs)) * 1000) / tests, 1),
    percentOfBaseline: round((median(total) / baselineMs) * 100, 2),
  };
}

async function main() {
  const names = typeof args.runners === 'string' ? args.runners.split(',') : Object.keys(runners);
  for (const n of names)
    if (!runners[n]) throw new Error(`unknown runner ${n}; known: ${Object.keys(runners).join(', ')}`);
  const started = Date.now();
  const loadStart = os.loadavg().map((x) => round(x, 2));
  const hub = await startHub();
  const results = [];
  console.log(
    `reporter overhead: ${FILES * PER_FILE} tests per runner, repetitions of baseline/off/testwire/minimal: ${names.map((n) => `${n} ${args.reps ?? (args.quick ? 1 : (runners[n].reps ?? REPS))}`).join(', ')}; ${SUBSCRIBERS} subscribers in a separate process; load ${loadStart.join(' ')}`,
  );
  try {
    for (const name of names) {
      try {
        results.push(withOverheads(await benchRunner(name, hub)));
      } catch (error) {
        results.push({ runner: name, valid: false, problems: [error.message] });
        process.stdout.write(`\n  ${name}: ${error.message}\n`);
      }
    }
  } finally {
    await hub.close();
  }

  printTable(results);
  const out =
    typeof args.json === 'string' ? args.json : join(root, 'bench', 'results', 'reporter-overhead.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: 'reporter-overhead',
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        loadavg: { start: loadStart, end: os.loadavg().map((x) => round(x, 2)) },
        tests: FILES * PER_FILE,
        repetitions: Number(args.reps ?? REPS),
        repetitionsNote:
          'per runner in results[].repetitions (defaults: jest 8, vitest 6, playwright 3, mocha 15)',
        subscribers: SUBSCRIBERS,
        quick: Boolean(args.quick),
        modes: {
          baseline: "the runner's default terminal reporter only",
          off: 'the same + the testwire reporter configured, TESTWIRE=off (noise floor + loading a disabled reporter)',
          testwire: 'the same + the testwire reporter, joined to the hub process via TESTWIRE_URL',
          minimal:
            'the same + minimal-reporter.cjs joined to the hub: one small event per test posted to a worker thread that publishes it (no ids, capture, progress or core) — what streaming every test live from the runner process costs on this machine whatever the reporter',
        },
        target:
          'overhead <= 3% of the wall time: met when the 95% confidence interval of the mean paired difference is at or under 3%',
        seconds: round((Date.now() - started) / 1000),
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${out} (${round((Date.now() - started) / 1000)} s)`);
}

if (typeof args.summarize === 'string') summarize(args.summarize);
else if (args.role === 'hub') await hubRole();
else if (args.role === 'subscribers') await subscribersRole();
else await main();
