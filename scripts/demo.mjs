#!/usr/bin/env node
/**
 * `pnpm demo`: four test runners streaming into one testwire endpoint at the same time, shown live.
 *
 *   turbo run build                (with --build, as `pnpm demo` runs it: one line per package built)
 *   testwire serve (port 7357, or the endpoint already there)  ──>  dashboard at http://127.0.0.1:7357/
 *        ▲  ▲  ▲  ▲   TESTWIRE_URL, TESTWIRE_DEMO_PACE=1
 *   jest vitest playwright mocha   (examples/*, their `example` script; output -> <tmp>/<runner>.log)
 *        │
 *   testwire watch --runs N        (this terminal: live progress, then each run's summary)
 *
 * When the runs are over the endpoint it started stays up (with the runs' history, for the dashboard,
 * `testwire status`, `testwire tail --replay`) until Ctrl-C; `--exit` ends the demo there instead.
 * Exit code 0 when every run completed and was displayed — the examples contain intentional failures,
 * so the runners' own exit codes are not the demo's.
 *
 * Flags: --build (run `turbo run build` first), --exit (do not keep the endpoint up; for tests and CI),
 * --port <n> (the endpoint's port, as TESTWIRE_PORT, which it overrides: a busy 7357 is told to pick one).
 * Knobs: TESTWIRE_PORT (0 = any free port), TESTWIRE_DEMO_RUNNERS (comma list, default all four),
 * TESTWIRE_DEMO_TIMEOUT (seconds for the runs, default 300), TESTWIRE_DEMO_PACE (default 1: the example
 * suites take ~20–40 s so that they can be watched, playwright the longest; 0 runs them at full speed).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'packages/cli/dist/cli.js');
const CHROMIUM = '/usr/bin/chromium';
const ALL_RUNNERS = ['jest', 'vitest', 'playwright', 'mocha'];

const say = (text) => process.stderr.write(`${text}\n`);
const fail = (text) => {
  say(`demo: ${text}`);
  process.exit(1);
};

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      build: { type: 'boolean' },
      exit: { type: 'boolean' },
      port: { type: 'string', short: 'p' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(`${error.message} (flags: --build, --exit, --port <n>)`);
}
if (flags.help) {
  say('Usage: node scripts/demo.mjs [--build] [--exit] [--port <n>]   (`pnpm demo` = --build)');
  say('  --build     run `turbo run build` first');
  say('  --exit      end when the runs are over instead of keeping the endpoint up until Ctrl-C');
  say("  --port <n>  the endpoint's port (default: $TESTWIRE_PORT or 7357; 0 = any free port)");
  process.exit(0);
}

// The flag wins over the environment, as it does for `testwire serve`, whose "port in use" error points to it.
const [port, portSource] =
  flags.port !== undefined ? [flags.port, '--port'] : [process.env.TESTWIRE_PORT || '7357', 'TESTWIRE_PORT'];
if (!/^\d+$/.test(port) || Number(port) > 65535)
  fail(`${portSource} must be a port number (0 = any free port), got ${JSON.stringify(port)}`);
// What the children see: --port is TESTWIRE_PORT for them too (a reporter refuses a TESTWIRE_PORT that is
// no port even when it joins TESTWIRE_URL).
const childEnv = { ...process.env, TESTWIRE_PORT: port };
const timeoutSec = Number(process.env.TESTWIRE_DEMO_TIMEOUT ?? 300);
const pace = process.env.TESTWIRE_DEMO_PACE ?? '1';
const paced = pace !== '' && pace !== '0';
const requested = (process.env.TESTWIRE_DEMO_RUNNERS ?? ALL_RUNNERS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const name of requested) {
  if (!ALL_RUNNERS.includes(name))
    fail(`TESTWIRE_DEMO_RUNNERS: unknown runner ${JSON.stringify(name)} (${ALL_RUNNERS.join(', ')})`);
}

const logDir = mkdtempSync(join(tmpdir(), 'testwire-demo-'));
/** Every child still running, so that however the demo ends, none is left behind. */
const alive = new Set();
process.on('exit', () => {
  for (const child of alive) {
    try {
      if (child.groupLeader) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {}
  }
});

/** Spawns a child with an `exited` promise that never rejects. */
function start(command, args, options) {
  const child = spawn(command, args, options);
  child.groupLeader = Boolean(options.detached);
  alive.add(child);
  child.on('exit', () => alive.delete(child));
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  return child;
}

const running = (child) => child.exitCode === null && child.signalCode === null;
const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

say(
  `demo: testwire live demo — ${requested.join(', ')} ${requested.length > 1 ? 'run at the same time' : 'runs'} into one endpoint, shown here and on the dashboard`,
);

// ── build ──────────────────────────────────────────────────────────────────────────────────────────
if (flags.build) {
  const began = Date.now();
  const logFile = join(logDir, 'build.log');
  say(
    `demo: building the packages first (turbo run build; the first build takes a few minutes, later ones come from turbo's cache)`,
  );
  say(`demo:   full build output: ${logFile}`);
  const turboBin = join(root, 'node_modules/.bin/turbo');
  if (!existsSync(turboBin)) fail(`${turboBin} is missing: run \`pnpm install\` first`);
  const log = createWriteStream(logFile);
  const turbo = start(turboBin, ['run', 'build'], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', TURBO_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let built = 0;
  let cached = 0;
  let pending = '';
  turbo.stdout.on('data', (chunk) => {
    log.write(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      // turbo prints `<package>:build: cache miss, executing <hash>` as each package starts building.
      const task = /^(\S+):build: cache (miss|hit)/.exec(line);
      if (task?.[2] === 'hit') cached++;
      else if (task) {
        built++;
        say(`demo:   building ${task[1]}`);
      }
    }
  });
  turbo.stderr.pipe(log, { end: false });
  // 'close' comes after the last output (which can follow 'exit'); 'error' alone when it cannot start.
  const drained = new Promise((resolve) => {
    turbo.once('close', resolve);
    turbo.once('error', resolve);
  });
  const { code, signal, error } = await turbo.exited;
  await drained;
  await new Promise((resolve) => log.end(resolve));
  if (code !== 0) {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-40).join('\n');
    if (tail) say(tail);
    fail(
      `the build failed (${error ? error.message : `turbo exited ${code ?? signal}`}); its full output: ${logFile}`,
    );
  }
  say(
    built === 0
      ? `demo: the packages are up to date (${cached} from turbo's cache)\n`
      : `demo: built in ${seconds(began)} (${built} package${built === 1 ? '' : 's'} built, ${cached} from cache)\n`,
  );
}

if (!existsSync(cli)) fail(`${cli} is missing: run \`pnpm demo\` (it builds first) or \`pnpm build\``);

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

// ── endpoint ───────────────────────────────────────────────────────────────────────────────────────
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

/** Does the endpoint serve the dashboard page at `/` (it does when @testwire/dashboard is built)? */
async function servesDashboard(url) {
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.ok && (res.headers.get('content-type') ?? '').startsWith('text/html');
  } catch {
    return false;
  }
}

