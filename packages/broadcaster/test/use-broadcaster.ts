/** A broadcaster per test with its clients, closed after each test. */
import { afterEach } from 'vitest';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { Client } from './helpers.js';

/**
 * One broadcaster per test and the clients connected to it, all closed after each test (registers the
 * afterEach): `start(options)` then `connect(query)`.
 */
export function useBroadcaster(): {
  start(options?: Parameters<typeof startBroadcaster>[0]): Promise<Broadcaster>;
  connect(query?: string): Promise<Client>;
} {
  let broadcaster: Broadcaster | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await broadcaster?.close();
    broadcaster = undefined;
  });
  return {
    async start(options = {}) {
      broadcaster = await startBroadcaster({ port: 0, ...options });
      return broadcaster;
    },
    async connect(query = '') {
      if (!broadcaster) throw new Error('start() a broadcaster first');
      const client = await Client.open(`${broadcaster.wsUrl}${query}`);
      clients.push(client);
      return client;
    },
  };
}
