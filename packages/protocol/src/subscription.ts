/**
 * Subscription matching: which events a subscriber receives.
 *
 * Selectors
 *   - an exact type: `test.result`
 *   - `*`: every event
 *   - a pattern: dot-separated segments where `*` stands for exactly one segment (`test.*`, `*.error`)
 *   `events` and `patterns` take the same selectors; a wildcard inside `events` is treated as a pattern.
 *
 * Filters (per subscribe message, they apply to the selectors of that same message)
 *   - `key: value`   the event's `data[key]` (dot paths reach nested fields: `error.type`) equals value
 *   - `key: [a, b]`  any of the values
 *   - `runId`        matches the envelope's `runId` (rooms: follow one run)
 *   - a field the event does not have never matches: a filter selects events that have it
 *   - `memoryThreshold: n` only performance.metrics whose `memory.heapUsed` (MB) > n
 *   - `cpuThreshold: n`    only performance.metrics whose `cpu.usage` (%) > n
 *     (thresholds say nothing about other event types: those pass them)
 *
 * Combining
 *   - every subscribe adds an entry; an event is delivered when any entry matches it
 *   - unsubscribe `{events}` removes those exact types from every entry; if a pattern still covers one of
 *     them it is excluded, so unsubscribing `test.output` under `test.*` stops test.output only
 *   - unsubscribe `{patterns}` removes those patterns and the exact types they cover; if a wider pattern
 *     still covers them they are excluded too
 *   - exact types beat exclusions; a later subscribe of a pattern lifts the exclusions it covers
 *   - unsubscribe `*` (in events or patterns) removes everything
 */

export type FilterPrimitive = string | number | boolean | null;
export type FilterValue = FilterPrimitive | FilterPrimitive[];
export type Filters = Record<string, FilterValue>;

export interface SubscribeRequest {
  events?: string[];
  patterns?: string[];
  filters?: Filters;
}

export interface SubscriptionEntry {
  events: Set<string>;
  patterns: string[];
  filters?: Filters;
}

/** The part of an envelope matching needs. */
export interface Matchable {
  type: string;
  runId?: string;
  data?: unknown;
}

export class SubscriptionError extends Error {
  readonly code = 'INVALID_SUBSCRIPTION';
}

const SELECTOR = /^(\*|[a-z0-9_-]+)(\.(\*|[a-z0-9_-]+))*$/i;
const THRESHOLDS = new Set(['memoryThreshold', 'cpuThreshold']);

const isPattern = (selector: string): boolean => selector.includes('*');

/** True when `pattern` (a selector, possibly exact) matches the event type. */
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

function checkSelectors(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SubscriptionError(`${field}: expected an array of event types`);
  for (const item of value) {
    if (typeof item !== 'string' || !SELECTOR.test(item)) {
      throw new SubscriptionError(
        `${field}: ${JSON.stringify(item)} is not an event type or pattern (like "test.result", "test.*" or "*")`,
      );
    }
  }
  return value as string[];
}

/** Validates filters; throws a SubscriptionError naming the bad key. */
export function checkFilters(value: unknown): Filters | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SubscriptionError('filters: expected an object of field -> value or array of values');
  }
  const out: Filters = {};
  for (const [key, raw] of Object.entries(value)) {
    if (key === '') throw new SubscriptionError('filters: empty field name');
    if (THRESHOLDS.has(key)) {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        throw new SubscriptionError(`filters.${key}: expected a number, got ${JSON.stringify(raw)}`);
      }
    } else if (Array.isArray(raw)) {
      if (raw.length === 0) throw new SubscriptionError(`filters.${key}: empty any-of list matches nothing`);
      for (const v of raw) {
        if (v !== null && typeof v === 'object') {
          throw new SubscriptionError(`filters.${key}: any-of values must be strings, numbers, booleans or null`);
        }
      }
    } else if (raw !== null && typeof raw === 'object') {
      throw new SubscriptionError(`filters.${key}: expected a string, number, boolean, null or an array of them`);
    }
    out[key] = raw as FilterValue;
  }
  return out;
}

