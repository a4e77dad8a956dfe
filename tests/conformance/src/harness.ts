/**
 * The conformance harness: a real broadcaster on an ephemeral loopback port, a real WebSocket subscriber
 * (subscribed to everything before any runner starts), and runner processes that join the broadcaster as
 * publishers through TESTWIRE_URL.
 *
 *   vitest (this process)                          runner child process(es)
 *   ┌──────────────────────────────┐   ws /ws      ┌─────────────────────────────┐
 *   │ startBroadcaster({port: 0})  │<──────────────│ @testwire/<runner> reporter │ TESTWIRE_URL=…
 *   │ ws subscriber {events:['*']} │  publisher    └─────────────────────────────┘
 *   └──────────────────────────────┘
 */
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { type AnyEventEnvelope, isEventEnvelope, type RunSnapshot } from '@testwire/protocol';
import WebSocket from 'ws';
import type { RunnerDriver, RunOptions, RunResult } from './driver.js';

export interface Stream {
  /** The broadcaster's http URL, for TESTWIRE_URL. */
  url: string;
  /** Every event envelope the subscriber received so far, in arrival order. */
  events: AnyEventEnvelope[];
  /** Resolves with the events of the first `count` runs that sent test.completed (grouped by runId). */
  waitForCompletedRuns(count: number, timeoutMs: number): Promise<Map<string, AnyEventEnvelope[]>>;
  /** The broadcaster's `snapshot` of every run it knows, asked for on the subscriber's connection. */
  snapshot(timeoutMs?: number): Promise<RunSnapshot[]>;
  close(): Promise<void>;
}

/**
 * A WebSocket to `wsUrl` subscribed to `events`: resolves once the subscription is acknowledged (rejects, the
 * socket closed, after `timeoutMs`); every message after that goes to `onMessage`.
 */
export async function subscribeSocket(
  wsUrl: string,
  events: string[],
  timeoutMs: number,
  onMessage: (message: { type?: string }) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`subscriber: no "subscribed" from ${wsUrl} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      let subscribed = false;
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type?: string };
        if (subscribed) onMessage(message);
        else if (message.type === 'connection.established') {
          socket.send(JSON.stringify({ type: 'subscribe', events }));
        } else if (message.type === 'subscribed') {
          subscribed = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    socket.terminate();
    throw error;
  }
  return socket;
}

/** Starts a broadcaster and a subscriber; resolves once the subscription is acknowledged. */
export async function openStream(): Promise<Stream> {
  const warnings: string[] = [];
  const broadcaster: Broadcaster = await startBroadcaster({
    port: 0,
    host: '127.0.0.1',
    logger: { warn: (message) => warnings.push(message) },
  });
  const events: AnyEventEnvelope[] = [];
  const listeners = new Set<() => void>();
  const snapshotWaiters: ((runs: RunSnapshot[]) => void)[] = [];
  let socket: WebSocket;
  try {
    socket = await subscribeSocket(broadcaster.wsUrl, ['*'], 5000, (message) => {
      if (message.type === 'snapshot') {
        for (const resolveSnapshot of snapshotWaiters.splice(0))
          resolveSnapshot((message as { runs: RunSnapshot[] }).runs);
      } else if (isEventEnvelope(message)) {
        events.push(message);
        for (const listener of listeners) listener();
      }
    });
  } catch (error) {
    await broadcaster.close({ timeoutMs: 1000 });
    throw error;
  }

  const completedRuns = () => {
    const done = events.filter((event) => event.type === 'test.completed').map((event) => event.runId);
    return [...new Set(done)];
  };

  return {
    url: broadcaster.url,
    events,
    waitForCompletedRuns(count, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const runIds = completedRuns();
          if (runIds.length < count) return false;
          const byRun = new Map<string, AnyEventEnvelope[]>();
          for (const runId of runIds.slice(0, count))
            byRun.set(
              runId,
              events.filter((event) => event.runId === runId),
            );
          resolve(byRun);
          return true;
        };
        if (check()) return;
        const listener = () => {
          if (check()) {
            listeners.delete(listener);
            clearTimeout(timer);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          const seen = [...new Set(events.map((event) => event.runId))];
          reject(
            new Error(
              `expected ${count} completed run(s) within ${timeoutMs} ms; runs seen: ${seen.join(', ') || 'none'}, ` +
                `completed: ${completedRuns().join(', ') || 'none'}, events: ${events.length}` +
                (warnings.length ? `; broadcaster warnings: ${warnings.join(' | ')}` : ''),
            ),
          );
        }, timeoutMs);
        listeners.add(listener);
      });
    },
    snapshot(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no snapshot from ${broadcaster.wsUrl} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        snapshotWaiters.push((runs) => {
          clearTimeout(timer);
          resolve(runs);
        });
        socket.send(JSON.stringify({ type: 'snapshot' }));
      });
    },
    async close() {
      socket.terminate();
      await broadcaster.close({ timeoutMs: 2000 });
    },
  };
}

export interface StreamedRun {
  result: RunResult;
  /** Events of the run, in seq order as the subscriber received them. */
  events: AnyEventEnvelope[];
  /** The broadcaster's snapshot of the run, asked for once its test.completed arrived. */
  snapshot: RunSnapshot | undefined;
}

/**
 * Runs one driver with the testwire reporter into a fresh broadcaster and returns the runner's own
 * result together with every event of that run (collected until its test.completed).
 */
export async function runStreamed(
  driver: RunnerDriver,
  options: Omit<RunOptions, 'reporter'>,
  waitMs = 15_000,
): Promise<StreamedRun> {
  const stream = await openStream();
  try {
    const result = await driver.run({
      ...options,
      reporter: true,
      env: { ...options.env, TESTWIRE_URL: stream.url },
    });
    let runs: Map<string, AnyEventEnvelope[]>;
    try {
      runs = await stream.waitForCompletedRuns(1, waitMs);
    } catch (error) {
      throw new Error(
        `${driver.id} ${options.fixture}: ${(error as Error).message}\n--- exit ${result.exitCode}, stderr:\n${result.stderr.slice(-3000)}`,
      );
    }
    const [[runId, events]] = [...runs.entries()];
    const snapshot = (await stream.snapshot()).find((run) => run.runId === runId);
    return { result, events, snapshot };
  } finally {
    await stream.close();
  }
}
