/**
 * The owner's HTTP server: where each request and each upgrade goes, and the checks in front of them.
 *
 *   every socket ── connections per address and in all (connections.ts: a quiet one makes room), headers within
 *                   headersTimeoutMs (slowloris)
 *   every request and upgrade ── rate per address (429) ── Host (403, DNS rebinding) ── Origin (403); a refused
 *                   request closes its connection (what it pipelined behind is not read)
 *
 *   GET /status, /ws/status ── credentials ─────────> introspection.status()
 *   GET /health ─────────────────────────────────────> introspection.health()
 *   GET /events ── origin, credentials, 503 closing ─> SseEndpoint
 *   GET /ws ─────────────────────────────────────────> 426 (upgrade required)
 *   GET /… ──────────────────────────────────────────> dashboard directory | index page | 404
 *   upgrade /ws ── ?role=publisher ─────────────────> PublisherIngress (its own admission)
 *              └── origin, credentials ─────────────> WsEndpoint
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Authenticator } from './auth.js';
import { ConnectionAdmission } from './connections.js';
import { findDashboardDir } from './dashboard.js';
import { corsHeaders, type HostPolicy, hostAllowed, originAllowed } from './host-origin.js';
import { indexPage, rejectUpgrade, sendJson, serveStatic } from './http-util.js';
import type { Introspection } from './introspection.js';
import type { PublisherIngress } from './join/ingress.js';
import type { AddressLimits } from './limits.js';
import type { ResolvedOptions } from './options.js';
import type { SseEndpoint } from './sse-connection.js';
import { VERSION } from './version.js';
import type { WsEndpoint } from './ws-connection.js';

const FORBIDDEN_ORIGIN = {
  error: 'FORBIDDEN_ORIGIN',
  message:
    'Origin not allowed: a browser page may use this endpoint only when it was served by it (same host and port), or when its origin is listed in allowedOrigins',
};
const RATE_LIMITED = {
  error: 'RATE_LIMITED',
  message: 'Too many requests from this address; slow down (limits.requestsPerSecond)',
};

/** Why a Host is refused, naming it (truncated) and the fix. */
function forbiddenHost(host: string | undefined): Record<string, string> {
  return {
    error: 'FORBIDDEN_HOST',
    message: `Host ${JSON.stringify(String(host).slice(0, 100))} is not allowed (DNS rebinding guard): use localhost or an IP address, or add the name to allowedHosts (TESTWIRE_ALLOWED_HOSTS)`,
  };
}

/** A refusal of the checks in front of every route. */
interface Refusal {
  status: number;
  body: Record<string, string>;
  headers?: Record<string, string>;
}
const SHUTTING_DOWN = { error: 'SHUTTING_DOWN', message: 'The broadcaster is shutting down' };
const BAD_REQUEST = { error: 'BAD_REQUEST', message: 'Malformed request URL' };

/** The request's URL (path and query), or undefined when it is malformed. */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** What the routes lead to (the owner builds it). */
export interface RouteTargets {
  readonly options: ResolvedOptions;
  readonly auth: Authenticator;
  readonly limits: AddressLimits;
  readonly introspection: Introspection;
  readonly sse: SseEndpoint;
  readonly ws: WsEndpoint;
  readonly publishers: PublisherIngress;
  /** The owner's URL (the index page names the endpoints by it). */
  url(): string;
  /** True once close() began: new streams are refused with 503. */
  closing(): boolean;
}

