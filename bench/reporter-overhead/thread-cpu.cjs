/**
 * Preloaded into the runner process by bench/reporter-overhead/run.mjs (NODE_OPTIONS=--require): at exit,
 * writes the CPU time of the process's main thread — the thread that runs the runner and its reporters'
 * hooks — to $TESTWIRE_BENCH_THREAD_CPU, and (where the kernel keeps schedstats) how long that thread was
 * ready to run but waiting for a CPU: the time other threads and processes took from it. Linux only (/proc/self/task/<pid>/stat); elsewhere it writes
 * nothing. The variable is removed from the environment at once, so only this process reports, not the
 * workers it spawns.
 */
const { writeFileSync, readFileSync } = require('node:fs');

const file = process.env.TESTWIRE_BENCH_THREAD_CPU;
if (file) {
  delete process.env.TESTWIRE_BENCH_THREAD_CPU;
  process.on('exit', () => {
    try {
      // Fields after the parenthesized command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // In clock ticks of USER_HZ, which Linux fixes at 100 per second for /proc.
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      // schedstat: time on a CPU, time waiting on a run queue (ns), timeslices
      let waitMs = '';
      try {
        const sched = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
        waitMs = ` ${Number(sched[1]) / 1e6}`;
      } catch {}
      writeFileSync(file, `${ms}${waitMs}\n`);
    } catch {}
  });
}
