/**
 * Endpoint URLs from what a user passes: a base (`http://127.0.0.1:7357`, `ws://host:port`) or a full
 * endpoint (`ws://host:port/ws`, `http://host:port/events`), with or without a path prefix.
 */
import { type Filters, redactCredentials } from '@testwire/protocol';
import { TestwireError } from './errors.js';

export type Endpoint = 'ws' | 'events';

export function endpointUrl(input: string, endpoint: Endpoint): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new TestwireError(
      'INVALID_ARGUMENT',
      `url: ${JSON.stringify(redactCredentials(input))} is not a valid URL; pass a base like "http://127.0.0.1:7357" or "ws://127.0.0.1:7357/ws"`,
    );
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new TestwireError(
      'INVALID_ARGUMENT',
      `url: unsupported protocol ${url.protocol} in ${redactCredentials(input)}; use http(s) or ws(s)`,
    );
  }
  url.protocol = endpoint === 'ws' ? (secure ? 'wss:' : 'ws:') : secure ? 'https:' : 'http:';
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/ws')) path = path.slice(0, -3);
  else if (path.endsWith('/events')) path = path.slice(0, -7);
  url.pathname = `${path}/${endpoint}`;
  url.hash = '';
  return url;
}

/** Puts credentials on the URL: the one way that works for WebSocket and EventSource in browsers too. */
export function withAuth(url: URL, auth: { apiKey?: string; token?: string }): URL {
  if (auth.apiKey) url.searchParams.set('apiKey', auth.apiKey);
  if (auth.token) url.searchParams.set('token', auth.token);
  return url;
}

/** SSE carries its subscription in the query (`events=a,b&patterns=test.*&status=failed`). */
export function withSubscription(
  url: URL,
  sub: { events?: string[]; patterns?: string[]; filters?: Filters },
): URL {
  if (sub.events?.length) url.searchParams.set('events', sub.events.join(','));
  if (sub.patterns?.length) url.searchParams.set('patterns', sub.patterns.join(','));
  for (const [key, value] of Object.entries(sub.filters ?? {})) {
    url.searchParams.delete(key);
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

/** A URL safe to show in messages: credentials masked. */
export function redact(url: URL | string): string {
  return redactCredentials(String(url));
}
