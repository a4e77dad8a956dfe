/**
 * The first five minutes: `testwire watch` (or `tail --wait`) in one terminal, then a short mocha run in
 * another. The run's reporter would own the endpoint for the ~100 ms its run lasts and exit; a monitor that
 * only polls for the endpoint misses such runs. So a monitor waiting for an endpoint on this machine hosts it
 * itself, and the run's reporter joins it as a publisher: every result and the completion reach the monitor.
 * When the monitor exits while a run is publishing to it, the run's process takes the endpoint over (the
 * broadcaster's handover): the run ends as it would have, and a monitor still listening sees all of it.
 */
import { createConnection } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cli,
  FIXTURES,
  freePort,
  type Gate,
  gate,
  parseNdjson,
  type Running,
  run,
  runMocha,
  type Serve,
  startServe,
  status,
  subscribed,
  until,
} from './helpers.js';

beforeAll(assertBuilt);

const running: Running[] = [];
afterEach(async () => {
  for (const process of running.splice(0)) {
    if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill('SIGKILL');
    await process;
  }
});

/** A CLI process whose output can be waited on while it runs. */
function monitor(args: string[]) {
  const started = cli(args, { timeoutMs: 90_000 });
  running.push(started);
  return { exit: started, child: started.child, stdout: started.stdout, stderr: started.stderr };
}

/** The mocha fixture with the real mocha and @testwire/mocha, its reporter binding `port` as a reporter does by default. */
const mochaOn = (port: number, delayMs = 0, gate?: string) =>
  runMocha('', {
    delayMs,
    env: { TESTWIRE_URL: '', TESTWIRE_PORT: String(port), ...(gate ? { FIXTURE_GATE: gate } : {}) },
  });

/** A gate for the fixture's 'waits a little' test (FIXTURE_GATE): the run waits mid-way until it opens. */
function heldGate(): Gate {
  const made = gate();
  gates.push(made);
  return made;
}
const gates: Gate[] = [];
afterEach(() => {
  for (const made of gates.splice(0)) made.remove();
});

/** What the fixture's runner reports: 6 tests, 4 passed, 1 failed, 1 skipped (pending). */
const FIXTURE = { total: 6, passed: 4, failed: 1, skipped: 1 };

const RUNS = 3;

