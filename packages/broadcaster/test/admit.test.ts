/** admit() and serialize(): one validation for every event, its JSON made once, a received text kept. */
import { MAX_EVENT_BYTES, type PublishedEvent } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { admit, serialize } from '../src/admit.js';
import { Hub } from '../src/hub.js';
import { RUN, testOutput, testResult } from './helpers.js';

const TIMESTAMP = '2026-11-21T10:30:16.000Z';
const stamped = (event: PublishedEvent): PublishedEvent => ({ ...event, timestamp: TIMESTAMP });

function admitted(value: unknown, received?: string) {
  const result = admit(value, received);
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

describe('admit', () => {
  it('serializes a local event in the envelope order, with the place of seq after the timestamp', () => {
    const event = admitted(stamped(testResult(1)));
    expect(JSON.parse(event.json)).toEqual({ ...stamped(testResult(1)) });
    expect(Object.keys(JSON.parse(event.json))).toEqual(['type', 'timestamp', 'runId', 'data']);
    expect(event.json.slice(0, event.seqAt)).toBe(`{"type":"test.result","timestamp":"${TIMESTAMP}",`);
    expect(event.envelope).toMatchObject({ type: 'test.result', timestamp: TIMESTAMP, seq: 0, runId: RUN });
  });

  it('stamps an event without a timestamp, and serializes its data now (later changes do not leak in)', () => {
    const event = testOutput('before');
    const result = admitted(event);
    (event.data as { output: string }).output = 'after';
    expect(Date.parse(result.envelope.timestamp)).not.toBeNaN();
    expect(JSON.parse(result.json).data.output).toBe('before');
  });

  it('keeps the text of a received event that is already the envelope JSON: parsed once, not stringified again', () => {
    const line = (serialize(stamped(testResult(2))) as { event: { json: string } }).event.json;
    const value = JSON.parse(line);
    const event = admitted(value, line);
    expect(event.json).toBe(line);
    expect(event.envelope).toBe(value);
  });

  it('re-serializes a received text that is not that form: fields of its own (seq), another order, no timestamp', () => {
    const base = stamped(testResult(3));
    const texts = [
      JSON.stringify({ ...base, seq: 99 }),
      JSON.stringify({ ...base, extra: true }),
      JSON.stringify({ runId: base.runId, type: base.type, timestamp: base.timestamp, data: base.data }),
      JSON.stringify({ type: base.type, runId: base.runId, data: base.data }),
    ];
    for (const text of texts) {
      const event = admitted(JSON.parse(text), text);
      expect(event.json).not.toBe(text);
      const envelope = JSON.parse(event.json);
      expect(Object.keys(envelope)).toEqual(['type', 'timestamp', 'runId', 'data']);
      expect(envelope.data).toEqual(base.data);
    }
  });

  it('refuses what validatePublishedEvent refuses, and what cannot be JSON, saying why; never throws', () => {
    expect(admit({ type: 'test.nope', runId: 'r', data: {} })).toMatchObject({ ok: false });
    expect((admit({ type: 'test.nope', runId: 'r', data: {} }) as { error: string }).error).toContain(
      'unknown event type',
    );
    expect(admit({ ...testResult(1), data: { id: 'x' } })).toMatchObject({ ok: false });
    expect(admit(null)).toMatchObject({ ok: false });
    const circular = testOutput('x');
    (circular.data as unknown as Record<string, unknown>).self = circular.data;
    expect((admit(circular) as { error: string }).error).toContain('not JSON-serializable');
  });
});

describe('admit: the size of one event', () => {
  const room = MAX_EVENT_BYTES - Buffer.byteLength(admitted(stamped(testOutput(''))).json);

  it('takes an event of MAX_EVENT_BYTES, and refuses one byte more, received as text or not, saying why', () => {
    expect(Buffer.byteLength(admitted(stamped(testOutput('a'.repeat(room)))).json)).toBe(MAX_EVENT_BYTES);
    const over = stamped(testOutput('a'.repeat(room + 1)));
    const error =
      'test.output: the event is 2.0 MiB of JSON, over the 2.0 MiB one event may be (MAX_EVENT_BYTES): cut its largest fields';
    expect(admit(over)).toEqual({ ok: false, error });
    const line = (serialize(over) as { event: { json: string } }).event.json;
    expect(admit(JSON.parse(line), line)).toEqual({ ok: false, error });
  });

  it('counts UTF-8 bytes, not characters', () => {
    const euros = '€'.repeat(Math.ceil(room / 3) + 1); // 3 bytes each
    expect(euros.length).toBeLessThan(MAX_EVENT_BYTES);
    expect(admit(stamped(testOutput(euros)))).toMatchObject({ ok: false });
    expect(admit(stamped(testOutput(euros.slice(0, Math.floor(room / 3)))))).toMatchObject({ ok: true });
  });
});

describe('serialize (a publisher: the owner validates)', () => {
  it('makes the same JSON as admit, without validating the data', () => {
    const event = stamped(testResult(4));
    expect((serialize(event) as { event: { json: string } }).event.json).toBe(admitted(event).json);
    expect(serialize({ ...testResult(1), data: { id: 'x' } } as PublishedEvent)).toMatchObject({ ok: true });
  });

  it('fails only for what cannot be sent as JSON', () => {
    expect(serialize(null as never)).toMatchObject({ ok: false });
    expect(serialize({ type: 'no.such', runId: 'r', data: {} } as never)).toMatchObject({ ok: false });
    expect(serialize({ type: 'test.output', runId: 1, data: {} } as never)).toMatchObject({ ok: false });
  });
});

describe('hub.ingest', () => {
  it('writes the seq into the JSON as it frames it: the envelope every subscriber and the history share', () => {
    const hub = new Hub({
      historyMaxEvents: 10,
      historyMaxBytes: 1e6,
      subscriberTotalMaxBytes: 64 * 1024 * 1024,
    });
    const first = admitted(stamped(testResult(1)));
    const second = admitted(stamped(testOutput('é → ✓')));
    expect(hub.ingest([first, second])).toBe(2);
    const entry = hub.history.get(2);
    expect([entry?.seq, entry?.type, entry?.runId]).toEqual([2, 'test.output', second.envelope.runId]);
    // The entry keeps no envelope object: a replay's filters read the data back from the frame.
    expect(entry?.data).toEqual(second.envelope.data);
    expect(second.envelope.seq).toBe(2);
    const text = entry?.frame.toString('utf8') as string;
    expect(text).toBe(`${second.json.slice(0, second.seqAt)}"seq":2,${second.json.slice(second.seqAt)}`);
    expect(JSON.parse(text)).toEqual({ ...stamped(testOutput('é → ✓')), seq: 2 });
    expect(Object.keys(JSON.parse(text))).toEqual(['type', 'timestamp', 'seq', 'runId', 'data']);
  });
});
