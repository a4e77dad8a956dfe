/**
 * The catalog is written once (schema-builder.ts): the types are derived from the schemas, the JSON Schema
 * document is assembled from them (schema.test.ts: the committed file equals what they produce), and the
 * runtime validator interprets them. These tests hold the pieces to that: the builder's output, the types it
 * derives (checked by `tsc -p test`, the package's typecheck), and the validator agreeing with a standard
 * JSON Schema validator on the same document.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ClientMessage,
  clientMessageSchemas,
  type EventDataMap,
  type EventType,
  envelopeSchema,
  eventDataSchemas,
  type FilterValue,
  publishMessageSchema,
  type RunCounts,
  runsMessageSchema,
  type Schema,
  type ServerMessage,
  type Static,
  serverMessageSchemas,
  type TestError,
  type TestFailedData,
  type TestResultData,
  validateSchema,
} from '../src/index.js';
import * as t from '../src/schema-builder.js';
import { referenceEnvelopes } from './fixtures/reference-examples.js';

describe('schema builder', () => {
  it('returns plain JSON Schema: optional properties are left out of `required`, and leave no mark', () => {
    const location = t.object({ file: t.string(), line: t.optional(t.integer({ minimum: 0 })) });
    expect(JSON.parse(JSON.stringify(location))).toEqual({
      type: 'object',
      properties: { file: { type: 'string' }, line: { type: 'integer', minimum: 0 } },
      required: ['file'],
    });
    expect(Object.getOwnPropertySymbols(location.properties.line)).toEqual([]);
    expect(Object.keys(location.properties.line)).toEqual(['type', 'minimum']);
  });

  it('marks a copy optional: the same schema stays required where it is not wrapped', () => {
    const name = t.string();
    const both = t.object({ a: name, b: t.optional(name), ...t.partial({ c: name }) });
    expect(both.required).toEqual(['a']);
    expect(t.object({ a: name }).required).toEqual(['a']);
  });

  it('builds literals, enums, arrays, records and descriptions', () => {
    expect(t.literal('failed')).toEqual({ type: 'string', enum: ['failed'] });
    expect(t.literal(1)).toEqual({ type: 'number', enum: [1] });
    expect(t.enumOf(['a', 'b'])).toEqual({ type: 'string', enum: ['a', 'b'] });
    expect(t.array(t.number())).toEqual({ type: 'array', items: { type: 'number' } });
    expect(t.record()).toEqual({ type: 'object' });
    expect(t.record(t.boolean(), { description: 'd' })).toEqual({
      type: 'object',
      additionalProperties: { type: 'boolean' },
      description: 'd',
    });
  });

  it('merges a union into one list of types, and refuses what the validator could not check', () => {
    const primitive = t.union(t.string(), t.number(), t.boolean(), t.null());
    expect(t.union(primitive, t.array(primitive))).toEqual({
      type: ['string', 'number', 'boolean', 'null', 'array'],
      items: { type: ['string', 'number', 'boolean', 'null'] },
    });
    expect(() => t.union(t.string(), t.enumOf(['a']))).toThrow(/plain typed schemas/);
    expect(() => t.union(t.string(), t.string())).toThrow(/two members of type string/);
  });

  it('derives the types', () => {
    const schema = t.object({
      name: t.string<'a' | 'b'>(),
      count: t.optional(t.integer()),
      tags: t.array(t.string()),
      extra: t.optional(t.record(t.number())),
      kind: t.literal('x'),
      state: t.enumOf(['on', 'off']),
      id: t.union(t.string(), t.number()),
      nested: t.object({ ok: t.boolean() }),
    });
    expectTypeOf<Static<typeof schema>>().toEqualTypeOf<{
      name: 'a' | 'b';
      count?: number;
      tags: string[];
      extra?: Record<string, number>;
      kind: 'x';
      state: 'on' | 'off';
      id: string | number;
      nested: { ok: boolean };
    }>();
  });
});

describe('the exported types are the catalog', () => {
  it('derives every event data type from its schema', () => {
    expectTypeOf<EventDataMap['test.result']>().toEqualTypeOf<
      Static<(typeof eventDataSchemas)['test.result']>
    >();
    expectTypeOf<TestResultData>().toMatchTypeOf<EventDataMap['test.result']>();
    expectTypeOf<EventDataMap['test.result']>().toMatchTypeOf<TestResultData>();
    expectTypeOf<TestFailedData['status']>().toEqualTypeOf<'failed'>();
    expectTypeOf<TestFailedData['scope']>().toEqualTypeOf<'test' | 'hook' | 'file' | 'run' | undefined>();
    expectTypeOf<TestResultData['error']>().toMatchTypeOf<TestError | undefined>();
    expectTypeOf<EventType>().toEqualTypeOf<keyof typeof eventDataSchemas>();
    expectTypeOf<RunCounts['retrying']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<FilterValue>().toEqualTypeOf<
      string | number | boolean | null | (string | number | boolean | null)[]
    >();
    expectTypeOf<ClientMessage['type']>().toEqualTypeOf<keyof typeof clientMessageSchemas>();
    expectTypeOf<ServerMessage['type']>().toEqualTypeOf<keyof typeof serverMessageSchemas>();
  });

  it('lists every event type once, from the catalog', () => {
    expect(Object.keys(eventDataSchemas)).toHaveLength(21);
    for (const schema of Object.values(eventDataSchemas)) expect(schema.type).toBe('object');
  });
});

/** The keywords `validateSchema` checks (plus `description`, an annotation). */
const VALIDATED = new Set([
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'minimum',
  'description',
]);

