#!/usr/bin/env node
/**
 * Reporter cost (issue 13): what the testwire reporter costs the runner, in CPU time, judged against budgets
 * B1–B4 (analysis.mjs), for jest 30, vitest 4, playwright and mocha 11, today's reporter ("old", a frozen
 * build of old-ref.json's commit) and the working tree's ("current") side by side in one run.
 * `node bench/reporter-cost/run.mjs` (or `pnpm bench:cost`); `pnpm build` first. Method: bench/README.md.
 *
 *   bench process (scheduling, bookkeeping)
 *     ├─ fork subscribers.mjs: up to 10 `ws` subscribers, attached to each 10-subscriber run's port
 *     └─ spawn /usr/bin/time <runner of compat/*> on a generated suite (suites.mjs), 2,000 and 20,000 tests
 *        (playwright 200 and 2,000)
 *          baseline       the runner's default reporter
 *          <build>-<n>    + the testwire reporter of that build (timed-reporter.cjs), owning the broadcaster
 *                         on a fresh port (TESTWIRE_PORT), with n subscribers (0 or 10)
 *        each run preloads probe.cjs: main-thread and whole-process CPU at exit
 *
 * Per runner: warm-ups (unmeasured), then repetitions; in each, both sizes, and at each size every mode once,
 * in an order that rotates and reverses from one repetition to the next. A reporter run with subscribers
 * counts only when every subscriber received every test.result and the test.completed. Each repetition also
 * runs a short suite (--short, 20 tests) in the baseline and the modes without subscribers: B2 in a short
 * run, where the run can end before the reporter's thread has started (issue 13: "… for short runs").
 *
 * Flags: --runners=jest,vitest,playwright,mocha  --builds=old,current  --subscribers=0,10  --sizes=2000,20000
 *   --reps=N (else per runner: jest 3, vitest 3, playwright 3, mocha 6)  --quick (small suites, 2 repetitions)
 *   --old-ref=<git ref> (default: old-ref.json)  --json=<path>  --keep (leave the suites in compat/<runner>/work)
 *   --short=N (the short suite's tests, default 20; 0: none)
 *   --summarize=<json> [--write]: the tables of a stored run, recomputed from its runs (--write stores them).
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { analyze, BUDGETS, round } from './analysis.mjs';
import { currentBuild, oldBuild, oldRef, repoRoot } from './builds.mjs';
import { printReport } from './report.mjs';
import { generateSuite, RUNNERS } from './suites.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const list = (value, fallback) => (typeof value === 'string' ? value.split(',').filter(Boolean) : fallback);

/** Repetitions per runner: a full run of the four runners takes ~22–30 min on 2 shared vCPUs (README). */
const REPS = { jest: 3, vitest: 3, playwright: 3, mocha: 6 };
/** Suite sizes per runner unless --sizes: 2,000 and 20,000 tests (playwright: suites.mjs). */
const sizesOf = (name) =>
  args.quick
    ? (RUNNERS[name].quickSizes ?? [200, 1000])
    : list(args.sizes, RUNNERS[name].sizes ?? [2000, 20000]).map(Number);
