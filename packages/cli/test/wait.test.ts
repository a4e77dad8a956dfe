/**
 * `tail --wait --no-host` and `watch --no-host` (they do not host the endpoint themselves: host.test.ts), started
 * a while before a short run whose reporter owns the endpoint (the broadcaster lives only as long as the run:
 * here ~1.5 s, a short mocha run), must see the run: a local endpoint is tried again every 250 ms at most,
 * not with a backoff grown to seconds by then. (A run shorter than a connection and its replay, a mocha run
 * of 0.7 s, can still end first: that is what hosting is for.)
 *
 * "A while before" is not a guessed sleep: until the run starts, the port is a TCP listener of the test's
 * own that counts each monitor's tries (and drops them), and the run starts once both monitors have said
 * they wait and have tried often enough that a growing backoff would show.
 */
import { createServer, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, parseNdjson, runMocha, until } from './helpers.js';

beforeAll(assertBuilt);

/** How long the run's reporter owns the endpoint (the fixture's 'waits a little' test): a try must fall in it. */
const RUN_WINDOW_MS = 1500;
/**
 * Tries seen before the run may start. A backoff doubling from the client's first 100 ms is past the run's
 * window from the 5th try on: by the 12th, a growing backoff shows in the last gaps.
 */
const MIN_TRIES = 12;
/** The last gaps between tries that must each fit the run's window (one stall of a loaded machine only waits longer). */
const STREAK = 6;

/**
 * A plain TCP listener on a port of its own that stands where the endpoint will be: it reads each
 * connection's HTTP request (a WebSocket upgrade) far enough to know who is trying — by its Host header, so
 * each monitor is given the endpoint under another name — notes the time and drops the connection.
 */
async function tryCounter() {
  const tries = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let head = '';
    socket.setEncoding('latin1');
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: string) => {
      head += chunk;
      const host = /^host: *(\S+)/im.exec(head)?.[1];
      if (!host && !head.includes('\r\n\r\n')) return;
      const key = host?.toLowerCase() ?? 'unknown';
      tries.set(key, [...(tries.get(key) ?? []), Date.now()]);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    /** When `host` (as in the Host header) tried, in order. */
    triesOf: (host: string): number[] => tries.get(host) ?? [],
    /** Frees the port for the run's reporter; the monitors' next tries are refused until it binds. */
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Gaps between successive tries (ms). */
const gapsOf = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);

/** Where a monitor stands: whether it said it waits, how often it tried, the last gaps between its tries. */
const progress = (noted: boolean, times: number[]) => ({
  noted,
  tries: times.length,
  lastGaps: gapsOf(times).slice(-STREAK),
});

/** Said it waits, tried MIN_TRIES times, the last STREAK gaps each within the run's window. */
const keepsTrying = (p: ReturnType<typeof progress>) =>
  p.noted && p.tries >= MIN_TRIES && p.lastGaps.every((gap) => gap <= RUN_WINDOW_MS);

describe('waiting for a local endpoint', () => {
  it('tail --wait --no-host and watch --no-host see a short run that starts long after they began waiting', async () => {
    const counter = await tryCounter();
    const { port } = counter;
    // The same endpoint under two names, so the counter tells the monitors' tries apart.
    const tailHost = `localhost:${port}`;
    const watchHost = `127.0.0.1:${port}`;
    const tail = cli(
      ['tail', '--url', `http://${tailHost}`, '--wait', '--no-host', '--json', '--until', 'test.completed'],
      { timeoutMs: 120_000 },
    );
    const watch = cli(['watch', '--url', `http://${watchHost}`, '--no-host', '--plain', '--runs', '1'], {
      timeoutMs: 120_000,
    });
    try {
      // Both say they wait, and keep trying at the pace a short run needs (what a backoff would have lost).
      await until(
        () => ({
          tail: progress(tail.stderr().includes('waiting for'), counter.triesOf(tailHost)),
          watch: progress(watch.stdout().includes('waiting for'), counter.triesOf(watchHost)),
        }),
        (seen) => keepsTrying(seen.tail) && keepsTrying(seen.watch),
        60_000,
      );
    } catch (error) {
      tail.child.kill('SIGKILL');
      watch.child.kill('SIGKILL');
      throw error;
    } finally {
      await counter.close();
    }

    const mocha = await runMocha('', {
      delayMs: RUN_WINDOW_MS,
      env: { TESTWIRE_URL: '', TESTWIRE_PORT: String(port) },
    });
    expect(mocha.code, mocha.stderr).toBe(1); // the fixture fails a test on purpose

    const tailed = await tail;
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(parseNdjson(tailed.stdout).filter((e) => e.type === 'test.completed')).toHaveLength(1);
    // One note while waiting, not one per try (it tried MIN_TRIES times and more).
    expect(tailed.stderr.match(/waiting for/g)).toHaveLength(1);
    const watched = await watch;
    expect(watched.code, watched.stderr).toBe(0);
    // Likewise until it connected (the run's end is another loss, noted again).
    const beforeConnected = watched.stdout.slice(0, watched.stdout.indexOf('testwire watch: connected to'));
    expect(beforeConnected.match(/waiting for/g)).toHaveLength(1);
    expect(watched.stdout).toMatch(/1 of 1 runs? completed/);
  }, 180_000);
});
