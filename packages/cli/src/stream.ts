/**
 * A resilient subscription to a testwire endpoint for the CLI: connect, subscribe, and across
 * reconnects resume where it left off, so `tail` and `watch` see every event exactly once and in order.
 *
 *   connect ──> connection.established ──> subscribe ─┬─ live:      (nothing more)
 *                                                     ├─ snapshot:  snapshot -> onSnapshot
 *                                                     └─ replay / reconnect: resume {epoch, since}
 *                                                          ├─ resumed            -> replayed events
 *                                                          └─ resume.failed      -> snapshot -> onSnapshot
 *   close/error ──> reconnect after 250 ms·2^n (max 5 s, jittered)
 *
 * While a resume or snapshot is pending, events are held back, then applied in `seq` order with
 * duplicates dropped: live events the server sends before it has handled our `resume` would otherwise
 * overtake the replay.
 *
 * Why not @testwire/client: on a NEW epoch (the test process that owned the port exited and the next
 * run started its own broadcaster) the CLI replays the new broadcaster's history from seq 0 instead of
 * resyncing from a snapshot, so `tail` prints — and `--until` counts — the first events of a run that
 * started while it was reconnecting, and `watch` keeps the previous broadcaster's runs on screen.
 */
import {
  type AnyEventEnvelope,
  type ConnectionEstablishedMessage,
  isServerMessage,
  type SnapshotMessage,
  type SubscribeRequest,
  Subscription,
} from '@testwire/protocol';
import WebSocket from 'ws';
import type { Endpoint } from './endpoint.js';
import { CliError, ExitCode } from './errors.js';

export type StreamStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; epoch: string; version: string; resumed: boolean }
  | { state: 'disconnected'; reason: string; retryInMs: number };

export interface StreamOptions {
  endpoint: Endpoint;
  /** One or more subscribe requests (each becomes one entry of the subscription). */
  subscribe: SubscribeRequest | SubscribeRequest[];
  /**
   * What to get on the first connection: only live events (`live`), the current state of every run
   * first (`snapshot`), or the whole history of the endpoint first (`replay`).
   */
  start: 'live' | 'snapshot' | 'replay';
  /** Keep retrying while nothing listens at first (a monitor started before the test run). */
  wait: boolean;
  onEvent(event: AnyEventEnvelope): void;
  onSnapshot?(snapshot: SnapshotMessage): void;
  onStatus?(status: StreamStatus): void;
  /** A condition that retrying cannot fix (bad API key, not a testwire endpoint, nothing listening and !wait). */
  onFatal(error: CliError): void;
  /** Bounds of the reconnect backoff. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export interface Stream {
  close(): void;
}

export function openStream(options: StreamOptions): Stream {
  const { endpoint } = options;
  const initialMs = options.backoff?.initialMs ?? 250;
  const maxMs = options.backoff?.maxMs ?? 5000;
  // The server filters too; this guards replays and keeps `--events` exact whatever the server does.
  const requests = Array.isArray(options.subscribe) ? options.subscribe : [options.subscribe];
  const subscription = new Subscription();
  for (const request of requests) subscription.subscribe(request);

  let socket: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let attempt = 0;
  let everConnected = false;
  let epoch: string | undefined;
  let lastSeq = 0;
  /** Non-null while a resume/snapshot is pending: events wait here. */
  let held: AnyEventEnvelope[] | null = null;

  const deliver = (event: AnyEventEnvelope): void => {
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    if (subscription.matches(event)) options.onEvent(event);
  };

  const release = (): void => {
    const pending = held ?? [];
    held = null;
    pending.sort((a, b) => a.seq - b.seq);
    for (const event of pending) deliver(event);
  };

  const fatal = (error: CliError): void => {
    if (closed) return;
    close();
    options.onFatal(error);
  };

