import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishedEvent } from '@testwire/protocol';
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
