/**
 * One measured process of `fixed.mjs`: B2's parts for one adapter, in a fresh process that has first loaded
 * the Node built-ins its runner has loaded when it loads a reporter (so a saving the runner has already paid
 * is not credited), and its process.stdout/stderr made.
 *
 *   node fixed-child.cjs <runner> <adapter entry (dist/index.cjs)>
 *
 * Prints one JSON line, ms: load (require(entry)), construct (the constructor), first (the run-start hooks)
 * as CPU time of this thread; final as the wall time of the final hooks until they settle (and finalCpu, this
 * thread's CPU during it). Between first and final, a small run (20 files × 10 tests) through the adapter's
 * hooks (hooks-child.cjs's shapes), 15 ms apart, so the final hook has calls to flush and, as in a run, the
 * reporter's thread has started by then. The core owns a broadcaster on
 * port 0 in this process, as in a bench:cost run with 0 subscribers.
 */
const { readFileSync } = require('node:fs');
const { EventEmitter } = require('node:events');

const [, , runner, entry] = process.argv;
const FILES = 20;
const PER_FILE = 10;
const ROOT = '/work/bench-project';

/**
 * The built-ins each runner has loaded when it requires its reporter (process.moduleLoadList at that moment,
 * Node 20, jest 30 / mocha 11 from compat/; vitest and playwright load more than jest: its list stands for them).
 */
const MOCHA =
  'events buffer path querystring async_hooks timers util fs url module os string_decoder stream/promises stream diagnostics_channel net tty fs/promises perf_hooks assert';
const JEST = `${MOCHA} timers/promises util/types constants crypto vm console dgram child_process v8`;
const PRELOAD = { mocha: MOCHA, jest: JEST, vitest: JEST, playwright: JEST };
for (const id of PRELOAD[runner].split(' ')) require(`node:${id}`);
void process.stdout;
void process.stderr;
// A runner has resolved packages through their "exports" before: Node's resolver for them is loaded and warm
// (the first two such resolutions in a process cost ~5 and ~2 ms, later ones ~0.4).
const { join } = require('node:path');
const repo = join(__dirname, '..', '..');
for (const id of ['ws', 'vitest/package.json']) require.resolve(id, { paths: [repo] });