  const scheduleReconnect = (reason: string): void => {
    if (closed || timer) return;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 10));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    options.onStatus?.({ state: 'disconnected', reason, retryInMs: delay });
    timer = setTimeout(() => {
      timer = undefined;
      connect();
    }, delay);
  };

  const onEstablished = (ws: WebSocket, message: ConnectionEstablishedMessage): void => {
    if (message.server !== 'testwire') {
      fatal(
        new CliError(`${endpoint.httpUrl} is not a testwire endpoint`, 'NOT_TESTWIRE', ExitCode.CONNECTION),
      );
      return;
    }
    attempt = 0;
    const send = (value: unknown) => ws.send(JSON.stringify(value));
    for (const request of requests) send({ type: 'subscribe', id: 'cli', ...request });
    const resumed = everConnected;
    if (everConnected && epoch !== undefined) {
      // Same broadcaster: continue after the last seq. A new one (its epoch differs): everything it has
      // is news to us, since it started after we lost the previous one.
      const since = message.epoch === epoch ? lastSeq : 0;
      if (message.epoch !== epoch) lastSeq = 0;
      held = [];
      send({ type: 'resume', id: 'cli-resume', epoch: message.epoch, since });
    } else if (options.start === 'snapshot') {
      held = [];
      send({ type: 'snapshot', id: 'cli-snapshot' });
    } else if (options.start === 'replay') {
      held = [];
      send({ type: 'resume', id: 'cli-resume', epoch: message.epoch, since: 0 });
    } else {
      lastSeq = message.seq;
    }
    epoch = message.epoch;
    everConnected = true;
    options.onStatus?.({ state: 'connected', epoch: message.epoch, version: message.version, resumed });
  };

  const onMessage = (ws: WebSocket, text: string): void => {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!isServerMessage(message)) {
      const event = message as AnyEventEnvelope;
      if (typeof event?.type !== 'string' || typeof event.seq !== 'number') return;
      if (held) held.push(event);
      else deliver(event);
      return;
    }
    switch (message.type) {
      case 'connection.established':
        onEstablished(ws, message);
        break;
      case 'resumed':
        release();
        break;
      case 'resume.failed':
        // A snapshot follows; keep holding events until it arrives.
        break;
      case 'snapshot': {
        if (held) {
          // Everything up to snapshot.seq is in the snapshot; later held events still apply.
          lastSeq = message.seq;
          options.onSnapshot?.(message);
          release();
        } else {
          options.onSnapshot?.(message);
        }
        break;
      }
      case 'error':
        if (message.id === 'cli' || message.code === 'INVALID_SUBSCRIPTION') {
          fatal(
            new CliError(
              `the endpoint refused the subscription: ${message.message}`,
              message.code,
              ExitCode.USAGE,
            ),
          );
        }
        break;
    }
  };

  const connect = (): void => {
    if (closed) return;
    attempt++;
    options.onStatus?.({ state: 'connecting', attempt });
    const headers: Record<string, string> = {};
    if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
    const ws = new WebSocket(endpoint.wsUrl, { headers, handshakeTimeout: 5000, perMessageDeflate: false });
    socket = ws;
    let failed = false;

    ws.on('unexpected-response', (_req, res) => {
      failed = true;
      const status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
      if (status === 401 || status === 403) {
        fatal(
          new CliError(
            endpoint.apiKey
              ? `${endpoint.httpUrl} refused the API key (HTTP ${status}): check --api-key / TESTWIRE_API_KEY`
              : `${endpoint.httpUrl} requires an API key (HTTP ${status}): pass --api-key or set TESTWIRE_API_KEY`,
            'UNAUTHORIZED',
            ExitCode.CONNECTION,
          ),
        );
      } else if (!everConnected) {
        fatal(
          new CliError(
            `${endpoint.httpUrl} is not a testwire endpoint (HTTP ${status} on /ws)`,
            'NOT_TESTWIRE',
            ExitCode.CONNECTION,
          ),
        );
      } else {
        scheduleReconnect(`HTTP ${status}`);
      }
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) onMessage(ws, data.toString());
    });
    ws.on('error', (error: NodeJS.ErrnoException) => {
      if (failed || closed) return;
      failed = true;
      if (!everConnected && !options.wait) {
        fatal(nothingListening(endpoint, error));
        return;
      }
      ws.terminate();
      scheduleReconnect(error.code ?? error.message);
    });
    ws.on('close', (code, reason) => {
      if (socket === ws) socket = undefined;
      if (failed || closed) return;
      held = null;
      scheduleReconnect(reason.toString() || `closed (${code})`);
    });
  };

  const close = (): void => {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ws = socket;
    socket = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      ws.close(1000);
      // Don't wait for the server's close frame to let the process exit.
      setTimeout(() => ws.terminate(), 200).unref();
    }
  };

  connect();
  return { close };
}

/** The one-line error for "could not connect at all". */
export function nothingListening(endpoint: Endpoint, error?: NodeJS.ErrnoException): CliError {
  const refused =
    !error ||
    ['ECONNREFUSED', 'ECONNRESET', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EHOSTUNREACH'].includes(error.code ?? '');
  const detail = refused ? '' : ` (${error?.code ?? error?.message})`;
  return new CliError(
    `nothing is listening at ${endpoint.httpUrl}${detail} (start a run with a testwire reporter or \`testwire serve\`)`,
    'NOTHING_LISTENING',
    ExitCode.CONNECTION,
  );
}
