import { describe, expect, it } from 'vitest';
import {
  checkFilters,
  filtersMatch,
  MAX_SUBSCRIPTION_ENTRIES,
  type Matchable,
  SUBSCRIPTION_LIMITS,
  type SubscribeRequest,
  Subscription,
  SubscriptionError,
  selectorMatches,
  subscribeRequestFromQuery,
} from '../src/index.js';

type Step = { subscribe: SubscribeRequest } | { unsubscribe: Pick<SubscribeRequest, 'events' | 'patterns'> };
const sub = (request: SubscribeRequest): Step => ({ subscribe: request });
const unsub = (request: Pick<SubscribeRequest, 'events' | 'patterns'>): Step => ({ unsubscribe: request });

const ev = (type: string, data: Record<string, unknown> = {}, runId = 'r1'): Matchable => ({
  type,
  runId,
  data,
});

const result = (status: string, extra: Record<string, unknown> = {}) =>
  ev('test.result', { framework: 'jest', project: 'web', status, suite: 'utils', attempt: 1, ...extra });
const metrics = (heapUsed: number, usage: number) =>
  ev('performance.metrics', {
    memory: { heapUsed, heapTotal: 200, external: 1, rss: 300 },
    cpu: { usage, load: [1] },
    uptime: 1,
  });

interface Case {
  name: string;
  steps: Step[];
  yes: Matchable[];
  no: Matchable[];
}

