import { describe, expect, it } from 'vitest';
import { CloseCodes, isServerMessage, parseClientMessage } from '../src/index.js';

const ok = (text: string) => {
  const result = parseClientMessage(text);
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.message}`);
  return result.message;
};
const fail = (text: string) => {
  const result = parseClientMessage(text);
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.message)}`);
  return result;
};

describe('parseClientMessage', () => {
  it.each([
    [
      'subscribe',
      {
        type: 'subscribe',
        id: 1,
        events: ['test.result'],
        patterns: ['coverage.*'],
        filters: { status: 'failed' },
      },
    ],
    ['subscribe without id', { type: 'subscribe', events: ['*'] }],
    ['unsubscribe', { type: 'unsubscribe', id: 'u1', events: ['performance.metrics'] }],
    ['resume', { type: 'resume', id: 7, epoch: 'e_abc', since: 1042 }],
    ['resume from the start', { type: 'resume', epoch: 'e_abc', since: 0 }],
    ['snapshot', { type: 'snapshot', id: 's' }],
    ['ping', { type: 'ping', id: 99 }],
    ['publish', { type: 'publish', id: 3, events: [{ type: 'test.output', runId: 'r', data: {} }] }],
  ])('accepts %s', (_name, message) => {
    expect(ok(JSON.stringify(message))).toEqual(message);
  });

  it('accepts the bare text ping', () => {
    expect(ok('ping')).toEqual({ type: 'ping' });
  });

  it('keeps unknown extra fields (the protocol only adds)', () => {
    expect(ok('{"type":"ping","future":true}')).toEqual({ type: 'ping', future: true });
  });

  it('rejects invalid JSON with INVALID_JSON', () => {
    const result = fail('{"type":"subscribe"');
    expect(result.code).toBe('INVALID_JSON');
    expect(result.message).toMatch(/^Message is not valid JSON: /);
    expect(fail('PING').code).toBe('INVALID_JSON');
    expect(fail('').code).toBe('INVALID_JSON');
  });

  it.each(['[1,2]', '"subscribe"', '42', 'null', 'true'])(
    'rejects the non-object %s with INVALID_MESSAGE',
    (text) => {
      const result = fail(text);
      expect(result.code).toBe('INVALID_MESSAGE');
      expect(result.message).toBe('Message must be a JSON object with a "type" field');
    },
  );

  it('rejects a message without type, echoing its id', () => {
    expect(fail('{"id":5,"events":["*"]}')).toEqual({
      ok: false,
      code: 'INVALID_MESSAGE',
      message: 'Message has no "type" field',
      id: 5,
    });
  });

  it('rejects an unknown type with UNKNOWN_MESSAGE_TYPE naming the known ones', () => {
    const result = fail('{"type":"subscribe_all","id":"x"}');
    expect(result.code).toBe('UNKNOWN_MESSAGE_TYPE');
    expect(result.id).toBe('x');
    expect(result.message).toBe(
      'Unknown message type "subscribe_all"; expected subscribe, unsubscribe, resume, snapshot or ping',
    );
    expect(fail('{"type":12}').code).toBe('UNKNOWN_MESSAGE_TYPE');
    expect(fail('{"type":null}').code).toBe('UNKNOWN_MESSAGE_TYPE');
  });

  it.each([
    '{"type":"ping","id":{}}',
    '{"type":"ping","id":[1]}',
    '{"type":"ping","id":true}',
    '{"type":"ping","id":null}',
  ])('rejects the bad id in %s without echoing it', (text) => {
    const result = fail(text);
    expect(result.code).toBe('INVALID_MESSAGE');
    expect(result.message).toBe('id: expected a string or number');
    expect(result).not.toHaveProperty('id');
  });

  it.each([
    ['no epoch', { type: 'resume', since: 3 }, /^resume\.epoch: expected the epoch string/],
    ['numeric epoch', { type: 'resume', epoch: 1, since: 3 }, /^resume\.epoch: /],
    ['no since', { type: 'resume', epoch: 'e' }, /^resume\.since: expected the last seq received/],
    ['string since', { type: 'resume', epoch: 'e', since: '3' }, /^resume\.since: /],
    ['negative since', { type: 'resume', epoch: 'e', since: -1 }, /^resume\.since: /],
    ['fractional since', { type: 'resume', epoch: 'e', since: 1.5 }, /^resume\.since: /],
  ])('validates resume: %s', (_name, message, expected) => {
    const result = fail(JSON.stringify({ ...message, id: 'r' }));
    expect(result.code).toBe('INVALID_MESSAGE');
    expect(result.message).toMatch(expected);
    expect(result.id).toBe('r');
  });

  it('accepts subscribe with resume (atomic subscribe + resume)', () => {
    const message = { type: 'subscribe', id: 6, events: ['*'], resume: { epoch: 'e_abc', since: 1042 } };
    expect(ok(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['not an object', { resume: 'e:1' }, /^subscribe\.resume: expected \{epoch, since\}/],
    ['no epoch', { resume: { since: 1 } }, /^subscribe\.resume: /],
    ['negative since', { resume: { epoch: 'e', since: -1 } }, /^subscribe\.resume\.since: /],
    ['string since', { resume: { epoch: 'e', since: '1' } }, /^subscribe\.resume\.since: /],
  ])('validates subscribe.resume: %s', (_name, extra, expected) => {
    const result = fail(JSON.stringify({ type: 'subscribe', id: 2, events: ['*'], ...extra }));
    expect(result.code).toBe('INVALID_MESSAGE');
    expect(result.message).toMatch(expected);
    expect(result.id).toBe(2);
  });

  it('validates publish batches', () => {
    expect(fail('{"type":"publish","id":"1","events":[]}').message).toMatch(/^publish: expected/);
    expect(fail('{"type":"publish","id":1}').code).toBe('INVALID_MESSAGE');
  });

  it('never throws, whatever the text', () => {
    for (const text of [
      '\u0000',
      '{"__proto__":{"type":"ping"}}',
      '{'.repeat(10_000),
      'ping ',
      '{"type":"constructor"}',
    ]) {
      expect(() => parseClientMessage(text)).not.toThrow();
    }
    expect(fail('{"__proto__":{"type":"ping"}}').code).toBe('INVALID_MESSAGE');
    expect(fail('{"type":"constructor"}').code).toBe('UNKNOWN_MESSAGE_TYPE');
  });
});

describe('isServerMessage', () => {
  it('tells protocol messages from event envelopes', () => {
    for (const type of [
      'connection.established',
      'subscribed',
      'unsubscribed',
      'pong',
      'error',
      'resumed',
      'resume.failed',
      'snapshot',
      'published',
    ]) {
      expect(isServerMessage({ type }), type).toBe(true);
    }
    for (const value of [
      { type: 'test.result' },
      { type: 'system.error' },
      { type: 'toString' },
      null,
      'pong',
      {},
    ]) {
      expect(isServerMessage(value)).toBe(false);
    }
  });
});

describe('CloseCodes', () => {
  it('uses the standard codes and 4008 for lagging subscribers', () => {
    expect(CloseCodes).toEqual({
      GOING_AWAY: 1001,
      UNSUPPORTED_DATA: 1003,
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      LAGGING: 4008,
    });
  });
});
