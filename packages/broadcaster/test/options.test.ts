/** Option validation (exact messages) and environment defaults. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionsError, resolveOptions, startBroadcaster } from '../src/index.js';

describe('resolveOptions', () => {
  it('uses the defaults', () => {
    const o = resolveOptions({}, {});
    expect(o).toMatchObject({
      port: 7357,
      host: '127.0.0.1',
      apiKeys: [],
      historyMaxEvents: 50_000,
      historyMaxBytes: 64 * 1024 * 1024,
      heartbeatMs: 15_000,
      maxPayload: 64 * 1024,
      subscriberMaxBytes: 8 * 1024 * 1024,
      keepAlive: false,
      closeTimeoutMs: 2000,
    });
  });

  it('reads TESTWIRE_PORT, TESTWIRE_HOST, TESTWIRE_API_KEY, TESTWIRE_URL; options win over env', () => {
    const env = {
      TESTWIRE_PORT: '4100',
      TESTWIRE_HOST: '::1',
      TESTWIRE_API_KEY: 'k',
      TESTWIRE_URL: 'ws://127.0.0.1:4100/ws',
    };
    expect(resolveOptions({}, env)).toMatchObject({
      port: 4100,
      host: '::1',
      apiKeys: ['k'],
      url: 'ws://127.0.0.1:4100/ws',
    });
    expect(resolveOptions({ port: 0, host: 'localhost' }, env)).toMatchObject({ port: 0, host: 'localhost' });
  });

  it.each([
    [{ port: 70000 }, 'The "port" option must be an integer between 0 and 65535, got 70000'],
    [{ port: 1.5 }, 'The "port" option must be an integer between 0 and 65535, got 1.5'],
    [{ host: '' }, 'The "host" option must be a non-empty string, got ""'],
    [{ apiKey: [''] }, 'The "apiKey" option must be a non-empty string or an array of them'],
    [{ heartbeatMs: 0 }, 'The "heartbeatMs" option must be a positive integer, got 0'],
    [{ history: { maxEvents: -1 } }, 'The "history.maxEvents" option must be a positive integer, got -1'],
    [{ history: 5 }, 'The "history" option must be an object, got 5'],
    [
      { subscriberQueue: { maxBytes: 'big' } },
      'The "subscriberQueue.maxBytes" option must be a positive integer, got "big"',
    ],
    [
      { url: 'ftp://x' },
      'The "url" option (or TESTWIRE_URL) must be an http:// or ws:// URL of a testwire broadcaster, got "ftp://x"',
    ],
    [
      { allowedOrigins: 'x' },
      'The "allowedOrigins" option must be an array of origin strings like "https://ci.example.com"',
    ],
    [{ logger: {} }, 'The "logger" option must be an object with a warn(message) method'],
    [{ dashboardDir: true }, 'The "dashboardDir" option must be a directory path, or false for no dashboard'],
    [{ prot: 1 }, 'Unknown broadcaster option "prot"; known options:'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveOptions(options as never, {})).toThrow(message);
    try {
      resolveOptions(options as never, {});
    } catch (error) {
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as OptionsError).code).toBe('ERR_TESTWIRE_INVALID_OPTION');
    }
  });

  it('with a url to join, a bad TESTWIRE_PORT is not its concern (no port is bound)', () => {
    const env = { TESTWIRE_PORT: 'not-a-port', TESTWIRE_URL: 'http://127.0.0.1:4100' };
    expect(resolveOptions({}, env)).toMatchObject({ url: 'http://127.0.0.1:4100', port: 7357 });
    expect(() => resolveOptions({ port: -1 as number }, env)).toThrow(/"port" option/);
  });

  it('rejects a bad TESTWIRE_PORT naming the variable', () => {
    expect(() => resolveOptions({}, { TESTWIRE_PORT: 'abc' })).toThrow(
      'TESTWIRE_PORT must be an integer between 0 and 65535, got "abc"',
    );
  });

  it('startBroadcaster rejects (does not throw synchronously) on invalid options', async () => {
    const promise = startBroadcaster({ port: -1 });
    await expect(promise).rejects.toThrow('The "port" option must be an integer');
  });
});

describe('VERSION', () => {
  it('matches package.json', async () => {
    const { VERSION } = await import('../src/index.js');
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});