function readPath(data: unknown, path: string): unknown {
  if (!path.includes('.')) return (data as Record<string, unknown> | undefined)?.[path];
  let current: unknown = data;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Equality where a string filter value (from a URL query) also matches a number or boolean field. */
const same = (want: FilterPrimitive, have: unknown): boolean =>
  want === have || (typeof want === 'string' && (typeof have === 'number' || typeof have === 'boolean') && String(have) === want);

/** True when the event passes every filter. */
export function filtersMatch(filters: Filters | undefined, event: Matchable): boolean {
  if (!filters) return true;
  for (const key in filters) {
    const want = filters[key];
    if (key === 'memoryThreshold' || key === 'cpuThreshold') {
      if (event.type !== 'performance.metrics') continue;
      const path = key === 'memoryThreshold' ? 'memory.heapUsed' : 'cpu.usage';
      const have = readPath(event.data, path);
      if (typeof have !== 'number' || !(have > (want as number))) return false;
      continue;
    }
    const have = key === 'runId' ? event.runId : readPath(event.data, key);
    if (have === undefined) return false;
    if (Array.isArray(want) ? !want.some((w) => same(w, have)) : !same(want, have)) return false;
  }
  return true;
}

/**
 * One subscriber's subscription state. Mutated by `subscribe`/`unsubscribe`, queried by `matches`.
 * Designed for the broadcaster's fan-out: `matches` allocates nothing.
 */
export class Subscription {
  private entries: SubscriptionEntry[] = [];
  private excluded: string[] = [];

  /** Parses and validates a subscribe request; throws SubscriptionError without changing state. */
  subscribe(request: SubscribeRequest): this {
    const events = checkSelectors(request.events, 'events');
    const patterns = checkSelectors(request.patterns, 'patterns');
    const filters = checkFilters(request.filters);
    const entry: SubscriptionEntry = { events: new Set(), patterns: [], filters };
    for (const selector of [...events, ...patterns]) {
      if (isPattern(selector)) {
        if (!entry.patterns.includes(selector)) entry.patterns.push(selector);
        this.excluded = this.excluded.filter((x) => !covers(selector, x));
      } else {
        entry.events.add(selector);
      }
    }
    if (entry.events.size > 0 || entry.patterns.length > 0) this.entries.push(entry);
    return this;
  }

  unsubscribe(request: Pick<SubscribeRequest, 'events' | 'patterns'>): this {
    const selectors = [...checkSelectors(request.events, 'events'), ...checkSelectors(request.patterns, 'patterns')];
    if (selectors.includes('*')) {
      this.clear();
      return this;
    }
    for (const selector of selectors) {
      for (const entry of this.entries) {
        if (isPattern(selector)) {
          entry.patterns = entry.patterns.filter((p) => !covers(selector, p));
          for (const type of entry.events) if (selectorMatches(selector, type)) entry.events.delete(type);
        } else {
          entry.events.delete(selector);
        }
      }
      if (this.entries.some((e) => e.patterns.some((p) => covers(p, selector))) && !this.excluded.includes(selector)) {
        this.excluded.push(selector);
      }
    }
    this.entries = this.entries.filter((e) => e.events.size > 0 || e.patterns.length > 0);
    return this;
  }

  clear(): void {
    this.entries = [];
    this.excluded = [];
  }

  /** True when nothing is subscribed. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Does this subscription select the event's type (ignoring filters)? */
  selects(type: string): boolean {
    return this.entries.some((entry) => this.entrySelects(entry, type));
  }

  matches(event: Matchable): boolean {
    for (const entry of this.entries) {
      if (this.entrySelects(entry, event.type) && filtersMatch(entry.filters, event)) return true;
    }
    return false;
  }

  /** A JSON description of the current state, sent back in `subscribed`/`unsubscribed`. */
  describe(): { events: string[]; patterns: string[]; excluded: string[]; entries: { events: string[]; patterns: string[]; filters?: Filters }[] } {
    const events = new Set<string>();
    const patterns = new Set<string>();
    const entries = this.entries.map((e) => {
      for (const t of e.events) events.add(t);
      for (const p of e.patterns) patterns.add(p);
      return { events: [...e.events], patterns: [...e.patterns], ...(e.filters ? { filters: e.filters } : {}) };
    });
    return { events: [...events], patterns: [...patterns], excluded: [...this.excluded], entries };
  }

  private entrySelects(entry: SubscriptionEntry, type: string): boolean {
    if (entry.events.has(type)) return true;
    if (entry.patterns.length === 0) return false;
    if (!entry.patterns.some((p) => selectorMatches(p, type))) return false;
    return !this.excluded.some((x) => selectorMatches(x, type));
  }
}

const RESERVED_QUERY = new Set(['events', 'patterns', 'apiKey', 'token', 'lastEventId', 'since', 'epoch', 'role']);

/**
 * Reads a subscribe request from URL query parameters (SSE `/events`, or WS `/ws?events=*`):
 * `events=test.result,test.failed&patterns=coverage.*&status=failed&status=skipped&runId=r_1`.
 * Repeated or comma-separated values of a filter become any-of lists; `true`/`false`/numbers of the
 * threshold filters are converted. Returns undefined when the query names no events or patterns.
 */
export function subscribeRequestFromQuery(params: URLSearchParams): SubscribeRequest | undefined {
  const list = (name: string): string[] | undefined => {
    const values = params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    return values.length ? values : undefined;
  };
  const events = list('events');
  const patterns = list('patterns');
  const filters: Filters = {};
  for (const key of new Set(params.keys())) {
    if (RESERVED_QUERY.has(key)) continue;
    const values = params.getAll(key).flatMap((v) => v.split(','));
    if (THRESHOLDS.has(key)) {
      filters[key] = Number(values[0]);
      if (!Number.isFinite(filters[key])) throw new SubscriptionError(`${key}: expected a number, got ${JSON.stringify(values[0])}`);
    } else {
      filters[key] = values.length === 1 ? values[0] : values;
    }
  }
  if (!events && !patterns) {
    return Object.keys(filters).length ? { events: ['*'], filters } : undefined;
  }
  return { events, patterns, filters: Object.keys(filters).length ? filters : undefined };
}
