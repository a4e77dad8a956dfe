/**
 * Subscription matching: which events a subscriber receives.
 *
 * Selectors
 *   - an exact type: `test.result`
 *   - `*`: every event
 *   - a pattern: dot-separated segments where `*` stands for exactly one segment (`test.*`, `*.error`)
 *   `events` and `patterns` take the same selectors; a wildcard inside `events` is treated as a pattern.
 *   An exact type outside the catalog is accepted (a newer client may know newer types); it matches nothing.
 *
 * Filters (per subscribe message, they apply to the selectors of that same message; all must pass)
 *   - `key: value`   the event's `data[key]` (dot paths reach nested fields: `error.type`) equals value
 *   - `key: [a, b]`  any of the values
 *   - a string value also matches a number or boolean field with the same text (`"3"` matches `3`,
 *     `"true"` matches `true`): filters read from a URL query are always strings
 *   - `runId`        matches the envelope's `runId` (rooms: follow one run); `project` matches
 *     `data.project`, which every reporter event carries (rooms: follow one package)
 *   - a field the event does not have never matches: a filter selects events that have it; object and
 *     array fields never equal a filter value
 *   - `memoryThreshold: n` only performance.metrics whose `memory.heapUsed` (MB) > n
 *   - `cpuThreshold: n`    only performance.metrics whose `cpu.usage` (%) > n
 *     (thresholds say nothing about other event types: those pass them; both given = both must hold)
 *   - a well-formed filter that matches nothing is not an error; a malformed one is (`SubscriptionError`)
 *
 * Combining
 *   - every subscribe adds an entry; an event is delivered when any entry matches it
 *     (a subscribe with the same filters as an entry without exclusions is merged into it)
 *   - a subscribe must name at least one selector (`events: ["*"]` for everything)
 *   - unsubscribe `{events}` removes those exact types from every entry; if a pattern of an entry still
 *     covers one of them it is excluded from that entry, so unsubscribing `test.output` under `test.*`
 *     stops test.output only
 *   - unsubscribe `{patterns}` removes the patterns they cover and the exact types they match; if another
 *     pattern of an entry still overlaps them (`*`, or `*.error` for `test.*`) they are excluded from it.
 *     Rule of thumb: after unsubscribing X, no event matching X arrives until a later subscribe asks again
 *   - a later subscribe is not affected by earlier exclusions: subscribing `test.output` or `test.*`
 *     again lifts them (exact types of an entry always beat its exclusions)
 *   - unsubscribe `*` (in events or patterns) removes everything
 */

import * as t from './schema-builder.js';

export type FilterPrimitive = t.Static<typeof filterPrimitive>;
const filterPrimitive = t.union(t.string(), t.number(), t.boolean(), t.null());
export type FilterValue = t.Static<typeof filterValue>;
const filterValue = t.union(filterPrimitive, t.array(filterPrimitive));
/** Filters of a subscription, as they travel in `subscribe` and in the descriptions the server sends. */
export type Filters = t.Static<typeof filtersSchema>;
export const filtersSchema = t.record(filterValue, {
  description: 'data field (dot path) -> value or any-of array; runId matches the envelope',
});

export interface SubscribeRequest {
  events?: string[];
  patterns?: string[];
  filters?: Filters;
}

export interface SubscriptionEntry {
  events: Set<string>;
  patterns: string[];
  filters?: Filters;
  /** Selectors unsubscribed while a pattern of this entry still covered them. */
  excluded: string[];
}

/** The part of an envelope matching needs. */
export interface Matchable {
  type: string;
  runId?: string;
  data?: unknown;
}