describe('a monitor started before a short run hosts the endpoint', () => {
  it('tail --wait sees every test.result and the completion of three short mocha runs', async () => {
    const port = await freePort();
    const tail = monitor([
      'tail',
      '--port',
      String(port),
      '--wait',
      '--json',
      '--until',
      'test.completed',
      '--runs',
      String(RUNS),
    ]);
    // tail has started and says where it stands (hosting, or waiting for an endpoint).
    await until(tail.stderr, (text) => text.includes(`127.0.0.1:${port}`), 20_000);
    for (let i = 0; i < RUNS; i++) {
      const mocha = await mochaOn(port);
      expect(mocha.code, mocha.stderr).toBe(1); // the fixture fails a test on purpose
      expect(mocha.stderr).not.toMatch(/^testwire:/m);
    }
    const out = await tail.exit;
    expect(out.code, `${out.stderr}\n${out.stdout.slice(-2000)}`).toBe(0);
    expect(out.stderr).toContain(`hosting http://127.0.0.1:${port}`);

    const events = parseNdjson(out.stdout);
    const runIds = [...new Set(events.map((e) => e.runId))];
    expect(runIds).toHaveLength(RUNS);
    for (const runId of runIds) {
      const results = events.filter((e) => e.runId === runId && e.type === 'test.result');
      expect(results, runId).toHaveLength(FIXTURE.total);
      expect(new Set(results.map((e) => e.data.id)).size).toBe(FIXTURE.total);
      const statuses = results.map((e) => e.data.status);
      expect(statuses.filter((s) => s === 'passed')).toHaveLength(FIXTURE.passed);
      expect(statuses.filter((s) => s === 'failed')).toHaveLength(FIXTURE.failed);
      expect(statuses.filter((s) => s === 'skipped')).toHaveLength(FIXTURE.skipped);
      const completed = events.filter((e) => e.runId === runId && e.type === 'test.completed');
      expect(completed).toHaveLength(1);
      expect(completed[0].data.summary).toMatchObject({
        total: FIXTURE.total,
        passed: FIXTURE.passed,
        failed: FIXTURE.failed,
        skipped: FIXTURE.skipped,
        success: false,
      });
    }
  }, 120_000);

  it('watch sees each short mocha run whole and completed', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const watch = monitor(['watch', '--port', String(port), '--plain', '--runs', String(RUNS)]);
    await until(watch.stdout, (text) => text.includes(url), 20_000);
    for (let i = 0; i < RUNS; i++) {
      const mocha = await mochaOn(port);
      expect(mocha.code, mocha.stderr).toBe(1);
      expect(mocha.stderr).not.toMatch(/^testwire:/m);
    }
    const out = await watch.exit;
    expect(out.code, `${out.stderr}\n${out.stdout}`).toBe(0);
    expect(out.stdout).toContain(`testwire watch: nothing was listening at ${url}; hosting it here`);
    expect(out.stdout).toContain(`testwire watch: ${RUNS} of ${RUNS} runs completed`);
    // Each run's summary: every result counted, as mocha reported them.
    const summaries = out.stdout.match(/failed {2}4 passed, 1 failed, 1 skipped of 6/g) ?? [];
    // Printed once as each run completes and once more in the final summary.
    expect(summaries, out.stdout).toHaveLength(2 * RUNS);
    // Each run's failure, as its result arrived.
    expect(out.stdout.match(/^ {2}✗ mocha [^\n]*: math › divides {2}1 !== 2$/gm), out.stdout).toHaveLength(
      RUNS,
    );
  }, 120_000);

  it('watch exiting while a run publishes to it hands the endpoint to the run: the run ends normally and tail sees all of it', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const watch = monitor(['watch', '--port', String(port), '--plain']);
    await until(watch.stdout, (text) => text.includes(`hosting it here`), 20_000);
    // A second monitor, a client of watch's endpoint (the port is taken: it joins instead of hosting).
    const tail = monitor(['tail', '--port', String(port), '--wait', '--json', '--until', 'test.completed']);
    await until(
      async () =>
        ((await fetch(`${url}/status`).then((r) => r.json())) as { subscribers: number }).subscribers,
      (n) => n >= 2,
      20_000,
    );
    // A run held in its third test until the gate opens: watch is stopped while the run is in it.
    const held = heldGate();
    const mocha = mochaOn(port, 0, held.path);
    await until(
      () => parseNdjson(tail.stdout()).filter((e) => e.type === 'test.result').length,
      (n) => n >= 2,
      30_000,
    );
    watch.child.kill('SIGINT');
    const watched = await watch.exit;
    expect(watched.code).toBe(130);
    held.open();

    const ran = await mocha;
    expect(ran.code, ran.stderr).toBe(1); // as without a monitor: the fixture's one failure
    expect(ran.stderr, `tail's stderr so far:\n${tail.stderr()}`).not.toMatch(/^testwire:/m);
    const out = await tail.exit;
    expect(out.code, out.stderr).toBe(0);
    // tail came back to the run's process, which took the port over, and got the rest of the run.
    expect(out.stderr).toMatch(/is a new broadcaster/);
    const events = parseNdjson(out.stdout);
    const results = events.filter((e) => e.type === 'test.result');
    expect(new Set(results.map((e) => e.data.id)).size).toBe(FIXTURE.total);
    expect(results).toHaveLength(FIXTURE.total);
    expect(events.filter((e) => e.type === 'test.completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: 'test.completed',
      data: { summary: { total: 6, failed: 1 } },
    });
  }, 120_000);

  it('watch exiting mid-run with no other subscriber: the run takes the port over and ends with its output unchanged', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const watch = monitor(['watch', '--port', String(port), '--plain']);
    await until(watch.stdout, (text) => text.includes(`hosting it here`), 20_000);
    const held = heldGate();
    const mocha = mochaOn(port, 0, held.path);
    // The run has joined watch's endpoint (a publisher in /status) and waits in its third test.
    await until(
      async () =>
        ((await fetch(`${url}/status`).then((r) => r.json())) as { publishers?: number }).publishers ?? 0,
      (n) => n >= 1,
      30_000,
    );
    await until(watch.stdout, (text) => /in progress|%/.test(text), 30_000);
    watch.child.kill('SIGINT');
    expect((await watch.exit).code).toBe(130);
    // The run's process took the port over (it still runs, held at the gate): the endpoint answers.
    await until(
      async () =>
        (await fetch(`${url}/status`)
          .then((r) => r.status)
          .catch(() => 0)) === 200,
      (ok) => ok,
      30_000,
    );
    held.open();
    const ran = await mocha;
    expect(ran.code, ran.stderr).toBe(1); // as without a monitor: the fixture's one failure
    // Nobody was left to follow the endpoint: the process that took it over waited for no one and said
    // nothing (it used to wait the handover out and print that its events reached no subscriber).
    expect(ran.stderr).not.toMatch(/^testwire:/m);
  }, 120_000);

  it('watch connected to a run that owned the endpoint does not take the port once that process is gone: the next run binds it and watch sees that run whole', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // A test process that owns the endpoint, publishes one result of its run and holds there until SIGTERM.
    const owner = run(
      process.execPath,
      [`${FIXTURES}/own-run.mjs`, String(port), 'r_first', '2', '0', '0', '1'],
      { env: { TESTWIRE_URL: '', TESTWIRE_PORT: '', TESTWIRE_API_KEY: '' } },
    );
    running.push(owner);
    await until(owner.stdout, (text) => /role owner\n[\s\S]*holding/.test(text), 20_000);
    const watch = monitor(['watch', '--port', String(port), '--plain', '--runs', '2']);
    await subscribed(url);
    await until(watch.stdout, (text) => text.includes('r_first'), 20_000);
    owner.child.kill('SIGTERM');
    await owner;
    await until(watch.stdout, (text) => text.includes(`waiting for ${url}`), 20_000);
    // The next run binds the port itself (held at its third test until watch follows it).
    const held = heldGate();
    const mocha = mochaOn(port, 0, held.path);
    await followed(url);
    held.open();
    const ran = await mocha;
    expect(ran.code, ran.stderr).toBe(1);
    expect(ran.stderr).not.toMatch(/^testwire:/m);
    const out = await watch.exit;
    expect(out.code, `${out.stderr}\n${out.stdout}`).toBe(0);
    expect(out.stdout).not.toContain('hosting it here');
    expect(out.stdout).toContain('testwire watch: 2 of 2 runs completed');
    // The run of the process that went away will not complete; the run after it is seen whole.
    expect(out.stdout).toMatch(/jest r_first {2}interrupted \(owner lost\) {2}1 passed of 2/);
    expect(out.stdout.match(/failed {2}4 passed, 1 failed, 1 skipped of 6/g), out.stdout).toHaveLength(2);
  }, 120_000);
});

