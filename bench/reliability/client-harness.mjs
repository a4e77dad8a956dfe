/**
 * Shared by r1-resume-storm.mjs and r2-takeover.mjs: child processes by role, a CPU hog, a proxy that cuts
 * connections at random moments, a raw `ws` client written from docs/protocol.md alone, and the check that a
 * subscriber got events 1..N exactly once, in order.
 */
import { fork, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const load = (pkg) => import(pathToFileURL(join(root, 'packages', pkg, 'dist', 'index.js')).href);

export function parseArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
  );
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One busy-looping child per core, each ending by itself after `seconds` (bounded even if we die). */
export function startHog(seconds, cores = os.cpus().length) {
  const children = Array.from({ length: cores }, () =>
    spawn(
      process.execPath,
      ['-e', `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`],
      {
        stdio: 'ignore',
      },
    ),
  );
  return {
    cores,
    stop() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Forks `script` with `args`; its stdout lines can be awaited. */
export function startRole(script, args) {
  const child = fork(script, args, { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
  const lines = [];
  const waiters = new Set();
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    const parts = (rest + text).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
    for (const waiter of waiters) waiter();
  });
  return {
    child,
    lines,
    line(match, timeoutMs = 600_000, what = 'a line') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${script} ${args.join(' ')}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * A loopback TCP proxy to `targetPort` that cuts each connection (both sides) after a random time in
 * [minMs, maxMs] while `cutting` is on.
 */
export async function cuttingProxy(targetPort, { minMs, maxMs }) {
  const pairs = new Set();
  let cutting = true;
  let cuts = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    const pair = { client, upstream, timer: undefined };
    pairs.add(pair);
    const end = () => {
      clearTimeout(pair.timer);
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (cutting)
      pair.timer = setTimeout(
        () => {
          if (!cutting) return;
          cuts++;
          end();
        },
        minMs + Math.random() * (maxMs - minMs),
      );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    stopCutting() {
      cutting = false;
      for (const pair of pairs) clearTimeout(pair.timer);
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Tracks the indexes a subscriber is given against 1..count: exactly once and in order, or what went wrong. */
export function checker(count) {
  let last = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let gaps = 0;
  let received = 0;
  return {
    see(index) {
      received++;
      if (index <= last) {
        duplicates++;
        return;
      }
      if (index !== last + 1) {
        gaps += index - last - 1;
        outOfOrder++;
      }
      last = index;
    },
    get last() {
      return last;
    },
    get complete() {
      return last >= count;
    },
    result() {
      return {
        received,
        last,
        duplicates,
        gaps,
        outOfOrder,
        exactlyOnceInOrder: last === count && received === count && duplicates === 0 && gaps === 0,
      };
    },
  };
}

const PROTOCOL_MESSAGES = new Set([
  'connection.established',
  'subscribed',
  'unsubscribed',
  'pong',
  'error',
  'resumed',
  'resume.failed',
  'snapshot',
]);

/**
 * A subscriber written from docs/protocol.md alone, on plain `ws`:
 * - connect to /ws; on `connection.established` send ONE `subscribe` with `resume: {epoch, since}` (the last
 *   seq received; on the first connection the seq the server announced);
 * - a new epoch in `connection.established` (the owner changed): resume it from `since: 0`;
 * - deliver an event once: drop `seq <= last seq`, and drop an `origin` `<publisherId>:<n>` whose n is not
 *   above the highest n delivered from that publisher (a re-publish after a takeover);
 * - `resume.failed` (loss, announced) then `snapshot`: carry on after the snapshot's seq;
 * - `SUBSCRIBER_LAGGING` or a dropped connection: reconnect (full-jitter backoff) and resume.
 */
export function rawClient(baseUrl, { events, onEvent, backoffDelay, WebSocket }) {
  const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  let epoch;
  let seq = 0;
  const origins = new Map();
  let closed = false;
  let attempt = 0;
  let ws;
  const stats = { connections: 0, epochChanges: 0, resumeFailed: [], lagging: 0, repeatsDropped: 0 };
  const connect = () => {
    if (closed) return;
    stats.connections++;
    ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (closed) return;
      attempt++;
      setTimeout(connect, backoffDelay({ baseDelayMs: 50, maxDelayMs: 2000 }, attempt));
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (PROTOCOL_MESSAGES.has(msg.type)) {
        if (msg.type === 'connection.established') {
          if (epoch === undefined) {
            epoch = msg.epoch;
            seq = msg.seq;
          } else if (msg.epoch !== epoch) {
            stats.epochChanges++;
            epoch = msg.epoch;
            seq = 0;
          }
          ws.send(JSON.stringify({ type: 'subscribe', id: 1, events, resume: { epoch, since: seq } }));
        } else if (msg.type === 'resumed') {
          attempt = 0;
        } else if (msg.type === 'resume.failed') {
          stats.resumeFailed.push(msg.reason);
        } else if (msg.type === 'snapshot' && msg.seq > seq) {
          seq = msg.seq;
        }
        return;
      }
      if (msg.seq === 0) {
        if (msg.data?.error?.code === 'SUBSCRIBER_LAGGING') {
          stats.lagging++;
          ws.terminate();
        }
        return;
      }
      if (msg.seq <= seq) return;
      seq = msg.seq;
      const m = typeof msg.origin === 'string' ? /^(.+):(\d+)$/.exec(msg.origin) : null;
      if (m) {
        const n = Number(m[2]);
        if (n <= (origins.get(m[1]) ?? 0)) {
          stats.repeatsDropped++;
          return;
        }
        origins.set(m[1], n);
      }
      onEvent(msg);
    });
  };
  connect();
  return {
    stats,
    close() {
      closed = true;
      ws?.terminate();
    },
  };
}

export function quantiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, min: sorted[0], median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] };
}
