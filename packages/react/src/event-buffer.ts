/**
 * The last N events, in arrival order: a ring, so a long run costs O(N) memory whatever its length, and an
 * event costs O(1) to add. `dropped` counts what fell out.
 */
export class EventBuffer<T> {
  private items: (T | undefined)[] = [];
  private start = 0;
  private count = 0;
  /** Events that were added and are no longer held (the buffer was full, or shrunk). */
  dropped = 0;

  constructor(private capacity: number) {
    checkCapacity(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.capacity === 0) {
      this.dropped++;
      return;
    }
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.dropped++;
  }

  /** Changes the capacity, keeping the newest events. */
  resize(capacity: number): void {
    checkCapacity(capacity);
    if (capacity === this.capacity) return;
    const kept = this.toArray().slice(Math.max(0, this.count - capacity));
    this.dropped += this.count - kept.length;
    this.capacity = capacity;
    this.items = kept;
    this.start = 0;
    this.count = kept.length;
  }

  /** The held events, oldest first (a new array). */
  toArray(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.start + i) % this.capacity] as T;
    return out;
  }
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(`maxEvents: expected an integer >= 0, got ${String(capacity)}`);
  }
}
