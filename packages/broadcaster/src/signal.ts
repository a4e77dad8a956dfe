/** One event without a payload (a broadcaster closed): listeners in, `emit()` calls each; `on()` returns the unbind function. */
export class Signal {
  private readonly listeners = new Set<() => void>();

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
