'use strict';
/**
 * The testwire reporter as the cost bench's runners load it: `timed(runner, entry)` requires a build's adapter
 * entry and returns a subclass that measures, from inside the runner process, the reporter's fixed cost on
 * the runner's critical path (budget B2, measured directly), each as wall time and as CPU time of the calling
 * thread (/proc/thread-self/schedstat, ns, see threadNs):
 *
 *   load       require(entry)
 *   construct  new Reporter(...); for mocha without the construction of the terminal reporter it wraps (`spec`,
 *              timed apart as `inner`: the baseline constructs the same one, as mocha's default reporter)
 *   first      the run-start hooks: jest onRunStart, vitest onInit + onTestRunStart, playwright onConfigure +
 *              onBegin, mocha the adapter's 'start' listener — where a reporter starts what it needs
 *   final      the hooks the runner awaits at the end until they settle: jest onRunComplete, vitest
 *              onTestRunEnd / onFinished, playwright onEnd + onExit, mocha the adapter's 'end' listener + done()
 *
 *   hooks      every other hook call (per test, per file): wall time of each call, summed, from two
 *              performance.now() (the thread's CPU clock costs a /proc read, ~10 µs): calls under 1 ms in
 *              `ms`, longer ones (a first call compiling, or the thread preempted mid-call by other load) apart
 *              in `slowMs`/`slowCalls`. A direct view of the per-test work on the runner's thread, without
 *              what the slope also holds (the garbage the hooks leave for the thread's GC, timers, capture
 *              wrappers). The wrapping costs ~0.1 µs per call, which lands in the slope too.
 *
 * Written as JSON to $TESTWIRE_BENCH_REPORTER at exit.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');

const FIRST = ['onConfigure', 'onInit', 'onRunStart', 'onTestRunStart', 'onBegin'];
const FINAL = ['onRunComplete', 'onTestRunEnd', 'onFinished', 'onEnd', 'onExit'];
const MOCHA_FIRST = 'start';
const MOCHA_FINAL = 'end';

const nap = new Int32Array(new SharedArrayBuffer(4));
/**
 * CPU time of the calling thread so far, ns (NaN where /proc has no schedstat). The kernel brings a running
 * thread's figure up to date only at a scheduler event (it lags by up to a tick, 4 ms here): a 10 µs sleep
 * first makes one, so the figure is exact (~100 µs of wall, ~15 µs of CPU per read).
 */
function threadNs() {
  try {
    Atomics.wait(nap, 0, 0, 0.01);
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]);
  } catch {
    return Number.NaN;
  }
}

const segment = () => ({ ms: 0, cpuMs: 0, calls: 0 });
const stats = {
  load: segment(),
  construct: segment(),
  inner: segment(),
  first: segment(),
  final: segment(),
  hooks: { ms: 0, calls: 0, slowMs: 0, slowCalls: 0 },
};
const out = process.env.TESTWIRE_BENCH_REPORTER;
if (out) {
  delete process.env.TESTWIRE_BENCH_REPORTER;
  process.on('exit', () => {
    try {
      writeFileSync(out, JSON.stringify(stats));
    } catch {}
  });
}

// the wall clock inside the CPU readings, so that their sleeps are not in `ms`
function start() {
  const ns = threadNs();
  return [performance.now(), ns];
}
function stop(name, [at, ns]) {
  const s = stats[name];
  s.ms += performance.now() - at;
  s.cpuMs += (threadNs() - ns) / 1e6;
  s.calls++;
}

/** `fn` measured into `name`; a returned promise is measured until it settles. */
function measured(name, fn) {
  return function (...args) {
    const t = start();
    let result;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      stop(name, t);
      throw error;
    }
    if (result && typeof result.then === 'function')
      return result.then(
        (value) => {
          stop(name, t);
          return value;
        },
        (error) => {
          stop(name, t);
          throw error;
        },
      );
    stop(name, t);
    return result;
  };
}

