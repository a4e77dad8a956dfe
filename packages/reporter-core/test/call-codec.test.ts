import { describe, expect, it } from 'vitest';
import { CallEncoder, decodeCalls } from '../src/call-codec.js';
import type { CoreCall } from '../src/calls.js';

const ref = { file: '/root/a.test.ts', titlePath: ['block', 'works'], line: 3, column: 5 };

/** Calls as the recorder makes them: each hot shape, a rare one, a run change, an outcome with extras. */
const calls: CoreCall[] = [
  { method: 'runStarted', at: 1, runId: 'r1', info: { totalTests: 2 } },
  { method: 'testStarted', at: 2, runId: 'r1', test: ref, attempt: 1 },
  { method: 'testStarted', at: 3, runId: 'r1', test: ref, attempt: 2, timeout: 5000 },
  {
    method: 'testResult',
    at: 4,
    runId: 'r1',
    test: ref,
    outcome: { status: 'passed', rawStatus: 'passed', duration: 7, attempt: 1, startedAt: 2, assertions: 3 },
  },
  {
    method: 'testResult',
    at: 5,
    runId: 'r1',
    test: ref,
    outcome: {
      status: 'failed',
      rawStatus: 'failed',
      duration: 1,
      willRetry: true,
      errors: [{ message: 'x' }],
    },
  },
  { method: 'output', at: 6, runId: 'r1', test: undefined, text: 'hi', stream: 'stdout' },
  { method: 'runCompleted', at: 7, runId: 'r1', result: { success: true } },
  { method: 'testStarted', at: 8, runId: 'r2', test: ref, attempt: 1 },
  {
    method: 'testStarted',
    at: 8,
    runId: 'r2',
    test: { ...ref, titlePath: ['shared'], declaredIn: '/root/helpers.ts' },
    attempt: 1,
  },
  {
    method: 'testResult',
    at: 9,
    runId: 'r2',
    test: ref,
    outcome: { status: 'skipped', rawStatus: 'pending', duration: 0 },
  },
  {
    method: 'testResult',
    at: 10,
    runId: 'r2',
    test: ref,
    outcome: { status: 'passed', rawStatus: 'passed', duration: 4, attempt: 1, worker: '2' },
  },
];

/** The batch as posting would hand it over: a copy, made while it is lent. */
function take(encoder: CallEncoder): unknown[] {
  let batch: unknown[] = [];
  encoder.flush((lent) => {
    batch = lent.slice();
  });
  return batch;
}

function encode(list: CoreCall[]) {
  const encoder = new CallEncoder();
  for (const call of list) encoder.push(call);
  expect(encoder.count).toBe(list.length);
  return take(encoder);
}

describe('call codec', () => {
  it('gives back the calls it was given, in order, through a structured clone', () => {
    expect(decodeCalls(structuredClone(encode(calls)))).toEqual(calls);
  });

  it('writes the two per-test calls in place, the run id once per run, a shared ref once', () => {
    const encoded = encode(calls.slice(1, 4));
    // no call, outcome, ref or title path object: values only
    expect(encoded.filter((value) => typeof value === 'object')).toEqual([]);
    expect(encoded.filter((value) => value === 'r1')).toHaveLength(1);
    expect(encoded.filter((value) => value === ref.file)).toHaveLength(1);
  });

  it('writes a file once for the refs that follow in it, and times as small offsets', () => {
    const other = { file: ref.file, titlePath: ['block', 'other'] };
    const list: CoreCall[] = [
      { method: 'testStarted', at: 1_765_000_000_000, runId: 'r1', test: ref, attempt: 1 },
      { method: 'testStarted', at: 1_765_000_000_250, runId: 'r1', test: other, attempt: 1 },
    ];
    const encoded = encode(list);
    expect(encoded.filter((value) => value === ref.file)).toHaveLength(1);
    expect(encoded.filter((value) => value === 1_765_000_000_250)).toHaveLength(0);
    expect(decodeCalls(structuredClone(encoded))).toEqual(list);
  });

  it('a title path that is not an array crosses as it was given', () => {
    const odd = { file: 'f', titlePath: 'not an array' as unknown as string[] };
    const call: CoreCall = { method: 'testStarted', at: 1, runId: 'r', test: odd, attempt: 1 };
    expect(decodeCalls(structuredClone(encode([call])))).toEqual([call]);
  });

  it('a start and its result that share a ref get one object back', () => {
    const [started, result] = decodeCalls(structuredClone(encode(calls.slice(1, 3))));
    expect((started as { test: object }).test).toBe((result as { test: object }).test);
  });

  it('a ref with every field keeps them all', () => {
    const full = {
      file: 'f',
      titlePath: ['t'],
      project: 'p',
      repeatIndex: 2,
      ordinal: 1,
      line: 4,
      column: 6,
    };
    const call: CoreCall = { method: 'testStarted', at: 1, runId: 'r', test: full, attempt: 1 };
    expect(decodeCalls(structuredClone(encode([call])))).toEqual([call]);
  });

  it('sends an outcome with more than the usual fields as its call', () => {
    const encoded = encode([calls[4] as CoreCall]);
    expect(encoded).toContain(calls[4]);
  });

  it('an outcome field present as undefined is left out, nothing else changes', () => {
    const call: CoreCall = {
      method: 'testResult',
      at: 1,
      runId: 'r',
      test: ref,
      outcome: { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 1, willRetry: undefined },
    };
    const [decoded] = decodeCalls(encode([call]));
    expect(decoded).toEqual({
      ...call,
      outcome: { status: 'passed', rawStatus: 'passed', duration: 1, attempt: 1 },
    });
    expect(Object.keys((decoded as { outcome: object }).outcome)).not.toContain('willRetry');
  });

  it('reads a batch that went through JSON (null where undefined was) as the same calls', () => {
    expect(decodeCalls(JSON.parse(JSON.stringify(encode(calls))))).toEqual(calls);
  });

  it('starts over after a flush, and a shorter batch in the same array does not carry the longer one before', () => {
    const encoder = new CallEncoder();
    for (const call of calls) encoder.push(call);
    take(encoder);
    encoder.push(calls[1] as CoreCall);
    expect(encoder.count).toBe(1);
    expect(decodeCalls(take(encoder))).toEqual([calls[1]]);
    for (const call of calls) encoder.push(call);
    expect(decodeCalls(structuredClone(take(encoder)))).toEqual(calls);
  });

  it('hands nothing over when nothing was pushed, and nothing after a clear', () => {
    const encoder = new CallEncoder();
    let sent = 0;
    encoder.flush(() => sent++);
    encoder.push(calls[1] as CoreCall);
    encoder.clear();
    encoder.flush(() => sent++);
    expect(sent).toBe(0);
    encoder.push(calls[1] as CoreCall);
    encoder.flush(() => sent++);
    expect(sent).toBe(1);
  });

  it('refuses what is not an encoded batch', () => {
    expect(() => decodeCalls([9, 'x'])).toThrow(/not an encoded call batch: tag 9 at 0/);
  });
});
