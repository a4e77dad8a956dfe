/**
 * No credential in any output: a real mocha run (reporter-core, the broadcaster joining TESTWIRE_URL) and the
 * CLI, given URLs with `user:password@` and `?apiKey=`/`?token=` and keys in the environment, print the
 * endpoint (the test checks they did speak of it) but none of the credentials.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, freePort, runMocha } from './helpers.js';

beforeAll(assertBuilt);

const SECRETS = {
  password: 'url-password-31415',
  urlKey: 'url-apikey-27182',
  urlToken: 'url-token-16180',
  envKey: 'env-apikey-14142',
  publishKey: 'env-publish-key-17320',
};

function expectNoSecret(printed: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) expect(printed, name).not.toContain(secret);
}

describe('credentials are never printed', () => {
  it('a mocha run publishing to an unreachable URL with credentials', async () => {
    const port = await freePort();
    const url = `http://ci-user:${SECRETS.password}@127.0.0.1:${port}/?apiKey=${SECRETS.urlKey}&token=${SECRETS.urlToken}`;
    const out = await runMocha(url, {
      env: { TESTWIRE_API_KEY: SECRETS.envKey, TESTWIRE_PUBLISH_KEY: SECRETS.publishKey },
    });
    const printed = out.stdout + out.stderr;
    // It did speak of the endpoint (the warnings name it), with the credentials masked.
    expect(printed).toContain(`127.0.0.1:${port}`);
    expect(printed).toContain('***');
    expectNoSecret(printed);
  });

  it('testwire status, for an unreachable endpoint and for an invalid URL', async () => {
    const port = await freePort();
    const unreachable = await cli(
      ['status', '--url', `http://ci-user:${SECRETS.password}@127.0.0.1:${port}/?apiKey=${SECRETS.urlKey}`],
      { env: { TESTWIRE_API_KEY: SECRETS.envKey } },
    );
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain(`127.0.0.1:${port}`);
    expectNoSecret(unreachable.stdout + unreachable.stderr);
    const invalid = await cli([
      'status',
      '--url',
      `ftp://ci-user:${SECRETS.password}@x/?token=${SECRETS.urlToken}`,
    ]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('invalid URL');
    expectNoSecret(invalid.stdout + invalid.stderr);
  });
});
