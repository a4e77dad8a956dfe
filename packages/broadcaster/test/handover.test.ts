/**
 * The handover after a takeover during a publisher's final flush: the owner dies while the publisher's last
 * events wait for its ack, the publisher takes the port over, and its process would exit as soon as flush()
 * returns. flush() holds it until a subscriber that followed the dead owner is back and has been sent every
 * event, or says the events reached no one (docs/protocol.md, Takeover and duplicates).
 *
 * The owner is a process of its own (test/fixtures/owner-wait.mjs, from dist: build first), stopped with
 * SIGSTOP so that it takes the events in without answering, then killed with SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type Broadcaster,
  getBroadcaster,
  resetBroadcasterSingleton,
  startBroadcaster,
} from '../src/index.js';
import { HANDOVER_WAIT_MS } from '../src/join/publisher.js';
import {
  freePort,
  type Msg,
  RUN,
  recordingLogger,
  testCompleted,
  testResult,
  testStarted,
  waitFor,
} from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const TESTS = 40;
/** Results the owner acknowledged before it was stopped; the rest wait in the publisher's final flush. */
const ACKED = 10;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  resetBroadcasterSingleton();
});

/** An owner in a process of its own, on an ephemeral port. */
async function ownerProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(FIXTURES, 'owner-wait.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (d) => {
      text += d;
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    child.once('exit', (code) => reject(new Error(`owner exited (${code}) before printing its port`)));
  });
  return { child, port };
}

/** Stops the process and waits until the kernel says it is stopped (state T in /proc/<pid>/stat). */
async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGSTOP');
  await waitFor(
    () => /^\d+ \(.*\) T /.test(readFileSync(`/proc/${child.pid}/stat`, 'utf8')),
    'the owner stopped',
    5000,
  );
}

/**
 * A subscriber that follows the endpoint as @testwire/client does: when its connection drops it tries again
 * after a jittered delay (150–250 ms here, the client's first is within 250 ms), and on a new epoch it
 * subscribes with `resume: {epoch, since: 0}` (the new owner's whole history). Results are counted once by id.
 */
class Follower {
  readonly results = new Set<string>();
  completed = 0;
  readonly epochs: string[] = [];
  private stopped = false;
  private attempts = 0;
  private ws?: WebSocket;

  constructor(
    private readonly port: number,
    /** Leave at the run's end, as `testwire tail --until test.completed` does. */
    private readonly leaveAtCompletion = false,
  ) {
    cleanups.push(() => this.stop());
  }

  async start(): Promise<void> {
    this.connect();
    await waitFor(() => this.epochs.length > 0, 'the follower subscribed', 5000);
  }