const cases: Case[] = [
  {
    name: 'exact types',
    steps: [sub({ events: ['test.result', 'test.failed'] })],
    yes: [ev('test.result'), ev('test.failed')],
    no: [ev('test.output'), ev('coverage.progress'), ev('test.result.extra')],
  },
  {
    name: "'*' in events selects every type",
    steps: [sub({ events: ['*'] })],
    yes: [ev('test.result'), ev('system.health', {}, ''), ev('baseline.compared')],
    no: [],
  },
  {
    name: "'*' in patterns selects every type",
    steps: [sub({ patterns: ['*'] })],
    yes: [ev('coverage.threshold'), ev('framework.error')],
    no: [],
  },
  {
    name: 'test.* matches one segment after test',
    steps: [sub({ patterns: ['test.*'] })],
    yes: [ev('test.started'), ev('test.output'), ev('test.completed')],
    no: [ev('coverage.started'), ev('testx.result'), ev('test')],
  },
  {
    name: '*.error matches the second segment',
    steps: [sub({ patterns: ['*.error'] })],
    yes: [ev('system.error'), ev('framework.error')],
    no: [ev('system.health'), ev('test.failed')],
  },
  {
    name: 'a wildcard inside events is a pattern',
    steps: [sub({ events: ['performance.*', 'system.health'] })],
    yes: [ev('performance.metrics'), ev('performance.leak'), ev('system.health')],
    no: [ev('system.error')],
  },
  {
    name: 'equality filter',
    steps: [sub({ events: ['test.result'], filters: { framework: 'jest' } })],
    yes: [result('passed')],
    no: [ev('test.result', { framework: 'vitest', status: 'passed' })],
  },
  {
    name: 'any-of filter (reference example: status failed or error, framework, suite)',
    steps: [
      sub({
        events: ['test.result'],
        filters: { status: ['failed', 'error'], framework: 'jest', suite: 'utils' },
      }),
    ],
    yes: [result('failed'), result('error')],
    no: [
      result('passed'),
      result('failed', { suite: 'integration' }),
      result('failed', { framework: 'mocha' }),
    ],
  },
  {
    name: 'dot path filter reaches nested fields',
    steps: [sub({ events: ['test.result'], filters: { 'error.type': 'TimeoutError' } })],
    yes: [result('failed', { error: { message: 'x', type: 'TimeoutError' } })],
    no: [result('failed', { error: { message: 'x', type: 'AssertionError' } }), result('passed')],
  },
  {
    name: 'runId filters on the envelope, not data',
    steps: [sub({ events: ['*'], filters: { runId: 'r_2' } })],
    yes: [ev('test.result', {}, 'r_2'), ev('test.output', { runId: 'r_1' }, 'r_2')],
    no: [ev('test.result', {}, 'r1'), ev('test.result', { runId: 'r_2' }, 'r1')],
  },
  {
    name: 'project rooms on every type',
    steps: [sub({ patterns: ['test.*', 'coverage.*'], filters: { project: ['web', 'api'] } })],
    yes: [
      result('passed'),
      ev('coverage.progress', { project: 'api' }),
      ev('test.output', { project: 'web' }),
    ],
    no: [ev('test.output', { project: 'docs' }), ev('test.started', {})],
  },
  {
    name: 'a field the event does not have never matches',
    steps: [sub({ events: ['*'], filters: { shard: 1 } })],
    yes: [ev('test.started', { shard: 1 })],
    no: [result('passed'), ev('system.health', {}, '')],
  },
  {
    name: 'null filter value matches null only, not a missing field',
    steps: [sub({ events: ['test.result'], filters: { line: null } })],
    yes: [result('passed', { line: null })],
    no: [result('passed')],
  },
  {
    name: 'a string value matches a number or boolean field (URL query)',
    steps: [sub({ events: ['test.result'], filters: { attempt: '2', flaky: 'true' } })],
    yes: [result('passed', { attempt: 2, flaky: true })],
    no: [result('passed', { attempt: 1, flaky: true }), result('passed', { attempt: 2, flaky: false })],
  },
  {
    name: 'a number value does not match a string field',
    steps: [sub({ events: ['test.result'], filters: { suite: 1 } })],
    yes: [result('passed', { suite: 1 })],
    no: [result('passed', { suite: '1' })],
  },
  {
    name: 'object and array fields never equal a filter value',
    steps: [sub({ events: ['test.result'], filters: { titlePath: 'a' } })],
    yes: [],
    no: [result('passed', { titlePath: ['a'] }), result('passed', { titlePath: 'b' })],
  },
  {
    name: 'prototype properties are not fields',
    steps: [sub({ events: ['test.result'], filters: { toString: 'x', 'status.length': 6 } })],
    yes: [],
    no: [result('passed'), result('failed')],
  },
  {
    name: 'memoryThreshold: only performance.metrics with heapUsed > n',
    steps: [sub({ events: ['performance.metrics'], filters: { memoryThreshold: 100 } })],
    yes: [metrics(150, 10)],
    no: [metrics(100, 90), metrics(50, 90), ev('performance.metrics', { cpu: { usage: 99 } })],
  },
  {
    name: 'cpuThreshold: only performance.metrics with cpu.usage > n',
    steps: [sub({ events: ['performance.metrics'], filters: { cpuThreshold: 80 } })],
    yes: [metrics(10, 81)],
    no: [metrics(500, 80), metrics(500, 10)],
  },
  {
    name: 'both thresholds must hold (reference example)',
    steps: [sub({ events: ['performance.metrics'], filters: { memoryThreshold: 100, cpuThreshold: 80 } })],
    yes: [metrics(101, 81)],
    no: [metrics(101, 50), metrics(50, 81)],
  },
  {
    name: 'thresholds say nothing about other event types',
    steps: [sub({ patterns: ['performance.*'], filters: { memoryThreshold: 100 } })],
    yes: [metrics(200, 1), ev('performance.bottleneck', { testName: 'slow' })],
    no: [metrics(20, 1)],
  },
  {
    name: 'two subscribes with different filters combine (any entry)',
    steps: [
      sub({ events: ['test.result'], filters: { status: 'failed' } }),
      sub({ events: ['test.result', 'test.completed'], filters: { project: 'api' } }),
    ],
    yes: [result('failed'), result('passed', { project: 'api' }), ev('test.completed', { project: 'api' })],
    no: [result('passed'), ev('test.completed', { project: 'web' })],
  },
  {
    name: 'filters apply only to the selectors of their own subscribe',
    steps: [
      sub({ events: ['test.output'] }),
      sub({ events: ['test.result'], filters: { status: 'failed' } }),
    ],
    yes: [ev('test.output', { stream: 'log' }), result('failed')],
    no: [result('passed')],
  },
  {
    name: 'unsubscribe exact types',
    steps: [sub({ events: ['test.result', 'test.failed'] }), unsub({ events: ['test.result'] })],
    yes: [ev('test.failed')],
    no: [ev('test.result')],
  },
  {
    name: 'unsubscribe test.output under test.* stops test.output only',
    steps: [sub({ patterns: ['test.*'] }), unsub({ events: ['test.output'] })],
    yes: [ev('test.result'), ev('test.started')],
    no: [ev('test.output')],
  },
  {
    name: 'unsubscribe a pattern removes it and the exact types it covers',
    steps: [
      sub({ events: ['test.result', 'system.health'], patterns: ['test.*'] }),
      unsub({ patterns: ['test.*'] }),
    ],
    yes: [ev('system.health')],
    no: [ev('test.result'), ev('test.output')],
  },
  {
    name: 'unsubscribe a pattern under * excludes it',
    steps: [sub({ events: ['*'] }), unsub({ patterns: ['performance.*'] })],
    yes: [ev('test.result'), ev('coverage.progress')],
    no: [ev('performance.metrics'), ev('performance.leak')],
  },
  {
    name: 'unsubscribe a pattern that only overlaps another excludes the overlap',
    steps: [sub({ patterns: ['*.error'] }), unsub({ patterns: ['framework.*'] })],
    yes: [ev('system.error')],
    no: [ev('framework.error')],
  },
  {
    name: "unsubscribe '*' removes everything",
    steps: [
      sub({ events: ['test.result'], patterns: ['coverage.*'] }),
      sub({ events: ['*'] }),
      unsub({ events: ['*'] }),
    ],
    yes: [],
    no: [ev('test.result'), ev('coverage.started'), ev('system.health')],
  },
  {
    name: "unsubscribe '*' in patterns removes everything",
    steps: [sub({ events: ['*'] }), unsub({ patterns: ['*'] })],
    yes: [],
    no: [ev('test.result')],
  },
  {
    name: 'unsubscribe applies to every entry, filtered or not',
    steps: [
      sub({ patterns: ['test.*'], filters: { project: 'web' } }),
      sub({ patterns: ['test.*'] }),
      unsub({ events: ['test.output'] }),
    ],
    yes: [result('passed')],
    no: [ev('test.output', { project: 'web' }), ev('test.output', { project: 'x' })],
  },
  {
    name: 're-subscribing an exact type lifts its exclusion',
    steps: [
      sub({ patterns: ['test.*'] }),
      unsub({ events: ['test.output'] }),
      sub({ events: ['test.output'] }),
    ],
    yes: [ev('test.output'), ev('test.result')],
    no: [],
  },
  {
    name: 're-subscribing the pattern lifts the exclusions it covers',
    steps: [
      sub({ patterns: ['test.*'] }),
      unsub({ events: ['test.output', 'test.progress'] }),
      sub({ patterns: ['test.*'] }),
    ],
    yes: [ev('test.output'), ev('test.progress')],
    no: [ev('coverage.started')],
  },
  {
    name: 'a filtered re-subscribe does not lift the exclusion of an unfiltered entry',
    steps: [
      sub({ patterns: ['test.*'] }),
      unsub({ events: ['test.output'] }),
      sub({ patterns: ['test.*'], filters: { stream: 'error' } }),
    ],
    yes: [ev('test.output', { stream: 'error' }), ev('test.result')],
    no: [ev('test.output', { stream: 'log' })],
  },
  {
    name: 'unsubscribing what was never subscribed is a no-op',
    steps: [
      sub({ events: ['test.result'] }),
      unsub({ events: ['coverage.started'], patterns: ['system.*'] }),
    ],
    yes: [ev('test.result')],
    no: [ev('coverage.started')],
  },
  {
    name: 'a well-formed filter that matches nothing is not an error',
    steps: [sub({ events: ['test.result'], filters: { status: 'exploded' } })],
    yes: [],
    no: [result('passed'), result('failed')],
  },
];

