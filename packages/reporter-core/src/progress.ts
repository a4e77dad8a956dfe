/**
 * test.progress is a sample of the run's state, not a log of transitions: a fast suite changes state
 * thousands of times a second and nobody renders that. A sample goes out at once when none went out in the
 * last `intervalMs` (leading edge) or for the run's first test start; otherwise one goes out when the
 * interval is over (trailing edge), with the state as it is then. The core sends a pending sample before
 * test.completed, so the last one is final.
 */
export class ProgressSampler {
  private sentAt = Number.NEGATIVE_INFINITY;
  private pending = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sentRunning = false;

  constructor(
    private readonly intervalMs: number,
    /** Sends a sample of the state now (at `at`, epoch ms); says whether it named a running test. */
    private readonly sample: (at: number) => { running: boolean },
    /** Runs the trailing sample's send, guarded (a timer callback must never throw). */
    private readonly guard: (body: () => void) => void,
  ) {}

  /** The run's state changed at `at`: a test started (`started`) or ended, or the total moved. */
  changed(at: number, started = false): void {
    const interval = this.intervalMs;
    if (interval <= 0 || at - this.sentAt >= interval || (started && !this.sentRunning)) {
      this.send(at);
      return;
    }
    this.pending = true;
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.guard(() => {
          if (this.pending) this.send(Date.now());
        });
      },
      Math.max(1, interval - (at - this.sentAt)),
    );
    this.timer.unref?.();
  }

  /** Sends the pending sample, if any, now (before the run's test.completed). */
  flush(at: number): void {
    if (this.pending) this.send(at);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
  }

  private send(at: number): void {
    this.pending = false;
    this.sentAt = at;
    if (this.sample(at).running) this.sentRunning = true;
  }
}