/** The owner's HTTP server, routes attached; unbound. */
export function createHttpServer(targets: RouteTargets): Server {
  const routes = new HttpRoutes(targets);
  const { options } = targets;
  const connections = new ConnectionAdmission(options);
  const server = createServer(
    {
      // Slowloris: a client gets headersTimeoutMs to send a request's headers, checked this often.
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: Math.max(options.headersTimeoutMs, 300_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(options.headersTimeoutMs / 4))),
    },
    (req, res) => {
      connections.spoke(req.socket);
      routes.request(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'Internal error' });
        else res.destroy();
      });
    },
  );
  // Node's headersTimeout covers a request begun; the admission closes a socket that never sends one.
  server.on('connection', (socket: Socket) => connections.admit(socket));
  server.on('upgrade', (req, socket, head) => {
    connections.spoke(socket);
    routes.upgrade(req as IncomingMessage, socket, head).catch(() => socket.destroy());
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  if (!targets.options.keepAlive) server.on('connection', (socket: Socket) => socket.unref());
  return server;
}

class HttpRoutes {
  private readonly policy: HostPolicy;

  constructor(private readonly t: RouteTargets) {
    this.policy = {
      allowedHosts: t.options.allowedHosts,
      allowedOrigins: t.options.allowedOrigins,
      boundHost: t.options.host,
    };
  }

  /** The checks in front of every request and upgrade: rate per address, Host, Origin. */
  private gate(req: IncomingMessage): Refusal | undefined {
    if (!this.t.limits.takeRequest(req.socket.remoteAddress ?? ''))
      return { status: 429, body: RATE_LIMITED, headers: { 'retry-after': '1' } };
    if (!hostAllowed(req, this.policy)) return { status: 403, body: forbiddenHost(req.headers.host) };
    if (!originAllowed(req, this.policy)) return { status: 403, body: FORBIDDEN_ORIGIN };
    return undefined;
  }

  async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.gate(req);
    if (refusal) {
      // The connection ends with the refusal: requests pipelined behind it on the same socket would each be
      // parsed and refused in turn, and one socket sending them without pause held the thread the tests'
      // events are published from (the rate limit counts them; it cannot stop them being read).
      res.shouldKeepAlive = false;
      sendJson(
        res,
        refusal.status,
        { server: 'testwire', ...refusal.body },
        { ...refusal.headers, connection: 'close' },
      );
      res.once('finish', () => req.socket.destroy());
      return;
    }
    const url = requestUrl(req);
    if (!url) {
      sendJson(res, 400, BAD_REQUEST);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, this.corsHeaders(req, 'GET, HEAD')).end();
        return;
      }
      sendJson(
        res,
        405,
        { error: 'METHOD_NOT_ALLOWED', message: `${req.method} is not supported; use GET` },
        { allow: 'GET, HEAD' },
      );
      return;
    }
    const path = url.pathname;
    if (path === '/status' || path === '/ws/status') {
      if (!(await this.authorize(req, res, url.searchParams))) return;
      sendJson(res, 200, this.t.introspection.status(), this.corsHeaders(req));
      return;
    }
    if (path === '/health') {
      sendJson(res, 200, this.t.introspection.health(), this.corsHeaders(req));
      return;
    }
    if (path === '/events') {
      if (!(await this.authorize(req, res, url.searchParams))) return;
      if (this.t.closing()) {
        sendJson(res, 503, SHUTTING_DOWN);
        return;
      }
      this.t.sse.open(req, res, url.searchParams);
      return;
    }
    if (path === '/ws') {
      sendJson(res, 426, {
        error: 'UPGRADE_REQUIRED',
        message: 'Connect with a WebSocket client to /ws (or use SSE at /events)',
      });
      return;
    }
    const dashboardDir =
      this.t.options.dashboardDir === false
        ? undefined
        : (this.t.options.dashboardDir ?? (await findDashboardDir()));
    if (dashboardDir && (await serveStatic(dashboardDir, path, req, res))) return;
    if (path === '/' || path === '/index.html') {
      const html = indexPage(this.t.url());
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'x-testwire': VERSION,
      });
      res.end(req.method === 'HEAD' ? undefined : html);
      return;
    }
    sendJson(res, 404, {
      error: 'NOT_FOUND',
      message: `No route for ${path}; endpoints: /ws (WebSocket), /events (SSE), /status, /health, /`,
    });
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const refusal = this.gate(req);
    if (refusal) {
      rejectUpgrade(socket, refusal.status, refusal.body);
      return;
    }
    if (this.t.closing()) {
      rejectUpgrade(socket, 503, SHUTTING_DOWN);
      return;
    }
    const url = requestUrl(req);
    if (!url) {
      rejectUpgrade(socket, 400, BAD_REQUEST);
      return;
    }
    if (url.pathname !== '/ws') {
      rejectUpgrade(socket, 404, {
        error: 'NOT_FOUND',
        message: `WebSocket endpoint is /ws, not ${url.pathname}`,
      });
      return;
    }
    const query = url.searchParams;
    if (query.get('role') === 'publisher') {
      await this.t.publishers.upgrade(req, socket, head, query);
      return;
    }
    const auth = await this.t.auth.check(req, query);
    if (!auth.ok) {
      rejectUpgrade(socket, auth.status, { error: auth.code, message: auth.message });
      return;
    }
    this.t.ws.upgrade(req, socket, head, query);
  }

  private corsHeaders(req: IncomingMessage, methods?: string): Record<string, string> {
    return corsHeaders(req, this.policy, methods);
  }

  /** Checks credentials; answers 401 itself when they are missing or wrong. */
  private async authorize(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<boolean> {
    const result = await this.t.auth.check(req, query);
    if (result.ok) return true;
    sendJson(
      res,
      result.status,
      { server: 'testwire', error: result.code, message: result.message },
      this.corsHeaders(req),
    );
    return false;
  }
}
