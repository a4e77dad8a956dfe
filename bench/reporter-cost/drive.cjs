/**
 * Each adapter's hooks driven without its runner, with objects shaped as its runner hands them (the fields the
 * adapter reads): hooks-child.cjs (B1 and B3 by the hooks) and fixed-child.cjs (B2's parts) drive the same.
 *
 *   const prepare = driver(runner, exported, settings)   exported: what require(adapter entry) returned
 *   const construct = prepare()                           a run's objects, made before the reporter
 *   const { begin, files, end } = construct()             the reporter; its calls as closures, per file
 *
 * begin: the run-start hooks (jest onRunStart, vitest onInit + onTestRunStart, playwright onBegin, mocha
 * 'start'); files[f]: file f's hook calls in the runner's order; end: the final hooks (a promise for those the
 * runner awaits). settings: options (the reporter's options: jest's second argument, vitest's and
 * playwright's only one; mocha's reporterOption is derived: `reporter=none`, and `enabled=false` or the
 * port), files, perFile, root (where the test files are said to be), jestRootDir (jest's rootDir: a jest
 * install lets the adapter find jest's version as in a run), dir (the test files' directory under root,
 * default `test`, playwright `tests`: another dir makes other tests, with ids of their own).
 */
const { EventEmitter } = require('node:events');

