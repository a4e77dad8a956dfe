/**
 * What every renderer of the CLI uses (format.ts, baseline-format.ts, monitor.ts, the commands): colours, a
 * duration, a title path on one line.
 */

export interface Colors {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/** ANSI colours, or identity functions when disabled. */
export function createColors(enabled: boolean): Colors {
  const id = (s: string) => s;
  return {
    enabled,
    red: enabled ? wrap(31, 39) : id,
    green: enabled ? wrap(32, 39) : id,
    yellow: enabled ? wrap(33, 39) : id,
    cyan: enabled ? wrap(36, 39) : id,
    magenta: enabled ? wrap(35, 39) : id,
    dim: enabled ? wrap(2, 22) : id,
    bold: enabled ? wrap(1, 22) : id,
  };
}

/** Colour on a TTY unless NO_COLOR is set; FORCE_COLOR forces it (0 disables). */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '')
    return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

/** `1.2 s`, `340 ms`, `2 m 05 s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}

/** A test's title path on one line (`suite › test`), or `fallback`. */
export const titleOf = (titlePath: string[] | undefined, fallback = ''): string =>
  titlePath && titlePath.length > 0 ? titlePath.join(' › ') : fallback;

/** `1 test`, `2 tests`: a count with its noun, singular for one. */
export const countOf = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** A run's total as its announcement says it. */
export const totalOf = (totalTests: number): string =>
  totalTests > 0 ? countOf(totalTests, 'test') : 'tests not counted yet';
