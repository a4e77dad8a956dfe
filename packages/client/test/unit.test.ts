import { describe, expect, it } from 'vitest';
import { backoffDelay, reconnectPolicy } from '../src/backoff.js';
import { TestwireError } from '../src/errors.js';
import { createClient } from '../src/index.js';
import { endpointUrl, redact, withAuth, withSubscription } from '../src/url.js';

describe('backoff', () => {
  it('draws full-jitter delays in [0, min(max, base * 2^(n-1))]', () => {
    const policy = reconnectPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(99);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(399);
    expect(backoffDelay(policy, 10, () => 0.999999)).toBe(999);
    expect(backoffDelay(policy, 10, () => 0)).toBe(0);
    const draws = Array.from({ length: 200 }, () => backoffDelay(policy, 4));
    expect(Math.max(...draws)).toBeLessThan(800);
    expect(new Set(draws).size).toBeGreaterThan(50); // jittered, not a constant
  });

  it('validates the policy and disables retries with false', () => {
    expect(reconnectPolicy(false).attempts).toBe(0);
    expect(reconnectPolicy(undefined)).toEqual({
      attempts: 10,
      initialAttempts: 10,
      baseDelayMs: 250,
      maxDelayMs: 10_000,
    });
    expect(reconnectPolicy({ attempts: Infinity, initialAttempts: 0 })).toMatchObject({
      attempts: Infinity,
      initialAttempts: 0,
    });
    expect(() => reconnectPolicy({ attempts: -1 })).toThrow(/reconnect.attempts/);
    expect(() => reconnectPolicy({ initialAttempts: -1 })).toThrow(/reconnect.initialAttempts/);
  });
});

describe('endpoint URLs', () => {
  it('accepts bases and full endpoints for both transports', () => {
    expect(endpointUrl('http://127.0.0.1:7357', 'ws').toString()).toBe('ws://127.0.0.1:7357/ws');
    expect(endpointUrl('https://h/prefix/', 'ws').toString()).toBe('wss://h/prefix/ws');
    expect(endpointUrl('ws://h:1/ws', 'events').toString()).toBe('http://h:1/events');
    expect(endpointUrl('http://h:1/events?x=1', 'ws').toString()).toBe('ws://h:1/ws?x=1');
    expect(() => endpointUrl('ftp://h', 'ws')).toThrow(TestwireError);
    expect(() => endpointUrl('not a url', 'ws')).toThrow(/not a valid URL/);
  });

  it('puts credentials and SSE subscriptions in the query, and redacts them', () => {
    const url = withSubscription(withAuth(endpointUrl('http://h', 'events'), { apiKey: 'k' }), {
      events: ['test.result', 'test.failed'],
      filters: { status: ['failed', 'skipped'], project: 'a' },
    });
    expect(url.searchParams.get('apiKey')).toBe('k');
    expect(url.searchParams.get('events')).toBe('test.result,test.failed');
    expect(url.searchParams.getAll('status')).toEqual(['failed', 'skipped']);
    expect(redact(url)).not.toContain('apiKey=k');
  });
});

describe('options', () => {
  it('throws programmer errors up front', () => {
    expect(() => createClient({ transport: 'tcp' as never })).toThrow(/transport/);
    expect(() => createClient({ events: ['not a type!'] })).toThrow(/not an event type/);
    expect(() => createClient({ connectTimeoutMs: 0 })).toThrow(/connectTimeoutMs/);
  });

  it('connect() after close() rejects with CLIENT_CLOSED', async () => {
    const client = createClient({ url: 'http://127.0.0.1:1' });
    await client.close();
    await expect(client.connect()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
