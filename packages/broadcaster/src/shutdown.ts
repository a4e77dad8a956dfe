/**
 * Closing once: the first close() runs the work and every later call gets the same promise; whoever listens
 * hears when it is done (getBroadcaster, to forget its instance). `onDone()` returns the unbind function.
 */
export class Shutdown {
  private promise?: Promise<void>;
  private readonly listeners = new Set<() => void>();

  /** True once close() began. */
  get started(): boolean {
    return this.promise !== undefined;
  }

  /** Runs `work` the first time, then calls the listeners (also when it failed). */
  run(work: () => Promise<void>): Promise<void> {
    this.promise ??= work().finally(() => {
      for (const listener of [...this.listeners]) listener();
    });
    return this.promise;
  }

  onDone(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
