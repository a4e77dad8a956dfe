import { describe, expect, it } from 'vitest';
import { parseFilters } from '../src/commands/tail.js';
import { resolveEndpoint } from '../src/endpoint.js';
import { CliError } from '../src/errors.js';

describe('resolveEndpoint', () => {
  it('defaults to 127.0.0.1:7357', () => {
    expect(resolveEndpoint({}, {})).toEqual({
      httpUrl: 'http://127.0.0.1:7357',
      wsUrl: 'ws://127.0.0.1:7357/ws',
    });
  });

  it('reads TESTWIRE_URL, then TESTWIRE_HOST/PORT, and TESTWIRE_API_KEY', () => {
    expect(resolveEndpoint({}, { TESTWIRE_URL: 'http://localhost:9000' }).wsUrl).toBe(
      'ws://localhost:9000/ws',
    );
    expect(resolveEndpoint({}, { TESTWIRE_PORT: '4000', TESTWIRE_HOST: '::1' })).toEqual({
      httpUrl: 'http://[::1]:4000',
      wsUrl: 'ws://[::1]:4000/ws',
    });
    expect(resolveEndpoint({}, { TESTWIRE_API_KEY: 'k' }).apiKey).toBe('k');
  });

  it('prefers flags over the environment', () => {
    const env = { TESTWIRE_URL: 'http://elsewhere:1', TESTWIRE_API_KEY: 'env' };
    expect(resolveEndpoint({ port: '5555', apiKey: 'flag' }, env)).toEqual({
      httpUrl: 'http://127.0.0.1:5555',
      wsUrl: 'ws://127.0.0.1:5555/ws',
      apiKey: 'flag',
    });
    expect(resolveEndpoint({ url: 'ws://h:2/ws' }, env).httpUrl).toBe('http://h:2');
  });

  it('accepts ws://, https://, a bare host:port and endpoint paths', () => {
    expect(resolveEndpoint({ url: 'wss://example.test/ws' }, {})).toEqual({
      httpUrl: 'https://example.test',
      wsUrl: 'wss://example.test/ws',
    });
    expect(resolveEndpoint({ url: '127.0.0.1:8080' }, {}).wsUrl).toBe('ws://127.0.0.1:8080/ws');
    expect(resolveEndpoint({ url: 'http://h:1/status' }, {}).httpUrl).toBe('http://h:1');
    expect(resolveEndpoint({ url: 'http://h:1/prefix/' }, {}).wsUrl).toBe('ws://h:1/prefix/ws');
  });

  it('rejects bad ports and schemes with a usage error', () => {
    expect(() => resolveEndpoint({ port: 'abc' }, {})).toThrowError(/--port: expected a port number/);
    expect(() => resolveEndpoint({}, { TESTWIRE_PORT: '70000' })).toThrowError(/TESTWIRE_PORT/);
    expect(() => resolveEndpoint({ url: 'ftp://x' }, {})).toThrowError(CliError);
  });
});

describe('parseFilters', () => {
  it('builds any-of lists from repeats and commas', () => {
    expect(parseFilters(['status=failed', 'status=skipped', 'project=a,b', 'runId=r_1'])).toEqual({
      status: ['failed', 'skipped'],
      project: ['a', 'b'],
      runId: 'r_1',
    });
    expect(parseFilters(['memoryThreshold=100'])).toEqual({ memoryThreshold: 100 });
    expect(parseFilters([])).toBeUndefined();
  });

  it('names the bad filter', () => {
    expect(() => parseFilters(['status'])).toThrowError(/--filter: expected key=value, got "status"/);
    expect(() => parseFilters(['cpuThreshold=lots'])).toThrowError(/cpuThreshold/);
  });
});

describe('resolveEndpoint with empty variables', () => {
  it('treats an empty TESTWIRE_HOST / TESTWIRE_PORT / TESTWIRE_URL as unset', () => {
    const env = { TESTWIRE_HOST: '', TESTWIRE_PORT: '', TESTWIRE_URL: '', TESTWIRE_API_KEY: '' };
    expect(resolveEndpoint({ port: '1234' }, env).httpUrl).toBe('http://127.0.0.1:1234');
    expect(resolveEndpoint({}, env)).toEqual({
      httpUrl: 'http://127.0.0.1:7357',
      wsUrl: 'ws://127.0.0.1:7357/ws',
    });
  });
});