describe('monitors left open on a testwire serve that stopped', () => {
  it('watch and tail --wait do not take its port: serve started again binds it, and they follow it', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const first = await startServe(['--port', String(port)]);
    serves.push(first);
    const watch = monitor(['watch', '--port', String(port), '--plain']);
    const tail = monitor(['tail', '--port', String(port), '--wait', '--json']);
    await subscribed(url, 2);
    await first.stop();
    await until(watch.stdout, (text) => text.includes(`waiting for ${url}`), 20_000);
    // The port stays free for serve started again (watch and tail used to take it 1.5 s after the loss, and
    // a serve started again then exited: port in use). That they never bind it after following an endpoint
    // is local-host.test's (no wait can prove a never); here, what the user sees: serve binds, they follow.
    expect(await probe(port), `the port was taken:\n${watch.stdout()}\n${tail.stderr()}`).toBe('refused');
    const second = await startServe(['--port', String(port)]);
    serves.push(second);
    expect(second.url).toBe(url);
    await until(watch.stdout, (text) => text.includes(`reconnected to ${url}`), 30_000);
    await followed(url, 2);
    const ran = await runMocha(url);
    expect(ran.code, ran.stderr).toBe(1);
    await until(watch.stdout, (text) => /failed {2}4 passed, 1 failed, 1 skipped of 6/.test(text), 30_000);
    await until(tail.stdout, (text) => parseNdjson(text).some((e) => e.type === 'test.completed'), 30_000);
    watch.child.kill('SIGINT');
    tail.child.kill('SIGINT');
    const [watched, tailed] = await Promise.all([watch.exit, tail.exit]);
    expect(watched.stdout).not.toContain('hosting it here');
    expect(tailed.stderr).not.toMatch(/hosting/);
    expect(parseNdjson(tailed.stdout).filter((e) => e.type === 'test.result')).toHaveLength(FIXTURE.total);
    await second.stop();
  }, 120_000);
});

const serves: Serve[] = [];
afterEach(async () => {
  for (const serve of serves.splice(0)) await serve.stop();
});

/** Waits until an endpoint that may not be up yet counts `n` subscribers. */
const followed = (url: string, n = 1) =>
  until(
    () => status(url).catch(() => ({ subscribers: 0 })),
    (s) => s.subscribers >= n,
  );

/** Whether something accepts connections on 127.0.0.1:`port` now. */
function probe(port: number): Promise<'refused' | 'connected'> {
  return new Promise((resolveProbe) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolveProbe('connected');
    });
    socket.once('error', () => resolveProbe('refused'));
  });
}
