#!/usr/bin/env node
/**
 * `pnpm demo`: four test runners streaming into one testwire endpoint at the same time, shown live.
 *
 *   testwire serve (port 7357, or the endpoint already there)
 *        ▲  ▲  ▲  ▲   TESTWIRE_URL
 *   jest vitest playwright mocha   (examples/*, their `example` script; output -> <tmp>/<runner>.log)
 *        │
 *   testwire watch --runs N        (this terminal: live progress, then each run's summary)
 *
 * Builds nothing (the root script runs `turbo run build` first). Exits 0 when every run completed and
 * was displayed — the examples contain intentional failures, so the runners' own exit codes are not
 * the demo's. Knobs (for tests and CI): TESTWIRE_PORT (0 = any free port), TESTWIRE_DEMO_RUNNERS
 * (comma list, default all four), TESTWIRE_DEMO_TIMEOUT (seconds, default 300).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'packages/cli/dist/cli.js');
const CHROMIUM = '/usr/bin/chromium';
const ALL_RUNNERS = ['jest', 'vitest', 'playwright', 'mocha'];

const say = (text) => process.stderr.write(`${text}\n`);
const fail = (text) => {
  say(`demo: ${text}`);
  process.exit(1);
};

if (!existsSync(cli)) fail(`${cli} is missing: run \`pnpm demo\` (it builds first) or \`pnpm build\``);

const port = process.env.TESTWIRE_PORT ?? '7357';
if (!/^\d+$/.test(port)) fail(`TESTWIRE_PORT must be a port number, got ${JSON.stringify(port)}`);
const timeoutSec = Number(process.env.TESTWIRE_DEMO_TIMEOUT ?? 300);
const requested = (process.env.TESTWIRE_DEMO_RUNNERS ?? ALL_RUNNERS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const name of requested) {
  if (!ALL_RUNNERS.includes(name))
    fail(`TESTWIRE_DEMO_RUNNERS: unknown runner ${JSON.stringify(name)} (${ALL_RUNNERS.join(', ')})`);
}

const runners = [];
for (const name of requested) {
  if (name === 'playwright' && !existsSync(CHROMIUM)) {
    say(
      `demo: skipping playwright: ${CHROMIUM} is missing (install it with \`apt-get install -y chromium\`)`,
    );
    continue;
  }
  if (!existsSync(join(root, 'packages', name, 'dist'))) {
    fail(
      `@testwire/${name} is not built (packages/${name}/dist is missing): run \`pnpm demo\` or \`pnpm build\``,
    );
  }
  const dir = join(root, 'examples', name);
  let script;
  try {
    script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.example;
  } catch {}
  if (!script) fail(`examples/${name}/package.json has no "example" script`);
  runners.push({ name, dir, script });
}
if (runners.length === 0) fail('no runner to run');

const logDir = mkdtempSync(join(tmpdir(), 'testwire-demo-'));
/** Every child still running, so that however the demo ends, none is left behind. */
const alive = new Set();
process.on('exit', () => {
  for (const child of alive) {
    try {
      if (child.spawnargs[0] === '/bin/sh') process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {}
  }
});

/** Spawns a child with an `exited` promise that never rejects. */
function start(command, args, options) {
  const child = spawn(command, args, options);
  alive.add(child);
  child.on('exit', () => alive.delete(child));
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  return child;
}

/** An endpoint already at the port (someone's `testwire serve`, or a run in progress)? */
async function existingEndpoint(url) {
  try {
    const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) return false;
    await res.json();
    return true;
  } catch {
    return false;
  }
}