/** The short suite: 20 tests (one per file), or --short=N; none with --short=0, --quick, or sizes that small. */
const shortOf = (name) => {
  const short = args.quick ? 0 : Number(args.short ?? 20);
  return short > 0 && short < sizesOf(name)[0] ? short : 0;
};
const TIME = '/usr/bin/time';
/** How long subscribers may take after the runner exited to have every event. */
const SETTLE_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const names = list(args.runners, Object.keys(RUNNERS));
  for (const n of names)
    if (!RUNNERS[n]) throw new Error(`unknown runner ${n}; known: ${Object.keys(RUNNERS).join(', ')}`);
  const buildNames = list(args.builds, ['old', 'current']);
  const subscriberCounts = list(args.subscribers, ['0', '10']).map(Number);
  for (const n of names) {
    const sizes = sizesOf(n);
    if (sizes.length !== 2 || !(sizes[0] < sizes[1]))
      throw new Error('--sizes takes two suite sizes, the smaller first (e.g. 2000,20000)');
  }

  const builds = {};
  for (const b of buildNames) {
    if (b === 'current') builds.current = currentBuild();
    else if (b === 'old')
      builds.old = oldBuild(oldRef(args['old-ref']), (line) => console.log(`  ${line} (once; reused later)`));
    else throw new Error(`unknown build ${b}; known: old, current`);
    if (builds[b].missing.length > 0)
      throw new Error(`the ${b} build lacks ${builds[b].missing.join(', ')}: run pnpm build`);
  }
  const modes = ['baseline', ...buildNames.flatMap((b) => subscriberCounts.map((n) => `${b}-${n}`))];
  const fingerprints = Object.fromEntries(Object.entries(builds).map(([k, b]) => [k, b.fingerprint()]));
  console.log(
    `reporter cost: ${names.map((n) => `${n} ${sizesOf(n).join('/')}`).join(', ')} tests; modes ${modes.join(', ')}; ` +
      `builds: ${Object.values(builds)
        .map((b) => `${b.label} = ${b.ref}`)
        .join('; ')}; load ${os
        .loadavg()
        .map((x) => round(x, 2))
        .join(' ')}`,
  );

  const subscribers = startSubscribers();
  await subscribers.next('ready');
  const results = [];
  try {
    for (const name of names) {
      try {
        results.push(await benchRunner(name, { builds, modes, subscribers, fingerprints }));
      } catch (error) {
        results.push({ runner: name, valid: false, problems: [error.stack ?? String(error)] });
        console.log(`\n  ${name}: ${error.stack ?? error}`);
      }
    }
  } finally {
    await subscribers.close();
    builds.current?.remove?.();
  }

  const seconds = round((Date.now() - started) / 1000, 0);
  const stamp = new Date(started).toISOString().slice(0, 16).replace(/:/g, '');
  const out =
    typeof args.json === 'string'
      ? args.json
      : join(
          repoRoot,
          'bench',
          'results',
          args.quick ? 'reporter-cost-quick.tmp.json' : `reporter-cost-${stamp}.json`,
        );
  const stored = {
    bench: 'reporter-cost',
    date: new Date(started).toISOString(),
    seconds,
    node: process.version,
    cpus: os.cpus().length,
    quick: Boolean(args.quick),
    argv: process.argv.slice(2),
    builds: Object.fromEntries(
      Object.entries(builds).map(([k, b]) => [k, { ref: b.ref, root: b.root, fingerprint: fingerprints[k] }]),
    ),
    budgets: BUDGETS,
    method:
      'paired differences (mode − baseline of the same repetition and size); per repetition slope = (d(large) − d(small)) / (large − small), intercept = d(small) − small × slope; mean over repetitions with a Student-t 95% interval',
    results: results.map((r) => (r.runs ? { ...r, figures: analyze(r) } : r)),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(stored, null, 1)}\n`);
  printReport(stored);
  console.log(`\nwrote ${out} (${seconds} s = ${round(seconds / 60, 1)} min)`);
}

// ---------------------------------------------------------------------------------------------------------

async function benchRunner(name, { builds, modes, subscribers, fingerprints }) {
  const sizes = sizesOf(name);
  const short = shortOf(name);
  const reps = Number(args.reps ?? (args.quick ? 2 : REPS[name]));
  const entries = Object.fromEntries(Object.entries(builds).map(([k, b]) => [k, b.entries[name]]));
  const suites = Object.fromEntries(
    [...(short > 0 ? [short] : []), ...sizes].map((size) => [size, generateSuite(name, size, entries)]),
  );
  // Subscribers cannot connect to a run that short before it ends: the short suite runs without them.
  const shortModes = modes.filter((m) => m === 'baseline' || m.endsWith('-0'));
  const runs = [];
  const problems = [];
  const warmUpProblems = [];
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  const started = Date.now();
  const once = async (rep, size, mode, order) => {
    const run = await runOnce(suites[size], mode, subscribers);
    Object.assign(run, { rep, size, mode, order, atS: round((Date.now() - started) / 1000, 1) });
    if (!run.valid) (rep < 0 ? warmUpProblems : problems).push(`rep ${rep} ${mode} ${size}: ${run.problem}`);
    if (rep >= 0) runs.push(run);
    const tag = mode === 'baseline' ? 'B' : mode.replace(/^(.)[a-z]*-/, '$1');
    process.stdout.write(
      `${tag}${rep < 0 ? '(w)' : ''}${run.valid ? '' : '!'} ${round(run.wallMs / 1000, 1)}  `,
    );
    return run;
  };
  try {
    console.log(`\n${RUNNERS[name].label}: ${reps} repetitions`);
    process.stdout.write('  warm-up: ');
    // transform caches of each suite, then each build once (its files into the page cache)
    const reporterModes = modes.filter((m) => m !== 'baseline');
    const warm = [
      ...[...(short > 0 ? [short] : []), ...sizes].map((size) => [size, 'baseline']),
      ...[...new Set(reporterModes.map((m) => m.replace(/-\d+$/, '')))].map((b) => [
        sizes[0],
        reporterModes.filter((m) => m.startsWith(`${b}-`)).at(-1),
      ]),
    ];
    let perRepS = 0;
    for (const [size, mode] of warm) {
      const run = await once(-1, size, mode, 0);
      if (mode === 'baseline') perRepS += (run.wallMs / 1000) * modes.length;
    }
    console.log(`\n  (~${round((perRepS * reps) / 60, 1)} min to go, by the baseline warm-ups)`);
    for (let rep = 0; rep < reps; rep++) {
      process.stdout.write(`  rep ${rep + 1}: `);
      // modes rotate by one each repetition and reverse every other one; the sizes alternate
      const rotated = modes.map((_, i) => modes[(i + rep) % modes.length]);
      const order = rep % 2 === 0 ? rotated : rotated.reverse();
      for (const size of rep % 2 === 0 ? sizes : [...sizes].reverse()) {
        process.stdout.write(`[${size}] `);
        for (const [i, mode] of order.entries()) await once(rep, size, mode, i);
      }
      if (short > 0) {
        process.stdout.write(`[${short}] `);
        const shortOrder = order.filter((m) => shortModes.includes(m));
        for (const [i, mode] of shortOrder.entries()) await once(rep, short, mode, i);
      }
      process.stdout.write('\n');
    }
  } finally {
    if (!args.keep)
      for (const suite of Object.values(suites)) rmSync(suite.dir, { recursive: true, force: true });
  }
  const changed = Object.entries(builds)
    .filter(([k, b]) => b.fingerprint() !== fingerprints[k])
    .map(([k]) => k);
  if (changed.length > 0) {
    problems.push(
      `the ${changed.join(' and ')} build changed on disk during this runner's runs (a rebuild?)`,
    );
    for (const k of changed) fingerprints[k] = builds[k].fingerprint();
  }
  return {
    runner: name,
    label: RUNNERS[name].label,
    compat: RUNNERS[name].compat,
    sizes,
    ...(short > 0 ? { short, shortModes } : {}),
    modes,
    repetitions: reps,
    loadavg: { before: loadBefore, after: os.loadavg().map((x) => round(x, 2)) },
    seconds: round((Date.now() - started) / 1000, 0),
    runs,
    valid: problems.length === 0,
    problems,
    warmUpProblems,
  };
}

