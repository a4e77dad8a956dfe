/**
 * coverage.started for a mocha run under nyc (`nyc mocha …`): nyc hands its resolved options over in
 * `NYC_CONFIG`. Per-file coverage during the run is not told: nyc counts into one global object for the
 * whole process, and summarizing it after each file would cost the run its size each time (see README).
 */
import type { CoverageStartInfo } from '@testwire/reporter-core';

export function nycCoverageStart(env: NodeJS.ProcessEnv = process.env): CoverageStartInfo | undefined {
  if (!env.NYC_CONFIG) return undefined;
  try {
    const config = JSON.parse(env.NYC_CONFIG) as { include?: unknown; exclude?: unknown };
    const list = (value: unknown): string[] =>
      Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
    return {
      provider: 'nyc',
      patterns: [...list(config.include), ...list(config.exclude).map((glob) => `!${glob}`)],
    };
  } catch {
    return { provider: 'nyc' };
  }
}
