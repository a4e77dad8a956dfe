import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  type EventType,
  isEvent,
  isEventEnvelope,
  isEventType,
  validatePublishedEvent,
} from '../src/index.js';
import { referenceEnvelopes, referenceExamples } from './fixtures/reference-examples.js';

const clone = <T>(value: T): T => structuredClone(value);
const published = (type: EventType, mutate?: (data: any) => void) => {
  const data = clone(referenceExamples[type].data) as any;
  mutate?.(data);
  return { type, runId: 'r_1', data };
};

describe('validatePublishedEvent', () => {
  it('has an example for every event type of the catalog', () => {
    expect(Object.keys(referenceExamples).sort()).toEqual([...EVENT_TYPES].sort());
    expect(EVENT_TYPES).toHaveLength(21);
  });

  it.each(EVENT_TYPES)('accepts the reference example of %s', (type) => {
    const event = {
      type,
      runId: 'r_1',
      timestamp: referenceExamples[type].timestamp,
      data: referenceExamples[type].data,
    };
    const result = validatePublishedEvent(event);
    expect(result).toEqual({ ok: true, value: event });
  });

  it('accepts testwire additions', () => {
    const result = validatePublishedEvent(
      published('test.result', (d) => {
        Object.assign(d, {
          project: 'web',
          location: { file: 'src/utils.test.js', line: 45, column: 3 },
          rawStatus: 'pass',
          attempt: 2,
          flaky: true,
          willRetry: false,
          errors: [{ message: 'first attempt', expected: '1', actual: '2', code: 'ERR_ASSERTION' }],
          repeatIndex: 0,
          startedAt: 1_700_000_000_000,
          someFutureField: { anything: true },
        });
      }),
    );
    expect(result.ok).toBe(true);
    expect(
      validatePublishedEvent(
        published('system.error', (d) => Object.assign(d, { gap: { fromSeq: 10, toSeq: 20 }, epoch: 'e1' })),
      ).ok,
    ).toBe(true);
    // A reporter's delivery notice: the run and what it lost, by type.
    expect(
      validatePublishedEvent(
        published('system.error', (d) =>
          Object.assign(d, {
            component: 'reporter',
            framework: 'jest',
            runId: 'r_1',
            dropped: { 'test.output': 3 },
            unconfirmed: { 'test.result': 2, 'test.completed': 1 },
          }),
        ),
      ).ok,
    ).toBe(true);
  });

  it.each([
    ['not an object', null, /^event: expected an object \{type, runId, data\}$/],
    ['an array', [], /^event: expected an object/],
    [
      'unknown type',
      { type: 'test.exploded', runId: '', data: {} },
      /^type: unknown event type "test.exploded"$/,
    ],
    ['missing type', { runId: '', data: {} }, /^type: unknown event type undefined$/],
    [
      'missing runId',
      { type: 'test.output', data: { output: 'x', outputType: 'stdout', stream: 'log' } },
      /^runId: expected a string/,
    ],
    ['numeric runId', { type: 'test.output', runId: 5, data: {} }, /^runId: /],
    [
      'bad timestamp',
      { ...published('test.output'), timestamp: 'yesterday' },
      /^timestamp: expected an ISO 8601 string, got "yesterday"$/,
    ],
    ['numeric timestamp', { ...published('test.output'), timestamp: 1 }, /^timestamp: /],
    [
      'data missing',
      { type: 'test.output', runId: 'r' },
      /^test\.output: data: expected object, got undefined$/,
    ],
    [
      'data an array',
      { type: 'test.output', runId: 'r', data: [] },
      /^test\.output: data: expected object, got array$/,
    ],
    [
      'required field missing',
      published('test.result', (d) => delete d.id),
      /^test\.result: data\.id: required$/,
    ],
    [
      'titlePath missing',
      published('test.result', (d) => delete d.titlePath),
      /^test\.result: data\.titlePath: required$/,
    ],
    [
      'attempt 0',
      published('test.result', (d) => (d.attempt = 0)),
      /^test\.result: data\.attempt: must be >= 1, got 0$/,
    ],
    [
      'bad status',
      published('test.result', (d) => (d.status = 'ok')),
      /^test\.result: data\.status: expected one of "passed", "failed", "skipped", "todo", got "ok"$/,
    ],
    [
      'string duration',
      published('test.result', (d) => (d.duration = '12ms')),
      /^test\.result: data\.duration: expected number, got string$/,
    ],
    [
      'NaN duration',
      published('test.result', (d) => (d.duration = Number.NaN)),
      /^test\.result: data\.duration: expected number, got non-finite number$/,
    ],
    [
      'fractional line',
      published('test.result', (d) => (d.line = 4.5)),
      /^test\.result: data\.line: expected integer, got number$/,
    ],
    [
      'nested field',
      published('test.completed', (d) => (d.summary.passed = '43')),
      /^test\.completed: data\.summary\.passed: expected integer, got string$/,
    ],
    [
      'array item',
      published('test.started', (d) => (d.testFiles = ['a', 3])),
      /^test\.started: data\.testFiles\[1\]: expected string, got integer$/,
    ],
    [
      'error without message',
      published('test.failed', (d) => (d.error = { type: 'X' })),
      /^test\.failed: data\.error\.message: required$/,
    ],
    [
      'outputType',
      published('test.output', (d) => (d.outputType = 'console')),
      /^test\.output: data\.outputType: expected one of "stdout", "stderr"/,
    ],
    [
      'cpu load',
      published('performance.metrics', (d) => (d.cpu.load = 1.2)),
      /^performance\.metrics: data\.cpu\.load: expected array, got number$/,
    ],
    [
      'coverage failures',
      published('coverage.threshold', (d) => (d.failures[1].deficit = undefined)),
      /^coverage\.threshold: data\.failures\[1\]\.deficit: required$/,
    ],
    [
      'switched framework',
      published('framework.switched', (d) => (d.framework = 'playwright')),
      /^framework\.switched: data\.framework: expected object, got string$/,
    ],
    [
      'system.error gap',
      published('system.error', (d) => (d.gap = { fromSeq: 1 })),
      /^system\.error: data\.gap\.toSeq: required$/,
    ],
    [
      'system.error counts',
      published('system.error', (d) => (d.unconfirmed = { 'test.result': 'two' })),
      /^system\.error: data\.unconfirmed\.test\.result: expected integer, got string$/,
    ],
  ])('rejects %s with a message naming the field', (_name, value, message) => {
    const result = validatePublishedEvent(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('isEventEnvelope / isEvent', () => {
  it.each(referenceEnvelopes.map((e) => [e.type, e] as const))(
    'accepts the %s envelope',
    (_type, envelope) => {
      expect(isEventEnvelope(envelope)).toBe(true);
      expect(isEvent(envelope, envelope.type as EventType)).toBe(true);
    },
  );

  it('narrows by type', () => {
    const envelope: unknown = referenceEnvelopes.find((e) => e.type === 'test.result');
    expect(isEvent(envelope, 'test.failed')).toBe(false);
    if (isEvent(envelope, 'test.result')) expect(envelope.data.status).toBe('passed');
    else expect.fail('test.result envelope not recognized');
  });

  it.each([
    ['without seq', (e: any) => delete e.seq],
    ['with a negative seq', (e: any) => (e.seq = -1)],
    ['without timestamp', (e: any) => delete e.timestamp],
    ['without runId', (e: any) => delete e.runId],
    ['with an unknown type', (e: any) => (e.type = 'test.unknown')],
    ['with bad data', (e: any) => (e.data.status = 'green')],
    ['without data', (e: any) => delete e.data],
  ])('rejects an envelope %s', (_name, mutate) => {
    const envelope = clone(referenceEnvelopes.find((e) => e.type === 'test.result')!);
    mutate(envelope);
    expect(isEventEnvelope(envelope)).toBe(false);
    expect(isEvent(envelope, 'test.result')).toBe(false);
  });

  it('rejects non-objects', () => {
    for (const value of [null, undefined, 'test.result', 1, []]) {
      expect(isEventEnvelope(value)).toBe(false);
      expect(isEvent(value, 'test.result')).toBe(false);
    }
  });

  it('isEventType knows the catalog and nothing from the prototype', () => {
    expect(isEventType('coverage.threshold')).toBe(true);
    expect(isEventType('toString')).toBe(false);
    expect(isEventType('test.*')).toBe(false);
    expect(isEventType(undefined)).toBe(false);
  });
});