export class SubscriptionError extends Error {
  readonly code = 'INVALID_SUBSCRIPTION';
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

/**
 * Bounds of one subscription (one connection). Each `subscribed` or `unsubscribed` reply describes the whole
 * subscription and each entry costs a check per delivered event: without them, a client that keeps adding
 * new types to one entry grew it, and every reply, without end.
 */
export const SUBSCRIPTION_LIMITS = {
  /** Entries (subscribes with different filters). */
  entries: 64,
  /** Event types, patterns and exclusions, over every entry. */
  selectors: 256,
  /** Characters of one event type or pattern (the catalog's longest has 22). */
  selectorLength: 128,
  /** Filter values (an any-of list counts each of its values), over every entry. */
  filterValues: 512,
  /** Characters of one filter field name or string value. */
  filterValueLength: 512,
} as const;

/** Entries one connection may hold; each costs a check per delivered event. */
export const MAX_SUBSCRIPTION_ENTRIES = SUBSCRIPTION_LIMITS.entries;

const SELECTOR = /^(\*|[a-z0-9_-]+)(\.(\*|[a-z0-9_-]+))*$/i;
const FIELD_SEGMENT = /^[^.]+$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const THRESHOLDS = new Set(['memoryThreshold', 'cpuThreshold']);

const isPattern = (selector: string): boolean => selector.includes('*');

/** True when `selector` (exact type, `*` or a pattern) matches the event type. */
export function selectorMatches(selector: string, type: string): boolean {
  if (selector === '*') return true;
  if (!isPattern(selector)) return selector === type;
  const want = selector.split('.');
  const have = type.split('.');
  if (want.length !== have.length) return false;
  for (let i = 0; i < want.length; i++) if (want[i] !== '*' && want[i] !== have[i]) return false;
  return true;
}

/** True when everything `inner` matches is also matched by `outer`. */
function covers(outer: string, inner: string): boolean {
  if (outer === '*') return true;
  if (inner === '*') return false;
  const a = outer.split('.');
  const b = inner.split('.');
  if (a.length !== b.length) return false;
  return a.every((seg, i) => seg === '*' || seg === b[i]);
}

/** True when some event type is matched by both selectors. */
function overlaps(x: string, y: string): boolean {
  if (x === '*' || y === '*') return true;
  const a = x.split('.');
  const b = y.split('.');
  if (a.length !== b.length) return false;
  return a.every((seg, i) => seg === '*' || b[i] === '*' || seg === b[i]);
}

function checkSelectors(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new SubscriptionError(`${field}: expected an array of event types, got ${describeValue(value)}`);
  }
  for (const item of value) {
    if (typeof item === 'string' && item.length > SUBSCRIPTION_LIMITS.selectorLength) {
      throw new SubscriptionError(
        `${field}: ${JSON.stringify(`${item.slice(0, 32)}…`)} is longer than ${SUBSCRIPTION_LIMITS.selectorLength} characters: not an event type or pattern`,
      );
    }
    if (typeof item !== 'string' || !SELECTOR.test(item)) {
      throw new SubscriptionError(
        `${field}: ${JSON.stringify(item)} is not an event type or pattern (like "test.result", "test.*" or "*")`,
      );
    }
  }
  return value as string[];
}

const describeValue = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : JSON.stringify(value);

/** Validates filters; throws a SubscriptionError naming the bad key. */
export function checkFilters(value: unknown): Filters | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SubscriptionError(
      `filters: expected an object of field -> value or array of values, got ${describeValue(value)}`,
    );
  }
  // No prototype: a `__proto__` key must not become the object's prototype.
  const out: Filters = Object.create(null);
  for (const [key, raw] of Object.entries(value)) {
    const tooLong = (text: unknown): boolean =>
      typeof text === 'string' && text.length > SUBSCRIPTION_LIMITS.filterValueLength;
    if (tooLong(key) || (Array.isArray(raw) ? raw.some(tooLong) : tooLong(raw))) {
      throw new SubscriptionError(
        `filters: ${JSON.stringify(`${key.slice(0, 32)}${key.length > 32 ? '…' : ''}`)}: a field name or value is longer than ${SUBSCRIPTION_LIMITS.filterValueLength} characters`,
      );
    }
    const segments = key.split('.');
    if (key === '' || !segments.every((s) => FIELD_SEGMENT.test(s))) {
      throw new SubscriptionError(
        `filters: ${JSON.stringify(key)} is not a field name or dot path (like "status" or "error.type")`,
      );
    }
    if (segments.some((s) => FORBIDDEN_SEGMENTS.has(s))) {
      throw new SubscriptionError(`filters: field ${JSON.stringify(key)} is not allowed`);
    }
    if (THRESHOLDS.has(key)) {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        throw new SubscriptionError(`filters.${key}: expected a number, got ${describeValue(raw)}`);
      }
    } else if (Array.isArray(raw)) {
      if (raw.length === 0) {
        throw new SubscriptionError(
          `filters.${key}: empty any-of list would match nothing; omit the filter instead`,
        );
      }
      for (const v of raw) {
        if (v !== null && typeof v === 'object') {
          throw new SubscriptionError(
            `filters.${key}: any-of values must be strings, numbers, booleans or null`,
          );
        }
      }
    } else if (raw !== null && typeof raw === 'object') {
      throw new SubscriptionError(
        `filters.${key}: expected a string, number, boolean, null or an array of them, got an object`,
      );
    }
    out[key] = raw as FilterValue;
  }
  return out;
}

