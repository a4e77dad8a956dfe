import type { PublishedEvent } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { type BroadcasterLike, Delivery } from '../src/delivery.js';
import { describeLoss, lossEventData, runLoss } from '../src/loss.js';

const event = (type: PublishedEvent['type'], n = 0) =>
  ({ type, runId: 'r', data: { n } }) as unknown as PublishedEvent;

function fakeBroadcaster(published: PublishedEvent[], flushDelayMs = 0): BroadcasterLike {
  return {
    url: 'http://127.0.0.1:1',
    role: 'owner',
    publish: (e) => published.push(e),
    flush: () =>
      new Promise((resolve) =>
        setTimeout(() => resolve({ delivered: true, pending: {}, dropped: {} }), flushDelayMs),
      ),
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

  it('when full, a result takes the place of the oldest progress sample or output line; flush() counts the dropped by run and type', async () => {
    const delivery = new Delivery(4, () => {});
    let resolve!: (b: BroadcasterLike) => void;
    delivery.connect(() => new Promise((r) => (resolve = r)));
    delivery.push(event('test.started'));
    delivery.push(event('test.progress', 1));
    delivery.push(event('test.output', 2));
    delivery.push(event('test.result', 3));
    // Full: a new sample is dropped; a result takes the oldest sample's place, then the output line's.
    delivery.push(event('test.progress', 4));
    delivery.push(event('test.result', 5));
    delivery.push(event('test.result', 6));
    // Nothing left to give way: dropped.
    delivery.push(event('test.result', 7));
    expect(delivery.dropped).toBe(4);
    const published: PublishedEvent[] = [];
    resolve(fakeBroadcaster(published));
    const report = await delivery.flush(1000);
    expect(published.map((e) => `${e.type}:${(e.data as any).n}`)).toEqual([
      'test.started:0',
      'test.result:3',
      'test.result:5',
      'test.result:6',
    ]);
    expect(report).toEqual({
      delivered: true,
      unconfirmed: {},
      dropped: { r: { 'test.progress': 2, 'test.output': 1, 'test.result': 1 } },
      dropReason: 'more than 4 events came before the broadcaster was up',
    });
  });

  it('flush() at its bound while still connecting: what waits in the buffer is unconfirmed', async () => {
    const delivery = new Delivery(10, () => {});
    delivery.connect(() => new Promise(() => {}));
    delivery.push(event('test.result'));
    delivery.push(event('test.completed'));
    expect(await delivery.flush(50)).toEqual({
      delivered: false,
      unconfirmed: { r: { 'test.result': 1, 'test.completed': 1 } },
      dropped: {},
    });
  });

  it("flush() passes on the broadcaster's account, its drops added to the buffer's", async () => {
    const delivery = new Delivery(1, () => {});
    let resolve!: (b: BroadcasterLike) => void;
    delivery.connect(() => new Promise((r) => (resolve = r)));
    delivery.push(event('test.output'));
    delivery.push(event('test.output'));
    resolve({
      ...fakeBroadcaster([]),
      flush: async () => ({
        delivered: false,
        pending: { r: { 'test.completed': 1 } },
        dropped: { r: { 'test.output': 2 }, other: { 'test.result': 1 } },
      }),
    });
    expect(await delivery.flush(1000)).toMatchObject({
      delivered: false,
      unconfirmed: { r: { 'test.completed': 1 } },
      dropped: { r: { 'test.output': 3 }, other: { 'test.result': 1 } },
    });
  });

  it('flush is bounded in time even if the broadcaster never answers', async () => {
    const delivery = new Delivery(10, () => {});
    delivery.connect(() => new Promise(() => {}));
    const started = Date.now();
    await delivery.flush(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a handover no subscriber took is told as such, not as a flush bound reached', async () => {
    const delivery = new Delivery(10, () => {});
    const pending = { r: { 'test.result': 3, 'test.completed': 1 } };
    delivery.connect(async () => ({
      ...fakeBroadcaster([]),
      flush: async () => ({ delivered: false, pending, dropped: {}, notHandedOver: true }),
    }));
    const report = await delivery.flush(1000);
    expect(report).toEqual({ delivered: false, unconfirmed: pending, dropped: {}, notHandedOver: true });
    const loss = runLoss(report, 'r', 'http://127.0.0.1:1', 10_000);
    expect(loss?.notHandedOver).toBe(true);
    const text = describeLoss(loss!);
    expect(text).toContain('4 event(s) reached no subscriber (');
    expect(text).toContain('this process took the endpoint over');
    expect(text).toContain('testwire serve');
    expect(text).not.toContain('flush bound');
    expect(text).not.toContain('TESTWIRE_FLUSH_TIMEOUT');
    expect(lossEventData(loss!).error.code).toBe('NOT_HANDED_OVER');
    // The bound reached, as before: the hint names it.
    const bound = runLoss({ delivered: false, unconfirmed: pending, dropped: {} }, 'r', undefined, 500)!;
    expect(describeLoss(bound)).toContain('not confirmed within the flush bound of 500 ms');
    expect(lossEventData(bound).error.code).toBe('FLUSH_TIMEOUT');
  });

  it("the target's own reasons (a Redis shard publisher's) replace the generic words and the bound hint", async () => {
    const delivery = new Delivery(10, () => {});
    delivery.connect(async () => ({
      ...fakeBroadcaster([]),
      flush: async () => ({
        delivered: false,
        pending: { r: { 'test.completed': 1 } },
        dropped: { r: { 'test.result': 2 } },
        dropReason: 'Redis redis://***@h:1 refused the password (WRONGPASS)',
        pendingReason: 'Redis redis://***@h:1 did not take them: connect ECONNREFUSED',
      }),
    }));
    const report = await delivery.flush(1000);
    const loss = runLoss(report, 'r', 'redis://***@h:1#g', 10_000)!;
    const text = describeLoss(loss);
    expect(text).toContain(
      '2 event(s) dropped (test.result 2): Redis redis://***@h:1 refused the password (WRONGPASS)',
    );
    expect(text).toContain('did not take them: connect ECONNREFUSED');
    expect(text).not.toContain('TESTWIRE_FLUSH_TIMEOUT');
    expect(lossEventData(loss).recovery).toContain('ECONNREFUSED');
  });
});
