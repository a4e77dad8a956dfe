/** LocalHost: when `watch`/`tail --wait` may host the endpoint themselves, and when they must not; how they close it. */
import { createServer } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeMonitor, LocalHost } from '../src/local-host.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const hosts: LocalHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

function localHost(env: NodeJS.ProcessEnv, port: number, apiKey?: string) {
  const warnings: string[] = [];
  const host = new LocalHost(
    { host: '127.0.0.1', port },
    { env, warn: (message) => warnings.push(message), onHosting: () => {}, ...(apiKey ? { apiKey } : {}) },
  );
  hosts.push(host);
  return { host, warnings };
}

describe('LocalHost', () => {
  it('does not host an endpoint its own monitor could not read (a publish key or JWT secret, no API key)', async () => {
    for (const env of [{ TESTWIRE_PUBLISH_KEY: 'pk' }, { TESTWIRE_JWT_SECRET: 'js' }]) {
      const { host, warnings } = localHost(env, await freePort());
      expect(await host.claim()).toBe(false);
      expect(host.hosting).toBe(false);
      expect(warnings.join('\n')).toMatch(/not hosting .*is set and there is no API key/);
      // Said once; it does not try again.
      expect(await host.claim()).toBe(false);
      expect(warnings).toHaveLength(1);
    }
  });

  it('hosts when nothing listened yet, and never once it followed an endpoint that went away, however long refused', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const followed = localHost({}, await freePort());
    const claim = vi.spyOn(followed.host, 'claim');
    const now = vi.spyOn(Date, 'now');
    const lost = 1_700_000_000_000;
    // Refused for a minute after it was connected (the old monitor took the port 1.5 s after the loss).
    for (const after of [0, 1_500, 60_000]) {
      now.mockReturnValue(lost + after);
      followed.host.refused(refused, true);
    }
    now.mockRestore();
    expect(claim).not.toHaveBeenCalled();
    expect(followed.host.hosting).toBe(false);
    const fresh = localHost({}, await freePort());
    fresh.host.refused(refused, false);
    await vi.waitFor(() => expect(fresh.host.hosting).toBe(true), { timeout: 10_000 });
  });

  it('hosts with an API key, whatever else is set, and with nothing set', async () => {
    const keyed = localHost({ TESTWIRE_PUBLISH_KEY: 'pk' }, await freePort(), 'read-key');
    expect(await keyed.host.claim()).toBe(true);
    const plain = localHost({}, await freePort());
    expect(await plain.host.claim()).toBe(true);
    expect([...keyed.warnings, ...plain.warnings]).toEqual([]);
  });
});

/** A monitor's own client whose close the test ends by hand. */
function ownClient() {
  let closed!: () => void;
  const close = vi.fn(() => new Promise<void>((resolve) => (closed = resolve)));
  return { client: { close }, closed: () => closed() };
}

describe('closeMonitor', () => {
  it("closes the monitor's own client before the endpoint it hosts, and resolves once that is closed", async () => {
    const { host } = localHost({}, await freePort());
    expect(await host.claim()).toBe(true);
    const hostClose = vi.spyOn(host, 'close');
    const own = ownClient();

    let done = false;
    const closing = closeMonitor(own.client, host).then(() => (done = true));
    expect(own.client.close).toHaveBeenCalledTimes(1);
    // A whole turn of the event loop with the client's close pending: whatever does not wait for it has run.
    await nextTurn();
    expect(hostClose).not.toHaveBeenCalled();
    expect(host.hosting).toBe(true);
    expect(done).toBe(false);

    own.closed();
    await closing;
    expect(hostClose).toHaveBeenCalledTimes(1);
    expect(host.hosting).toBe(false);
  });

  it('with nothing hosted, resolves without waiting for the client; a failed close does not reject', async () => {
    const own = ownClient();
    await closeMonitor(own.client, undefined);
    expect(own.client.close).toHaveBeenCalledTimes(1);
    const failing = { close: () => Promise.reject(new Error('socket gone')) };
    await expect(closeMonitor(failing, undefined)).resolves.toBeUndefined();
    const { host } = localHost({}, await freePort());
    expect(await host.claim()).toBe(true);
    await expect(closeMonitor(failing, host)).resolves.toBeUndefined();
    expect(host.hosting).toBe(false);
  });
});