const nap = new Int32Array(new SharedArrayBuffer(4));
/** This thread's CPU time, ms; the short wait first makes the kernel bring the figure up to date. */
function cpuMs() {
  Atomics.wait(nap, 0, 0, 0.01);
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6;
}
const options = { port: 0, performanceIntervalMs: 0 };
const { reportedFile } = require('./vitest-tasks.cjs');
/** A run's files are tens of ms apart: the reporter's thread has started and bound its port by the end. */
const FILE_GAP_MS = 15;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Per runner, from the loaded module: construct() -> { begin, files (closures per file), end }. */
const drivers = {
  jest: (exported) => () => {
    // jest's install as the root, so the adapter finds jest's version there as it does in a run
    const rootDir = join(repo, 'compat', 'jest-30');
    const reporter = new (exported.default ?? exported)({ rootDir, maxWorkers: 1 }, options);
    return {
      begin: () => reporter.onRunStart({ numTotalTestSuites: FILES }),
      file(f) {
        const test = { path: `${ROOT}/test/file${f}.test.js`, context: { config: { rootDir: ROOT } } };
        reporter.onTestFileStart(test);
        const results = [];
        for (let i = 0; i < PER_FILE; i++) {
          const titles = { ancestorTitles: ['block'], title: `case ${i}` };
          const result = { ...titles, fullName: `block case ${i}`, status: 'passed', duration: 1 };
          result.failureMessages = [];
          result.failureDetails = [];
          results.push(result);
          reporter.onTestCaseStart(test, { ...titles, fullName: titles.title, startedAt: 0 });
          reporter.onTestCaseResult(test, result);
        }
        reporter.onTestFileResult(test, { testFilePath: test.path, testResults: results, console: null });
      },
      end: () => reporter.onRunComplete(new Set(), { numFailedTests: 0, numRuntimeErrorTestSuites: 0 }),
    };
  },
  mocha: (exported) => () => {
    const runner = new EventEmitter();
    runner.total = FILES * PER_FILE;
    const reporter = new (exported.default ?? exported)(runner, {
      reporterOption: { reporter: 'none', port: '0', performanceIntervalMs: '0' },
    });
    return {
      begin: () => runner.emit('start'),
      file(f) {
        const file = `${ROOT}/test/file${f}.test.js`;
        const suite = { title: `file ${f}`, file, tests: [], suites: [] };
        runner.emit('suite', suite);
        for (let i = 0; i < PER_FILE; i++) {
          const title = `case ${i}`;
          const test = { type: 'test', title, file, parent: suite, duration: 1 };
          test.titlePath = () => [suite.title, title];
          test.currentRetry = () => 0;
          test.isPending = () => false;
          runner.emit('test', test);
          runner.emit('pass', test);
          runner.emit('test end', test);
        }
        runner.emit('suite end', suite);
      },
      end: () => {
        runner.emit('end');
        return new Promise((resolve) => reporter.done(0, resolve));
      },
    };
  },
  playwright: (exported) => {
    const project = { name: 'chromium' };
    const suite = (type, title, parent) => ({ type, title, parent, project: () => project });
    const projectSuite = suite('project', 'chromium', suite('root', '', undefined));
    const files = [];
    for (let f = 0; f < FILES; f++) {
      const describe = suite('describe', 'block', suite('file', `file${f}.spec.ts`, projectSuite));
      const tests = [];
      for (let i = 0; i < PER_FILE; i++)
        tests.push({
          title: `case ${i}`,
          parent: describe,
          location: { file: `${ROOT}/tests/file${f}.spec.ts`, line: i + 2, column: 3 },
          repeatEachIndex: 0,
          expectedStatus: 'passed',
          retries: 0,
          outcome: () => 'expected',
        });
      files.push(tests);
    }
    const config = {
      rootDir: ROOT,
      version: '1.57.0',
      workers: 1,
      projects: [{ name: 'chromium', retries: 0 }],
    };
    return () => {
      const reporter = new (exported.default ?? exported)(options);
      return {
        begin: () => reporter.onBegin(config, { allTests: () => files.flat() }),
        file(f) {
          for (const test of files[f]) {
            const result = {
              retry: 0,
              status: 'passed',
              duration: 1,
              errors: [],
              attachments: [],
              steps: [],
            };
            result.startTime = new Date(0);
            reporter.onTestBegin(test, result);
            reporter.onTestEnd(test, result);
          }
        },
        end: async () => {
          await reporter.onEnd({ status: 'passed' });
          await reporter.onExit();
        },
      };
    };
  },
  vitest: (exported) => {
    const modules = [];
    for (let f = 0; f < FILES; f++)
      modules.push(reportedFile(`${ROOT}/test/file${f}.test.mjs`, f, PER_FILE, 10));
    const context = {
      version: '4.1.12',
      config: { root: ROOT, watch: false, pool: 'forks', include: ['**/*.test.mjs'] },
    };
    return () => {
      const reporter = new (exported.TestwireVitestReporter ?? exported.default ?? exported)(options);
      return {
        begin() {
          reporter.onInit(context);
          reporter.onTestRunStart(modules.map((module) => ({ moduleId: module.moduleId })));
        },
        file(f) {
          const module = modules[f];
          reporter.onTestModuleQueued(module);
          reporter.onTestModuleCollected(module);
          reporter.onTestModuleStart(module);
          for (const suite of module.children) {
            for (const test of suite.children) {
              reporter.onTestCaseReady(test);
              reporter.onTestCaseResult(test);
            }
            reporter.onTestSuiteResult(suite);
          }
          reporter.onTestModuleEnd(module);
        },
        end: () => reporter.onTestRunEnd(modules, [], 'passed'),
      };
    };
  },
};

(async () => {
  // A full GC first: the young generation the preloads left half full would otherwise be collected (2–3 ms
  // here) in whichever part fills it, moving that cost between parts and between builds.
  require('node:v8').setFlagsFromString('--expose-gc');
  require('node:vm').runInNewContext('gc')();
  const t0 = cpuMs();
  const exported = require(entry);
  const t1 = cpuMs();
  const make = drivers[runner](exported);
  const t2 = cpuMs();
  const run = make();
  const t3 = cpuMs();
  run.begin();
  const t4 = cpuMs();
  for (let f = 0; f < FILES; f++) {
    run.file(f);
    await pause(FILE_GAP_MS);
  }
  const c5 = cpuMs();
  const at = performance.now();
  await run.end();
  const finalMs = performance.now() - at;
  const c6 = cpuMs();
  const figures = { load: t1 - t0, construct: t3 - t2, first: t4 - t3, final: finalMs, finalCpu: c6 - c5 };
  process.stdout.write(`${JSON.stringify({ runner, ...figures })}\n`);
  process.exit(0);
})();