  private connect(): void {
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws`);
    this.ws = ws;
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Msg;
      if (message.type === 'connection.established') {
        const known = this.epochs.at(-1);
        this.epochs.push(message.epoch);
        ws.send(
          JSON.stringify({
            type: 'subscribe',
            events: ['*'],
            ...(known !== undefined && known !== message.epoch
              ? { resume: { epoch: message.epoch, since: 0 } }
              : {}),
          }),
        );
      } else if (message.type === 'test.result') this.results.add(message.data.id);
      else if (message.type === 'test.completed') {
        this.completed++;
        if (this.leaveAtCompletion) this.stop();
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.stopped || ++this.attempts > 100) return;
      setTimeout(() => this.connect(), 150 + Math.random() * 100);
    });
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

/**
 * A publisher joined to an owner process with the start of a run acknowledged, then the owner stopped and the
 * rest of the run published: its final flush sends it to an owner that does not answer. The owner is killed
 * as soon as the flush is under way.
 */
async function flushWhileTheOwnerDies(beforeKill?: (port: number) => Promise<void>) {
  const { child, port } = await ownerProcess();
  const joined = await getBroadcaster({ port, logger: recordingLogger() });
  cleanups.push(() => joined.close());
  expect(joined.role).toBe('publisher');
  await beforeKill?.(port);
  joined.publish(testStarted(RUN, TESTS));
  for (let i = 1; i <= ACKED; i++) joined.publish(testResult(i));
  expect(await joined.flush(5000)).toMatchObject({ delivered: true });
  return {
    joined,
    port,
    async finalFlush(timeoutMs = 10_000) {
      await stop(child);
      for (let i = ACKED + 1; i <= TESTS; i++) joined.publish(testResult(i));
      joined.publish(testCompleted(TESTS, 0));
      const started = Date.now();
      // The flush sends the batch at once (into the stopped owner's socket): no ack can come.
      const flushing = joined.flush(timeoutMs);
      child.kill('SIGKILL');
      const result = await flushing;
      return { result, ms: Date.now() - started };
    },
  };
}

/** What a runner's process does once its final flush has returned: it exits. Closing at once stands for it. */
async function exitNow(joined: Broadcaster): Promise<void> {
  await joined.close({ timeoutMs: 0 });
}

describe('takeover during the final flush', () => {
  it('holds the flush until a subscriber that followed the dead owner is back and has every event', async () => {
    let follower: Follower | undefined;
    const { joined, finalFlush } = await flushWhileTheOwnerDies(async (port) => {
      follower = new Follower(port);
      await follower.start();
    });
    const f = follower as Follower;
    await waitFor(() => f.results.size === ACKED, 'the acknowledged results at the follower', 5000);
    const { result } = await finalFlush();
    expect(joined.role).toBe('owner');
    expect(result).toEqual({ delivered: true, pending: {}, dropped: {} });
    await exitNow(joined);
    // Written out of the process before flush() returned: the kernel delivers it after the exit.
    await waitFor(() => f.completed > 0, 'test.completed at the follower', 3000);
    expect(f.epochs).toHaveLength(2);
    expect(f.results.size).toBe(TESTS);
    expect(f.completed).toBe(1);
  });

  it('a subscriber that got every event and left at once (tail --until test.completed) has taken the handover', async () => {
    let follower: Follower | undefined;
    const { joined, finalFlush } = await flushWhileTheOwnerDies(async (port) => {
      follower = new Follower(port, true);
      await follower.start();
    });
    const f = follower as Follower;
    await waitFor(() => f.results.size === ACKED, 'the acknowledged results at the follower', 5000);
    const { result } = await finalFlush();
    expect(joined.role).toBe('owner');
    // Handed over: written out to the follower, which may have left already (or reads it after this).
    expect(result).toEqual({ delivered: true, pending: {}, dropped: {} });
    await waitFor(() => f.completed > 0, 'test.completed at the follower', 5000);
    expect(f.results.size).toBe(TESTS);
  });

  it('a raw EventSource that comes back with its Last-Event-ID (resume.failed, a snapshot, the rest) is handed over too', async () => {
    let source: EventSource | undefined;
    const ids = new Set<string>();
    let snapshot: Msg | undefined;
    let completed = 0;
    const { joined, finalFlush } = await flushWhileTheOwnerDies(async (port) => {
      const es = new EventSource(`http://127.0.0.1:${port}/events`);
      source = es;
      cleanups.push(() => es.close());
      es.addEventListener('test.result', (e) => ids.add(JSON.parse(e.data).data.id));
      es.addEventListener('test.completed', () => completed++);
      es.addEventListener('snapshot', (e) => {
        snapshot = JSON.parse(e.data);
      });
      await new Promise((resolve) => es.addEventListener('connection.established', resolve));
    });
    expect(source).toBeDefined();
    await waitFor(() => ids.size === ACKED, 'the acknowledged results at the reader', 5000);
    const { result } = await finalFlush();
    expect(result).toEqual({ delivered: true, pending: {}, dropped: {} });
    await exitNow(joined);
    // The snapshot stands for the events before its seq; those after it come as events.
    const covered = (): boolean => {
      const run = snapshot?.runs.find((r: Msg) => r.runId === RUN);
      const all = new Set([...ids, ...(run?.tests ?? []).map((t: Msg) => t.id as string)]);
      return all.size === TESTS && (completed > 0 || run?.status === 'completed');
    };
    await waitFor(covered, 'every result and the end of the run at the reader', 3000);
    expect(snapshot).toBeDefined();
  });

  it('with no subscriber back within the handover wait, flush() reports the events as not delivered', async () => {
    const { joined, finalFlush } = await flushWhileTheOwnerDies();
    const { result, ms } = await finalFlush();
    expect(joined.role).toBe('owner');
    // Those the dead owner never acknowledged; the ones it did are re-published but not ours to report.
    expect(result).toEqual({
      delivered: false,
      pending: { [RUN]: { 'test.result': TESTS - ACKED, 'test.completed': 1 } },
      dropped: {},
      notHandedOver: true,
    });
    expect(ms).toBeGreaterThanOrEqual(HANDOVER_WAIT_MS - 50);
    expect(ms).toBeLessThan(HANDOVER_WAIT_MS + 3000);
  });

  it('an owner that shuts down with no subscriber says so: the publisher that takes over does not wait for one', async () => {
    const port = await freePort();
    const owner = await startBroadcaster({ port, logger: recordingLogger() });
    const joined = await getBroadcaster({ port, logger: recordingLogger() });
    cleanups.push(() => joined.close());
    joined.publish(testStarted(RUN, TESTS));
    for (let i = 1; i <= ACKED; i++) joined.publish(testResult(i));
    expect(await joined.flush(5000)).toMatchObject({ delivered: true });
    await owner.close({ timeoutMs: 500 });
    await waitFor(() => joined.role === 'owner', 'the takeover');
    for (let i = ACKED + 1; i <= TESTS; i++) joined.publish(testResult(i));
    joined.publish(testCompleted(TESTS, 0));
    // In its own history is delivered: no subscriber is on its way, none is waited for (a handover waited
    // out would say notHandedOver).
    expect(await joined.flush(10_000)).toEqual({ delivered: true, pending: {}, dropped: {} });
  });

  it('the caller’s flush bound comes first: a short flush returns at it, with the events pending', async () => {
    const { finalFlush } = await flushWhileTheOwnerDies();
    const { result, ms } = await finalFlush(600);
    expect(result).toEqual({
      delivered: false,
      pending: { [RUN]: { 'test.result': TESTS - ACKED, 'test.completed': 1 } },
      dropped: {},
      notHandedOver: true,
    });
    expect(ms).toBeLessThan(HANDOVER_WAIT_MS);
  });
});