interface CompiledFilter {
  kind: 'field' | 'runId' | 'memory' | 'cpu';
  path: string[];
  want: FilterValue;
}

function compileFilters(filters: Filters | undefined): CompiledFilter[] | undefined {
  if (!filters) return undefined;
  const out: CompiledFilter[] = [];
  for (const key of Object.keys(filters)) {
    const want = filters[key];
    if (key === 'memoryThreshold') out.push({ kind: 'memory', path: ['memory', 'heapUsed'], want });
    else if (key === 'cpuThreshold') out.push({ kind: 'cpu', path: ['cpu', 'usage'], want });
    else if (key === 'runId') out.push({ kind: 'runId', path: [], want });
    else out.push({ kind: 'field', path: key.split('.'), want });
  }
  return out.length ? out : undefined;
}

/** Own properties only, so `constructor` or `toString` never resolve to something on a prototype. */
function readPath(data: unknown, path: string[]): unknown {
  let current: unknown = data;
  for (let i = 0; i < path.length; i++) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, path[i])) return undefined;
    current = (current as Record<string, unknown>)[path[i]];
  }
  return current;
}

/** Equality where a string filter value (from a URL query) also matches a number or boolean field. */
const same = (want: FilterPrimitive, have: unknown): boolean =>
  want === have ||
  (typeof want === 'string' &&
    (typeof have === 'number' || typeof have === 'boolean') &&
    String(have) === want);

function compiledMatch(filters: CompiledFilter[] | undefined, event: Matchable): boolean {
  if (!filters) return true;
  for (let i = 0; i < filters.length; i++) {
    const filter = filters[i];
    const want = filter.want;
    if (filter.kind === 'memory' || filter.kind === 'cpu') {
      if (event.type !== 'performance.metrics') continue;
      const have = readPath(event.data, filter.path);
      if (typeof have !== 'number' || !(have > (want as number))) return false;
      continue;
    }
    const have = filter.kind === 'runId' ? event.runId : readPath(event.data, filter.path);
    if (have === undefined) return false;
    if (Array.isArray(want)) {
      let any = false;
      for (let j = 0; j < want.length && !any; j++) any = same(want[j], have);
      if (!any) return false;
    } else if (!same(want, have)) return false;
  }
  return true;
}

/** True when the event passes every filter (filters as validated by `checkFilters`). */
export function filtersMatch(filters: Filters | undefined, event: Matchable): boolean {
  return compiledMatch(compileFilters(filters), event);
}

interface Entry extends SubscriptionEntry {
  compiled: CompiledFilter[] | undefined;
  /** Canonical JSON of `filters`, to merge subscribes with the same filters. */
  filtersKey: string;
}

const canonicalFilters = (filters: Filters | undefined): string =>
  filters
    ? JSON.stringify(
        Object.keys(filters)
          .sort()
          .map((k) => [k, filters[k]]),
      )
    : '';

/**
 * One subscriber's subscription state. Mutated by `subscribe`/`unsubscribe`, queried by `matches`.
 * Designed for the broadcaster's fan-out: `matches` allocates nothing once a type has been seen (which
 * entries select a type is cached until the next subscribe/unsubscribe).
 */
export class Subscription {
  private entries: Entry[] = [];
  private readonly byType = new Map<string, Entry[]>();

