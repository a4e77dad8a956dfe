/**
 * framework.switched: on one endpoint, a run of another framework starts after a run ended (a monorepo script
 * running jest, then playwright). The hub sees every run of the endpoint, so it decides here, from the events
 * it ingests: the framework of the run that ended last, against the framework of the next run that starts.
 * Runs that overlap (two runners at once) switch nothing: the next start after an end is compared once.
 */
import type { EventEnvelope, PublishedEvent, TestStartedData } from '@testwire/protocol';

export class FrameworkSwitches {
  /** Framework of the run that ended last, until the next run starts. */
  private ended: string | undefined;

  /** The framework.switched event `envelope` brings about, if any (it belongs to the run that starts). */
  observe(envelope: EventEnvelope): PublishedEvent<'framework.switched'> | undefined {
    if (envelope.type === 'test.completed') {
      const framework = (envelope.data as { framework?: unknown }).framework;
      if (typeof framework === 'string') this.ended = framework;
      return undefined;
    }
    if (envelope.type !== 'test.started') return undefined;
    const data = envelope.data as TestStartedData;
    const from = this.ended;
    this.ended = undefined;
    if (from === undefined || typeof data.framework !== 'string' || data.framework === from) return undefined;
    const version = data.run?.frameworkVersion;
    return {
      type: 'framework.switched',
      runId: envelope.runId,
      timestamp: envelope.timestamp,
      data: {
        ...(data.project !== undefined ? { project: data.project } : {}),
        from,
        to: data.framework,
        reason: 'run_started',
        success: true,
        framework: { name: data.framework, ...(version ? { version } : {}) },
      },
    };
  }
}
