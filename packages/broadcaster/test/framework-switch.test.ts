import type { EventEnvelope } from '@testwire/protocol';
import { describe, expect, it } from 'vitest';
import { FrameworkSwitches } from '../src/framework-switch.js';

let seq = 0;
const started = (runId: string, framework: string, version?: string) =>
  ({
    type: 'test.started',
    seq: ++seq,
    runId,
    timestamp: '2026-12-06T00:00:00.000Z',
    data: {
      framework,
      totalTests: 0,
      testFiles: [],
      ...(version ? { run: { runId, framework, startedAt: 0, frameworkVersion: version } } : {}),
    },
  }) as unknown as EventEnvelope;
const completed = (runId: string, framework: string) =>
  ({
    type: 'test.completed',
    seq: ++seq,
    runId,
    timestamp: '2026-12-06T00:00:01.000Z',
    data: { framework, summary: { total: 0, passed: 0, failed: 0, skipped: 0, duration: 0, success: true } },
  }) as unknown as EventEnvelope;

describe('framework.switched', () => {
  it('when a run of another framework starts after one ended, in the run that starts', () => {
    const switches = new FrameworkSwitches();
    expect(switches.observe(started('a', 'jest'))).toBeUndefined();
    expect(switches.observe(completed('a', 'jest'))).toBeUndefined();
    const switched = switches.observe(started('b', 'playwright', '1.56.0'));
    expect(switched).toEqual({
      type: 'framework.switched',
      runId: 'b',
      timestamp: '2026-12-06T00:00:00.000Z',
      data: {
        from: 'jest',
        to: 'playwright',
        reason: 'run_started',
        success: true,
        framework: { name: 'playwright', version: '1.56.0' },
      },
    });
  });

  it('not for the same framework again, nor for runs that overlap', () => {
    const switches = new FrameworkSwitches();
    switches.observe(started('a', 'jest'));
    switches.observe(completed('a', 'jest'));
    expect(switches.observe(started('b', 'jest'))).toBeUndefined();
    // b runs; c starts before b ends: nothing ended since b started.
    expect(switches.observe(started('c', 'mocha'))).toBeUndefined();
    switches.observe(completed('b', 'jest'));
    switches.observe(completed('c', 'mocha'));
    expect(switches.observe(started('d', 'vitest'))?.data).toMatchObject({ from: 'mocha', to: 'vitest' });
  });
});
