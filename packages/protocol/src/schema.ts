/**
 * The JSON Schema document shipped as `schema/testwire.schema.json` (for consumers in other languages),
 * assembled from the schemas the catalog is written in (`events.ts`, `envelope.ts`, `messages.ts`,
 * `run-state.ts`): the same objects the runtime guards check, and the same source the types are derived
 * from. `scripts/write-schema.mjs` writes it at build; a test fails when the committed file differs.
 */
import { envelopeSchema } from './envelope.js';
import { eventDataSchemas } from './events.js';
import {
  clientMessageSchemas,
  publishMessageSchema,
  runsMessageSchema,
  serverMessageSchemas,
} from './messages.js';

/** The whole JSON Schema document shipped as `schema/testwire.schema.json`. */
export function buildJsonSchemaDocument(): Record<string, unknown> {
  const eventDefs: Record<string, unknown> = {};
  const oneOf: unknown[] = [];
  for (const [type, data] of Object.entries(eventDataSchemas)) {
    const name = `event:${type}`;
    eventDefs[name] = {
      ...envelopeSchema,
      properties: { ...envelopeSchema.properties, type: { const: type }, data },
    };
    oneOf.push({ $ref: `#/$defs/${name}` });
  }
  const clientDefs: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(clientMessageSchemas)) clientDefs[`client:${type}`] = schema;
  const serverDefs: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(serverMessageSchemas)) serverDefs[`server:${type}`] = schema;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://testwire.dev/schema/v1/testwire.schema.json',
    title: 'testwire wire protocol v1: an event envelope as received by subscribers',
    description:
      'The root validates one event envelope. $defs also holds every client message (client:*), server message (server:*) and publisher message (publisher:publish, publisher:runs). Protocol version 1: fields are only ever added.',
    oneOf,
    $defs: {
      ...eventDefs,
      ...clientDefs,
      ...serverDefs,
      'publisher:publish': publishMessageSchema,
      'publisher:runs': runsMessageSchema,
      envelope: envelopeSchema,
    },
  };
}
