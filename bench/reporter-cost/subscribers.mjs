/**
 * The cost bench's subscribers: one process (`node subscribers.mjs`, forked by the bench with an IPC channel)
 * holding up to N `ws` subscribers, as dashboards and monitors are processes of their own.
 *
 * The reporter under test owns the broadcaster inside the runner process (the default: the first reporter
 * binds the port), so the fan-out to the subscribers is work of the runner's process. For each run the bench
 * sends `attach` with the run's port before spawning the runner; each subscriber retries until the port
 * answers, then subscribes to every event and resumes from the start of the history (`since: 0`), so it
 * misses nothing published before it connected. Each subscriber parses every event and counts test.result
 * and test.completed. `settle` waits until the runner's exit closed every connection (or the time is up) and
 * answers with the smallest counts: a reporter run counts only when every subscriber received every
 * test.result and the test.completed.
 *
 *   bench ──{attach, port, count}──> subscribers ──ws://127.0.0.1:<port>/ws──> runner process (owner)
 *   bench ──{settle, results}──────> subscribers ──{settled, ok, minResults, minCompleted}──> bench
 *   bench ──{cpu}──> {cpu, ms}      bench ──{exit}
 */
import { connect } from 'node:net';
import WebSocket from 'ws';

/** The current run's subscribers (reset by each attach). */
let current = { sockets: [], counters: [], stopped: true };

function attach(port, count) {
  detach();
  const run = { sockets: [], counters: [], stopped: false };
  current = run;
  const url = `ws://127.0.0.1:${port}/ws`;
  // Poll the port with a bare TCP connect (cheap) until the runner's broadcaster listens, then open the
  // subscribers at once.
  const poll = () => {
    if (run.stopped) return;
    const probe = connect({ host: '127.0.0.1', port });
    probe.once('connect', () => {
      probe.destroy();
      for (let i = 0; i < count; i++) open(run, url);
    });
    probe.once('error', () => {
      probe.destroy();
      setTimeout(poll, 3);
    });
  };
  poll();
}

function open(run, url) {
  const counter = { results: 0, completed: 0, closed: false, established: false, error: undefined };
  run.counters.push(counter);
  const ws = new WebSocket(url);
  run.sockets.push(ws);
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString());
    if (msg.type === 'connection.established') {
      counter.established = true;
      ws.send(JSON.stringify({ type: 'subscribe', events: ['*'], resume: { epoch: msg.epoch, since: 0 } }));
    } else if (msg.type === 'test.result') counter.results++;
    else if (msg.type === 'test.completed') counter.completed++;
  });
  ws.on('error', (error) => {
    counter.error = error.message;
  });
  ws.on('close', () => {
    counter.closed = true;
  });
}

function detach() {
  current.stopped = true;
  for (const ws of current.sockets) ws.terminate();
}

async function settle(results, timeoutMs) {
  const run = current;
  const ok = () => run.counters.every((c) => c.results >= results && c.completed >= 1);
  const closed = () => run.counters.every((c) => c.closed);
  const deadline = Date.now() + timeoutMs;
  while (!(closed() || ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const counters = run.counters;
  const answer = {
    type: 'settled',
    ok: counters.length > 0 && ok(),
    subscribers: counters.length,
    minResults: counters.length ? Math.min(...counters.map((c) => c.results)) : 0,
    minCompleted: counters.length ? Math.min(...counters.map((c) => c.completed)) : 0,
    errors: [...new Set(counters.map((c) => c.error).filter(Boolean))],
  };
  detach();
  return answer;
}

process.on('message', async (msg) => {
  if (msg.cmd === 'attach') {
    attach(msg.port, msg.count);
    process.send({ type: 'attached' });
  } else if (msg.cmd === 'settle') {
    process.send(await settle(msg.results, msg.timeoutMs));
  } else if (msg.cmd === 'established') {
    // hooks-child.cjs: wait until every subscriber of the run is connected and subscribed.
    const deadline = Date.now() + msg.timeoutMs;
    const count = () => current.counters.filter((c) => c.established).length;
    while (count() < current.counters.length + (current.counters.length ? 0 : 1) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    process.send({ type: 'established', count: count() });
  } else if (msg.cmd === 'counts') {
    // hooks-child.cjs: the smallest count of test.result over the subscribers, once it reaches `results`.
    const deadline = Date.now() + msg.timeoutMs;
    const min = () => Math.min(...current.counters.map((c) => c.results));
    while (min() < msg.results && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    process.send({ type: 'counts', minResults: min() });
  } else if (msg.cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', ms: (user + system) / 1000 });
  } else if (msg.cmd === 'exit') {
    detach();
    process.disconnect();
  }
});
process.send({ type: 'ready' });
