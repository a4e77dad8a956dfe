/** LocalHost: when `watch`/`tail --wait` may host the endpoint themselves, and when they must not. */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../src/local-host.js';

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

  it('hosts with an API key, whatever else is set, and with nothing set', async () => {
    const keyed = localHost({ TESTWIRE_PUBLISH_KEY: 'pk' }, await freePort(), 'read-key');
    expect(await keyed.host.claim()).toBe(true);
    const plain = localHost({}, await freePort());
    expect(await plain.host.claim()).toBe(true);
    expect([...keyed.warnings, ...plain.warnings]).toEqual([]);
  });
});
