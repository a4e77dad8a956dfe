#!/usr/bin/env node
/**
 * Reporter overhead: wall time of a generated 2,000-test suite per runner (jest 30, vitest 4, playwright,
 * mocha 11), without and with the testwire reporter, side by side in one run.
 * `node bench/reporter-overhead/run.mjs` (or `pnpm bench:reporter`); build the packages first.
 *
 *   bench process: broadcaster (startBroadcaster, ephemeral port) + 10 `ws` subscribers (events: *)
 *     └─ spawns the real runner binary of compat/<runner>/ on compat/<runner>/work/bench-<pid>/
 *          baseline: the runner's default terminal reporter only
 *          testwire: the same + the testwire reporter, joining the bench's broadcaster via TESTWIRE_URL
 *
 * Per runner: one unmeasured warm-up of each mode (transform caches), then `--reps` repetitions (default 3)
 * alternating which mode goes first; the figure is the median. A testwire run only counts when every
 * subscriber received every test.result and the test.completed of that run.
 *
 * Flags: --runners=jest,vitest,playwright,mocha  --reps=3  --tests=2000  --json=<path> (default
 * bench/results/reporter-overhead.json)  --keep (leave the generated suites in place).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const REPS = Number(args.reps ?? 3);
const TESTS = Number(args.tests ?? 2000);
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
          reporters: testwire ? ['default', '@testwire/jest'] : ['default'],
        },
        null,
        2,
      )};\n`,
    }),
    argv: (dir, config) => ['--ci', '--config', join(dir, config)],
  },
  vitest: {
    compat: 'vitest-4',
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
        testwire ? ['default', '@testwire/vitest'] : ['default'],
      )} } };\n`,
    }),
    argv: (dir, config) => ['run', '--root', dir, '--config', join(dir, config)],
  },
  playwright: {
    compat: 'playwright',
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
        testwire ? [['list'], ['@testwire/playwright']] : [['list']],
      )} };\n`,
    }),
    argv: (dir, config) => ['test', '--config', join(dir, config)],
  },
  mocha: {
    compat: 'mocha-11',
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
      ...(testwire ? ['--reporter', '@testwire/mocha'] : []),
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
  const configs = {};
  for (const testwire of [false, true]) {
    const config = runner.config(dir, testwire);
    if (config) {
      const file = config.name.replace(/(\.[a-z]+)$/, testwire ? '.testwire$1' : '.base$1');
      writeFileSync(join(dir, file), config.text);
      configs[testwire] = file;
    }
  }
  return { dir, compatDir, configs };
}

// ---------------------------------------------------------------------------------------------------------
// Broadcaster + subscribers

async function startHub() {
  const { startBroadcaster } = await import(
    pathToFileURL(join(root, 'packages', 'broadcaster', 'dist', 'index.js')).href
  );
  const { default: WebSocket } = await import('ws');
  const broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn: () => {} } });
  const counters = [];
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const counter = { results: 0, completed: 0 };
    counters.push(counter);
    const ws = new WebSocket(broadcaster.wsUrl);
    sockets.push(ws);
    await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.type === 'connection.established')
          ws.send(JSON.stringify({ type: 'subscribe', events: ['*'] }));
        else if (msg.type === 'subscribed') resolve();
        else if (msg.type === 'test.result') counter.results++;
        else if (msg.type === 'test.completed') counter.completed++;
      });
    });
  }
  return {
    url: broadcaster.url,
    reset: () => {
      for (const c of counters) {
        c.results = 0;
        c.completed = 0;
      }
    },
    /** Waits (bounded) until every subscriber saw `results` test.result events and one test.completed. */
    async settled(results, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      const ok = () => counters.every((c) => c.results >= results && c.completed >= 1);
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return { ok: ok(), minResults: Math.min(...counters.map((c) => c.results)) };
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      await broadcaster.close({ timeoutMs: 1000 });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Runs

function runOnce(name, suite, testwire, hubUrl) {
  const runner = runners[name];
  const bin = join(suite.compatDir, 'node_modules', '.bin', runner.bin);
  const env = { ...process.env, CI: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) if (key.startsWith('TESTWIRE')) delete env[key];
  if (testwire) env.TESTWIRE_URL = hubUrl;
  const argv = runner.argv(suite.dir, suite.configs[testwire], testwire);
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
      resolve({ ms, cpuMs, code, stderr });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function benchRunner(name, hub) {
  const suite = generate(name);
  const runs = { baseline: [], testwire: [] };
  const cpu = { baseline: [], testwire: [] };
  const problems = [];
  const once = async (testwire, measured) => {
    hub.reset();
    const result = await runOnce(name, suite, testwire, hub.url);
    if (result.code !== 0) {
      problems.push(
        `${testwire ? 'testwire' : 'baseline'} run exited ${result.code}: ${result.stderr.trim().split('\n').slice(-6).join(' | ')}`,
      );
    }
    if (testwire) {
      const delivery = await hub.settled(TESTS);
      if (!delivery.ok) {
        problems.push(
          `testwire run: a subscriber received only ${delivery.minResults}/${TESTS} test.result (or no test.completed)`,
        );
      }
    }
    if (measured) {
      runs[testwire ? 'testwire' : 'baseline'].push(result.ms);
      if (result.cpuMs !== undefined) cpu[testwire ? 'testwire' : 'baseline'].push(result.cpuMs);
    }
    process.stdout.write(
      `${testwire ? 'T' : 'B'}${measured ? '' : '(warm-up)'} ${round(result.ms / 1000, 2)}s  `,
    );
  };
  process.stdout.write(`  ${name.padEnd(10)} `);
  await once(false, false);
  await once(true, false);
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? [false, true] : [true, false];
    for (const testwire of order) await once(testwire, true);
  }
  process.stdout.write('\n');
  if (!args.keep) rmSync(suite.dir, { recursive: true, force: true });
  const baseline = median(runs.baseline);
  const withTestwire = median(runs.testwire);
  return {
    runner: name,
    compat: runners[name].compat,
    tests: FILES * PER_FILE,
    runsMs: { baseline: runs.baseline.map((x) => round(x)), testwire: runs.testwire.map((x) => round(x)) },
    medianMs: { baseline: round(baseline), testwire: round(withTestwire) },
    overheadPercent: round(((withTestwire - baseline) / baseline) * 100, 2),
    ...(cpu.baseline.length && cpu.testwire.length
      ? {
          cpuMs: { baseline: cpu.baseline.map((x) => round(x)), testwire: cpu.testwire.map((x) => round(x)) },
          cpuOverheadPercent: round(
            ((median(cpu.testwire) - median(cpu.baseline)) / median(cpu.baseline)) * 100,
            2,
          ),
        }
      : {}),
    valid: problems.length === 0,
    problems,
  };
}

async function main() {
  const names = typeof args.runners === 'string' ? args.runners.split(',') : Object.keys(runners);
  for (const n of names)
    if (!runners[n]) throw new Error(`unknown runner ${n}; known: ${Object.keys(runners).join(', ')}`);
  const started = Date.now();
  const hub = await startHub();
  const results = [];
  console.log(
    `reporter overhead: ${FILES * PER_FILE} tests per runner, ${REPS} repetitions, ${SUBSCRIBERS} subscribers`,
  );
  try {
    for (const name of names) {
      try {
        results.push(await benchRunner(name, hub));
      } catch (error) {
        results.push({ runner: name, valid: false, problems: [error.message] });
        process.stdout.write(`\n  ${name}: ${error.message}\n`);
      }
    }
  } finally {
    await hub.close();
  }

  console.log(
    `\n${'runner'.padEnd(12)}${'baseline s'.padStart(12)}${'testwire s'.padStart(12)}${'overhead'.padStart(10)}${'cpu overhead'.padStart(14)}  status`,
  );
  for (const r of results) {
    const status = r.valid
      ? r.overheadPercent <= 3
        ? 'ok (<= 3%)'
        : 'OVER 3%'
      : `INVALID: ${r.problems[0]}`;
    console.log(
      `${r.runner.padEnd(12)}${String(r.medianMs ? round(r.medianMs.baseline / 1000, 2) : '-').padStart(12)}${String(
        r.medianMs ? round(r.medianMs.testwire / 1000, 2) : '-',
      ).padStart(
        12,
      )}${String(r.overheadPercent !== undefined ? `${r.overheadPercent}%` : '-').padStart(10)}${String(
        r.cpuOverheadPercent !== undefined ? `${r.cpuOverheadPercent}%` : '-',
      ).padStart(14)}  ${status}`,
    );
  }
  const out =
    typeof args.json === 'string' ? args.json : join(root, 'bench', 'results', 'reporter-overhead.json');
  mkdirSync(dirname(out), { recursive: true });
  const os = await import('node:os');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: 'reporter-overhead',
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        loadavg: os.loadavg().map((x) => round(x, 2)),
        tests: FILES * PER_FILE,
        repetitions: REPS,
        subscribers: SUBSCRIBERS,
        target: 'overhead <= 3% of the median wall time',
        seconds: round((Date.now() - started) / 1000),
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${out} (${round((Date.now() - started) / 1000)} s)`);
}

await main();