  /** Parses and validates a subscribe request; throws SubscriptionError without changing state. */
  subscribe(request: SubscribeRequest): this {
    if (typeof request !== 'object' || request === null) {
      throw new SubscriptionError('subscribe: expected {events?, patterns?, filters?}');
    }
    const events = checkSelectors(request.events, 'events');
    const patterns = checkSelectors(request.patterns, 'patterns');
    const filters = checkFilters(request.filters);
    if (events.length === 0 && patterns.length === 0) {
      throw new SubscriptionError(
        'subscribe: name at least one event type or pattern in "events" or "patterns" (["*"] for every event)',
      );
    }
    const filtersKey = canonicalFilters(filters);
    // Merging is only exact into an entry without exclusions (see "Combining" above).
    let entry = this.entries.find((e) => e.filtersKey === filtersKey && e.excluded.length === 0);
    const isNew = !entry;
    const added = new Set(
      [...events, ...patterns].filter((x) => !(entry?.events.has(x) || entry?.patterns.includes(x))),
    ).size;
    if (selectorCount(this.entries) + added > SUBSCRIPTION_LIMITS.selectors) {
      throw new SubscriptionError(
        `subscribe: too many event types and patterns on one connection (max ${SUBSCRIPTION_LIMITS.selectors}, exclusions included); unsubscribe some, or use a pattern ("test.*", "*")`,
      );
    }
    if (
      isNew &&
      filterValueCount(this.entries) + filterValueCount([{ filters }]) > SUBSCRIPTION_LIMITS.filterValues
    ) {
      throw new SubscriptionError(
        `subscribe: too many filter values on one connection (max ${SUBSCRIPTION_LIMITS.filterValues}, each value of an any-of list counted); unsubscribe or combine filters`,
      );
    }
    if (!entry) {
      if (this.entries.length >= MAX_SUBSCRIPTION_ENTRIES) {
        throw new SubscriptionError(
          `subscribe: too many subscriptions with different filters on one connection (max ${MAX_SUBSCRIPTION_ENTRIES}); unsubscribe or combine them`,
        );
      }
      entry = {
        events: new Set(),
        patterns: [],
        filters,
        excluded: [],
        compiled: compileFilters(filters),
        filtersKey,
      };
    }
    for (const selector of [...events, ...patterns]) {
      if (isPattern(selector)) {
        if (!entry.patterns.includes(selector)) entry.patterns.push(selector);
      } else {
        entry.events.add(selector);
      }
    }
    if (isNew) this.entries.push(entry);
    this.byType.clear();
    return this;
  }

  /** Removes selectors (see "Combining" above); throws SubscriptionError on a malformed request. */
  unsubscribe(request: Pick<SubscribeRequest, 'events' | 'patterns'>): this {
    if (typeof request !== 'object' || request === null) {
      throw new SubscriptionError('unsubscribe: expected {events?, patterns?}');
    }
    const selectors = [
      ...checkSelectors(request.events, 'events'),
      ...checkSelectors(request.patterns, 'patterns'),
    ];
    if (selectors.includes('*')) {
      this.clear();
      return this;
    }
    // On copies: exclusions count toward the bound, and a refused request changes nothing.
    const entries = this.entries.map((e) => ({
      ...e,
      events: new Set(e.events),
      patterns: [...e.patterns],
      excluded: [...e.excluded],
    }));
    for (const selector of selectors) {
      for (const entry of entries) {
        if (isPattern(selector)) {
          entry.patterns = entry.patterns.filter((p) => !covers(selector, p));
          for (const type of entry.events) if (selectorMatches(selector, type)) entry.events.delete(type);
          if (entry.patterns.some((p) => overlaps(p, selector))) {
            entry.excluded = entry.excluded.filter((x) => !covers(selector, x));
            entry.excluded.push(selector);
          }
        } else {
          entry.events.delete(selector);
          if (
            entry.patterns.some((p) => selectorMatches(p, selector)) &&
            !entry.excluded.some((x) => selectorMatches(x, selector))
          ) {
            entry.excluded.push(selector);
          }
        }
      }
    }
    const kept = entries.filter((e) => e.events.size > 0 || e.patterns.length > 0);
    if (selectorCount(kept) > SUBSCRIPTION_LIMITS.selectors) {
      throw new SubscriptionError(
        `unsubscribe: too many exclusions on one connection (max ${SUBSCRIPTION_LIMITS.selectors} event types, patterns and exclusions); unsubscribe the pattern instead`,
      );
    }
    this.entries = kept;
    this.byType.clear();
    return this;
  }

  clear(): void {
    this.entries = [];
    this.byType.clear();
  }

  /** True when nothing is subscribed. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Does this subscription select the event's type (ignoring filters)? */
  selects(type: string): boolean {
    return this.entriesFor(type).length > 0;
  }

  matches(event: Matchable): boolean {
    const entries = this.entriesFor(event.type);
    for (let i = 0; i < entries.length; i++) {
      if (compiledMatch(entries[i].compiled, event)) return true;
    }
    return false;
  }

