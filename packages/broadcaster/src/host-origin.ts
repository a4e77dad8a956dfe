/**
 * Which names and pages may talk to the broadcaster: the `Host` check (DNS rebinding) and the browser
 * `Origin` check (other sites, and other pages on this machine), on every request and upgrade.
 *
 *   Host    loopback names (localhost, *.localhost), any IP address (an address cannot be rebound), the bound
 *           host, allowedHosts ─> pass; anything else ─> 403 FORBIDDEN_HOST
 *   Origin  none (not a browser) | the endpoint's own (its host:port is the request's Host) | allowedOrigins
 *           ─> pass; anything else, other loopback ports and *.localhost included ─> 403 FORBIDDEN_ORIGIN
 *
 * Header parsing never throws: garbage is foreign.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for names that always mean this machine (what the broadcaster may bind to take a port over). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return LOOPBACK.has(h) || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h);
}

/** `host:port` of a Host header, lower-cased, and its name without brackets; undefined for garbage. */
export function parseHostHeader(value: string | undefined): { host: string; hostname: string } | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 300) return undefined;
  try {
    const url = new URL(`http://${value}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return { host: url.host, hostname: url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '') };
  } catch {
    return undefined;
  }
}

/** What the checks compare with: options, and the name the server is bound to. */
export interface HostPolicy {
  readonly allowedHosts: readonly string[] | true;
  readonly allowedOrigins: readonly string[];
  /** The bound host (`options.host`): always a valid name for this server. */
  readonly boundHost: string;
}

/**
 * The DNS-rebinding guard: a browser that reached us through a name an attacker controls sends that name as
 * Host. Loopback names (`localhost` and `*.localhost`, which browsers resolve to loopback themselves) and
 * IP addresses cannot be rebound. A request without Host (HTTP/1.0) is not a browser's: it passes.
 */
export function hostAllowed(req: IncomingMessage, policy: HostPolicy): boolean {
  if (policy.allowedHosts === true) return true;
  const raw = req.headers.host;
  if (raw === undefined) return true;
  const parsed = parseHostHeader(raw);
  if (!parsed) return false;
  const name = parsed.hostname;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === policy.boundHost.toLowerCase()) return true;
  for (const allowed of policy.allowedHosts) {
    if (allowed === name) return true;
    if (allowed.startsWith('.') && (name.endsWith(allowed) || name === allowed.slice(1))) return true;
  }
  return false;
}

/**
 * The cross-origin guard: requests without an Origin (Node, curl, other languages) pass. A browser Origin
 * passes when it is listed in allowedOrigins or is the endpoint's own: its `host:port` is the request's
 * Host (which hostAllowed checked), so a page this server did not serve cannot read it, whatever port of
 * this machine it came from.
 */
export function originAllowed(req: IncomingMessage, policy: HostPolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin !== 'null' && policy.allowedOrigins.includes(parsed.origin)) return true;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const host = parseHostHeader(req.headers.host);
  return host !== undefined && host.host === parsed.host;
}

/** CORS response headers: only for an Origin listed in allowedOrigins (the endpoint's own needs none). */
export function corsHeaders(
  req: IncomingMessage,
  policy: HostPolicy,
  methods?: string,
): Record<string, string> {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return {};
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return {};
  }
  if (normalized === 'null' || !policy.allowedOrigins.includes(normalized)) return {};
  return {
    'access-control-allow-origin': origin,
    vary: 'Origin',
    ...(methods
      ? {
          'access-control-allow-methods': methods,
          'access-control-allow-headers': 'authorization, last-event-id',
        }
      : {}),
  };
}