/** One run of `suite` in `mode`: its wall time, CPU figures and, for reporter modes, delivery. */
async function runOnce(suite, mode, subscribers) {
  const subscriberCount = mode === 'baseline' ? 0 : Number(mode.split('-').at(-1));
  const build = mode === 'baseline' ? 'baseline' : mode.replace(/-\d+$/, '');
  const env = { ...process.env, CI: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) if (key.startsWith('TESTWIRE')) delete env[key];
  const files = {
    probe: join(suite.dir, '.probe.json'),
    reporter: join(suite.dir, '.reporter.json'),
    time: join(suite.dir, '.time'),
  };
  for (const f of Object.values(files)) rmSync(f, { force: true });
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${join(here, 'probe.cjs')}`.trim();
  env.TESTWIRE_BENCH_PROBE = files.probe;
  let port;
  if (build !== 'baseline') {
    port = await freePort();
    env.TESTWIRE_PORT = String(port);
    env.TESTWIRE_HOST = '127.0.0.1';
    env.TESTWIRE_BENCH_REPORTER = files.reporter;
    if (subscriberCount > 0) await subscribers.attach(port, subscriberCount);
  }
  const machineBefore = machineCpu();
  const subscribersBefore = subscriberCount > 0 ? await subscribers.cpu() : 0;
  const { code, stderr, wallMs } = await spawnRunner(suite, build, env, files.time);
  const machineAfter = machineCpu();
  const run = { wallMs: round(wallMs, 1), code };
  const problems = [];
  if (code !== 0) problems.push(`exit code ${code}: ${stderr.trim().split('\n').slice(-4).join(' | ')}`);
  try {
    const probe = JSON.parse(readFileSync(files.probe, 'utf8'));
    run.mainCpuMs = round(probe.mainNs / 1e6, 3);
    run.mainWaitMs = round(probe.mainWaitNs / 1e6, 3);
    run.processCpuMs = round(probe.processUs / 1e3, 3);
    run.maxRssKb = probe.maxRssKb;
    run.threads = probe.threads?.map(([comm, ns]) => [comm, round(ns / 1e6, 1)]);
  } catch {
    problems.push('the probe wrote no figures');
  }
  try {
    const [, user, sys] = readFileSync(files.time, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    run.treeCpuMs = round((user + sys) * 1000, 0);
  } catch {}
  if (build !== 'baseline') {
    try {
      run.reporter = JSON.parse(readFileSync(files.reporter, 'utf8'));
    } catch {
      problems.push('the timed reporter wrote no figures');
    }
    // the owner's publisher secret, left behind when the process exits without closing
    rmSync(join(os.tmpdir(), `testwire-${process.getuid?.() ?? 'user'}-${port}.secret`), { force: true });
    const warnings = stderr.split('\n').filter((l) => /testwire/i.test(l));
    if (warnings.length > 0) run.warnings = warnings.slice(0, 5);
  }
  if (subscriberCount > 0) {
    const delivery = await subscribers.settle(suite.tests, SETTLE_MS);
    run.subscribersCpuMs = round((await subscribers.cpu()) - subscribersBefore, 1);
    run.delivery = { ok: delivery.ok, minResults: delivery.minResults, minCompleted: delivery.minCompleted };
    if (!delivery.ok)
      problems.push(
        `a subscriber received ${delivery.minResults}/${suite.tests} test.result and ${delivery.minCompleted} test.completed${delivery.errors.length ? ` (${delivery.errors.join('; ')})` : ''}`,
      );
  }
  if (machineBefore && machineAfter) run.stealMs = round(machineAfter.steal - machineBefore.steal, 0);
  run.valid = problems.length === 0;
  if (!run.valid) run.problem = problems.join('; ');
  return run;
}

function spawnRunner(suite, build, env, timeFile) {
  const argv = suite.argv[build];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(TIME, ['-f', '%e %U %S', '-o', timeFile, suite.bin, ...argv], {
      cwd: suite.dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    child.on('close', (code) => resolve({ code, stderr, wallMs: performance.now() - started }));
  });
}

/** A port nobody listens on right now (the reporter binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The machine's CPU time so far from /proc/stat (ms): busy, idle, steal (given to other guests). */
function machineCpu() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    return {
      busy: (user + nice + system + irq + softirq) * 10,
      idle: (idle + iowait) * 10,
      steal: (steal || 0) * 10,
    };
  } catch {
    return undefined;
  }
}

/** The subscribers process (subscribers.mjs), driven over IPC. */
function startSubscribers() {
  const proc = fork(join(here, 'subscribers.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const onMessage = (msg) => {
        if (msg.type !== type) return;
        cleanup();
        resolve(msg);
      };
      const onExit = (code) => {
        cleanup();
        reject(new Error(`the subscribers process exited (${code}) while the bench waited for ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${type} from the subscribers process`));
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
  return {
    next,
    async attach(port, count) {
      proc.send({ cmd: 'attach', port, count });
      await next('attached');
    },
    async settle(results, timeoutMs) {
      proc.send({ cmd: 'settle', results, timeoutMs });
      return next('settled', timeoutMs + 5000);
    },
    async cpu() {
      proc.send({ cmd: 'cpu' });
      return (await next('cpu')).ms;
    },
    async close() {
      if (proc.connected) proc.send({ cmd: 'exit' });
      const timer = setTimeout(() => proc.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * --summarize=<json>: the tables of a stored run, its figures recomputed from the runs it keeps; --write
 * stores them back (a JSON written before a figure was added gains it).
 */
function summarize(file) {
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  stored.results = stored.results.map((r) => (r.runs ? { ...r, figures: analyze(r) } : r));
  printReport(stored);
  if (args.write) writeFileSync(file, `${JSON.stringify(stored, null, 1)}\n`);
}

if (typeof args.summarize === 'string') summarize(args.summarize);
else await main();
