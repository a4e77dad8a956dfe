/** The publisher's batch frame: one event a line, a protocol `publish` message for any owner. */
import { describe, expect, it } from 'vitest';
import { type SerializedEvent, serialize } from '../src/admit.js';
import { publishFrame, readPublisherFrame } from '../src/join/batch.js';
import { testOutput, testResult } from './helpers.js';

const serialized = (): SerializedEvent[] =>
  [testResult(1), testOutput('line one\nline two "quoted"'), testResult(2)].map(
    (event) => (serialize(event) as { event: SerializedEvent }).event,
  );

describe('publish frames', () => {
  it('round-trips with each event’s own text, and is the protocol’s publish message for an owner that parses it whole', () => {
    const events = serialized();
    const frame = publishFrame(7, events);
    const read = readPublisherFrame(frame);
    expect(read?.type).toBe('publish');
    expect(read?.id).toBe(7);
    expect(read?.events?.map((e) => e.text)).toEqual(events.map((e) => e.json));
    expect(read?.events?.map((e) => e.value)).toEqual(events.map((e) => JSON.parse(e.json)));
    expect(JSON.parse(frame)).toEqual({
      type: 'publish',
      id: 7,
      events: events.map((e) => JSON.parse(e.json)),
    });
  });

  it('reads any other layout whole, without texts: compact, pretty-printed, other key order', () => {
    const values = serialized().map((e) => JSON.parse(e.json));
    for (const text of [
      JSON.stringify({ type: 'publish', id: 3, events: values }),
      JSON.stringify({ type: 'publish', id: 3, events: values }, null, 2),
      JSON.stringify({ id: 3, type: 'publish', events: values }),
    ]) {
      const read = readPublisherFrame(text);
      expect(read).toMatchObject({ type: 'publish', id: 3 });
      expect(read?.events?.map((e) => e.value)).toEqual(values);
      expect(read?.events?.every((e) => e.text === undefined)).toBe(true);
    }
  });

  it('a line that is not a whole event sends the frame down the whole-parse path', () => {
    const split = '{"type":"publish","id":4,"events":[\n{"type":"test.output",\n"runId":"r","data":{}}\n]}';
    expect(readPublisherFrame(split)?.events).toEqual([
      { value: { type: 'test.output', runId: 'r', data: {} } },
    ]);
    expect(readPublisherFrame('{"type":"publish","id":4,"events":[\n{"a":1}\n{"b":2}\n]}')).toBeUndefined();
  });

  it('other messages, and what is not JSON', () => {
    expect(readPublisherFrame('{"type":"runs","id":2,"runs":[]}')).toMatchObject({
      type: 'runs',
      id: 2,
      runs: [],
    });
    expect(readPublisherFrame('{"type":"ping"}')).toMatchObject({ type: 'ping' });
    expect(readPublisherFrame('null')).toEqual({});
    expect(readPublisherFrame('{nope')).toBeUndefined();
  });
});
