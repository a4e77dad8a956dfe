/**
 * What the starvation suite needs besides the drivers: a CPU hog, a `testwire serve` in a process of its own,
 * a subscriber of that endpoint, and a sentinel that proves the subscriber has seen everything before it.
 *
 *   hog: 3 busy processes per core ─┐ (each ends on its own after `ms`; stop() kills them sooner)
 *   runner ── TESTWIRE_URL ────────>│ testwire serve --port 0 (packages/cli/dist/cli.js) ──> subscriber
 *   sentinel publisher (after the runner exited) ──────────────────────────────────────────> (last event)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { getBroadcaster, resetBroadcasterSingleton } from '@testwire/broadcaster';
import { type AnyEventEnvelope, isEventEnvelope } from '@testwire/protocol';
import { subscribeSocket } from './harness.js';
import { REPO_DIR } from './spawn.js';

export const CLI_BIN = join(REPO_DIR, 'packages', 'cli', 'dist', 'cli.js');

export interface Hog {
  readonly count: number;
  /** Kills every busy process that is still running (idempotent). */
  stop(): void;
}

/**
 * `perCore` busy processes per core (os.availableParallelism()), each spinning until `ms` passed. They are
 * their own bound: a test that dies without calling stop() leaves nothing behind for long.
 */
export function startHog(ms: number, perCore = 3): Hog {
  const count = perCore * availableParallelism();
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      spawn(
        process.execPath,
        ['-e', 'const end = Date.now() + Number(process.argv[1]); while (Date.now() < end);', String(ms)],
        { stdio: 'ignore' },
      ),
    );
  }
  return {
    count,
    stop() {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface Serve {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** What the serve process printed on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** `testwire serve --port 0` in a process of its own (the built CLI); resolves with its URL once it listens. */
export async function startServe(timeoutMs = 60_000): Promise<Serve> {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: build the CLI first (pnpm build)`);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TESTWIRE')) env[key] = value;
  const child = spawn(process.execPath, [CLI_BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`testwire serve did not listen within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening at (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`testwire serve exited (${code}) before listening; stderr: ${stderr}`));
    });
  });
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Subscriber {
  /** Every event received, in arrival order. */
  events: AnyEventEnvelope[];
  /** Resolves with the first event (from the start) that matches; rejects after `timeoutMs`. */
  waitFor(
    match: (event: AnyEventEnvelope) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<AnyEventEnvelope>;
  close(): void;
}

/** A WebSocket subscriber of `events` on `wsUrl`; resolves once the subscription is acknowledged. */
export async function subscribe(wsUrl: string, events: string[], timeoutMs = 60_000): Promise<Subscriber> {
  const received: AnyEventEnvelope[] = [];
  const listeners = new Set<() => void>();
  const socket = await subscribeSocket(wsUrl, events, timeoutMs, (message) => {
    if (!isEventEnvelope(message)) return;
    received.push(message);
    for (const listener of listeners) listener();
  });
  let closed: string | undefined;
  socket.on('close', (code) => {
    closed = `the subscriber's connection closed (${code})`;
    for (const listener of listeners) listener();
  });
  return {
    events: received,
    waitFor(match, ms, what) {
      return new Promise((resolve, reject) => {
        let checked = 0;
        const check = (): boolean => {
          for (; checked < received.length; checked++) {
            const event = received[checked] as AnyEventEnvelope;
            if (match(event)) {
              resolve(event);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        const listener = (): void => {
          if (check()) done();
          else if (closed) fail(closed);
        };
        const timer = setTimeout(() => fail(`not within ${ms} ms`), ms);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const fail = (why: string): void => {
          done();
          reject(new Error(`waiting for ${what}: ${why} (${received.length} events received)`));
        };
        listeners.add(listener);
      });
    },
    close() {
      socket.terminate();
    },
  };
}

/**
 * Publishes a `framework.detected` sentinel to `url` from this process (a publisher, as a runner is) and
 * returns its marker. A subscriber that received it has received everything the endpoint took in before it:
 * the way to show that nothing else arrives, without waiting for a while.
 */
export async function publishSentinel(url: string, timeoutMs = 60_000): Promise<string> {
  const marker = `sentinel-${randomBytes(6).toString('hex')}`;
  resetBroadcasterSingleton();
  const broadcaster = await getBroadcaster({ url, logger: { warn: () => {} } });
  try {
    broadcaster.publish({ type: 'framework.detected', runId: '', data: { frameworks: [], active: marker } });
    await broadcaster.flush(timeoutMs);
  } finally {
    await broadcaster.close({ timeoutMs: 2000 });
    resetBroadcasterSingleton();
  }
  return marker;
}

export const isSentinel = (marker: string) => (event: AnyEventEnvelope) =>
  event.type === 'framework.detected' && (event.data as { active?: string }).active === marker;
