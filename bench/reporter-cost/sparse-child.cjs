/**
 * One measured process of `sparse.mjs`: a run whose tests take a while (each test waits `gap` ms on a timer, as
 * a test doing I/O does), recorded through reporter-core as an adapter would, with its core and broadcaster on
 * the reporter's thread (port 0). Prints one JSON line: per test, the CPU (µs) and the voluntary context
 * switches (wakeups) of the runner's thread, the reporter's thread (`testwire`) and the rest of the process.
 * `none` as the reporter-core directory: the same run without a reporter (the baseline).
 *
 *   node sparse-child.cjs <reporter-core dir | none> <tests> <gap ms>
 */
const { readdirSync, readFileSync } = require('node:fs');

const [, , dir, testsArg = '200', gapArg = '15'] = process.argv;
const TESTS = Number(testsArg);
const GAP = Number(gapArg);

/** Per thread group (main, testwire, other): CPU ms (schedstat) and voluntary context switches. */
function threads() {
  const out = {
    main: { cpu: 0, wakeups: 0 },
    testwire: { cpu: 0, wakeups: 0 },
    other: { cpu: 0, wakeups: 0 },
  };
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const base = `/proc/self/task/${tid}`;
      const name = readFileSync(`${base}/comm`, 'utf8').trim();
      const group = tid === String(process.pid) ? 'main' : name === 'testwire' ? 'testwire' : 'other';
      out[group].cpu += Number(readFileSync(`${base}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      out[group].wakeups += Number(
        /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`${base}/status`, 'utf8'))[1],
      );
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  const core =
    dir === 'none'
      ? undefined
      : require(`${dir}/dist/index.cjs`).createReporterCore({
          framework: 'mocha',
          rootDir: '/tmp',
          port: 0,
          env: {},
        });
  core?.runStarted({ totalTests: TESTS });
  await sleep(500); // the reporter's thread started and its broadcaster up
  const before = threads();
  for (let i = 0; i < TESTS; i++) {
    const ref = { file: '/tmp/sparse/a.test.js', titlePath: ['block', `test ${i}`] };
    core?.testStarted(ref, 1);
    await sleep(GAP);
    core?.testResult(ref, { status: 'passed', rawStatus: 'passed', duration: GAP });
  }
  const after = threads();
  const perTest = {};
  for (const group of Object.keys(after))
    perTest[group] = {
      cpuUs: ((after[group].cpu - before[group].cpu) * 1000) / TESTS,
      wakeups: (after[group].wakeups - before[group].wakeups) / TESTS,
    };
  if (core) await core.runCompleted({ success: true });
  process.stdout.write(`${JSON.stringify({ tests: TESTS, gap: GAP, perTest })}\n`);
  process.exit(0);
})();
