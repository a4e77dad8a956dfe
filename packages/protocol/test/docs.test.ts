import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  clientMessageSchemas,
  EVENT_TYPES,
  envelopeSchema,
  eventDataSchemas,
  isEventType,
  parseClientMessage,
  publishMessageSchema,
  runsMessageSchema,
  serverMessageSchemas,
  validateSchema,
} from '../src/index.js';

/** docs/protocol.md is the wire contract people read: its JSON examples must be valid messages. */
const docPath = fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url));
const hasDoc = existsSync(docPath);

function jsonExamples(markdown: string): unknown[] {
  const out: unknown[] = [];
  for (const match of markdown.matchAll(/```json\n([\s\S]*?)```/g)) {
    const block = match[1];
    try {
      out.push(JSON.parse(block));
      continue;
    } catch {}
    // Several messages in one block, each on one or more lines.
    let pending = '';
    for (const line of block.split('\n')) {
      // A line opening a new message drops an unparsable one before it (examples elide with `{…}`).
      if (line.startsWith('{"type"')) pending = '';
      pending += `${line}\n`;
      try {
        out.push(JSON.parse(pending));
        pending = '';
      } catch {}
    }
  }
  return out;
}

function problem(message: Record<string, unknown>): string | undefined {
  const type = message.type as string;
  if (isEventType(type)) {
    return (
      validateSchema(envelopeSchema, message) ?? validateSchema(eventDataSchemas[type], message.data, 'data')
    );
  }
  // `snapshot` is both a request (client) and the answer (server, with runs).
  const isServer =
    Object.hasOwn(serverMessageSchemas, type) && !(type === 'snapshot' && !('runs' in message));
  if (isServer) return validateSchema(serverMessageSchemas[type as 'pong'], message);
  if (Object.hasOwn(clientMessageSchemas, type)) {
    const parsed = parseClientMessage(JSON.stringify(message));
    return parsed.ok ? validateSchema(clientMessageSchemas[type as 'ping'], message) : parsed.message;
  }
  if (type === 'publish') return validateSchema(publishMessageSchema, message);
  if (type === 'runs') return validateSchema(runsMessageSchema, message);
  return `unknown message type ${JSON.stringify(type)}`;
}

describe.skipIf(!hasDoc)('docs/protocol.md examples', () => {
  const markdown = hasDoc ? readFileSync(docPath, 'utf8') : '';
  const examples = jsonExamples(markdown).filter(
    (value): value is Record<string, unknown> =>
      typeof value === 'object' && value !== null && 'type' in value,
  );

  it('shows an envelope of every event type and every server message', () => {
    const types = new Set(examples.map((e) => e.type));
    for (const type of EVENT_TYPES) expect(types.has(type), type).toBe(true);
    for (const type of Object.keys(serverMessageSchemas)) expect(types.has(type), type).toBe(true);
    for (const type of Object.keys(clientMessageSchemas)) expect(types.has(type), type).toBe(true);
  });

  it('every complete JSON example is a valid message', () => {
    expect(examples.length).toBeGreaterThan(30);
    for (const example of examples)
      expect(problem(example), JSON.stringify(example).slice(0, 120)).toBeUndefined();
  });
});
