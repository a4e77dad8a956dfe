/**
 * A TCP proxy on loopback between a client and the broadcaster, so a test can cut, refuse or stall
 * connections the way a network does, without touching either side's code.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** `http://127.0.0.1:<proxy port>` */
  readonly url: string;
  /** Client connections accepted so far (refused ones included). */
  readonly connections: number;
  /** WebSocket connections (a `GET /ws` upgrade as their first request) opened so far, and open now. */
  readonly webSockets: { readonly opened: number; readonly open: number };
  /** Destroys every open connection (both sides), like a dropped network. */
  dropAll(): void;
  /** While true, new connections are closed at once (the endpoint looks down). */
  refuse(on: boolean): void;
  /** Stops reading from the broadcaster side: its socket buffers fill up, as with a stalled consumer. */
  stall(on: boolean): void;
  /**
   * The open connections go dark, as behind a NAT that forgot them: both sockets stay open, whatever either
   * side sends is discarded, and neither learns when the other closes (no FIN, no RST). New connections
   * pass as before.
   */
  blackhole(): void;
  retarget(port: number): void;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /**
   * Forward the client's WebSocket frames one at a time, this many ms apart (after the HTTP upgrade
   * request), as if each went out in its own TCP segment over a slow link: whatever the server does
   * between two of a client's messages gets time to happen.
   */
  frameGapMs?: number;
  /** Bytes per second from the broadcaster to the client (a slow link); the broadcaster's socket fills up behind it. */
  bytesPerSecond?: number;
}

export async function startProxy(targetPort: number, options: ProxyOptions = {}): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; dark?: boolean }>();
  /** Client sockets of blackholed connections: open until the client closes them or the proxy closes. */
  const dark = new Set<net.Socket>();
  let connections = 0;
  const webSockets = { opened: 0, open: 0 };
  let refusing = false;
  let stalled = false;
  let port = targetPort;
  const server = net.createServer((client) => {
    connections++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    const pair: { client: net.Socket; upstream: net.Socket; dark?: boolean } = { client, upstream };
    pairs.add(pair);
    let isWebSocket = false;
    client.once('data', (first: Buffer) => {
      isWebSocket = /^GET \/ws[ ?]/.test(first.subarray(0, 8).toString('latin1'));
      if (isWebSocket) {
        webSockets.opened++;
        webSockets.open++;
      }
    });
    if (stalled) upstream.pause();
    if (options.frameGapMs) paceFrames(client, upstream, options.frameGapMs);
    else client.pipe(upstream);
    if (options.bytesPerSecond) throttle(upstream, client, options.bytesPerSecond);
    else upstream.pipe(client);
    let ended = false;
    const end = () => {
      pairs.delete(pair);
      if (isWebSocket && !ended) webSockets.open--;
      ended = true;
      upstream.destroy();
      // A dark connection's client side hears nothing of it: it stays open until the client gives up.
      if (pair.dark) return;
      client.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    webSockets,
    dropAll() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    refuse(on) {
      refusing = on;
    },
    blackhole() {
      for (const pair of pairs) {
        const { client, upstream } = pair;
        pair.dark = true;
        dark.add(client);
        client.on('close', () => dark.delete(client));
        upstream.unpipe(client);
        client.unpipe(upstream);
        // Flowing with no destination: what either side sends from now on is read and dropped.
        upstream.removeAllListeners('data');
        client.removeAllListeners('data');
        upstream.on('data', () => {});
        client.on('data', () => {});
        upstream.resume();
        client.resume();
      }
    },
    stall(on) {
      stalled = on;
      for (const { upstream, client } of pairs) {
        if (on) {
          upstream.unpipe(client);
          upstream.pause();
        } else {
          upstream.pipe(client);
          upstream.resume();
        }
      }
    },
    retarget(next) {
      port = next;
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      for (const client of dark) client.destroy();
      dark.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Copies `from` to `to` at `bytesPerSecond`: a slice every 20 ms, and `from` paused while more than a
 * second's worth waits, so the sender sees a slow reader (TCP backpressure), not an endless buffer.
 */
function throttle(from: net.Socket, to: net.Socket, bytesPerSecond: number): void {
  const chunks: Buffer[] = [];
  let waiting = 0;
  const slice = Math.max(1, Math.floor(bytesPerSecond / 50));
  const timer = setInterval(() => {
    let budget = slice;
    while (budget > 0 && chunks.length > 0 && !to.destroyed) {
      const chunk = chunks[0] as Buffer;
      const part = chunk.length <= budget ? chunk : chunk.subarray(0, budget);
      if (part === chunk) chunks.shift();
      else chunks[0] = chunk.subarray(budget);
      to.write(part);
      budget -= part.length;
      waiting -= part.length;
    }
    if (waiting < bytesPerSecond && from.isPaused()) from.resume();
  }, 20);
  from.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    waiting += chunk.length;
    if (waiting >= bytesPerSecond) from.pause();
  });
  const stop = (): void => clearInterval(timer);
  from.on('close', stop);
  to.on('close', stop);
}

/** Copies `from` to `to`: the HTTP head at once, then each WebSocket frame `gapMs` after the previous one. */
function paceFrames(from: net.Socket, to: net.Socket, gapMs: number): void {
  let buffer = Buffer.alloc(0);
  let headDone = false;
  const frames: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const sendNext = (): void => {
    timer = undefined;
    const frame = frames.shift();
    if (!frame || to.destroyed) return;
    to.write(frame);
    if (frames.length) timer = setTimeout(sendNext, gapMs);
  };
  from.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!headDone) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      to.write(buffer.subarray(0, end + 4));
      buffer = buffer.subarray(end + 4);
      headDone = true;
    }
    for (;;) {
      const size = frameSize(buffer);
      if (size === undefined || buffer.length < size) break;
      frames.push(buffer.subarray(0, size));
      buffer = buffer.subarray(size);
    }
    if (frames.length && !timer) timer = setTimeout(sendNext, gapMs);
  });
  from.on('close', () => clearTimeout(timer));
}

/** Bytes of the WebSocket frame at the start of `buffer` (RFC 6455 5.2), or undefined if its header is incomplete. */
function frameSize(buffer: Buffer): number | undefined {
  if (buffer.length < 2) return undefined;
  const second = buffer[1] as number;
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (second & 0x80) offset += 4; // masking key (client frames are always masked)
  return offset + length;
}