async function startServe() {
  const serve = start(process.execPath, [cli, 'serve', '--port', port], {
    cwd: root,
    env: { ...process.env, TESTWIRE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDir, 'serve.log'));
  serve.stderr.pipe(log);
  const url = await new Promise((resolve) => {
    let buffer = '';
    const timer = setTimeout(() => resolve(undefined), 10_000);
    serve.stdout.on('data', (chunk) => {
      buffer += chunk;
      log.write(chunk);
      const match = /listening at (\S+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    serve.exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (!url) {
    const why = readFileSync(join(logDir, 'serve.log'), 'utf8').trim().split('\n').pop();
    fail(`testwire serve did not start${why ? `: ${why}` : ''}`);
  }
  return { serve, url };
}

let serve;
let url = `http://127.0.0.1:${port}`;
if (port !== '0' && (await existingEndpoint(url))) {
  say(`demo: using the testwire endpoint already at ${url}`);
} else {
  ({ serve, url } = await startServe());
  say(`demo: testwire serve listening at ${url}`);
}

say(`demo: running ${runners.map((r) => r.name).join(', ')} at the same time into ${url}\n`);

// The monitor starts first so it sees every run from its beginning; it exits after all N completed.
const watch = start(process.execPath, [cli, 'watch', '--url', url, '--runs', String(runners.length)], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});

const results = new Map();
const runnerChildren = [];
for (const runner of runners) {
  const logFile = join(logDir, `${runner.name}.log`);
  const log = createWriteStream(logFile);
  const bin = join(runner.dir, 'node_modules', '.bin');
  // What `pnpm --filter <example> example` does, minus pnpm's own start-up on a 2-core machine.
  const child = start('/bin/sh', ['-c', runner.script], {
    cwd: runner.dir,
    env: {
      ...process.env,
      PATH: `${bin}${delimiter}${process.env.PATH}`,
      TESTWIRE_URL: url,
      FORCE_COLOR: '0',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  runner.logFile = logFile;
  runnerChildren.push(child);
  results.set(
    runner.name,
    child.exited.then((exit) => {
      log.end();
      return exit;
    }),
  );
}

let interrupted = false;
const stopRunners = (signal) => {
  for (const child of runnerChildren) {
    // Started in their own process group (detached): signal the group, so workers stop too.
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, signal);
      } catch {}
    }
  }
};
// Ctrl-C in a terminal reaches watch and serve directly (same process group), not the detached runners.
process.on('SIGINT', () => {
  interrupted = true;
  stopRunners('SIGINT');
});
process.on('SIGTERM', () => {
  interrupted = true;
  stopRunners('SIGTERM');
  watch.kill('SIGINT');
});

const deadline = setTimeout(() => {
  say(`\ndemo: time limit of ${timeoutSec} s reached, stopping`);
  interrupted = true;
  stopRunners('SIGTERM');
  watch.kill('SIGINT');
}, timeoutSec * 1000);

// When every runner has exited, their runs are complete or never will be: give watch a few seconds
// to take in the last events, then stop it (it prints the summary of what it saw either way).
const runnerExits = await Promise.all(runners.map((r) => results.get(r.name)));
const grace = setTimeout(() => watch.kill('SIGINT'), 10_000);
const watchExit = await watch.exited;
clearTimeout(grace);
clearTimeout(deadline);

if (serve) {
  if (serve.exitCode === null && serve.signalCode === null && !interrupted) serve.kill('SIGINT');
  const stopped = setTimeout(() => serve.kill('SIGKILL'), 5000);
  await serve.exited;
  clearTimeout(stopped);
}

say('');
for (const [index, runner] of runners.entries()) {
  const { code, signal, error } = runnerExits[index];
  const how = error
    ? `could not start (${error.message})`
    : signal
      ? `killed by ${signal}`
      : `exited ${code}`;
  const note = code === 1 ? ' (the example has intentional failures)' : '';
  say(`demo: ${runner.name.padEnd(10)} ${how}${note}  log: ${runner.logFile}`);
}
if (serve) say(`demo: testwire serve log: ${join(logDir, 'serve.log')}`);

if (watchExit.code === 0 && !interrupted) {
  say(`demo: all ${runners.length} runs completed and were displayed`);
  process.exit(0);
}
say(
  interrupted
    ? 'demo: interrupted'
    : `demo: not every run completed (testwire watch exited ${watchExit.code ?? watchExit.signal}); see the logs above`,
);
process.exit(interrupted ? 130 : 1);
