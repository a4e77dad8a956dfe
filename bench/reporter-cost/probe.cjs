'use strict';
/**
 * Preloaded into the runner process by the cost bench (NODE_OPTIONS=--require): at exit, writes to
 * $TESTWIRE_BENCH_PROBE, as JSON:
 *
 *   mainNs, mainWaitNs  the main thread's CPU time and its time ready but waiting for a CPU (the first two
 *                       fields of /proc/self/task/<pid>/schedstat, ns): where the runner and its reporters'
 *                       hooks run (budgets B1, B2)
 *   processUs           the whole process's CPU time, every thread that ever ran in it, ended ones included
 *                       (getrusage through process.cpuUsage(), µs): the runner's thread, the reporter's thread,
 *                       V8's garbage collection and compiler threads, libuv's pool (budget B3)
 *   threads             each thread still alive: name (comm) and CPU ns, to see where the process's time went
 *   maxRssKb
 *
 * The figures are taken in the process's last 'exit' listener. Linux only; elsewhere the /proc figures are missing. The variable is removed from the environment at once,
 * so only this process reports, not the worker processes it starts (they inherit NODE_OPTIONS).
 */
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');

const out = process.env.TESTWIRE_BENCH_PROBE;
if (out) {
  delete process.env.TESTWIRE_BENCH_PROBE;
  const schedstat = (tid) => readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
  const onExit = () => {
    const figures = {};
    try {
      // The kernel updates a running thread's schedstat at scheduler events only (it lags by up to a tick):
      // a 10 µs sleep makes one, so this thread's figure is exact.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.01);
      const { user, system } = process.cpuUsage();
      figures.processUs = user + system;
      figures.maxRssKb = process.resourceUsage().maxRSS;
      const [ns, waitNs] = schedstat(process.pid);
      figures.mainNs = ns;
      figures.mainWaitNs = waitNs;
      figures.threads = [];
      for (const tid of readdirSync('/proc/self/task')) {
        try {
          const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
          figures.threads.push([comm, schedstat(tid)[0]]);
        } catch {}
      }
    } catch (error) {
      figures.error = String(error?.message ?? error);
    }
    try {
      writeFileSync(out, JSON.stringify(figures));
    } catch {}
  };
  process.on('exit', onExit);
  // Kept the last 'exit' listener, so that what the runner and the reporter do at exit is counted too.
  process.on('newListener', (event, listener) => {
    if (event !== 'exit' || listener === onExit) return;
    queueMicrotask(() => {
      process.removeListener('exit', onExit);
      process.on('exit', onExit);
    });
  });
}