describe('Subscription matching', () => {
  it.each(cases)('$name', ({ steps, yes, no }) => {
    const subscription = new Subscription();
    for (const step of steps) {
      if ('subscribe' in step) subscription.subscribe(step.subscribe);
      else subscription.unsubscribe(step.unsubscribe);
    }
    for (const event of yes)
      expect(subscription.matches(event), `${event.type} ${JSON.stringify(event.data)}`).toBe(true);
    for (const event of no)
      expect(subscription.matches(event), `${event.type} ${JSON.stringify(event.data)}`).toBe(false);
  });

  it('matches agrees with filtersMatch and selectorMatches for a single entry', () => {
    const filters = { status: ['failed', 'skipped'], 'error.type': 'AssertionError' };
    const subscription = new Subscription().subscribe({ patterns: ['test.*'], filters });
    const events = [
      result('failed', { error: { message: 'm', type: 'AssertionError' } }),
      result('skipped'),
      ev('coverage.started', { status: 'failed', error: { type: 'AssertionError' } }),
    ];
    for (const event of events) {
      expect(subscription.matches(event)).toBe(
        selectorMatches('test.*', event.type) && filtersMatch(filters, event),
      );
    }
  });

  it('starts empty and reports it; selects() ignores filters', () => {
    const subscription = new Subscription();
    expect(subscription.empty).toBe(true);
    expect(subscription.matches(ev('test.result'))).toBe(false);
    subscription.subscribe({ events: ['test.result'], filters: { status: 'nothing' } });
    expect(subscription.empty).toBe(false);
    expect(subscription.selects('test.result')).toBe(true);
    expect(subscription.selects('test.failed')).toBe(false);
    subscription.unsubscribe({ events: ['test.result'] });
    expect(subscription.empty).toBe(true);
  });

  it('updates cached selection after each subscribe and unsubscribe', () => {
    const subscription = new Subscription().subscribe({ events: ['test.result'] });
    expect(subscription.matches(ev('test.output'))).toBe(false);
    subscription.subscribe({ events: ['test.output'] });
    expect(subscription.matches(ev('test.output'))).toBe(true);
    subscription.unsubscribe({ events: ['test.output'] });
    expect(subscription.matches(ev('test.output'))).toBe(false);
  });

  it('describes its state for subscribed/unsubscribed', () => {
    const subscription = new Subscription()
      .subscribe({ events: ['test.result'], filters: { status: 'failed' } })
      .subscribe({ patterns: ['test.*'] })
      .subscribe({ events: ['coverage.completed'] })
      .unsubscribe({ events: ['test.output'] });
    const description = subscription.describe();
    expect(description.events.sort()).toEqual(['coverage.completed', 'test.result']);
    expect(description.patterns).toEqual(['test.*']);
    expect(description.excluded).toEqual(['test.output']);
    expect(description.entries).toEqual([
      { events: ['test.result'], patterns: [], filters: { status: 'failed' } },
      // coverage.completed (no filters) was merged into the unfiltered test.* entry
      { events: ['coverage.completed'], patterns: ['test.*'], excluded: ['test.output'] },
    ]);
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
  });

  it('merges subscribes with the same filters instead of growing', () => {
    const subscription = new Subscription();
    for (let i = 0; i < MAX_SUBSCRIPTION_ENTRIES * 2; i++) {
      subscription.subscribe({ events: ['test.result'], filters: { b: 1, a: 'x' } });
      subscription.subscribe({ events: ['test.failed'], filters: { a: 'x', b: 1 } });
    }
    expect(subscription.describe().entries).toEqual([
      { events: ['test.result', 'test.failed'], patterns: [], filters: { b: 1, a: 'x' } },
    ]);
  });

  it(`refuses more than ${MAX_SUBSCRIPTION_ENTRIES} entries with a clear error, keeping its state`, () => {
    const subscription = new Subscription();
    for (let i = 0; i < MAX_SUBSCRIPTION_ENTRIES; i++)
      subscription.subscribe({ events: ['test.result'], filters: { n: i } });
    expect(() => subscription.subscribe({ events: ['test.result'], filters: { n: -1 } })).toThrow(
      /too many subscriptions/,
    );
    expect(subscription.describe().entries).toHaveLength(MAX_SUBSCRIPTION_ENTRIES);
    expect(subscription.matches(ev('test.result', { n: 5 }))).toBe(true);
  });
});

