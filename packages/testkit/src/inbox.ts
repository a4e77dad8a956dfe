/**
 * What both testers share: everything received, in order, and waits that see it.
 *
 * A wait first looks at what is already here, then at what arrives, until its timeout. Each item is handed
 * to at most one `take` (so `waitForMessage` in a loop walks forward through the stream), while `getAll`
 * and the assertions see everything received.
 */

interface Waiter<T> {
  predicate: (item: T) => boolean;
  count: number;
  taken: T[];
  resolve(items: T[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Also fires on items already taken by someone else (assertions). */
  peek: boolean;
}

export class Inbox<T> {
  private items: T[] = [];
  private taken = new WeakSet<object>();
  private takenPrimitives = new Set<number>();
  private waiters = new Set<Waiter<T>>();

  push(item: T): void {
    const index = this.items.length;
    this.items.push(item);
    for (const waiter of this.waiters) {
      if (!this.matches(waiter, item, index)) continue;
      if (!waiter.peek) this.markTaken(item, index);
      waiter.taken.push(item);
      if (waiter.taken.length >= waiter.count) {
        this.finish(waiter);
        waiter.resolve(waiter.taken);
      }
      if (!waiter.peek) break; // one taker per item
    }
  }

  getAll(): T[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items = [];
    this.taken = new WeakSet();
    this.takenPrimitives.clear();
  }

  /** Any item received so far (taken or not) that matches. */
  find(predicate: (item: T) => boolean): T | undefined {
    return this.items.find(predicate);
  }

  /**
   * Resolves with `count` items matching `predicate` (already here and not taken, then new ones), or rejects
   * with `onTimeout(received)` after `timeoutMs`. `peek` waits do not take items and also see taken ones.
   */
  wait(
    predicate: (item: T) => boolean,
    count: number,
    timeoutMs: number,
    onTimeout: (got: T[]) => Error,
    peek = false,
  ): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        count,
        taken: [],
        resolve,
        reject,
        peek,
        timer: undefined as never,
      };
      for (let i = 0; i < this.items.length && waiter.taken.length < count; i++) {
        const item = this.items[i];
        if (!this.matches(waiter, item, i)) continue;
        if (!peek) this.markTaken(item, i);
        waiter.taken.push(item);
      }
      if (waiter.taken.length >= count) {
        resolve(waiter.taken);
        return;
      }
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(onTimeout(waiter.taken));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Fails every pending wait (disconnect): no timer outlives the tester. */
  rejectAll(error: Error): void {
    for (const waiter of this.waiters) {
      this.finish(waiter);
      waiter.reject(error);
    }
  }

  get pending(): number {
    return this.waiters.size;
  }

  private matches(waiter: Waiter<T>, item: T, index: number): boolean {
    if (!waiter.peek && this.isTaken(item, index)) return false;
    try {
      return waiter.predicate(item);
    } catch {
      // A predicate that throws on an unexpected shape (msg.data.x of a message without data) means "no".
      return false;
    }
  }

  private finish(waiter: Waiter<T>): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
  }

  private isTaken(item: T, index: number): boolean {
    return typeof item === 'object' && item !== null ? this.taken.has(item) : this.takenPrimitives.has(index);
  }

  private markTaken(item: T, index: number): void {
    if (typeof item === 'object' && item !== null) this.taken.add(item);
    else this.takenPrimitives.add(index);
  }
}

/** `expected` is a deep partial of `actual`: every key of expected (recursively) is equal in actual. */
export function partialMatch(actual: unknown, expected: unknown): boolean {
  if (expected === actual) return true;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual);
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) {
    return Number.isNaN(expected) && Number.isNaN(actual);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((value, i) => partialMatch(actual[i], value));
  }
  return Object.entries(expected).every(([key, value]) =>
    partialMatch((actual as Record<string, unknown>)[key], value),
  );
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls every listener with `args`. A listener that throws does not stop the others; its error goes to
 * `onError` (the tester's error listeners), or nowhere when the failing listeners are the error listeners.
 */
export function notify<A extends unknown[]>(
  listeners: readonly ((...args: A) => void)[],
  args: A,
  onError?: (error: Error) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(...args);
    } catch (error) {
      onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
