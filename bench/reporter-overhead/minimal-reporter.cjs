'use strict';
/**
 * The minimal mode's reporter: the least a live reporter of testwire's shape can do. The runner's hooks push
 * one small event per test (test.started, one test.result per test, test.completed — schema-valid, ~360 B)
 * into an array that is posted to a worker thread every 20 ms; the thread joins the hub through
 * @testwire/broadcaster (`getBroadcaster`, TESTWIRE_URL) and publishes them; the runner's final hook awaits
 * the flush. No stable ids, run model, progress, output capture, errors, retries or performance samples.
 *
 * What `minimal` adds to the baseline is what any reporter that streams every test live from inside the runner
 * process pays on this machine: a thread, the publisher's connection, and the hub and 10 subscribers busy
 * while the runner runs. What `testwire` adds beyond it is the reporter's own work.
 *
 * `require('./minimal-reporter.cjs').jest` (also vitest, playwright; `mocha(Spec)` wraps mocha's spec reporter,
 * since mocha takes one --reporter).
 */
const { join } = require('node:path');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

const BROADCASTER = join(__dirname, '..', '..', 'packages', 'broadcaster', 'dist', 'index.cjs');
const BATCH_MS = 20;

/** The thread: joins the hub and publishes what the runner's thread posts. */
function publishFromThread() {
  const joined = require(BROADCASTER).getBroadcaster({ logger: { warn: () => {} } });
  parentPort.on('message', async (message) => {
    const broadcaster = await joined;
    if (message === 'flush') {
      await broadcaster.flush(3000);
      parentPort.postMessage('flushed');
    } else for (const event of message) broadcaster.publish(event);
  });
}
if (!isMainThread) publishFromThread();

/**
 * The runner's side: batches events to the thread and counts the results; `completed(success)` resolves once
 * the hub has them all.
 */
class Stream {
  constructor(framework) {
    this.framework = framework;
    this.runId = `r_minimal${process.pid.toString(36)}${Date.now().toString(36)}`;
    this.startedAt = Date.now();
    this.counts = { total: 0, passed: 0, failed: 0, skipped: 0 };
    this.batch = [];
    this.worker = new Worker(__filename, { execArgv: [] });
    this.worker.unref();
    this.timer = setInterval(() => this.post(), BATCH_MS);
    this.timer.unref();
  }

  post() {
    if (this.batch.length === 0) return;
    this.worker.postMessage(this.batch);
    this.batch = [];
  }

  started(totalTests) {
    this.batch.push({
      type: 'test.started',
      runId: this.runId,
      data: { framework: this.framework, totalTests, testFiles: [] },
    });
  }

  /** `status`: passed, failed, skipped or todo (counted as skipped in the summary). */
  result(file, titlePath, status, duration, attempt) {
    const { counts } = this;
    counts[status === 'todo' ? 'skipped' : status]++;
    this.batch.push({
      type: 'test.result',
      runId: this.runId,
      data: {
        framework: this.framework,
        id: `t_${(counts.total++).toString(16)}`,
        titlePath,
        testName: titlePath[titlePath.length - 1] ?? '',
        suite: titlePath.length > 1 ? titlePath[titlePath.length - 2] : '',
        status,
        duration: duration ?? 0,
        file,
        attempt,
      },
    });
  }

  completed(success) {
    const summary = { ...this.counts, duration: Date.now() - this.startedAt, success };
    this.batch.push({
      type: 'test.completed',
      runId: this.runId,
      data: { framework: this.framework, summary },
    });
    this.post();
    clearInterval(this.timer);
    this.worker.ref();
    return new Promise((resolve) => {
      this.worker.once('message', () => {
        this.worker.unref();
        resolve();
      });
      this.worker.postMessage('flush');
    });
  }
}

const statusOf = (raw) => (raw === 'passed' || raw === 'failed' || raw === 'todo' ? raw : 'skipped');

class JestMinimal {
  constructor() {
    this.stream = new Stream('jest');
  }
  onRunStart(results) {
    this.stream.started(results.numTotalTests);
  }
  onTestCaseResult(test, result) {
    const titlePath = [...result.ancestorTitles, result.title];
    this.stream.result(test.path, titlePath, statusOf(result.status), result.duration, 1);
  }
  onRunComplete(_contexts, results) {
    return this.stream.completed(results.success);
  }
  getLastError() {}
}

class VitestMinimal {
  constructor() {
    this.stream = new Stream('vitest');
  }
  onTestRunStart() {
    this.stream.started(0);
  }
  onTestCaseResult(testCase) {
    const titlePath = testCase.fullName.split(' > ');
    const status = statusOf(testCase.result().state);
    this.stream.result(testCase.module.moduleId, titlePath, status, testCase.diagnostic()?.duration, 1);
  }
  onTestRunEnd(_modules, errors) {
    return this.stream.completed(this.stream.counts.failed === 0 && errors.length === 0);
  }
}

class PlaywrightMinimal {
  constructor() {
    this.stream = new Stream('playwright');
  }
  printsToStdio() {
    return false;
  }
  onBegin(_config, suite) {
    this.stream.started(suite.allTests().length);
  }
  onTestEnd(test, result) {
    const status = result.status === 'passed' ? 'passed' : result.status === 'skipped' ? 'skipped' : 'failed';
    this.stream.result(
      test.location.file,
      test.titlePath().slice(3),
      status,
      result.duration,
      result.retry + 1,
    );
  }
  onEnd(result) {
    return this.stream.completed(result.status === 'passed');
  }
}

/** mocha: wraps its spec reporter (one --reporter), as @testwire/mocha does by default. */
const mocha = (Spec) =>
  class MochaMinimal {
    constructor(runner, options) {
      new Spec(runner, options);
      const stream = new Stream('mocha');
      this.stream = stream;
      runner.on('start', () => stream.started(runner.total));
      runner.on('test end', (test) =>
        stream.result(test.file, test.titlePath(), statusOf(test.state ?? 'skipped'), test.duration, 1),
      );
    }
    done(failures, fn) {
      void this.stream.completed(failures === 0).then(() => fn(failures));
    }
  };

module.exports = { jest: JestMinimal, vitest: VitestMinimal, playwright: PlaywrightMinimal, mocha };