describe('subscription limits', () => {
  const types = (from: number, n: number) => Array.from({ length: n }, (_, i) => `x${from + i}.y`);

  it(`refuses more than ${SUBSCRIPTION_LIMITS.selectors} event types and patterns, merged into one entry or not`, () => {
    const subscription = new Subscription();
    subscription.subscribe({ events: types(0, SUBSCRIPTION_LIMITS.selectors - 1), patterns: ['test.*'] });
    // Types it already has add nothing.
    subscription.subscribe({ events: types(0, 10) });
    expect(() => subscription.subscribe({ events: types(1000, 1) })).toThrow(
      new SubscriptionError(
        `subscribe: too many event types and patterns on one connection (max ${SUBSCRIPTION_LIMITS.selectors}, exclusions included); unsubscribe some, or use a pattern ("test.*", "*")`,
      ),
    );
    expect(() => subscription.subscribe({ events: ['test.result'], filters: { status: 'failed' } })).toThrow(
      /too many event types and patterns/,
    );
    const { entries } = subscription.describe();
    expect(entries).toHaveLength(1);
    expect(entries[0].events.length + entries[0].patterns.length).toBe(SUBSCRIPTION_LIMITS.selectors);
    expect(subscription.matches(ev('test.output'))).toBe(true);
    // Room again after an unsubscribe.
    subscription.unsubscribe({ events: types(0, 1) });
    subscription.subscribe({ events: types(1000, 1) });
  });

  it('refuses an unsubscribe that would pile up more exclusions than the bound, changing nothing', () => {
    const subscription = new Subscription();
    subscription.subscribe({ patterns: ['*'] });
    subscription.unsubscribe({ events: types(0, SUBSCRIPTION_LIMITS.selectors - 1) });
    expect(() => subscription.unsubscribe({ events: types(1000, 2) })).toThrow(/too many exclusions/);
    expect(subscription.describe().excluded).toHaveLength(SUBSCRIPTION_LIMITS.selectors - 1);
    expect(subscription.matches(ev('x1000.y'))).toBe(true);
  });

  it('refuses too long selectors and filter values, and too many filter values', () => {
    const subscription = new Subscription();
    const long = `a.${'b'.repeat(SUBSCRIPTION_LIMITS.selectorLength)}`;
    expect(() => subscription.subscribe({ events: [long] })).toThrow(
      `events: "${long.slice(0, 32)}…" is longer than ${SUBSCRIPTION_LIMITS.selectorLength} characters: not an event type or pattern`,
    );
    const value = 'v'.repeat(SUBSCRIPTION_LIMITS.filterValueLength + 1);
    expect(() => subscription.subscribe({ events: ['*'], filters: { title: [value] } })).toThrow(
      `filters: "title": a field name or value is longer than ${SUBSCRIPTION_LIMITS.filterValueLength} characters`,
    );
    const half = SUBSCRIPTION_LIMITS.filterValues / 2;
    subscription.subscribe({ events: ['*'], filters: { id: types(0, half) } });
    subscription.subscribe({ events: ['*'], filters: { id: types(half, half) } });
    expect(() => subscription.subscribe({ events: ['*'], filters: { status: 'failed' } })).toThrow(
      /too many filter values on one connection \(max 512/,
    );
    // The same filters again merge into their entry: nothing new to count.
    subscription.subscribe({ events: ['test.result'], filters: { id: types(0, half) } });
    expect(subscription.describe().entries).toHaveLength(2);
  });
});

describe('malformed subscriptions', () => {
  const bad: [string, SubscribeRequest | Record<string, unknown>, RegExp][] = [
    [
      'events not an array',
      { events: 'test.result' },
      /^events: expected an array of event types, got "test.result"$/,
    ],
    ['patterns not an array', { patterns: { a: 1 } }, /^patterns: expected an array .* got an object$/],
    [
      'selector with a space',
      { events: ['test result'] },
      /events: "test result" is not an event type or pattern/,
    ],
    ['empty selector', { events: [''] }, /events: "" is not an event type or pattern/],
    ['double dot', { patterns: ['test..result'] }, /patterns: "test..result" is not/],
    ['partial wildcard', { patterns: ['test.res*'] }, /patterns: "test.res\*" is not/],
    ['non-string selector', { events: [42] }, /events: 42 is not an event type/],
    ['nothing to subscribe to', {}, /name at least one event type or pattern/],
    ['filters only', { filters: { status: 'failed' } }, /name at least one event type or pattern/],
    ['empty lists', { events: [], patterns: [] }, /name at least one event type or pattern/],
    [
      'filters not an object',
      { events: ['*'], filters: ['failed'] },
      /^filters: expected an object .* got an array$/,
    ],
    ['filters a string', { events: ['*'], filters: 'status=failed' }, /^filters: expected an object/],
    [
      'object filter value',
      { events: ['*'], filters: { error: { type: 'x' } } },
      /^filters\.error: expected a string, number, boolean, null or an array of them/,
    ],
    [
      'object inside any-of',
      { events: ['*'], filters: { status: ['failed', {}] } },
      /^filters\.status: any-of values must be/,
    ],
    ['empty any-of list', { events: ['*'], filters: { status: [] } }, /^filters\.status: empty any-of list/],
    [
      'threshold not a number',
      { events: ['*'], filters: { memoryThreshold: '100' } },
      /^filters\.memoryThreshold: expected a number, got "100"$/,
    ],
    [
      'threshold NaN-like',
      { events: ['*'], filters: { cpuThreshold: null } },
      /^filters\.cpuThreshold: expected a number, got null$/,
    ],
    ['empty field name', { events: ['*'], filters: { '': 'x' } }, /^filters: "" is not a field name/],
    [
      'bad dot path',
      { events: ['*'], filters: { 'error.': 'x' } },
      /^filters: "error\." is not a field name/,
    ],
    [
      'prototype path',
      { events: ['*'], filters: JSON.parse('{"__proto__": "x"}') },
      /^filters: field "__proto__" is not allowed$/,
    ],
    [
      'constructor path',
      { events: ['*'], filters: { 'data.constructor': 'x' } },
      /^filters: field "data.constructor" is not allowed$/,
    ],
  ];

  it.each(bad)('%s -> SubscriptionError', (_name, request, message) => {
    const subscription = new Subscription().subscribe({ events: ['test.result'] });
    const before = subscription.describe();
    let caught: unknown;
    try {
      subscription.subscribe(request as SubscribeRequest);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SubscriptionError);
    expect((caught as SubscriptionError).code).toBe('INVALID_SUBSCRIPTION');
    expect((caught as SubscriptionError).name).toBe('SubscriptionError');
    expect((caught as Error).message).toMatch(message);
    expect(subscription.describe()).toEqual(before);
  });

  it('rejects malformed unsubscribe requests', () => {
    const subscription = new Subscription().subscribe({ events: ['*'] });
    expect(() => subscription.unsubscribe({ events: 'test.result' as never })).toThrow(SubscriptionError);
    expect(() => subscription.unsubscribe({ patterns: ['test.**'] })).toThrow(
      /patterns: "test\.\*\*" is not/,
    );
    expect(subscription.matches(ev('test.result'))).toBe(true);
  });

  it('checkFilters returns undefined for no filters and a prototype-free copy otherwise', () => {
    expect(checkFilters(undefined)).toBeUndefined();
    expect(checkFilters(null)).toBeUndefined();
    const filters = checkFilters({ status: ['failed'], attempt: 2 });
    expect(filters).toEqual({ status: ['failed'], attempt: 2 });
    expect(Object.getPrototypeOf(filters)).toBeNull();
  });
});

describe('subscribeRequestFromQuery', () => {
  const q = (query: string) => subscribeRequestFromQuery(new URLSearchParams(query));

  it('reads events, patterns and comma-separated or repeated values', () => {
    expect(q('events=test.result,test.failed&patterns=coverage.*&events=test.output')).toEqual({
      events: ['test.result', 'test.failed', 'test.output'],
      patterns: ['coverage.*'],
      filters: undefined,
    });
  });

  it('turns other parameters into filters; repeated values are any-of', () => {
    const request = q('events=test.result&status=failed&status=skipped&runId=r_1&project=a,b&attempt=2');
    expect(request?.filters).toEqual({
      status: ['failed', 'skipped'],
      runId: 'r_1',
      project: ['a', 'b'],
      attempt: '2',
    });
    const subscription = new Subscription().subscribe(request!);
    expect(
      subscription.matches(ev('test.result', { status: 'failed', project: 'b', attempt: 2 }, 'r_1')),
    ).toBe(true);
    expect(
      subscription.matches(ev('test.result', { status: 'passed', project: 'b', attempt: 2 }, 'r_1')),
    ).toBe(false);
    expect(
      subscription.matches(ev('test.result', { status: 'failed', project: 'b', attempt: 2 }, 'r_2')),
    ).toBe(false);
  });

  it('ignores reserved parameters', () => {
    expect(q('events=*&apiKey=k&token=t&lastEventId=e:1&since=3&epoch=e&role=publisher')).toEqual({
      events: ['*'],
      patterns: undefined,
      filters: undefined,
    });
  });

  it('filters without selectors mean every event', () => {
    expect(q('runId=r_9')).toEqual({ events: ['*'], filters: { runId: 'r_9' } });
  });

  it('returns undefined for an empty query', () => {
    expect(q('')).toBeUndefined();
    expect(q('apiKey=k&events=')).toBeUndefined();
  });

  it('converts thresholds to numbers and rejects non-numbers', () => {
    expect(q('events=performance.metrics&memoryThreshold=100&cpuThreshold=80.5')?.filters).toEqual({
      memoryThreshold: 100,
      cpuThreshold: 80.5,
    });
    expect(() => q('events=*&memoryThreshold=lots')).toThrow(
      /filters\.memoryThreshold: expected a number, got "lots"/,
    );
    expect(() => q('events=*&cpuThreshold=')).toThrow(SubscriptionError);
  });

  it('hands bad filter names to Subscription.subscribe, which rejects them', () => {
    const request = q('events=*&__proto__=x');
    expect(request?.filters && Object.keys(request.filters)).toEqual(['__proto__']);
    expect(() => new Subscription().subscribe(request!)).toThrow(/"__proto__" is not allowed/);
  });
});
