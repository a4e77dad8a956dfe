/**
 * `useTestwire(options)`: live testwire events and run state in a React component.
 *
 * The reference hook (`useWebSocketEvents`) put its `events` array in the effect's dependencies, so every
 * render with an inline array closed the socket and opened a new one, and every event appended to an
 * unbounded array. Here the options are compared by value (`optionsKey`): one store, hence one
 * connection, per distinct subscription; a changed url, key or filter makes exactly one new one.
 */
import type { AnyEventEnvelope } from '@testwire/client';
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { normalizeOptions, optionsKey } from './options-key.js';
import {
  DEFAULT_MAX_EVENTS,
  DEFAULT_RENDER_INTERVAL_MS,
  eventKeyOf,
  IDLE_STATE,
  notConnected,
  type TestwireState,
  TestwireStore,
} from './store.js';
import type { TestwireSend, UseTestwireOptions, UseTestwireResult } from './types.js';

const noSubscription = (): (() => void) => () => {};
const idle = (): TestwireState => IDLE_STATE;

/** A `send` for when there is no connection (server render, `enabled: false`). */
const sendNowhere: TestwireSend = (request) => Promise.reject(notConnected(request));
/** No connection, no events: a key from the seq alone is unique. */
const keyOfNothing = (event: AnyEventEnvelope): string => eventKeyOf(undefined, event);

/**
 * Subscribes to a testwire broadcaster for as long as the component is mounted.
 *
 * ```tsx
 * const { isConnected, runs, events, error } = useTestwire({ url, events: ['test.*'], apiKey });
 * ```
 *
 * - One connection per distinct options value: re-renders with equal options (new objects are fine) keep it.
 * - Closed on unmount. Under StrictMode's double mount there is still one connection.
 * - Reconnects for as long as it is mounted (`reconnect.attempts` defaults to Infinity here, not the client's 10).
 * - `eventKey(event)` is a unique key for `events` (`${epoch}:${seq}`; seq alone repeats across epochs).
 * - On the server (and until the first effect on the client) it returns the idle, disconnected state and
 *   opens nothing.
 */
export function useTestwire(options: UseTestwireOptions = {}): UseTestwireResult {
  const {
    maxEvents = DEFAULT_MAX_EVENTS,
    renderIntervalMs = DEFAULT_RENDER_INTERVAL_MS,
    enabled = true,
  } = options;
  const normalized = normalizeOptions(options);
  const key = optionsKey(normalized);
  // The store is keyed by value. Creating one opens nothing (that happens on subscribe, in an effect), so a
  // render React throws away, or a server render, costs no connection.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is `normalized` by value
  const store = useMemo(() => new TestwireStore(normalized, maxEvents, renderIntervalMs), [key]);
  useEffect(() => store.configure(maxEvents, renderIntervalMs), [store, maxEvents, renderIntervalMs]);
  const state = useSyncExternalStore(
    enabled ? store.subscribe : noSubscription,
    enabled ? store.getSnapshot : idle,
    idle,
  );
  const send = enabled ? store.send : sendNowhere;
  const eventKey = enabled ? store.eventKey : keyOfNothing;
  return useMemo(() => ({ ...state, send, eventKey }), [state, send, eventKey]);
}