  /** A JSON description of the current state, sent back in `subscribed`/`unsubscribed`. */
  describe(): {
    events: string[];
    patterns: string[];
    excluded: string[];
    entries: { events: string[]; patterns: string[]; filters?: Filters; excluded?: string[] }[];
  } {
    const events = new Set<string>();
    const patterns = new Set<string>();
    const excluded = new Set<string>();
    const entries = this.entries.map((e) => {
      for (const t of e.events) events.add(t);
      for (const p of e.patterns) patterns.add(p);
      for (const x of e.excluded) excluded.add(x);
      return {
        events: [...e.events],
        patterns: [...e.patterns],
        ...(e.filters ? { filters: { ...e.filters } } : {}),
        ...(e.excluded.length ? { excluded: [...e.excluded] } : {}),
      };
    });
    return { events: [...events], patterns: [...patterns], excluded: [...excluded], entries };
  }

  private entriesFor(type: string): Entry[] {
    let list = this.byType.get(type);
    if (list === undefined) {
      list = this.entries.filter((entry) => entrySelects(entry, type));
      // Types come from the catalog at the broadcaster; the bound only guards odd callers.
      if (this.byType.size >= 256) this.byType.clear();
      this.byType.set(type, list);
    }
    return list;
  }
}

/** Event types, patterns and exclusions of `entries`: what SUBSCRIPTION_LIMITS.selectors bounds. */
function selectorCount(entries: readonly SubscriptionEntry[]): number {
  let n = 0;
  for (const e of entries) n += e.events.size + e.patterns.length + e.excluded.length;
  return n;
}

/** Filter values of `entries` (each of an any-of list): what SUBSCRIPTION_LIMITS.filterValues bounds. */
function filterValueCount(entries: readonly { filters?: Filters }[]): number {
  let n = 0;
  for (const { filters } of entries) {
    if (!filters) continue;
    for (const key of Object.keys(filters)) {
      const value = filters[key];
      n += Array.isArray(value) ? value.length : 1;
    }
  }
  return n;
}

function entrySelects(entry: SubscriptionEntry, type: string): boolean {
  if (entry.events.has(type)) return true;
  if (!entry.patterns.some((p) => selectorMatches(p, type))) return false;
  return !entry.excluded.some((x) => selectorMatches(x, type));
}

const RESERVED_QUERY = new Set([
  'events',
  'patterns',
  'apiKey',
  'token',
  'lastEventId',
  'since',
  'epoch',
  'role',
]);

/**
 * Reads a subscribe request from URL query parameters (SSE `/events`, or WS `/ws?events=*`):
 * `events=test.result,test.failed&patterns=coverage.*&status=failed&status=skipped&runId=r_1`.
 * Every parameter that is not reserved (`events`, `patterns`, `apiKey`, `token`, `lastEventId`, `since`,
 * `epoch`, `role`) is a filter. Repeated or comma-separated values of a filter become any-of lists; values
 * stay strings (they match number and boolean fields by their text) except the thresholds, which are
 * converted to numbers. Filters without events or patterns subscribe to every event (`events: ['*']`).
 * Returns undefined when the query has neither selectors nor filters. Throws SubscriptionError for a
 * threshold that is not a number; the rest is validated by `Subscription.subscribe`.
 */
export function subscribeRequestFromQuery(params: URLSearchParams): SubscribeRequest | undefined {
  const list = (name: string): string[] | undefined => {
    const values = params
      .getAll(name)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    return values.length ? values : undefined;
  };
  const events = list('events');
  const patterns = list('patterns');
  const filters: Filters = Object.create(null);
  for (const key of new Set(params.keys())) {
    if (RESERVED_QUERY.has(key)) continue;
    const values = params.getAll(key).flatMap((v) => v.split(','));
    if (THRESHOLDS.has(key)) {
      const value = values[0].trim() === '' ? Number.NaN : Number(values[0]);
      if (!Number.isFinite(value)) {
        throw new SubscriptionError(`filters.${key}: expected a number, got ${JSON.stringify(values[0])}`);
      }
      filters[key] = value;
    } else {
      filters[key] = values.length === 1 ? values[0] : values;
    }
  }
  if (!events && !patterns) {
    return Object.keys(filters).length ? { events: ['*'], filters } : undefined;
  }
  return { events, patterns, filters: Object.keys(filters).length ? filters : undefined };
}
