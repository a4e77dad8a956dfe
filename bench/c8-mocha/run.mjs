#!/usr/bin/env node
/**
 * What @testwire/mocha's c8 coverage costs (issue 18): `c8 mocha` with and without the reporter, against the
 * reporter's cost without c8, paired per round, next to the conversion alone.
 *
 *   bench process ─ broadcaster (port 0, loopback) ─ TESTWIRE_URL for the testwire variants
 *     └─ per round, in shuffled order, /usr/bin/time of:
 *          c8          c8 mocha --reporter dot
 *          c8+tw       c8 mocha --reporter @testwire/mocha (reporter=dot)     coverage streamed
 *          mocha       mocha --reporter dot
 *          tw          mocha --reporter @testwire/mocha (reporter=dot)
 *     └─ conversion   node convert.cjs: C8Coverage.detect() + collect() over a copy of a c8 run's raw coverage
 *
 * coverage cost = (c8+tw − c8) − (tw − mocha): what the reporter adds under c8 beyond what it adds anyway.
 * The claim (README): coverage cost ≈ conversion (no more than converting once more). Figures: wall and CPU
 * (user+sys of the whole process tree), median over rounds of the paired differences.
 *
 * Flags: --rounds=N (default 5), --files=N (source modules, default 40), --json=<path>
 * (default bench/results/c8-mocha.json), --keep. Needs `pnpm build` and /usr/bin/time.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const compat = join(repo, 'compat', 'mocha-11');
const bin = join(compat, 'node_modules', '.bin');
const TIME = '/usr/bin/time';

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value ?? true];
  }),
);
const rounds = Number(args.rounds ?? 5);
const fileCount = Number(args.files ?? 40);
const jsonPath = args.json ?? join(repo, 'bench', 'results', 'c8-mocha.json');
if (!existsSync(TIME)) throw new Error('bench/c8-mocha needs /usr/bin/time');

/** A project: `fileCount` source modules (functions, branches, some never called), a test file per two. */
function writeProject(dir) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'test'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  writeFileSync(join(dir, '.c8rc.json'), JSON.stringify({ include: ['src/**'], reporter: ['json-summary'] }));
  for (let i = 0; i < fileCount; i++) {
    const fns = [];
    for (let f = 0; f < 12; f++)
      fns.push(`exports.f${f} = (a, b) => {
  if (a > b) return a - b;
  if (a === b) { let s = 0; for (let k = 0; k < a; k++) s += k; return s; }
  return b % 3 === 0 ? a * b : a + b;
};`);
    writeFileSync(join(dir, 'src', `m${i}.js`), `${fns.join('\n')}\n`);
  }
  for (let i = 0; i < fileCount; i += 2) {
    const tests = [];
    for (let t = 0; t < 10; t++)
      tests.push(
        `  it('t${t}', () => { assert.strictEqual(typeof a.f${t}(${t}, 3) + typeof b.f${t}(3, ${t}), 'numbernumber'); });`,
      );
    writeFileSync(
      join(dir, 'test', `m${i}.test.cjs`),
      `const assert = require('node:assert');\nconst a = require('../src/m${i}');\nconst b = require('../src/m${i + 1}');\ndescribe('m${i}', () => {\n${tests.join('\n')}\n});\n`,
    );
  }
}

