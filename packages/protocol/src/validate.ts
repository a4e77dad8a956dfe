/**
 * The small, eval-free validator of the runtime guards: checks a value against a schema of the catalog
 * (the subset of JSON Schema `schema-builder.ts` produces: type (one or a list), properties, required, items,
 * additionalProperties, enum, minimum). Numbers must be finite (NaN and Infinity do not survive JSON).
 */
import type { Schema, SchemaType } from './schema-builder.js';

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'non-finite number';
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
};

const accepts = (expected: string, actual: string): boolean =>
  expected === actual || (expected === 'number' && actual === 'integer');

/**
 * Checks `value` against `schema`; returns `undefined` when it conforms, or a message naming the first
 * offending path (e.g. `data.summary.passed: expected integer, got string`).
 *
 * Runs for every event an owner receives from a publisher: the walk allocates nothing while the value
 * conforms (paths and messages are built only for the failure).
 */
export function validateSchema(schema: Schema, value: unknown, path = ''): string | undefined {
  const failure = compile(schema)(value);
  if (!failure) return undefined;
  let at = path;
  for (let i = failure.segments.length - 1; i >= 0; i--) {
    const segment = failure.segments[i] as string | number;
    at = typeof segment === 'number' ? `${at}[${segment}]` : at ? `${at}.${segment}` : segment;
  }
  return failure.message(at);
}

interface Failure {
  /** Keys and indexes from the offending value up to the root (innermost first). */
  segments: (string | number)[];
  message: (path: string) => string;
}

type Check = (value: unknown) => Failure | undefined;

/**
 * Each schema object is compiled once into a closure over its own fields. The closures come from separate
 * function literals by the schema's kind (a string, an integer, an object…): V8 keeps one set of inline
 * caches per literal, so a leaf's check is one `typeof` and an object's walk meets object values only,
 * where one literal for every kind was several µs per event of generic, megamorphic lookups.
 */
const compiled = new WeakMap<Schema, Check>();

function compile(schema: Schema): Check {
  const known = compiled.get(schema);
  if (known) return known;
  const fn = leafCheck(schema) ?? generalCheck(schema);
  compiled.set(schema, fn);
  return fn;
}

/** Keys a schema may have beside the ones a leaf reads; with any of them, it is not a leaf. */
const isLeaf = (schema: Schema): boolean =>
  schema.properties === undefined &&
  schema.items === undefined &&
  schema.additionalProperties === undefined &&
  schema.required === undefined &&
  schema.enum === undefined &&
  typeof schema.type === 'string';

/** The check of a schema of one primitive type and nothing else (most of the catalog's properties). */
function leafCheck(schema: Schema): Check | undefined {
  if (!isLeaf(schema)) return undefined;
  const type = schema.type as SchemaType;
  const minimum = schema.minimum;
  const wrongType = (value: unknown) => typeFailure([type], value);
  switch (type) {
    case 'string':
      if (minimum !== undefined) return undefined;
      return (value) => (typeof value === 'string' ? undefined : wrongType(value));
    case 'boolean':
      if (minimum !== undefined) return undefined;
      return (value) => (typeof value === 'boolean' ? undefined : wrongType(value));
    case 'integer':
    case 'number': {
      // An integer is also a finite number: one test or the other, then the minimum if there is one.
      const isKind = type === 'integer' ? Number.isInteger : Number.isFinite;
      if (minimum === undefined)
        return (value) => (typeof value === 'number' && isKind(value) ? undefined : wrongType(value));
      return (value) =>
        typeof value === 'number' && isKind(value)
          ? value < minimum
            ? minimumFailure(minimum, value)
            : undefined
          : wrongType(value);
    }
    default:
      return undefined;
  }
}

/** Any schema: type (one or a list), enum, minimum, then an object's properties or an array's items. */
function generalCheck(schema: Schema): Check {
  const types =
    schema.type === undefined ? undefined : Array.isArray(schema.type) ? schema.type : [schema.type];
  const allowed = schema.enum;
  const minimum = schema.minimum;
  const required = schema.required ?? [];
  const listed = schema.properties ?? {};
  const itemsSchema = schema.items;
  const extraSchema = schema.additionalProperties;
  // Sub-schemas compile on first use (a schema may contain itself).
  let properties: Map<string, Check> | undefined;
  let items: Check | undefined;
  let extra: Check | undefined;

  const typeOk = types === undefined ? undefined : typeTest(types);

  return (value) => {
    if (typeOk !== undefined && !typeOk(value)) return typeFailure(types as string[], value);
    if (allowed && !allowed.includes(value as never)) return enumFailure(allowed, value);
    if (minimum !== undefined && typeof value === 'number' && value < minimum) {
      return minimumFailure(minimum, value);
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      for (let i = 0; i < required.length; i++) {
        const key = required[i] as string;
        if (record[key] === undefined)
          return within(
            fail((path) => `${path}: required`),
            key,
          );
      }
      // The value's own keys, each looked up once: a catalog object lists far more optional properties than
      // an event carries, and reading each listed key off the value was most of the check.
      properties ??= new Map(Object.entries(listed).map(([key, sub]) => [key, compile(sub)] as const));
      if (extraSchema) extra ??= compile(extraSchema);
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        const item = record[key];
        if (item === undefined) continue;
        const check = properties.get(key) ?? extra;
        if (check === undefined) continue;
        const failure = check(item);
        if (failure) return within(failure, key);
      }
    } else if (itemsSchema && Array.isArray(value)) {
      items ??= compile(itemsSchema);
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) {
        const failure = items(list[i]);
        if (failure) return within(failure, i);
      }
    }
    return undefined;
  };
}

function typeFailure(types: readonly string[], value: unknown): Failure {
  const actual = typeOf(value);
  return fail((path) => `${path || 'value'}: expected ${types.join(' or ')}, got ${actual}`);
}

// The failures are made by functions of their own: a closure here that read `value` would make V8 allocate
// the check's variables on the heap at every call, failing or not (~40 B a call, ~160 per test.result).
function enumFailure(allowed: readonly unknown[], value: unknown): Failure {
  return fail(
    (path) =>
      `${path || 'value'}: expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
  );
}

function minimumFailure(minimum: number, value: number): Failure {
  return fail((path) => `${path || 'value'}: must be >= ${minimum}, got ${value}`);
}

/**
 * The test of a schema's `type` (one or a list), made once: what `accepts(expected, typeOf(value))` says,
 * without naming the value's type (only a failure needs its name).
 */
function typeTest(types: readonly string[]): (value: unknown) => boolean {
  const tests = types.map(oneTypeTest);
  if (tests.length === 1) return tests[0] as (value: unknown) => boolean;
  return (value) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as (value: unknown) => boolean)(value)) return true;
    return false;
  };
}

function oneTypeTest(type: string): (value: unknown) => boolean {
  switch (type) {
    case 'string':
      return (value) => typeof value === 'string';
    case 'integer':
      return (value) => typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return (value) => typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'null':
      return (value) => value === null;
    case 'array':
      return (value) => Array.isArray(value);
    case 'object':
      return (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return (value) => accepts(type, typeOf(value));
  }
}

function within(failure: Failure, segment: string | number): Failure {
  failure.segments.push(segment);
  return failure;
}

function fail(message: (path: string) => string): Failure {
  return { segments: [], message };
}
