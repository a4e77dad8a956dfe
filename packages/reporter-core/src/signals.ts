/**
 * The process is stopped while a run is open — SIGINT / SIGTERM, or it exits (`process.exit()` called by a
 * test, an uncaught exception): the stream ends with an interrupted test.completed that names the tests
 * running at that moment, then the process does what it would have done without testwire.
 *
 *   signal ─> every open run: interrupt(signal)  (the core notes the running tests and their elapsed time)
 *         ├─ nobody else listens (jest, mocha serial): complete each run as interrupted, flush (bounded by
 *         │    min(flushTimeoutMs, 5000)), remove our listeners and raise the signal again: the process
 *         │    dies of it as it would have (same exit status)
 *         └─ the runner listens too (playwright, mocha --parallel): it ends the run itself (its
 *              runCompleted carries the interruption)
 *   either way, if the process exits first (vitest 4's handler calls process.exit a tick later, vitest 3's
 *   at once), 'exit' completes what is still open and waits for the flush, blocking on the core's thread
 *   (bounded). Both listeners go first in line, so that a runner's listener that exits cannot skip them.
 *
 *   'exit' with a run still open and no signal before it (a test called process.exit(), mocha serial; an
 *   uncaught exception ended the process) ─> every open run: interrupt('exit'), then completed as
 *   interrupted with an error that gives the exit code, blocking until flushed (same bound): the process
 *   exits with its code as it would have.
 *
 * One listener per signal and one for 'exit' per process, installed while some run is open (per run, never
 * per test). In-thread (TESTWIRE_THREAD=off) nothing can be flushed from 'exit': those runs end unflushed.
 * Caveat: a test that blocks the runner's own thread (a synchronous endless loop, mocha serial or jest in
 * band) also blocks a signal listener — with one installed the process waits for the test instead of dying
 * of SIGTERM at once (the hung test is still reported: the detector runs on the core's thread).
 */
import type { RunResultInfo } from './api.js';

/** What a recorder with an open run offers the signal handler. */
export interface Interruptible {
  /** Tells the core the run is being interrupted by `signal` (it notes the running tests). */
  interrupt(signal: string): void;
  /** Completes the run as interrupted; resolves once flushed (bounded by `timeoutMs`). */
  finishInterrupted(timeoutMs: number): Promise<void>;
  /**
   * The same, blocking this thread (process 'exit': no more turns of the loop), and also when the run has
   * completed meanwhile: waits for its flush. `result` replaces INTERRUPTED (the exit's error). Absent
   * in-thread.
   */
  finishInterruptedBlocking?(timeoutMs: number, result?: RunResultInfo): void;
  readonly flushTimeoutMs: number;
}

/** The flush bound on a signal: the process is being stopped; CI kills it for good a few seconds later (GitHub Actions 7.5 s after SIGINT, docker stop 10 s after SIGTERM). */
export const SIGNAL_FLUSH_MS = 5000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

const open = new Set<Interruptible>();
let handling = false;

/** A run opened: listen for signals and for the process's exit (once per process). */
export function watchSignals(run: Interruptible): void {
  open.add(run);
  if (open.size > 1 || handling) return;
  // First in line: a runner's own listener may exit the process at once (vitest 3 calls process.exit inside
  // its SIGTERM listener), and a listener after it would never run.
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  process.prependListener('exit', onExit);
}

/** A run ended: stop listening when no run is open. */
export function unwatchSignals(run: Interruptible): void {
  open.delete(run);
  if (open.size === 0 && !handling) removeListeners();
}

function removeListeners(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener('exit', onExit);
}

function boundFor(run: Interruptible): number {
  return Math.min(run.flushTimeoutMs, SIGNAL_FLUSH_MS);
}

/**
 * The process exits with runs still open and no signal before it (a signal's own 'exit' listener, below, has
 * those): each is interrupted and completed with the exit's code in its errors, flushed before the process
 * goes (bounded).
 */
function onExit(code: number): void {
  const runs = [...open];
  removeListeners();
  const result: RunResultInfo = {
    ...INTERRUPTED,
    errors: [
      {
        message: `The process exited (exit code ${code}) before the run ended: process.exit() was called, or an uncaught error ended it`,
      },
    ],
  };
  for (const run of runs) {
    run.interrupt(EXIT);
    run.finishInterruptedBlocking?.(boundFor(run), result);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (handling) {
    // A second Ctrl-C while we flush: stop waiting.
    removeListeners();
    process.kill(process.pid, signal);
    return;
  }
  const runs = [...open];
  for (const run of runs) run.interrupt(signal);
  // Whoever exits first (a runner's own handler: vitest calls process.exit a tick after the signal, and
  // its `once` listener is already gone by the time this one runs): on the way out, complete what is still
  // open and wait for the flush, bounded.
  // First in line too: a runner's 'exit' listener that calls process.exit again (vitest 3's) ends the process
  // there, and the listeners after it never run.
  process.prependOnceListener('exit', () => {
    for (const run of runs) run.finishInterruptedBlocking?.(boundFor(run));
  });
  // The runner handles it too (playwright): it ends its runs itself.
  if (process.listenerCount(signal) > 1) return;
  handling = true;
  void Promise.allSettled(runs.map((run) => run.finishInterrupted(boundFor(run)))).then(() => {
    removeListeners();
    // As without testwire: the default action of the signal (the process ends with its status).
    process.kill(process.pid, signal);
  });
}

/** The result a run interrupted by a signal ends with. */
export const INTERRUPTED: RunResultInfo = { success: false, rawStatus: 'interrupted', interrupted: true };

/** What interrupted a run the process exited from (test.completed `interruptedBy`). */
export const EXIT = 'exit';
