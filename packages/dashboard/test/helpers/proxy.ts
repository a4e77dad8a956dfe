/**
 * A TCP proxy on loopback between the browser and the broadcaster, so a test can cut the page's
 * connection and keep it down for a while (the way a network or a restarting server does) without
 * touching either side's code.
 */
import net from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<proxy port>` */
  readonly url: string;
  /** Destroys every open connection, both sides: each peer sees its socket die. */
  dropAll(): void;
  /** While true, new connections are closed at once (the endpoint looks down). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    dropAll,
    refuse(on) {
      refusing = on;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
