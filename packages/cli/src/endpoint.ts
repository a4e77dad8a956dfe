import { DEFAULT_HOST, DEFAULT_PORT, redactCredentials } from '@testwire/protocol';
import { CliError, ExitCode } from './errors.js';

/** Where a command connects: the broadcaster's base HTTP URL, its WebSocket URL and the credentials. */
export interface Endpoint {
  /** `http://127.0.0.1:7357` — no trailing slash, no path. */
  httpUrl: string;
  /** `ws://127.0.0.1:7357/ws` */
  wsUrl: string;
  apiKey?: string;
}

export interface EndpointInput {
  url?: string;
  port?: string;
  host?: string;
  apiKey?: string;
}

/**
 * Resolves the endpoint from flags, then the environment (`TESTWIRE_URL`, `TESTWIRE_HOST`,
 * `TESTWIRE_PORT`, `TESTWIRE_API_KEY`), then the defaults (127.0.0.1:7357).
 * Accepts `http(s)://host:port`, `ws(s)://host:port/ws` or a bare `host:port`.
 */
export function resolveEndpoint(input: EndpointInput, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const apiKey = input.apiKey ?? (env.TESTWIRE_API_KEY || undefined);
  let raw = input.url;
  if (raw === undefined && (input.port !== undefined || input.host !== undefined)) {
    raw = `http://${formatHost(input.host || env.TESTWIRE_HOST || DEFAULT_HOST)}:${parsePort(input.port ?? (env.TESTWIRE_PORT || String(DEFAULT_PORT)), '--port')}`;
  }
  raw ??= env.TESTWIRE_URL || undefined;
  raw ??= `http://${formatHost(env.TESTWIRE_HOST || DEFAULT_HOST)}:${parsePort(env.TESTWIRE_PORT || String(DEFAULT_PORT), 'TESTWIRE_PORT')}`;
  return { ...endpointFromUrl(raw), ...(apiKey ? { apiKey } : {}) };
}

function endpointFromUrl(raw: string): Omit<Endpoint, 'apiKey'> {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(
      `invalid URL ${JSON.stringify(redactCredentials(raw))}: expected like http://127.0.0.1:7357`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new CliError(
      `invalid URL ${JSON.stringify(redactCredentials(raw))}: use http://, https://, ws:// or wss://`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
  // `ws://host:port/ws`, `http://host:port/status` and friends all mean the same endpoint.
  const base = url.pathname.replace(/\/+(ws|events|status|health)?\/*$/, '');
  const httpUrl = `${secure ? 'https' : 'http'}://${url.host}${base}`;
  return { httpUrl, wsUrl: `${secure ? 'wss' : 'ws'}://${url.host}${base}/ws` };
}

/** Parses a TCP port; throws a usage error naming the flag or variable it came from. */
export function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(
      `${source}: expected a port number 0-65535, got ${JSON.stringify(value)}`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
  return port;
}

const formatHost = (host: string): string =>
  host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
