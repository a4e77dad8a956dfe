import { createRunId } from './ids.js';

/** How a call relates to the run: starting calls open one, late ones never do after an end. */
export type CallKind =
  /** runStarted: opens a run; while one runs, a new one (a watch-mode rerun that skipped its end). */
  | 'restart'
  /** A test or file event: opens a run when none runs (also after an end: the next watch run). */
  | 'starting'
  /** Output, hook and run errors, coverage: part of the current run, dropped after its end. */
  | 'late';

/**
 * The run phases, decided in one place (on the runner's thread, by the recorder) so that `runId` is known
 * at once and every call carries the run it belongs to:
 *
 *   idle ──starting/late/restart──> running ──runCompleted──> completed
 *                                    │  ^                        │
 *                                    └──┘ restart: new id         └──starting/restart──> running (new id)
 *                                                                  late: dropped
 */
export class RunPhases {
  private phase: 'idle' | 'running' | 'completed' = 'idle';
  /** The current run's id; the first run's is known before it starts (`core.runId`). */
  runId = createRunId();

  /**
   * Places a call: 'opened' when it opens a run (a new id unless it is the first), 'running' when it belongs
   * to the running one, undefined when it comes after the end and must be dropped.
   */
  enter(kind: CallKind): 'opened' | 'running' | undefined {
    if (this.phase === 'running' && kind !== 'restart') return 'running';
    if (this.phase === 'completed' && kind === 'late') return undefined;
    if (this.phase !== 'idle') this.runId = createRunId();
    this.phase = 'running';
    return 'opened';
  }

  /** The run ends (call `enter('starting')` first: a run that never started still starts and ends). */
  complete(): void {
    this.phase = 'completed';
  }

  /** The last run ended and no call has opened another: a second runCompleted only waits for delivery. */
  get ended(): boolean {
    return this.phase === 'completed';
  }
}
