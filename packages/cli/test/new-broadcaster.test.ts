/**
 * The endpoint's broadcaster changes while `tail` and `watch` are locked out (a TCP gate in front of it):
 * the run the new broadcaster carried in the meantime must reach them whole, test.started first, and
 * `watch` keeps the previous broadcaster's run on screen.
 */
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cli,
  FIXTURES,
  parseNdjson,
  run,
  type Serve,
  startServe,
  subscribed,
} from './helpers.js';

beforeAll(assertBuilt);

/** A loopback TCP forwarder whose target can change and which can refuse everyone for a while. */
async function startGate(target: number) {
  const sockets = new Set<net.Socket>();
  let locked = false;
  const server = net.createServer((client) => {
    if (locked) return void client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket
        .on('error', () => {})
        .on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Drops every connection and refuses new ones. */
    lock() {
      locked = true;
      for (const socket of sockets) socket.destroy();
    },
    unlock(nextTarget: number) {
      target = nextTarget;
      locked = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a new broadcaster while reconnecting', () => {
  it('tail prints, and watch shows, a run that started and ended while they were away', async () => {
    let first: Serve | undefined = await startServe();
    cleanup.push(async () => void (await first?.stop()));
    const gate = await startGate(Number(new URL(first.url).port));
    cleanup.push(gate.close);

    const tail = cli(['tail', '--url', gate.url, '--json', '--until', 'test.completed', '--runs', '2'], {
      timeoutMs: 45_000,
    });
    const watch = cli(['watch', '--url', gate.url, '--runs', '2'], { timeoutMs: 45_000 });
    await subscribed(first.url, 2);
    const one = await run(process.execPath, [`${FIXTURES}/publish-run.mjs`, first.url, 'r_one', '1', '1']);
    expect(one.stdout).toContain('published r_one');

    // The endpoint goes away; a new one takes its place and carries a whole run before anyone gets back in.
    gate.lock();
    expect(await first.stop()).toBe(0);
    first = undefined;
    const second = await startServe();
    cleanup.push(async () => void (await second.stop()));
    const two = await run(process.execPath, [`${FIXTURES}/publish-run.mjs`, second.url, 'r_two', '3', '0']);
    expect(two.stdout).toContain('published r_two');
    gate.unlock(Number(new URL(second.url).port));

    const tailed = await tail;
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(tailed.stderr).toMatch(/connection lost/);
    expect(tailed.stderr).toMatch(/is a new broadcaster .*printing its events from its first/);
    const events = parseNdjson(tailed.stdout);
    const ofTwo = events.filter((e) => e.runId === 'r_two');
    // The new broadcaster's history from seq 1: start, three progress + result pairs, completion.
    expect(ofTwo.map((e) => `${e.seq}:${e.type}`)).toEqual([
      '1:test.started',
      '2:test.progress',
      '3:test.result',
      '4:test.progress',
      '5:test.result',
      '6:test.progress',
      '7:test.result',
      '8:test.completed',
    ]);
    expect(events.filter((e) => e.runId === 'r_one' && e.type === 'test.result')).toHaveLength(2);

    const watched = await watch;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/is a new broadcaster .*catching up from its first event/);
    // Both runs are in the final summary: the first broadcaster's stayed on screen.
    expect(watched.stdout).toMatch(/testwire watch: 2 of 2 runs completed\n/);
    expect(watched.stdout).toMatch(/✗ mocha fixture {2}failed {2}1 passed, 1 failed of 2/);
    expect(watched.stdout).toMatch(/✓ mocha fixture {2}passed {2}3 passed of 3/);
  });
});
