/**
 * The owner's HTTP server: where each request and each upgrade goes, and the checks in front of them.
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
import { type Authenticator, isLoopbackHost, originAllowed } from './auth.js';
import { findDashboardDir } from './dashboard.js';
import { indexPage, rejectUpgrade, sendJson, serveStatic } from './http-util.js';
import type { Introspection } from './introspection.js';
import type { PublisherIngress } from './join/ingress.js';
import type { ResolvedOptions } from './options.js';
import type { SseEndpoint } from './sse-connection.js';
import { VERSION } from './version.js';
import type { WsEndpoint } from './ws-connection.js';

const FORBIDDEN_ORIGIN = {
  error: 'FORBIDDEN_ORIGIN',
  message: 'Origin not allowed: add it to allowedOrigins',
};
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
  const server = createServer((req, res) => {
    routes.request(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'Internal error' });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
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
  private readonly boundToLoopback: boolean;

  constructor(private readonly t: RouteTargets) {
    this.boundToLoopback = isLoopbackHost(t.options.host);
  }

  async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      if (!originAllowed(req, this.t.options.allowedOrigins, this.boundToLoopback)) {
        sendJson(res, 403, FORBIDDEN_ORIGIN);
        return;
      }
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
    if (!originAllowed(req, this.t.options.allowedOrigins, this.boundToLoopback)) {
      rejectUpgrade(socket, 403, FORBIDDEN_ORIGIN);
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
    const origin = req.headers.origin;
    if (
      typeof origin !== 'string' ||
      !originAllowed(req, this.t.options.allowedOrigins, this.boundToLoopback)
    )
      return {};
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
