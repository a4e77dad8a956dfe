import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePublishedEvent as validateEvent } from '@testwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, freePort, PACKAGE_DIR, type Serve, startServe, until } from './helpers.js';

beforeAll(assertBuilt);

describe('testwire --help / --version', () => {
  it('lists the commands', async () => {
    const out = await cli(['--help']);
    expect(out.code).toBe(0);
    for (const command of ['serve', 'watch', 'tail', 'status', 'detect'])
      expect(out.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('has --help for every command', async () => {
    for (const command of ['serve', 'watch', 'tail', 'status', 'detect']) {
      const out = await cli([command, '--help']);
      expect(out.code, command).toBe(0);
      expect(out.stdout, command).toContain(`Usage: testwire ${command}`);
    }
  });

  it('watch and tail name both interrupted exit codes; serve steers the API key off the command line', async () => {
    // The codes watch and tail exit with on SIGINT and SIGTERM (the README's table has both; next test).
    for (const command of ['watch', 'tail']) {
      const out = await cli([command, '--help']);
      expect(out.stdout, command).toMatch(
        /130 interrupted \(SIGINT, Ctrl-C\), 143 terminated \(SIGTERM\)\.$/m,
      );
    }
    const serve = (await cli(['serve', '--help'])).stdout;
    expect(serve).toContain('(default: $TESTWIRE_API_KEY). Prefer the');
    expect(serve).toMatch(
      /variable: a key on the command line is shown to every user of the machine by `ps`/,
    );
    expect(serve).toContain('Without an API key every local user can read every event');
  });

  it.each([
    ['watch', ['--plain'], 'stdout'],
    ['tail', ['--wait'], 'stderr'],
  ] as const)('%s exits 143 on SIGTERM, as its help says', async (command, flags, stream) => {
    const port = await freePort();
    const running = cli([command, '--port', String(port), ...flags], { timeoutMs: 60_000 });
    await until(
      () => running[stream](),
      (text) => text.includes('hosting'),
      30_000,
    );
    running.child.kill('SIGTERM');
    expect((await running).code).toBe(143);
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
    const out = await cli(['--version']);
    expect(out.stdout.trim()).toBe(version);
  });

  it('rejects an unknown command or flag with one line and exit code 2', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'testwire: unknown command "frobnicate"; commands: serve, watch, tail, status, baseline, detect (see `testwire --help`)\n',
    );
    const flag = await cli(['tail', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    const until = await cli(['tail', '--until', 'test.finished']);
    expect(until.code).toBe(2);
    expect(until.stderr).toContain('--until: unknown event type "test.finished"');
  });
});

describe('nothing listening', () => {
  it('status, tail and watch --no-wait fail with one clear line and exit code 3', async () => {
    const port = await freePort();
    const expected = `testwire: nothing is listening at http://127.0.0.1:${port} (start a run with a testwire reporter or \`testwire serve\`)\n`;
    for (const args of [['status'], ['tail'], ['watch', '--no-wait']]) {
      const out = await cli([...args, '--port', String(port)]);
      expect(out.code, args[0]).toBe(3);
      expect(out.stderr, args[0]).toBe(expected);
    }
  });

  it('reads TESTWIRE_PORT', async () => {
    const port = await freePort();
    const out = await cli(['status'], { env: { TESTWIRE_PORT: String(port) } });
    expect(out.stderr).toContain(`nothing is listening at http://127.0.0.1:${port}`);
  });
});

describe('an endpoint with an API key', () => {
  let serve: Serve;
  beforeAll(async () => {
    serve = await startServe(['--port', '0', '--api-key', 'sekret-key']);
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
  });

  it('refuses clients without the key, with one line and exit code 3', async () => {
    const status = await cli(['status', '--url', serve.url]);
    expect(status.code).toBe(3);
    expect(status.stderr).toBe(
      `testwire: ${serve.url} requires an API key (HTTP 401): pass --api-key or set TESTWIRE_API_KEY\n`,
    );
    const tail = await cli(['tail', '--url', serve.url, '--api-key', 'wrong']);
    expect(tail.code).toBe(3);
    expect(tail.stderr).toBe(
      `testwire: ${serve.url} refused the API key (HTTP 401): check --api-key / TESTWIRE_API_KEY\n`,
    );
  });

  it('accepts the key from the flag or TESTWIRE_API_KEY', async () => {
    const flag = await cli(['status', '--url', serve.url, '--api-key', 'sekret-key', '--json']);
    expect(flag.code).toBe(0);
    expect(JSON.parse(flag.stdout).server).toBe('testwire');
    const env = await cli(['status', '--url', serve.url], { env: { TESTWIRE_API_KEY: 'sekret-key' } });
    expect(env.code).toBe(0);
    expect(env.stdout).toContain(`testwire ${serve.url}  ● up`);
  });
});

describe('testwire serve', () => {
  it('says so in one line when the port is taken', async () => {
    const first = await startServe(['--port', '0']);
    try {
      const port = new URL(first.url).port;
      const second = await cli(['serve', '--port', port]);
      expect(second.code).toBe(3);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toContain(`testwire: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});

describe('testwire detect', () => {
  it('prints what framework.detected says for a directory, as JSON or readable', async () => {
    const dir = join(PACKAGE_DIR, '../../examples/playwright');
    const json = await cli(['detect', '--json', '--dir', dir]);
    expect(json.code, json.stderr).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(validateEvent({ type: 'framework.detected', runId: '', data })).toMatchObject({ ok: true });
    expect(data).toEqual({
      frameworks: [
        {
          name: 'playwright',
          version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          configPath: './playwright.config.ts',
          testPatterns: ['**/*.@(spec|test).?(c|m)[jt]s?(x)'],
        },
      ],
      active: 'playwright',
    });
    const text = await cli(['detect', '--dir', dir]);
    expect(text.stdout).toMatch(
      /^playwright \d+\.\d+\.\d+ \(active\)\n {2}config: {3}\.\/playwright\.config\.ts\n/,
    );
  });

  it('exits 1 where there is no test framework', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'testwire-detect-'));
    writeFileSync(join(dir, 'package.json'), '{"name":"no-tests"}');
    const out = await cli(['detect', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('no test framework found');
  });
});
