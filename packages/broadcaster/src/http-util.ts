/**
 * Small HTTP and WebSocket helpers: endpoint URLs, JSON responses, raw responses on an upgrade socket,
 * static files, the WebSocket servers of the upgrades.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { WebSocketServer } from 'ws';
import { VERSION } from './version.js';
import { loadWs, WS_CLOSED } from './ws-module.js';

/** `host` as it goes in a URL: IPv6 in brackets, wildcard binds replaced by loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** `http://127.0.0.1:7357` and `ws://127.0.0.1:7357/ws` of a broadcaster bound to `host:port`. */
export function endpointUrls(host: string, port: number): { url: string; wsUrl: string } {
  const authority = `${urlHost(host)}:${port}`;
  return { url: `http://${authority}`, wsUrl: `ws://${authority}/ws` };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    'x-testwire': VERSION,
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : json);
}

/** An HTTP error response written on a socket that was about to be upgraded (before any WebSocket exists). */
export function rejectUpgrade(socket: Duplex, status: number, body: Record<string, unknown>): void {
  if (socket.destroyed) return;
  const json = JSON.stringify({ server: 'testwire', ...body });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(json)}\r\n` +
      `x-testwire: ${VERSION}\r\n\r\n` +
      json,
  );
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Serves a file of `dir` for `pathname`; false when there is none (the caller answers 404). Never escapes `dir`. */
export async function serveStatic(
  dir: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (decoded.includes('\0')) return false;
  const root = resolve(dir);
  let file = resolve(root, `.${decoded}`);
  if (file !== root && !file.startsWith(root + sep)) return false;
  try {
    let stat = await fs.stat(file);
    if (stat.isDirectory()) {
      file = resolve(file, 'index.html');
      stat = await fs.stat(file);
    }
    if (!stat.isFile()) return false;
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // The dashboard is not to be framed by another site (clickjacking its buttons): a <meta> CSP cannot
      // say frame-ancestors, a header can.
      'x-frame-options': 'DENY',
      'content-security-policy': "frame-ancestors 'none'",
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return true;
  } catch {
    return false;
  }
}

export function indexPage(url: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>testwire</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>testwire broadcaster</h1>
<p>Live test events from this machine's test runs.</p>
<ul>
<li><code>${url.replace(/^http/, 'ws')}/ws</code> &mdash; WebSocket (subscribe, resume, snapshot, ping)</li>
<li><a href="/events"><code>/events</code></a> &mdash; Server-Sent Events (<code>?events=test.result&amp;status=failed</code>)</li>
<li><a href="/status"><code>/status</code></a> &mdash; epoch, seq, connections, runs</li>
<li><a href="/health"><code>/health</code></a> &mdash; health (system.health data)</li>
</ul>
<p>Install <code>@testwire/dashboard</code> (or pass <code>dashboardDir</code>) to get the live dashboard here.</p>
</body></html>
`;
}

/**
 * A WebSocket server for upgrades the owner's HTTP server hands it (subscribers, publishers), made at the
 * first upgrade (`ws` loads then: ws-module.ts).
 */
export class LazyWebSocketServer {
  private server?: WebSocketServer;

  constructor(
    private readonly maxPayload: number,
    private readonly setup: (server: WebSocketServer) => void = () => {},
  ) {}

  get(): WebSocketServer {
    if (!this.server) {
      this.server = createWebSocketServer(this.maxPayload);
      this.setup(this.server);
    }
    return this.server;
  }

  close(): void {
    this.server?.close();
  }
}

function createWebSocketServer(maxPayload: number): WebSocketServer {
  return new (loadWs().WebSocketServer)({
    noServer: true,
    clientTracking: false,
    maxPayload,
    perMessageDeflate: false,
    // ws >= 8.19 (not yet in @types/ws): bound the closing handshake.
    ...({ closeTimeout: 5_000 } as object),
  });
}

/** Resolves once `ws` is closed (at once if it already is). */
export function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolvePromise) => {
    if (ws.readyState === WS_CLOSED) resolvePromise();
    else ws.once('close', () => resolvePromise());
  });
}
