import { describe, expect, it } from 'vitest';
import { type SSEMessage, SSEParser } from '../src/sse-parser.js';

function parse(chunks: string[]) {
  const events: SSEMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = new SSEParser({
    onEvent: (e) => events.push(e),
    onRetry: (ms) => retries.push(ms),
    onComment: (c) => comments.push(c),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return { events, retries, comments, parser };
}

const STREAM =
  '\uFEFFretry: 1000\n\n: keep-alive\n\nid: e1:1\nevent: test.result\ndata: {"a":1}\n\n' +
  'data: line one\ndata: line two\ndata:\ndata:  indented\n\n' +
  'event: ignored-without-data\n\n' +
  'id: e1:3\ndata\n\n' +
  'unknown: field\ndata:x\n\n';

const EXPECTED: SSEMessage[] = [
  { event: 'test.result', data: '{"a":1}', id: 'e1:1' },
  { event: 'message', data: 'line one\nline two\n\n indented', id: 'e1:1' },
  { event: 'message', data: '', id: 'e1:3' },
  { event: 'message', data: 'x', id: 'e1:3' },
];

describe('SSEParser', () => {
  it('parses fields, multi-line data, comments, retry, BOM, ids that persist', () => {
    const { events, retries, comments } = parse([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(retries).toEqual([1000]);
    expect(comments).toEqual(['keep-alive']);
  });

  it('gives the same events for CRLF and CR line endings', () => {
    expect(parse([STREAM.replace(/\n/g, '\r\n')]).events).toEqual(EXPECTED);
    expect(parse([STREAM.replace(/\n/g, '\r')]).events).toEqual(EXPECTED);
  });

  it('gives the same events whatever the chunk boundaries (every split point, CRLF included)', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    for (const text of [STREAM, crlf]) {
      for (let i = 0; i <= text.length; i++) {
        expect(parse([text.slice(0, i), text.slice(i)]).events, `split at ${i}`).toEqual(EXPECTED);
      }
      expect(parse([...text]).events).toEqual(EXPECTED);
    }
  });

  it('does not dispatch an event the stream ended in the middle of', () => {
    const { events } = parse(['data: complete\n\n', 'data: partial\n']);
    expect(events.map((e) => e.data)).toEqual(['complete']);
  });

  it('ignores ids containing NUL and invalid retry values; empty id resets', () => {
    const { events, retries } = parse(['id: a\u0000b\ndata: 1\n\nretry: 10x\nretry: 25\n\nid\ndata: 2\n\n']);
    expect(events.map((e) => e.id)).toEqual(['', '']);
    expect(retries).toEqual([25]);
  });

  it('keeps the last event id across reset()', () => {
    const { parser } = parse(['id: e:7\ndata: a\n\ndata: half']);
    parser.reset();
    expect(parser.lastEventId).toBe('e:7');
    const seen: string[] = [];
    const next = new SSEParser({ onEvent: (e) => seen.push(e.data) });
    next.feed('data: b\n\n');
    expect(seen).toEqual(['b']);
  });
});
