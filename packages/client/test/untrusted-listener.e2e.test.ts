/**
 * An API key or token goes to a loopback endpoint only when the process listening there runs as this OS user.
 * When the endpoint's owner has gone, any local user may bind its port; a client reconnecting (or connecting)
 * would hand that process the key. Here the port is held by a process of another user (root only: a child
 * run as `nobody`) that prints whatever reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
// By path: the client cannot depend on @testwire-tests/support (support -> testkit -> client).
import {
  canRunAsAnotherUser,
  NOBODY,
  type OtherUsersListener,
  otherUsersListener,
} from '../../../tests/support/src/other-user.js';
import { createClient } from '../src/index.js';

const KEY = 'tw-secret-key-4711';

const held: OtherUsersListener[] = [];
afterEach(() => {
  for (const listener of held.splice(0)) listener.kill();
});

async function squatter(): Promise<OtherUsersListener> {
  const listener = await otherUsersListener();
  held.push(listener);
  return listener;
}

describe.runIf(canRunAsAnotherUser)("an endpoint's port held by another user's process", () => {
  it.each(['ws', 'sse'] as const)(
    '%s: the key is never sent there; the client waits it out as a refused connection, then says why',
    async (transport) => {
      const port = await squatter();
      const client = createClient({
        url: `http://127.0.0.1:${port.port}`,
        apiKey: KEY,
        transport,
        reconnect: { initialAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      });
      const states: string[] = [];
      client.onState((state) => states.push(state));
      const error = await client.connect().catch((e: unknown) => e);
      await client.close();
      await port.drained('SENTINEL');
      expect(port.lines.filter((line) => line.includes(KEY))).toEqual([]);
      expect(port.lines).toEqual(['SENTINEL']);
      expect(error).toMatchObject({ code: 'CONNECTION_FAILED' });
      expect(String((error as Error).message)).toMatch(
        new RegExp(`listening on 127\\.0\\.0\\.1:${port.port} runs as another user \\(uid ${NOBODY};`),
      );
      expect(String((error as Error).message)).not.toContain(KEY);
      expect(states).toContain('reconnecting');
    },
  );

  it('without a key or token there is nothing to keep: the client dials it (and finds no broadcaster)', async () => {
    const port = await squatter();
    const client = createClient({ url: `http://127.0.0.1:${port.port}`, reconnect: false });
    const error = await client.connect().catch((e: unknown) => e);
    await client.close();
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED' });
    await port.saw('GET /ws');
  });
});
