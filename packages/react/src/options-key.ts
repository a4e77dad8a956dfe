/**
 * What makes two `useTestwire` options "the same subscription": a canonical string of the values that
 * decide the connection. Components write options inline (`useTestwire({ events: ['test.*'] })`), so every
 * render brings new objects and arrays; comparing them by identity would reconnect on every render (the
 * reference hook's bug). Selectors and any-of filter values are sets: their order does not matter.
 */
import type { Filters } from '@testwire/protocol';
import type { TestwireConnectionOptions } from './types.js';

/** Keys the connection depends on. `maxEvents`, `renderIntervalMs` and `enabled` are applied in place. */
const CONNECTION_KEYS = [
  'url',
  'apiKey',
  'token',
  'events',
  'patterns',
  'filters',
  'transport',
  'replay',
  'reconnect',
  'runState',
  'keepStaleRuns',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'sseKeepAliveMs',
] as const satisfies readonly (keyof TestwireConnectionOptions)[];

/** The connection options alone, with selectors defaulted and sets sorted: equal subscriptions, equal values. */
export function normalizeOptions(options: TestwireConnectionOptions): TestwireConnectionOptions {
  const out: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  const events = sortedSet(options.events);
  const patterns = sortedSet(options.patterns);
  if (!events.length && !patterns.length) out.events = ['*'];
  else {
    out.events = events.length ? events : undefined;
    out.patterns = patterns.length ? patterns : undefined;
  }
  if (options.filters) out.filters = sortedFilters(options.filters);
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out as TestwireConnectionOptions;
}

/** A string equal for equal options (by value), different when anything that decides the connection differs. */
export function optionsKey(normalized: TestwireConnectionOptions): string {
  return canonical(normalized);
}

function sortedSet(values: string[] | undefined): string[] {
  return values ? [...new Set(values)].sort() : [];
}

function sortedFilters(filters: Filters): Filters {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(filters).sort()) {
    const value = (filters as Record<string, unknown>)[name];
    out[name] = Array.isArray(value)
      ? [...value].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
      : value;
  }
  return out as Filters;
}

/** JSON with object keys sorted at every level. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  // Infinity (reconnect attempts) is not JSON; keep it apart from null.
  if (typeof value === 'number' && !Number.isFinite(value)) return `"${String(value)}"`;
  return JSON.stringify(value) ?? 'null';
}