function keywords(schema: Schema, path: string, out: string[]): string[] {
  for (const key of Object.keys(schema)) if (!VALIDATED.has(key)) out.push(`${path}: ${key}`);
  for (const [key, sub] of Object.entries(schema.properties ?? {})) keywords(sub, `${path}.${key}`, out);
  if (schema.items) keywords(schema.items, `${path}[]`, out);
  if (schema.additionalProperties) keywords(schema.additionalProperties, `${path}.*`, out);
  return out;
}

describe('the runtime validator and the JSON Schema document say the same', () => {
  const all: [string, Schema][] = [
    ...Object.entries(eventDataSchemas).map(([k, s]) => [`event:${k}`, s] as [string, Schema]),
    ...Object.entries(clientMessageSchemas).map(([k, s]) => [`client:${k}`, s] as [string, Schema]),
    ...Object.entries(serverMessageSchemas).map(([k, s]) => [`server:${k}`, s] as [string, Schema]),
    ['publisher:publish', publishMessageSchema],
    ['publisher:runs', runsMessageSchema],
    ['envelope', envelopeSchema],
  ];

  it('the catalog uses no keyword the validator would ignore', () => {
    const ignored = all.flatMap(([name, schema]) => keywords(schema, name, []));
    expect(ignored).toEqual([]);
  });

  const shipped = JSON.parse(
    readFileSync(fileURLToPath(new URL('../schema/testwire.schema.json', import.meta.url)), 'utf8'),
  );
  const AjvClass = ((Ajv2020 as any).default ?? Ajv2020) as typeof Ajv2020;
  const ajv = new AjvClass({ strict: true, allowUnionTypes: true });
  ajv.compile(shipped);
  const ajvAccepts = (type: string, envelope: unknown) =>
    ajv.getSchema(`${shipped.$id}#/$defs/event:${type}`)!(envelope) as boolean;
  const builtInAccepts = (type: EventType, envelope: { data: unknown }) =>
    validateSchema(envelopeSchema, envelope) === undefined &&
    validateSchema(eventDataSchemas[type], envelope.data) === undefined;

  /** Each reference example with one field of its data dropped, or replaced by a value of another type. */
  function variants(envelope: (typeof referenceEnvelopes)[number]): [string, unknown][] {
    const data = envelope.data as Record<string, unknown>;
    const out: [string, unknown][] = [];
    for (const key of Object.keys(data)) {
      const { [key]: _dropped, ...rest } = data;
      out.push([`without ${key}`, { ...envelope, data: rest }]);
      for (const wrong of ['x', 1.5, -1, true, null, [], {}]) {
        out.push([`${key}: ${JSON.stringify(wrong)}`, { ...envelope, data: { ...data, [key]: wrong } }]);
      }
    }
    return out;
  }

  it.each(referenceEnvelopes.map((e) => [e.type, e] as const))(
    '%s: both accept and reject the same variants of the example',
    (type, envelope) => {
      const disagreements: string[] = [];
      for (const [name, variant] of [['as is', envelope] as [string, unknown], ...variants(envelope)]) {
        const ajvSays = ajvAccepts(type, variant);
        const builtInSays = builtInAccepts(type as EventType, variant as { data: unknown });
        if (ajvSays !== builtInSays) disagreements.push(`${name}: ajv ${ajvSays}, built-in ${builtInSays}`);
      }
      expect(disagreements).toEqual([]);
    },
  );
});
