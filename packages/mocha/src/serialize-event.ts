/**
 * A runner event to a line and back, in the shape mocha's own serializer gives it (lib/nodejs/serializer.js: `$$key` for methods,
 * `__type: 'Error'` for errors, functions dropped, cycles as '[Circular]'), so that mocha's `deserialize`
 * turns a streamed event into the same object its burst would — but built as a copy.
 *
 * Mocha serializes a file's events once the file has ended, and does it in place: it deletes the functions
 * of objects an error refers to (an assertion's `actual`) and breaks cycles inside them. Done while the file
 * still runs, that would change objects the next tests may use; here nothing reachable from the event is
 * written to. deserializeEvent is mocha's `SerializableEvent.deserialize`: what the main process's reporters
 * get from a burst, the relay gets from the stream (mocha 12's serializer is an ES module: not required here).
 */
import type { SerializedEvent } from './relay-wire.js';

/** How deep a value is copied; below that an object is '[Object]' (mocha has no bound; a line has one). */
const MAX_DEPTH = 32;

/** The event mocha's ParallelBuffered records for `runnable` (a test, hook or suite) and `error`. */
export function serializeEvent(runnable: unknown, error: unknown): SerializedEvent {
  const data = hasSerialize(runnable) ? runnable.serialize() : runnable;
  return { data: copy(data, new Set(), 0), error: copy(error, new Set(), 0) };
}

/** The event's runnable and error as a reporter gets them from a burst: `$$key` -> `key()`, Errors rebuilt. */
export function deserializeEvent(event: SerializedEvent): { data: unknown; error: unknown } {
  const data = event.data;
  if (data && typeof data === 'object')
    for (const key of Object.keys(data)) revive(data as Record<string, unknown>, key);
  const error =
    event.error && typeof event.error === 'object'
      ? toError(event.error as Record<string, unknown>)
      : event.error;
  return { data, error };
}

function revive(parent: Record<string, unknown> | unknown[], key: string | number): void {
  const record = parent as Record<string | number, unknown>;
  if (key === '__proto__') {
    delete record[key];
    return;
  }
  const value = record[key];
  let name = key;
  if (typeof key === 'string' && key.startsWith('$$')) {
    name = key.slice(2);
    record[name] = () => value;
    delete record[key];
  }
  if (Array.isArray(value)) for (let index = 0; index < value.length; index++) revive(value, index);
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (object.__type === 'Error') record[name] = toError(object);
    else for (const inner of Object.keys(object)) revive(object, inner);
  }
}

function toError(value: Record<string, unknown>): Error {
  const error = new Error(String(value.message));
  error.stack = value.stack as string | undefined;
  Object.assign(error, value);
  delete (error as { __type?: unknown }).__type;
  return error;
}

function copy(value: unknown, ancestors: Set<object>, depth: number): unknown {
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  if (value instanceof Date) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => copy(item, ancestors, depth + 1) ?? null);
    if (hasSerialize(value)) return copy(value.serialize(), ancestors, depth + 1);
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      const item = copy((value as Record<string, unknown>)[key], ancestors, depth + 1);
      if (item !== undefined) out[key] = item;
    }
    if (value instanceof Error) {
      // `stack` is lazy and `message` not enumerable: mocha reads both, and marks the object an Error.
      out.stack = value.stack;
      out.message = value.message;
      out.__type = 'Error';
    }
    return out;
  } catch {
    return '[Unserializable]';
  } finally {
    ancestors.delete(value);
  }
}

function hasSerialize(value: unknown): value is { serialize(): unknown } {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { serialize?: unknown }).serialize === 'function'
  );
}
