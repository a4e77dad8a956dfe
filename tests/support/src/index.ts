/**
 * What the end-to-end tests of the reporter packages share: a real broadcaster on an ephemeral loopback port
 * with a real WebSocket subscriber of every event (@testwire/testkit's WebSocketTester), runs found by the
 * base name of the directory a runner ran in (`run.rootName` of test.started), and the environment of a
 * runner child process joining that broadcaster.
 */
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { WebSocketTester } from '@testwire/testkit';

export {
  expectFailuresSayWhatFailed,
  type FailureCase,
  runToExit,
  runWithOutput,
  writeProject,
} from './failures.js';

export interface LiveStream {
  /** The broadcaster's http URL, for TESTWIRE_URL. */
  url: string;
  /** Every event received so far, in arrival order. */
  received(): AnyEventEnvelope[];
  /** Every event of the (first) run rooted in `rootName`, once its test.completed arrived; rejects after 10 s. */
  runOf(rootName: string): Promise<AnyEventEnvelope[]>;
  /** Ids of the runs rooted in `rootName` that completed, in order. */
  completedRuns(rootName: string): string[];
  /** Waits until `count` runs rooted in `rootName` completed or `timeoutMs` passed; resolves with their ids. */
  waitForRuns(rootName: string, count: number, timeoutMs: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function openStream(): Promise<LiveStream> {
  const broadcaster: Broadcaster = await startBroadcaster({ port: 0, host: '127.0.0.1' });
  const subscriber = new WebSocketTester({ timeout: 10_000 });
  await subscriber.connectWebSocket(broadcaster.wsUrl);
  await subscriber.sendMessage({ type: 'subscribe', patterns: ['*'] });
  await subscriber.waitForMessage((message) => message.type === 'subscribed');
  const received = (): AnyEventEnvelope[] =>
    subscriber.getMessages().filter((m) => typeof m.seq === 'number' && typeof m.runId === 'string');
  const completedRuns = (rootName: string): string[] => {
    const events = received();
    const ids = new Set(
      events
        .filter((e) => e.type === 'test.started' && e.data.run?.rootName === rootName)
        .map((e) => e.runId),
    );
    return events.filter((e) => e.type === 'test.completed' && ids.has(e.runId)).map((e) => e.runId);
  };
  return {
    url: broadcaster.url,
    received,
    completedRuns,
    async runOf(rootName) {
      const started: AnyEventEnvelope = await subscriber.waitForMessage(
        (message) => message.type === 'test.started' && message.data?.run?.rootName === rootName,
      );
      await subscriber.waitForMessage(
        (message) => message.type === 'test.completed' && message.runId === started.runId,
      );
      return received().filter((event) => event.runId === started.runId);
    },
    async waitForRuns(rootName, count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (completedRuns(rootName).length < count && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      return completedRuns(rootName);
    },
    async close() {
      await subscriber.disconnect();
      await broadcaster.close({ timeoutMs: 2000 });
    },
  };
}

/**
 * Polls `probe` until it returns something, or rejects after `timeoutMs`: a bound for a loaded machine, not a
 * guess at how long something takes.
 */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Environment of a runner child process: nothing of ours leaks in but the endpoint to join. */
export function runnerEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', TESTWIRE_URL: url };
  for (const key of Object.keys(env))
    if (key.startsWith('TESTWIRE_') && key !== 'TESTWIRE_URL') delete env[key];
  delete env.TESTWIRE;
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  return env;
}
