/**
 * A test mocha fails after its run ended — its `done()` called again from a timer, an error thrown from a
 * timer it left behind — ends mocha's process at once, with or without testwire: mocha's runner, stopped,
 * throws the error out of its own 'uncaughtException' listener (Runner#fail / Runner#_uncaught, "throwing after
 * run has completed"), and Node dies of an error thrown by such a listener — it prints the error and exits 7,
 * with no 'exit' event and no further turn of the loop. Mocha's reporters hear nothing of it.
 *
 *   run ends ─> reporter.done ─> test.completed handed to the core's thread ─> flush (async)
 *   timer ─> done() again ─> mocha throws ─> 'uncaughtExceptionMonitor' (here: block until flushed)
 *                                          ─> mocha's 'uncaughtException' listener throws ─> exit 7
 *
 * Node's 'uncaughtExceptionMonitor' runs before those listeners and changes nothing of what they do: the one
 * place left to finish the run's flush, blocking (the core's thread flushes meanwhile).
 */
import type { MochaRunner } from './mocha-types.js';

/** mocha's Runner#state once its run ended (Runner.constants.STATE_STOPPED, mocha 10 to 12). */
const STOPPED = 'stopped';

/** What of a mocha runner tells that an uncaught error will end the process (read defensively). */
interface StoppableRunner extends MochaRunner {
  state?: unknown;
  /** Runner#uncaught: its 'uncaughtException' listener, bound (mocha 10 to 12). */
  uncaught?: unknown;
}

/**
 * Calls `dying(error)` when an uncaught error comes while `runner` has stopped and its 'uncaughtException'
 * listener is still in place — the process dies of it as soon as `dying` returns. Returns the stop function.
 */
export function onFatalAfterRun(runner: MochaRunner, dying: (error: unknown) => void): () => void {
  const stoppable = runner as StoppableRunner;
  const monitor = (error: unknown) => {
    if (stoppable.state !== STOPPED) return;
    const uncaught = stoppable.uncaught;
    if (typeof uncaught !== 'function' || !process.listeners('uncaughtException').includes(uncaught as never))
      return;
    dying(error);
  };
  process.on('uncaughtExceptionMonitor', monitor);
  return () => process.removeListener('uncaughtExceptionMonitor', monitor);
}
