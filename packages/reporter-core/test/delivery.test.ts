import type { PublishedEvent } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { type BroadcasterLike, Delivery } from '../src/delivery.js';

const event = (type: PublishedEvent['type'], n = 0) =>
  ({ type, runId: 'r', data: { n } }) as unknown as PublishedEvent;

function fakeBroadcaster(published: PublishedEvent[], flushDelayMs = 0): BroadcasterLike {
  return {
    url: 'http://127.0.0.1:1',
    role: 'owner',
    publish: (e) => published.push(e),
    flush: () => new Promise((resolve) => setTimeout(resolve, flushDelayMs)),
    close: async () => {},
  };
}

describe('Delivery', () => {
  it('buffers while the broadcaster is obtained, bounded: drops and counts, keeps run boundaries, keeps order', async () => {
    const delivery = new Delivery(3, () => {});
    let resolve!: (b: BroadcasterLike) => void;
    delivery.connect(() => new Promise((r) => (resolve = r)));
    delivery.push(event('test.started'));
    for (let i = 0; i < 5; i++) delivery.push(event('test.progress', i));
    delivery.push(event('test.completed'));
    expect(delivery.buffered).toBe(4);
    expect(delivery.dropped).toBe(3);
    const published: PublishedEvent[] = [];
    resolve(fakeBroadcaster(published));
    await delivery.flush(1000);
    expect(published.map((e) => `${e.type}:${(e.data as any).n}`)).toEqual([
      'test.started:0',
      'test.progress:0',
      'test.progress:1',
      'test.completed:0',
    ]);
    delivery.push(event('test.result'));
    expect(published).toHaveLength(5);
  });

  it('drops and reports when no broadcaster can be obtained', async () => {
    const errors: string[] = [];
    const delivery = new Delivery(10, (where) => errors.push(where));
    delivery.connect(() => Promise.reject(new Error('EACCES')));
    delivery.push(event('test.started'));
    await delivery.flush(1000);
    delivery.push(event('test.result'));
    expect(delivery.dropped).toBe(2);
    expect(errors).toEqual(['broadcaster']);
  });

  it('flush is bounded in time even if the broadcaster never answers', async () => {
    const delivery = new Delivery(10, () => {});
    delivery.connect(() => new Promise(() => {}));
    const started = Date.now();
    await delivery.flush(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