async function startServe() {
  // Its own process group: Ctrl-C reaches the demo, which stops serve once (a second SIGINT would make
  // serve skip its graceful close), and only when the demo is done with it.
  const serve = start(process.execPath, [cli, 'serve', '--port', port], {
    cwd: root,
    env: { ...childEnv, TESTWIRE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
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
const dashboard = (await servesDashboard(url)) ? `${url}/` : undefined;
say(
  dashboard
    ? `demo: dashboard: ${dashboard}  (open it in a browser to watch the runs there too)`
    : `demo: ${url} serves no dashboard page (is @testwire/dashboard built?); watch it here`,
);

say(
  `demo: running ${runners.map((r) => r.name).join(', ')}${runners.length > 1 ? ' at the same time' : ''} into ${url}${paced ? ' (paced to take ~20–40 s, playwright the longest: TESTWIRE_DEMO_PACE=1)' : ''}\n`,
);

// ── runs ───────────────────────────────────────────────────────────────────────────────────────────
// The monitor starts first so it sees every run from its beginning; it exits after all N completed.
// Paced tests take seconds each: only the really slow ones are listed as slow.
const watch = start(
  process.execPath,
  [cli, 'watch', '--url', url, '--runs', String(runners.length), ...(paced ? ['--slow', '5000'] : [])],
  { cwd: root, env: childEnv, stdio: ['ignore', 'inherit', 'inherit'] },
);

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
      ...childEnv,
      PATH: `${bin}${delimiter}${process.env.PATH}`,
      TESTWIRE_URL: url,
      TESTWIRE_DEMO_PACE: pace,
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
    if (running(child)) {
      try {
        process.kill(-child.pid, signal);
      } catch {}
    }
  }
};
// Ctrl-C in a terminal reaches watch directly (same process group), not the detached runners and serve.
const interrupt = (signal) => {
  interrupted = true;
  stopRunners(signal);
  if (signal !== 'SIGINT') watch.kill('SIGINT');
};
// SIGHUP (the terminal closed) too: the demo's 'exit' handler must get to stop serve, in its own group.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, interrupt);

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

const complete = watchExit.code === 0 && !interrupted;
if (complete) say(`demo: all ${runners.length} runs completed and were displayed`);
else
  say(
    interrupted
      ? 'demo: interrupted'
      : `demo: not every run completed (testwire watch exited ${watchExit.code ?? watchExit.signal}); see the logs above`,
  );

// ── after the runs ─────────────────────────────────────────────────────────────────────────────────
if (serve && running(serve) && !interrupted && !flags.exit) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeListener(signal, interrupt);
  say(`\ndemo: the runs are over; the endpoint stays up with their history until you press Ctrl-C:`);
  if (dashboard) say(`demo:   dashboard       ${dashboard}`);
  const urlFlag = url === 'http://127.0.0.1:7357' ? '' : ` --url ${url}`;
  say(`demo:   status          npx testwire status${urlFlag}`);
  say(`demo:   every event     npx testwire tail --replay${urlFlag}`);
  say('demo:   (`pnpm demo --exit` ends the demo with the runs instead)');
  const signalled = await Promise.race([
    // Kept until the end: pnpm passes the terminal's Ctrl-C on to the demo as well, so one Ctrl-C can arrive
    // twice; stopping serve is bounded (5 s) either way.
    new Promise((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => resolve(true));
    }),
    serve.exited.then(() => false),
  ]);
  if (!signalled) fail(`testwire serve stopped on its own; its log: ${join(logDir, 'serve.log')}`);
}

if (serve && running(serve)) {
  serve.kill('SIGINT');
  const stopped = setTimeout(() => serve.kill('SIGKILL'), 5000);
  await serve.exited;
  clearTimeout(stopped);
  if (!flags.exit && !interrupted) say('demo: endpoint stopped');
}
process.exit(complete ? 0 : interrupted ? 130 : 1);
