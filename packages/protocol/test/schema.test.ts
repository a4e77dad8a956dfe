import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  buildJsonSchemaDocument,
  clientMessageSchemas,
  EVENT_TYPES,
  eventDataSchemas,
  RunStateStore,
  Subscription,
  serverMessageSchemas,
  validateSchema,
} from '../src/index.js';
import { referenceEnvelopes } from './fixtures/reference-examples.js';

const schemaPath = fileURLToPath(new URL('../schema/testwire.schema.json', import.meta.url));
const shipped = JSON.parse(readFileSync(schemaPath, 'utf8'));

// ajv's CJS default export, whatever the interop of the test transform
const AjvClass = ((Ajv2020 as any).default ?? Ajv2020) as typeof Ajv2020;
const ajv = new AjvClass({ strict: true, allowUnionTypes: true, allErrors: true });
const validateEnvelope = ajv.compile(shipped);
const def = (name: string) => {
  const validate = ajv.getSchema(`${shipped.$id}#/$defs/${name}`);
  if (!validate) throw new Error(`no $defs/${name} in the shipped schema`);
  return validate;
};

describe('schema/testwire.schema.json', () => {
  it('is in sync with the code (run `pnpm --filter @testwire/protocol build` to regenerate)', () => {
    expect(shipped).toEqual(JSON.parse(JSON.stringify(buildJsonSchemaDocument())));
  });

  it('is exported by the package', () => {
    const pkg = createRequire(import.meta.url)('../package.json');
    expect(pkg.exports['./schema.json']).toBe('./schema/testwire.schema.json');
    expect(pkg.files).toContain('schema');
  });

  it('defines every event type, client and server message', () => {
    for (const type of EVENT_TYPES) expect(shipped.$defs[`event:${type}`], type).toBeDefined();
    for (const type of Object.keys(clientMessageSchemas))
      expect(shipped.$defs[`client:${type}`], type).toBeDefined();
    for (const type of Object.keys(serverMessageSchemas))
      expect(shipped.$defs[`server:${type}`], type).toBeDefined();
    expect(shipped.oneOf).toHaveLength(EVENT_TYPES.length);
  });

  it.each(referenceEnvelopes.map((e) => [e.type, e] as const))(
    'a JSON Schema validator accepts the %s example',
    (_type, envelope) => {
      const valid = validateEnvelope(envelope);
      expect(validateEnvelope.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    },
  );

  it.each([
    ['unknown type', { type: 'test.nope', timestamp: 't', seq: 1, runId: '', data: {} }],
    [
      'missing seq',
      {
        type: 'test.output',
        timestamp: 't',
        runId: '',
        data: { output: 'x', outputType: 'stdout', stream: 'log' },
      },
    ],
    ['bad status', { ...referenceEnvelopes[2], data: { ...referenceEnvelopes[2].data, status: 'green' } }],
    ['string seq', { ...referenceEnvelopes[0], seq: '1' }],
  ])('a JSON Schema validator and the built-in one both reject: %s', (_name, envelope) => {
    expect(validateEnvelope(envelope)).toBe(false);
    const type = (envelope as { type: string }).type as keyof typeof eventDataSchemas;
    const builtIn =
      eventDataSchemas[type] === undefined ||
      validateSchema(shipped.$defs.envelope, envelope) !== undefined ||
      validateSchema(eventDataSchemas[type], (envelope as { data: unknown }).data) !== undefined;
    expect(builtIn).toBe(true);
  });

  it('validates client messages', () => {
    expect(
      def('client:subscribe')({
        type: 'subscribe',
        id: 1,
        events: ['*'],
        filters: { status: ['failed'], attempt: 2 },
      }),
    ).toBe(true);
    expect(def('client:subscribe')({ type: 'subscribe', filters: { status: { $ne: 1 } } })).toBe(false);
    expect(def('client:resume')({ type: 'resume', epoch: 'e', since: 3 })).toBe(true);
    expect(def('client:resume')({ type: 'resume', epoch: 'e' })).toBe(false);
    expect(def('client:ping')({ type: 'ping' })).toBe(true);
  });

  it('validates server messages built by the protocol code', () => {
    const subscription = new Subscription()
      .subscribe({ patterns: ['test.*'], filters: { project: 'web' } })
      .unsubscribe({ events: ['test.output'] });
    const subscribed = { type: 'subscribed', id: 'a', ...subscription.describe() };
    expect(def('server:subscribed')(subscribed)).toBe(true);

    const store = new RunStateStore();
    for (const envelope of referenceEnvelopes) store.apply(envelope as never);
    const snapshot = JSON.parse(
      JSON.stringify({ type: 'snapshot', epoch: 'e', seq: 20, runs: store.snapshot() }),
    );
    const validSnapshot = def('server:snapshot');
    expect(validSnapshot(snapshot), JSON.stringify(validSnapshot.errors)).toBe(true);
    expect(snapshot.runs).toHaveLength(1);

    expect(
      def('server:connection.established')({
        type: 'connection.established',
        server: 'testwire',
        protocol: 1,
        version: '0.1.0',
        epoch: 'e',
        seq: 0,
        connectionId: 'c1',
        runs: [{ runId: 'r', framework: 'jest', status: 'running' }],
        heartbeatMs: 15000,
      }),
    ).toBe(true);
    const alreadyLive = {
      type: 'resume.failed',
      reason: 'ALREADY_LIVE',
      message: 'x',
      epoch: 'e',
      since: 1,
      oldestSeq: 1,
    };
    expect(def('server:resume.failed')(alreadyLive)).toBe(true);
    expect(
      def('client:subscribe')({ type: 'subscribe', events: ['*'], resume: { epoch: 'e', since: 3 } }),
    ).toBe(true);
    expect(def('client:subscribe')({ type: 'subscribe', events: ['*'], resume: { epoch: 'e' } })).toBe(false);
    expect(def('server:error')({ type: 'error', code: 'INVALID_JSON', message: 'x' })).toBe(true);
    expect(
      def('server:resume.failed')({
        type: 'resume.failed',
        reason: 'GONE',
        message: 'x',
        epoch: 'e',
        since: 1,
        oldestSeq: 5,
      }),
    ).toBe(false);
    expect(
      def('publisher:publish')({
        type: 'publish',
        id: 1,
        events: [{ type: 'test.output', runId: 'r', data: {} }],
      }),
    ).toBe(true);
    expect(def('publisher:runs')({ type: 'runs', id: 2, runs: snapshot.runs })).toBe(true);
    expect(def('publisher:runs')({ type: 'runs', id: 2, runs: [{ runId: 'r' }] })).toBe(false);
  });
});
