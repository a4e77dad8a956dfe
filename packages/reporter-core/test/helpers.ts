import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyEventEnvelope, isEventEnvelope, type PublishedEvent } from '@testwire/protocol';
import WebSocket from 'ws';
import { createReporterCore, type ReporterCoreOptions } from '../src/index.js';

/** A core writing into an array, rooted in a fresh temp project named `fixture-project`. */
export function sinkCore(overrides: Partial<ReporterCoreOptions> = {}) {
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-core-'));
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'fixture-project' }));
  const events: PublishedEvent[] = [];
  const core = createReporterCore({
    framework: 'jest',
    rootDir,
    performanceIntervalMs: 0,
    sink: (event) => events.push(event),
    env: {},
    ...overrides,
  });
  const of = <T extends PublishedEvent['type']>(type: T) =>
    events.filter((event) => event.type === type) as unknown as { type: T; runId: string; data: any }[];
  const cleanup = () => rmSync(rootDir, { recursive: true, force: true });
  return { core, events, of, rootDir, cleanup };
}

/** A real WebSocket subscriber to every event of `wsUrl`; `received` fills as events arrive. */
export async function subscribeAll(
  wsUrl: string,
): Promise<{ socket: WebSocket; received: AnyEventEnvelope[] }> {
  const socket = new WebSocket(wsUrl);
  const received: AnyEventEnvelope[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection.established')
        socket.send(JSON.stringify({ type: 'subscribe', events: ['*'] }));
      else if (message.type === 'subscribed') resolve();
      else if (isEventEnvelope(message)) received.push(message);
    });
  });
  return { socket, received };
}

/** Events every run carries besides what a test is about (contract-events.test.ts checks them). */
export const RUN_CONTEXT_EVENTS = new Set(['framework.detected', 'framework.switched', 'system.health']);

/** The events of `runId` once its test.completed arrived (bounded wait). */
export async function completedRun(
  received: AnyEventEnvelope[],
  runId: string,
  timeoutMs = 10_000,
): Promise<AnyEventEnvelope[]> {
  const deadline = Date.now() + timeoutMs;
  const done = () => received.some((e) => e.runId === runId && e.type === 'test.completed');
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const events = received.filter((e) => e.runId === runId);
  if (!done()) throw new Error(`no test.completed for ${runId}; got ${events.map((e) => e.type)}`);
  return events;
}
