/**
 * A TCP proxy on loopback in front of the broadcaster that counts WebSocket handshakes (`GET /ws…` as a
 * connection's first request): how many the page opened in all, and how many are open now. The page loads
 * from it too, so its WebSocket is same-origin, as a page served with its broadcaster would be.
 */
import net from 'node:net';

export interface CountingProxy {
  /** `http://127.0.0.1:<proxy port>` */
  readonly url: string;
  /** WebSocket connections opened through the proxy so far. */
  readonly wsOpened: number;
  /** WebSocket connections open now. */
  readonly wsOpen: number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>();
  let wsOpened = 0;
  let wsOpen = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let isWs = false;
    client.once('data', (first: Buffer) => {
      if (
        first.subarray(0, 8).toString('latin1') === 'GET /ws?' ||
        first.subarray(0, 8).toString('latin1') === 'GET /ws '
      ) {
        isWs = true;
        wsOpened++;
        wsOpen++;
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (isWs) wsOpen--;
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get wsOpened() {
      return wsOpened;
    },
    get wsOpen() {
      return wsOpen;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
