/**
 * The public types say what crosses the boundary: checked by `tsc` (pnpm typecheck), which fails on a
 * wrong answer type; at run time this only checks the exports exist.
 */
import type { SnapshotMessage, SubscriptionDescription } from '@testwire/protocol';
import {
  type AnyEventEnvelope,
  DEFAULT_MAX_EVENTS,
  type RunSnapshot,
  TestwireError,
  type TestwireSend,
  type UseTestwireResult,
  useTestwire,
} from '@testwire/react';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('send answers per request type; the result fields are typed', () => {
    expect(typeof useTestwire).toBe('function');
    expect(DEFAULT_MAX_EVENTS).toBe(500);
    expect(new TestwireError('CONNECTION_FAILED', 'x').code).toBe('CONNECTION_FAILED');
    expectTypeOf<ReturnType<typeof useTestwire>>().toEqualTypeOf<UseTestwireResult>();
    // Type-level only (never called): what each request resolves with.
    const checks = (send: TestwireSend) => {
      expectTypeOf(send({ type: 'ping' })).resolves.toEqualTypeOf<number>();
      expectTypeOf(send({ type: 'snapshot' })).resolves.toEqualTypeOf<SnapshotMessage>();
      expectTypeOf(send({ type: 'subscribe', events: ['test.failed'] })).resolves.toEqualTypeOf<
        SubscriptionDescription | undefined
      >();
      // @ts-expect-error: the client resumes by itself; `resume` is not a request send takes
      send({ type: 'resume', epoch: 'e', since: 0 });
    };
    expect(typeof checks).toBe('function');
    expectTypeOf<UseTestwireResult['events']>().toEqualTypeOf<readonly AnyEventEnvelope[]>();
    expectTypeOf<UseTestwireResult['runs']>().toEqualTypeOf<readonly RunSnapshot[]>();
    expectTypeOf<UseTestwireResult['error']>().toEqualTypeOf<TestwireError | null>();
  });
});
