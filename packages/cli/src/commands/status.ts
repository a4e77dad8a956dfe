import { anotherUsersListener } from '@testwire/protocol/tcp-listeners';
import { endpointFrom, endpointHelp, endpointOptions, type Io, parseCommand } from '../args.js';
import { authError, nothingListening } from '../connect.js';
import type { Endpoint } from '../endpoint.js';
import { CliError, ExitCode } from '../errors.js';
import { createColors, formatDuration, interruptedText, shouldColor } from '../format.js';
import { terminalSafe } from '../terminal-text.js';

export const statusHelp = `Usage: testwire status [options]

Shows the /status of a testwire endpoint: server, version, uptime, connections, history and runs.
Exits 3 when nothing is listening, the endpoint refuses the API key, or another user's process holds
the port (the key is not sent to it).

Options:
  --json             print the raw /status JSON
  -h, --help         show this help

${endpointHelp}`;

/** Fetches `/status`; turns connection and auth failures into one-line CLI errors. */
export async function fetchStatus(endpoint: Endpoint, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (endpoint.apiKey) {
    // The key goes only to this user's own process on a loopback port (tcp-listeners.ts).
    const untrusted = anotherUsersListener(endpoint.httpUrl);
    if (untrusted)
      throw new CliError(`${endpoint.httpUrl}: ${untrusted}`, 'UNTRUSTED_LISTENER', ExitCode.CONNECTION);
    headers.authorization = `Bearer ${endpoint.apiKey}`;
  }
  let response: Response;
  try {
    response = await fetch(`${endpoint.httpUrl}/status`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    if ((error as Error).name === 'TimeoutError') {
      throw new CliError(
        `${endpoint.httpUrl} did not answer /status within ${timeoutMs} ms`,
        'TIMEOUT',
        ExitCode.CONNECTION,
      );
    }
    throw nothingListening(endpoint, cause);
  }
  if (response.status === 401 || response.status === 403) throw authError(endpoint, response.status);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok || typeof body !== 'object' || body === null) {
    throw new CliError(
      `${endpoint.httpUrl} is not a testwire endpoint (/status answered HTTP ${response.status}${body === undefined ? ', not JSON' : ''})`,
      'NOT_TESTWIRE',
      ExitCode.CONNECTION,
    );
  }
  return body as Record<string, unknown>;
}

export async function status(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand('status', argv, { ...endpointOptions, json: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(`${statusHelp}\n`);
    return ExitCode.OK;
  }
  const endpoint = endpointFrom(values, io);
  const body = await fetchStatus(endpoint);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return ExitCode.OK;
  }
  const text = formatStatus(endpoint.httpUrl, terminalSafe(body), shouldColor(io.stdout, io.env));
  io.stdout.write(`${text.join('\n')}\n`);
  return ExitCode.OK;
}

/**
 * Readable /status: the well-known fields first, then whatever else the endpoint reports, flattened
 * (`history.events: 1234`), so newer broadcasters' fields show up without a CLI change.
 */
export function formatStatus(url: string, body: Record<string, unknown>, color: boolean): string[] {
  const c = createColors(color);
  const lines: string[] = [];
  const healthy = body.status === undefined || body.status === 'ok' || body.status === 'healthy';
  lines.push(
    `${c.bold('testwire')} ${c.dim(url)}  ${healthy ? c.green('● up') : c.yellow(`● ${String(body.status)}`)}`,
  );
  const shown = new Set(['status', 'runs']);
  const field = (label: string, value: unknown) => lines.push(`  ${`${label}:`.padEnd(18)} ${value}`);
  const uptime = body.uptime ?? body.uptimeMs;
  for (const key of ['server', 'version', 'protocol', 'epoch', 'seq', 'host', 'port', 'role', 'pid']) {
    if (body[key] !== undefined && typeof body[key] !== 'object') {
      field(key, body[key]);
      shown.add(key);
    }
  }
  if (typeof uptime === 'number') {
    // /status may report seconds (reference 003) or ms; either way show a duration.
    field('uptime', formatDuration(body.uptimeMs !== undefined ? uptime : uptime * 1000));
    shown.add('uptime').add('uptimeMs');
  }
  for (const [key, value] of Object.entries(body)) {
    if (shown.has(key)) continue;
    for (const [path, leaf] of flatten(key, value)) field(path, leaf);
  }
  const runs = Array.isArray(body.runs) ? (body.runs as Record<string, unknown>[]) : [];
  lines.push(`  ${'runs:'.padEnd(18)} ${runs.length === 0 ? c.dim('none') : runs.length}`);
  for (const run of runs) {
    const state =
      run.status !== 'completed'
        ? c.cyan(String(run.status ?? 'running'))
        : run.interrupted === true
          ? c.red(`completed, ${interruptedText(run.interruptedBy)}`)
          : c.dim('completed');
    const counts = run.counts as Record<string, number> | undefined;
    const tally = counts
      ? `  ${counts.passed ?? 0} passed, ${counts.failed ?? 0} failed, ${counts.skipped ?? 0} skipped`
      : '';
    lines.push(
      `    ${String(run.framework ?? '?').padEnd(10)} ${String(run.project ?? '').padEnd(24)} ${state}${tally}  ${c.dim(String(run.runId ?? ''))}`,
    );
  }
  return lines;
}

function flatten(prefix: string, value: unknown, depth = 0): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix, String(value)]];
  if (Array.isArray(value)) {
    return [
      [
        prefix,
        value.every((v) => typeof v !== 'object') ? value.join(', ') || '[]' : `${value.length} items`,
      ],
    ];
  }
  if (depth >= 2) return [[prefix, JSON.stringify(value)]];
  return Object.entries(value).flatMap(([key, inner]) => flatten(`${prefix}.${key}`, inner, depth + 1));
}
