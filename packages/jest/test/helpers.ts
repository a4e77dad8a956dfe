/**
 * What the end-to-end tests of this package share: a real broadcaster on an ephemeral loopback port with a
 * real WebSocket subscriber of every event, and the environment of a jest child process joining it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { WebSocketTester } from '@testwire/testkit';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** compat/jest-<major>: a real install of that jest, where this package is linked. */
export const compatDir = (major: number) => join(repo, 'compat', `jest-${major}`);

export interface LiveStream {
  url: string;
  /** Every event received so far. */
  received(): AnyEventEnvelope[];
  /** Every event of the run whose root directory is named `rootName`, once its test.completed arrived. */
  runOf(rootName: string): Promise<AnyEventEnvelope[]>;
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
  return {
    url: broadcaster.url,
    received,
    async runOf(rootName) {
      const started: AnyEventEnvelope = await subscriber.waitForMessage(
        (message) => message.type === 'test.started' && message.data?.run?.rootName === rootName,
      );
      await subscriber.waitForMessage(
        (message) => message.type === 'test.completed' && message.runId === started.runId,
      );
      return received().filter((event) => event.runId === started.runId);
    },
    async close() {
      await subscriber.disconnect();
      await broadcaster.close({ timeoutMs: 2000 });
    },
  };
}

/** Environment of a jest child process: nothing of ours leaks in but the endpoint to join. */
export function runnerEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', TESTWIRE_URL: url };
  for (const key of Object.keys(env))
    if (key.startsWith('TESTWIRE_') && key !== 'TESTWIRE_URL') delete env[key];
  delete env.TESTWIRE;
  delete env.NODE_OPTIONS;
  return env;
}
