/** A bounded single-consumer queue behind `for await (const event of client)`. */
import type { AnyEventEnvelope } from '@testwire/protocol';
import { TestwireError } from './errors.js';

export class EventQueue implements AsyncIterator<AnyEventEnvelope> {
  private items: AnyEventEnvelope[] = [];
  private head = 0;
  private waiter:
    | { resolve(result: IteratorResult<AnyEventEnvelope>): void; reject(error: Error): void }
    | undefined;
  private error: Error | undefined;
  private done = false;

  constructor(
    readonly selector: string,
    private readonly limit: number,
    private readonly detach: (queue: EventQueue) => void,
  ) {}

  push(event: AnyEventEnvelope): void {
    if (this.done || this.error) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.items.length - this.head >= this.limit) {
      // Dropping silently would break "every event exactly once"; fail loudly instead.
      this.fail(
        new TestwireError(
          'BUFFER_OVERFLOW',
          `The event iterator fell ${this.limit} events behind; consume faster or raise bufferSize`,
        ),
      );
      return;
    }
    this.items.push(event);
  }

  /** No more events: the consumer drains what is buffered, then the loop ends. */
  end(): void {
    this.done = true;
    this.detach(this);
    this.wake();
  }

  /** The consumer gets the error on its next read (buffered events are discarded). */
  fail(error: Error): void {
    if (this.done) return;
    this.error = error;
    this.items = [];
    this.head = 0;
    this.detach(this);
    this.wake();
  }

  next(): Promise<IteratorResult<AnyEventEnvelope>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.error) {
      const error = this.error;
      this.error = undefined;
      this.done = true;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** `break` out of the loop: stop buffering. */
  return(): Promise<IteratorResult<AnyEventEnvelope>> {
    this.done = true;
    this.items = [];
    this.head = 0;
    this.detach(this);
    this.wake();
    return Promise.resolve({ value: undefined, done: true });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.error) {
      const error = this.error;
      this.error = undefined;
      this.done = true;
      waiter.reject(error);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }
}