const drivers = {
  jest(exported, { options, files: FILES, perFile: PER_FILE, root: ROOT, jestRootDir = ROOT, dir = 'test' }) {
    const Reporter = exported.default ?? exported;
    return () => {
      const prepared = [];
      for (let f = 0; f < FILES; f++) {
        const test = { path: `${ROOT}/${dir}/file${f}.test.js`, context: { config: { rootDir: ROOT } } };
        const cases = [];
        const results = [];
        for (let i = 0; i < PER_FILE; i++) {
          const titles = { ancestorTitles: [`block ${i % 7}`], title: `computes case ${i}` };
          const start = { ...titles, fullName: titles.title, startedAt: 0 };
          const result = {
            ...titles,
            fullName: `block ${i % 7} computes case ${i}`,
            status: 'passed',
            duration: 1,
            failureMessages: [],
            failureDetails: [],
            invocations: 1,
            numPassingAsserts: 1,
            location: null,
            startedAt: 0,
            retryReasons: [],
          };
          results.push({ ...result });
          cases.push([start, result]);
        }
        prepared.push({
          test,
          cases,
          fileResult: { testFilePath: test.path, testResults: results, console: null },
        });
      }
      return () => {
        const reporter = new Reporter({ rootDir: jestRootDir, maxWorkers: 1 }, options);
        const files = () =>
          prepared.map(({ test, cases, fileResult }) => {
            const calls = [() => reporter.onTestFileStart(test)];
            for (const [start, result] of cases) {
              calls.push(() => reporter.onTestCaseStart(test, start));
              calls.push(() => reporter.onTestCaseResult(test, result));
            }
            calls.push(() => reporter.onTestFileResult(test, fileResult));
            return calls;
          });
        return run({
          begin: () => reporter.onRunStart({ numTotalTestSuites: FILES }),
          files,
          end: () => reporter.onRunComplete(new Set(), { numFailedTests: 0, numRuntimeErrorTestSuites: 0 }),
        });
      };
    };
  },

  playwright(exported, { options, files: FILES, perFile: PER_FILE, root: ROOT, dir = 'tests' }) {
    const Reporter = exported.default ?? exported;
    return () => {
      const project = { name: 'chromium' };
      const suite = (type, title, parent) => ({ type, title, parent, project: () => project });
      const root = suite('root', '', undefined);
      const projectSuite = suite('project', 'chromium', root);
      const tests = [];
      const prepared = [];
      for (let f = 0; f < FILES; f++) {
        const describe = suite('describe', 'block', suite('file', `file${f}.spec.ts`, projectSuite));
        const pairs = [];
        for (let i = 0; i < PER_FILE; i++) {
          const test = {
            title: `computes case ${i}`,
            parent: describe,
            location: { file: `${ROOT}/${dir}/file${f}.spec.ts`, line: i + 2, column: 3 },
            repeatEachIndex: 0,
            expectedStatus: 'passed',
            retries: 0,
            outcome: () => 'expected',
          };
          tests.push(test);
          const result = {
            retry: 0,
            status: 'passed',
            duration: 1,
            errors: [],
            attachments: [],
            steps: [],
            startTime: new Date(0),
          };
          pairs.push([test, result]);
        }
        prepared.push(pairs);
      }
      const config = {
        rootDir: ROOT,
        version: '1.57.0',
        workers: 1,
        projects: [{ name: 'chromium', retries: 0 }],
      };
      return () => {
        const reporter = new Reporter(options);
        const files = () =>
          prepared.map((pairs) =>
            pairs.flatMap(([test, result]) => [
              () => reporter.onTestBegin(test, result),
              () => reporter.onTestEnd(test, result),
            ]),
          );
        return run({
          begin: () => reporter.onBegin(config, { allTests: () => tests }),
          files,
          end: async () => {
            await reporter.onEnd({ status: 'passed' });
            await reporter.onExit();
          },
        });
      };
    };
  },

  /**
   * Vitest 4's reported-tasks hooks, in the order its main process calls them for a file (queued, collected,
   * start; per test ready and result, per describe its result; end), on objects made by vitest-tasks.cjs:
   * copies of Vitest 4's TestCase/TestSuite/TestModule/TestCollection (getters reading the runner task,
   * `result()`/`diagnostic()` building new objects, collections as generators). Describe blocks of 10 tests,
   * as the generated suites of bench:cost.
   */
  vitest(exported, { options, files: FILES, perFile: PER_FILE, root: ROOT, dir = 'test' }) {
    const Reporter = exported.TestwireVitestReporter ?? exported.default ?? exported;
    const { reportedFile } = require('./vitest-tasks.cjs');
    const context = {
      version: '4.1.12',
      config: { root: ROOT, watch: false, pool: 'forks', include: ['**/*.test.mjs'] },
    };
    return () => {
      const modules = [];
      for (let f = 0; f < FILES; f++)
        modules.push(reportedFile(`${ROOT}/${dir}/file${f}.test.mjs`, f, PER_FILE, 10));
      return () => {
        const reporter = new Reporter(options);
        const files = () =>
          modules.map((module) => {
            const calls = [
              () => reporter.onTestModuleQueued(module),
              () => reporter.onTestModuleCollected(module),
              () => reporter.onTestModuleStart(module),
            ];
            for (const suite of module.children) {
              for (const test of suite.children) {
                calls.push(() => reporter.onTestCaseReady(test));
                calls.push(() => reporter.onTestCaseResult(test));
              }
              calls.push(() => reporter.onTestSuiteResult(suite));
            }
            calls.push(() => reporter.onTestModuleEnd(module));
            return calls;
          });
        return run({
          begin: () => {
            reporter.onInit(context);
            reporter.onTestRunStart(modules.map((module) => ({ moduleId: module.moduleId })));
          },
          files,
          end: () => reporter.onTestRunEnd(modules, [], 'passed'),
        });
      };
    };
  },

  mocha(exported, { options, files: FILES, perFile: PER_FILE, root: ROOT, dir = 'test' }) {
    const Reporter = exported.default ?? exported;
    const reporterOption =
      options.enabled === false
        ? { reporter: 'none', enabled: 'false' }
        : { reporter: 'none', port: String(options.port) };
    return () => {
      const runner = new EventEmitter();
      runner.total = FILES * PER_FILE;
      const prepared = [];
      for (let f = 0; f < FILES; f++) {
        const file = `${ROOT}/${dir}/file${f}.test.js`;
        const suite = { title: `file ${f}`, file, tests: [], suites: [] };
        const tests = [];
        for (let i = 0; i < PER_FILE; i++) {
          const title = `computes case ${i}`;
          tests.push({
            type: 'test',
            title,
            file,
            parent: suite,
            duration: 1,
            titlePath: () => [suite.title, title],
            currentRetry: () => 0,
            isPending: () => false,
          });
        }
        prepared.push({ suite, tests });
      }
      return () => {
        const reporter = new Reporter(runner, { reporterOption });
        const files = () =>
          prepared.map(({ suite, tests }) => {
            const calls = [() => runner.emit('suite', suite)];
            for (const test of tests) {
              calls.push(() => runner.emit('test', test));
              calls.push(() => runner.emit('pass', test));
              calls.push(() => runner.emit('test end', test));
            }
            calls.push(() => runner.emit('suite end', suite));
            return calls;
          });
        return run({
          begin: () => runner.emit('start'),
          files,
          end: () => {
            runner.emit('end');
            return new Promise((resolve) => reporter.done(0, resolve));
          },
        });
      };
    };
  },
};

/**
 * A constructed run: `files` made on first read (the closures over the reporter are the harness's work, not
 * the constructor's, which fixed-child.cjs times).
 */
function run({ begin, files, end }) {
  let made;
  return {
    begin,
    get files() {
      made ??= files();
      return made;
    },
    end,
  };
}

/** The driver of `runner` for the adapter `exported` (see above). */
function driver(runner, exported, settings) {
  const make = drivers[runner];
  if (!make) throw new Error(`no driver for ${runner}`);
  return make(exported, settings);
}

module.exports = { driver };