function timed(command, commandArgs, cwd, env) {
  const cpuFile = join(cwd, `.cpu-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(TIME, ['-f', '%U %S', '-o', cpuFile, command, ...commandArgs], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const [user, system] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      rmSync(cpuFile, { force: true });
      if (code !== 0) reject(new Error(`${command} ${commandArgs.join(' ')} exited ${code}:\n${stderr}`));
      else resolve({ wallMs, cpuMs: (user + system) * 1000 });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round1 = (x) => Math.round(x * 10) / 10;

const { startBroadcaster } = await import(
  pathToFileURL(join(repo, 'packages', 'broadcaster', 'dist', 'index.js')).href
);
const broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn: () => {} } });
const dir = join(compat, 'work', `bench-c8-${process.pid}`);
writeProject(dir);

const baseEnv = { ...process.env, NO_COLOR: '1' };
for (const key of Object.keys(baseEnv))
  if (key.startsWith('TESTWIRE') || key === 'NODE_V8_COVERAGE') delete baseEnv[key];
const twEnv = { ...baseEnv, TESTWIRE_URL: broadcaster.url };
const offEnv = { ...baseEnv, TESTWIRE: 'off' };
const mochaArgs = (testwire) => [
  ...(testwire
    ? ['--reporter', '@testwire/mocha', '--reporter-option', 'reporter=dot']
    : ['--reporter', 'dot']),
  'test/*.test.cjs',
];
const variants = {
  c8: () => timed(join(bin, 'c8'), [join(bin, 'mocha'), ...mochaArgs(false)], dir, offEnv),
  'c8+tw': () => timed(join(bin, 'c8'), [join(bin, 'mocha'), ...mochaArgs(true)], dir, twEnv),
  mocha: () => timed(join(bin, 'mocha'), mochaArgs(false), dir, offEnv),
  tw: () => timed(join(bin, 'mocha'), mochaArgs(true), dir, twEnv),
};

/** The conversion alone: detect + collect in a fresh node over a copy of one c8 run's raw coverage. */
// the reporter's c8 part, its own file of the build (the reporter loads it under c8 only)
const c8Part = join(repo, 'packages', 'mocha', 'dist', 'c8.cjs');
if (!existsSync(c8Part)) throw new Error(`${c8Part} is missing: run pnpm build`);
const convertScript = join(dir, 'convert.cjs');
writeFileSync(
  convertScript,
  `const { performance } = require('node:perf_hooks');
const { C8Coverage } = require(${JSON.stringify(c8Part)});
(async () => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const c8 = C8Coverage.detect();
  const report = await c8.collect();
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, files: report.files }));
})();
`,
);
async function conversion() {
  await timed(join(bin, 'c8'), [join(bin, 'mocha'), ...mochaArgs(false)], dir, offEnv);
  const raw = join(dir, 'raw-copy');
  rmSync(raw, { recursive: true, force: true });
  cpSync(join(dir, 'coverage', 'tmp'), raw, { recursive: true });
  // no NODE_V8_COVERAGE at this process's start would make takeCoverage a no-op; with it, its own coverage
  // (outside src/**) is written next to the copy and filtered out, as in a real run
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [convertScript], {
      cwd: dir,
      env: { ...offEnv, NODE_V8_COVERAGE: raw },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out)));
  });
}

const samples = [];
try {
  await variants.c8(); // warm-up (file cache)
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(variants).sort(() => Math.random() - 0.5);
    const round = {};
    for (const name of order) round[name] = await variants[name]();
    round.conversion = await conversion();
    samples.push(round);
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
  }
} finally {
  await broadcaster.close();
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}

const figures = {};
for (const metric of ['wallMs', 'cpuMs']) {
  const of = (name) => samples.map((s) => s[name][metric]);
  const costs = samples.map((s) => s['c8+tw'][metric] - s.c8[metric] - (s.tw[metric] - s.mocha[metric]));
  figures[metric] = {
    c8: round1(median(of('c8'))),
    'c8+tw': round1(median(of('c8+tw'))),
    mocha: round1(median(of('mocha'))),
    tw: round1(median(of('tw'))),
    coverageCost: round1(median(costs)),
    conversion: round1(median(of('conversion'))),
  };
}
console.log(`c8 mocha, ${fileCount} source modules, ${rounds} rounds (medians, ms)`);
console.log('metric  c8      c8+tw   mocha   tw      coverage cost  conversion alone');
for (const [metric, f] of Object.entries(figures))
  console.log(
    `${metric.padEnd(7)} ${[f.c8, f['c8+tw'], f.mocha, f.tw].map((x) => String(x).padEnd(7)).join(' ')} ${String(f.coverageCost).padEnd(14)} ${f.conversion}`,
  );
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(
  jsonPath,
  `${JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), fileCount, rounds, figures, samples }, null, 2)}\n`,
);
console.log(`wrote ${jsonPath}`);