/** `fn` timed into stats.hooks (synchronous: a per-test hook returns nothing the runner awaits). */
function hook(fn) {
  const hooks = stats.hooks;
  return function (...args) {
    const at = performance.now();
    try {
      return fn.apply(this, args);
    } finally {
      const ms = performance.now() - at;
      if (ms < 1) {
        hooks.ms += ms;
        hooks.calls++;
      } else {
        hooks.slowMs += ms;
        hooks.slowCalls++;
      }
    }
  };
}

/** >0 while a built-in reporter the adapter wraps is being constructed (timeInnerReporters). */
let innerDepth = 0;

/**
 * Mocha's built-in reporters (of the mocha running this process, found in the module cache as the adapter
 * finds it), each made to time its construction into stats.inner while the adapter is constructed, and to
 * mark it (innerDepth: what it registers on the runner is its own, not the adapter's); returns the function
 * that puts them back.
 */
function timeInnerReporters() {
  const restores = [];
  for (const [file, module] of Object.entries(require.cache)) {
    if (!/[\\/]mocha[\\/]lib[\\/]mocha\.c?js$/.test(file)) continue;
    const reporters = module?.exports?.reporters;
    if (!reporters) continue;
    for (const [name, Reporter] of Object.entries(reporters)) {
      if (typeof Reporter !== 'function') continue;
      const Timed = function (...args) {
        const t = start();
        innerDepth++;
        try {
          return Reflect.construct(Reporter, args, new.target === Timed ? Reporter : new.target);
        } finally {
          innerDepth--;
          stop('inner', t);
        }
      };
      Timed.prototype = Reporter.prototype;
      reporters[name] = Timed;
      restores.push(() => {
        reporters[name] = Reporter;
      });
    }
  }
  return () => {
    for (const restore of restores) restore();
  };
}

/** The adapter of `runner` at `entry`, with its fixed costs measured (see above). */
function timed(runner, entry) {
  const t = start();
  const loaded = require(entry);
  stop('load', t);
  const Real = typeof loaded === 'function' ? loaded : loaded.default;
  if (typeof Real !== 'function') throw new Error(`${entry} exports no reporter class`);

  if (runner === 'mocha') {
    // mocha: the adapter registers listeners on the runner in its constructor; only its own are wrapped (not
    // those of the spec reporter it wraps, which the baseline has too): a listener registered while a built-in
    // reporter is constructed (innerDepth, see timeInnerReporters) is that reporter's, any other the adapter's.
    // (Until 2026-12-06 15:00 this read the caller from a stack trace per call: ~1.2 ms of the bench's own in
    // mocha's construct.)
    class TimedMocha extends Real {
      constructor(mochaRunner, options) {
        const t = start();
        const on = mochaRunner.on;
        mochaRunner.on = function (event, listener) {
          if (innerDepth > 0) return on.call(this, event, listener);
          const kind = event === MOCHA_FIRST ? 'first' : event === MOCHA_FINAL ? 'final' : undefined;
          return on.call(this, event, kind ? measured(kind, listener) : hook(listener));
        };
        const restore = timeInnerReporters();
        const inner = { ...stats.inner };
        try {
          super(mochaRunner, options);
        } finally {
          mochaRunner.on = on;
          restore();
        }
        stop('construct', t);
        // what the baseline pays too: mocha constructs its default reporter there
        stats.construct.ms -= stats.inner.ms - inner.ms;
        stats.construct.cpuMs -= stats.inner.cpuMs - inner.cpuMs;
      }

      done(failures, fn) {
        const t = start();
        return super.done(failures, (...args) => {
          stop('final', t);
          if (fn) fn(...args);
        });
      }
    }
    return TimedMocha;
  }

  class Timed extends Real {
    constructor(...args) {
      const t = start();
      super(...args);
      stop('construct', t);
    }
  }
  const names = new Set();
  for (let proto = Real.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
    for (const name of Object.getOwnPropertyNames(proto)) if (/^on[A-Z]/.test(name)) names.add(name);
  for (const name of names) {
    const fn = Real.prototype[name];
    if (typeof fn !== 'function') continue;
    if (FIRST.includes(name)) Timed.prototype[name] = measured('first', fn);
    else if (FINAL.includes(name)) Timed.prototype[name] = measured('final', fn);
    else Timed.prototype[name] = hook(fn);
  }
  return Timed;
}

module.exports = { timed };
