/**
 * `tail --wait --no-host` and `watch --no-host` (they do not host the endpoint themselves: host.test.ts), started
 * a while before a short run whose reporter owns the endpoint (the broadcaster lives only as long as the run:
 * here ~1.5 s, a short vitest run), must see the run: a local endpoint is tried again every 250 ms at most,
 * not with a backoff grown to seconds by then. (A run shorter than a connection and its replay, a mocha run
 * of 0.7 s, can still end first: that is what hosting is for.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, freePort, parseNdjson, runMocha } from './helpers.js';

beforeAll(assertBuilt);

describe('waiting for a local endpoint', () => {
  it('tail --wait --no-host and watch --no-host see a short run that starts seconds after them', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const tail = cli(['tail', '--url', url, '--wait', '--no-host', '--json', '--until', 'test.completed'], {
      timeoutMs: 60_000,
    });
    const watch = cli(['watch', '--url', url, '--no-host', '--plain', '--runs', '1'], { timeoutMs: 60_000 });
    // The monitors were started a while before the run (a backoff doubling from 250 ms is at seconds by now).
    await sleep(4000);
    const mocha = await runMocha('', {
      delayMs: 1500,
      env: { TESTWIRE_URL: '', TESTWIRE_PORT: String(port) },
    });
    expect(mocha.code, mocha.stderr).toBe(1); // the fixture fails a test on purpose

    const tailed = await tail;
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(parseNdjson(tailed.stdout).filter((e) => e.type === 'test.completed')).toHaveLength(1);
    // One note while waiting, not one per try.
    expect(tailed.stderr.match(/waiting for/g)).toHaveLength(1);
    const watched = await watch;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/1 of 1 runs? completed/);
  }, 90_000);
});
