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
  /** How many connections were closed at once so far (refused): a page that tried again and got nothing. */
  readonly refused: number;
  /** New connections go to this port from now on (another process took the endpoint over). */
  retarget(port: number): void;
  /**
   * New WebSocket connections get the endpoint's bytes at most this fast (undefined: as fast as they come);
   * the page's own files still load at full speed.
   */
  throttleWebSockets(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let refusing = false;
  let refused = 0;
  let target = targetPort;
  let rate: number | undefined;
  const server = net.createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const limit = rate;
    client.once('data', (first: Buffer) => {
      upstream.write(first);
      client.pipe(upstream);
      if (limit === undefined || !/^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
        upstream.pipe(client);
        return;
      }
      // A slow link: each chunk is followed by the time it takes at `limit` bytes per second.
      upstream.on('data', (chunk: Buffer) => {
        client.write(chunk);
        upstream.pause();
        setTimeout(() => upstream.resume(), (chunk.length / limit) * 1000);
      });
    });
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
    get refused() {
      return refused;
    },
    refuse(on) {
      refusing = on;
    },
    retarget(port) {
      target = port;
    },
    throttleWebSockets(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
