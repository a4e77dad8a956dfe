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
  /** Destroys every open connection (both sides), like a dropped network. */
  dropAll(): void;
  /** While true, new connections are closed at once (the endpoint looks down). */
  refuse(on: boolean): void;
  /** Stops reading from the broadcaster side: its socket buffers fill up, as with a stalled consumer. */
  stall(on: boolean): void;
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let connections = 0;
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
    const pair = { client, upstream };
    pairs.add(pair);
    if (stalled) upstream.pause();
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
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
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
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
