/**
 * A broadcaster that joined another process's owner: it forwards its events as `publish` batches over an
 * authenticated WebSocket and takes the port over when the owner goes away.
 *
 *   publish() ─> serialize() ─> queue (bounded: drop + count) ─> batches (batch.ts) ─> owner (validates)
 *                                                                <─ {type:'published', id, seq, rejected?}
 *   acked events ─> RunStateStore of our own runs (what we re-seed after a takeover)
 *               └─> the latest 10,000 kept (retained)
 *
 *   owner socket closes ─> jittered retries: bind the port (we are the owner now: seeded with our open runs,
 *                          retained + unacked events re-published) | a testwire owner answers (join it: send
 *                          our open runs, then the retained and unacked events) | something else holds it
 *                          (warn, ephemeral port)
 *   every event carries `origin` <publisherId>:<n> (n counts our events): subscribers drop a re-published
 *   event they already delivered under the previous owner (@testwire/protocol OriginFilter)
 *
 *   after a takeover, the handover: our events are not delivered until a subscriber has been sent them. The
 *   subscribers of the dead owner reconnect to us and replay our history; flush() waits for one to have every
 *   event of ours (HANDOVER_WAIT_MS for one to appear), else reports them as pending (see Handover)
 *
 *   the same owner again (same epoch): the unacked batches are re-sent with their ids first. The owner may
 *   have stored them before the ack was lost: it remembers the last batch id of our `publisherId` (sent
 *   in the handshake URL) and acks a batch it already has without storing it twice.
 */
import { randomBytes } from 'node:crypto';
import {
  addCounts,
  backoffDelay,
  countEvents,
  type EventEnvelope,
  type PublishedEvent,
  type RunSnapshot,
  RunStateStore,
} from '@testwire/protocol';
import { anotherUsersListener } from '@testwire/protocol/tcp-listeners';
import type WebSocket from 'ws';
import { type SerializedEvent, serialize } from '../admit.js';
import { FLUSH_BUDGET_MS } from '../budget.js';
import { Drops } from '../drops.js';
import { isLoopbackHost } from '../host-origin.js';
import { closed, endpointUrls } from '../http-util.js';
import type { ResolvedOptions } from '../options.js';
import type { Owner } from '../owner.js';
import { Shutdown } from '../shutdown.js';
import { settledBy, sleep } from '../timers.js';
import type { Broadcaster, FlushResult } from '../types.js';
import { loadWs, WS_OPEN } from '../ws-module.js';
import { publishFrame } from './batch.js';
import { claimPort, ownEphemeral } from './claim.js';
import {
  NO_FOLLOWERS_REASON,
  NONCE_HEADER,
  newNonce,
  OWNER_NONCE_HEADER,
  OWNER_PROOF_HEADER,
  proof,
  proofMatches,
} from './handshake.js';
import { type EndpointPolicy, enforces, readPolicy, withPolicy } from './policy.js';
import { readSecret } from './secret.js';

const BATCH_EVENTS = 1000;
const BATCH_BYTES = 512 * 1024;
/**
 * How long events wait for company before they are sent. Runners deliver one test per macrotask (mocha,
 * jest in band, playwright), so sending every tick costs a WebSocket message, an owner ingest and an ack
 * per test; gathering for a few ms sends tens of batches per run instead of thousands, and a live view
 * cannot tell the difference. A full batch goes at once; flush() and close() do not wait.
 */
const BATCH_DELAY_MS = 15;
/**
 * Acked events kept to publish again after the owner changes (see takeRetained): a subscriber up to this far
 * behind the dead owner gets every event. Subscribers drop the repeats by their `origin`.
 */
const RETAIN_EVENTS = 10_000;
const RETAIN_BYTES = 8 * 1024 * 1024;
/** Batches sent and not yet acknowledged. */
const WINDOW = 8;
/**
 * How long one attempt to reach the owner may take (TCP connect, upgrade, `connection.established`). On a
 * loopback this takes milliseconds, but an owner starved of CPU (a loaded CI machine) answers late; a failed
 * attempt only costs a retry, never an event.
 */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * Retries to find the owner again: the first within 25 ms (an owner that died is taken over at once),
 * then doubling up to 1 s, full jitter.
 */
const RECOVER_BACKOFF = { baseDelayMs: 25, maxDelayMs: 1000 };
/**
 * After a takeover, how long the subscribers of the dead owner have to reconnect to us and start catching up
 * before a flush() stops waiting for them (see Handover). They retry within 250 ms (@testwire/client's first
 * backoff, the CLI's on this machine), then 500 ms and 1 s when the port was not bound yet; a browser's
 * EventSource after 1 s (`retry: 1000`). Twice that leaves a loaded machine room.
 */
export const HANDOVER_WAIT_MS = 2000;
/** How often a flush() that waits for the handover looks at the subscribers. */
const HANDOVER_POLL_MS = 10;

/**
 * The events of ours that no subscriber is known to have, after we took the port over. The previous owner's
 * subscribers reconnect to us (the epoch changed: they replay our history from its start), but a process whose
 * run ended would otherwise exit before they are back, and its events, though in our history, reach no one.
 * So until a subscriber has been sent them (Hub.sentRanges: written out of this process), they are not
 * delivered: flush() waits for that, bounded by its timeout, and while no subscriber is on its way (none in a
 * replay or a snapshot, no bytes of one unwritten) no longer than `until`; what is still unsent then is
 * reported in `pending`. Tracked: what we held unacknowledged at the takeover (queued, in flight) and what is published
 * until `until`; the acked events we re-publish (`retained`) are not ours to report (the old owner had them).
 */
interface Handover {
  /** The takeover + HANDOVER_WAIT_MS. Events published later are an owner's like any (in the history = delivered). */
  until: number;
  /** Their envelopes, in the order they are ingested (the hub sets `seq`; 0: not yet ingested, or dropped). */
  events: EventEnvelope[];
}

interface Inflight {
  kind: 'publish' | 'runs';
  events: SerializedEvent[];
}

export interface JoinTarget {
  host: string;
  port: number;
  url: string;
  wsUrl: string;
  /** True when the owner is on this machine, so we may bind its port after it goes away. */
  canTakeOver: boolean;
  /**
   * True for a `url` the user gave: without the publisher secret we may send it our publish key. False for
   * an owner found on the port: only the secret handshake, nothing else is ever sent to it.
   */
  explicit: boolean;
}

/** Target of a `url` option: `http://h:p`, `ws://h:p/ws`, … */
export function targetFromUrl(url: string): JoinTarget {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  const port = parsed.port ? Number(parsed.port) : secure ? 443 : 80;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    url: `${secure ? 'https' : 'http'}://${parsed.host}`,
    wsUrl: `${secure ? 'wss' : 'ws'}://${parsed.host}/ws`,
    canTakeOver: !secure && isLoopbackHost(host),
    explicit: true,
  };
}

export function targetFor(host: string, port: number): JoinTarget {
  return { host, port, ...endpointUrls(host, port), canTakeOver: true, explicit: false };
}

/** The ingested events of `events` (seq > 0) that lie in none of `ranges` (`[from, through]`: seqs from + 1 to through). */
function unsentOf(events: readonly EventEnvelope[], ranges: readonly [number, number][]): EventEnvelope[] {
  return events.filter(
    (event) => event.seq > 0 && !ranges.some(([from, through]) => event.seq > from && event.seq <= through),
  );
}

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

export class JoinedBroadcaster implements Broadcaster {
  private owner?: Owner;
  private ws?: WebSocket;
  private connectedEpoch?: string;
  /** Epoch of the last owner we published to: a different one needs our open runs first. */
  private lastEpoch?: string;
  /** The owner we published to said, as it shut down, that no subscriber would follow (no handover). */
  private noFollowers = false;
  /** The access policy of the owner we publish to: what we keep enforcing if we take the port over. */
  private policy?: EndpointPolicy;
  /** Events serialized, not yet sent. Their envelopes' seq is 0: what our own runs' RunStateStore is fed once acked. */
  private queue: SerializedEvent[] = [];
  private queueBytes = 0;
  private inflight = new Map<number, Inflight>();
  /** Batches sent to an owner whose connection dropped before it acked them, oldest first. */
  private unacked: { id: number; events: SerializedEvent[] }[] = [];
  /** The latest acked events (RETAIN_EVENTS / RETAIN_BYTES), oldest first: re-published to a new owner. */
  private retained: SerializedEvent[] = [];
  private retainedBytes = 0;
  private nextId = 1;
  /** Stable for this broadcaster's lifetime: the owner dedupes re-sent batches by it (ingress.ts). */
  readonly publisherId = randomBytes(12).toString('base64url');
  /** Counter of the `origin` ids given to our events: subscribers drop a repeat after a takeover by it. */
  private originCount = 0;
  private readonly store = new RunStateStore({ maxCompletedRuns: 0 });
  private readonly drops: Drops;
  private waiters = new Set<() => void>();
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private pumpImmediate = false;
  private recovering = false;
  private readonly shutdown = new Shutdown();
  /** Why the last connect() failed, when the owner refused us or did not prove itself (for warnings). */
  lastRefusal?: string;
  /** The last connect() met a server on the port that could not prove it holds our secret. */
  private ownerUnproven = false;
  /**
   * The last connect() met an owner that enforces less than the policy we hold (one that bound the port after
   * the owner we published to went away, configured with no key or other keys): we publish nothing there.
   */
  private ownerWeaker = false;
  /** After we took the port over from an owner we published to: our events no subscriber has yet. */
  private handover?: Handover;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly target: JoinTarget,
  ) {
    this.drops = new Drops(options.logger);
  }

  get role(): 'owner' | 'publisher' {
    return this.owner ? 'owner' : 'publisher';
  }
  get url(): string {
    return this.owner?.url ?? this.target.url;
  }
  get wsUrl(): string {
    return this.owner?.wsUrl ?? this.target.wsUrl;
  }
  get host(): string {
    return this.owner?.host ?? this.target.host;
  }
  get port(): number {
    return this.owner?.port ?? this.target.port;
  }
  get epoch(): string | undefined {
    return this.owner?.epoch ?? this.connectedEpoch;
  }
  get dropped(): number {
    return this.drops.count + (this.owner?.dropped ?? 0);
  }
  /** True while a WebSocket to the owner is established. */
  get connected(): boolean {
    return this.ws !== undefined;
  }

  /**
   * Serializes the event now (once: the owner keeps the text) and queues it for the next batch; the owner
   * validates it. Never throws: what cannot be kept is dropped, counted and told once.
   */
  publish(event: PublishedEvent): void {
    if (this.owner) {
      const taken = this.owner.take(event);
      const handover = this.handover;
      if (taken && handover && Date.now() < handover.until) handover.events.push(taken.envelope);
      return;
    }
    const serialized = this.drops.screen(event, this.shutdown.started, (e) =>
      serialize(e, `${this.publisherId}:${++this.originCount}`),
    );
    if (!serialized) return;
    const { envelope, json } = serialized;
    // Run boundaries are admitted beyond the bound (as in reporter-core's buffer): a consumer can live
    // with a gap, not with a run that never starts or never ends.
    if (
      (this.queue.length >= this.options.publisherMaxEvents ||
        this.queueBytes + json.length > this.options.publisherMaxBytes) &&
      envelope.type !== 'test.started' &&
      envelope.type !== 'test.completed'
    ) {
      this.drops.add(envelope);
      this.drops.warnOnce(
        'full',
        `testwire: dropping events (the queue to ${this.url} is full: ${this.queue.length} events, ${Math.round(this.queueBytes / 1024)} KiB not yet acknowledged); they will be missing from the stream`,
      );
      return;
    }
    this.queue.push(serialized);
    this.queueBytes += json.length;
    this.schedulePump();
  }

  /** A full batch goes out on the next turn of the event loop; otherwise after BATCH_DELAY_MS. */
  private schedulePump(): void {
    if (this.queueBytes >= BATCH_BYTES || this.queue.length >= BATCH_EVENTS) {
      if (this.pumpImmediate) return;
      this.pumpImmediate = true;
      setImmediate(() => {
        this.pumpImmediate = false;
        this.pump();
      });
      return;
    }
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(this.onPumpTimer, BATCH_DELAY_MS);
    // Unref'd: flush() (the reporter's end of run) sends whatever is left.
    this.pumpTimer.unref();
  }

  private onPumpTimer = (): void => {
    this.pumpTimer = undefined;
    this.pump();
  };

  /**
   * Connects to the owner once. Resolves true when the owner accepted us (connection.established).
   *
   * With the publisher secret readable, the owner must prove it holds it before we send anything
   * (handshake.ts). Without it, only a `url` the user gave gets our publish key; an owner merely found on
   * the port gets nothing (false, `lastRefusal` says why).
   */
  connect(timeoutMs = CONNECT_TIMEOUT_MS): Promise<boolean> {
    const headers: Record<string, string> = {};
    this.lastRefusal = undefined;
    this.ownerUnproven = false;
    this.ownerWeaker = false;
    const read = this.target.canTakeOver ? readSecret(this.target.port) : undefined;
    const secret = read?.secret;
    const nonce = secret ? newNonce() : undefined;
    if (nonce) headers[NONCE_HEADER] = nonce;
    else if (!this.target.explicit) {
      this.lastRefusal = read?.why ?? 'no publisher secret';
      return Promise.resolve(false);
    } else if (this.options.publishKeys[0]) {
      // A URL the user gave, on loopback, held by another OS user's process: it would be handed the key.
      const untrusted = anotherUsersListener(this.target.wsUrl);
      if (untrusted) {
        this.lastRefusal = untrusted;
        return Promise.resolve(false);
      }
      headers.authorization = `Bearer ${this.options.publishKeys[0]}`;
    }
    return new Promise((resolvePromise) => {
      // The first outcome counts: the promise ignores later ones.
      const settle = (ok: boolean): void => {
        clearTimeout(timer);
        resolvePromise(ok);
      };
      let ws: WebSocket;
      try {
        ws = new (loadWs().WebSocket)(`${this.target.wsUrl}?role=publisher&publisherId=${this.publisherId}`, {
          headers,
          handshakeTimeout: timeoutMs,
          perMessageDeflate: false,
          maxPayload: 64 * 1024 * 1024,
          // An all-zero mask, which ws then skips applying: masking protects proxies from payloads a
          // browser page controls; ours are our own events, and masking them byte by byte in JS cost
          // several µs per event.
          generateMask: zeroMask,
        });
      } catch {
        resolvePromise(false);
        return;
      }
      let ownerNonce: string | undefined;
      // Ref'd while connecting (the caller awaits it), bounded.
      const timer = setTimeout(() => {
        ws.terminate();
        settle(false);
      }, timeoutMs + 500);
      ws.on('upgrade', (res) => {
        if (!this.options.keepAlive) res.socket?.unref();
        if (!secret || !nonce) return;
        const theirs = res.headers[OWNER_NONCE_HEADER];
        if (
          typeof theirs !== 'string' ||
          !proofMatches(res.headers[OWNER_PROOF_HEADER], proof(secret, 'owner', nonce, theirs))
        ) {
          // Not the owner that wrote our secret (another user's server on the port?): nothing was sent.
          this.ownerUnproven = true;
          this.lastRefusal =
            "the server on the port did not prove it holds this OS user's publisher secret (not a testwire owner of this user)";
          ws.terminate();
          settle(false);
          return;
        }
        ownerNonce = theirs;
      });
      ws.on('open', () => {
        if (secret && nonce && ownerNonce)
          ws.send(JSON.stringify({ type: 'auth', proof: proof(secret, 'publisher', nonce, ownerNonce) }));
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () => {
          let message: string | undefined;
          try {
            message = JSON.parse(body)?.message;
          } catch {}
          this.lastRefusal = `the owner refused this publisher: HTTP ${res.statusCode}${typeof message === 'string' ? ` (${message})` : ''}`;
          ws.terminate();
          settle(false);
        });
        res.on('error', () => settle(false));
      });
      ws.on('error', () => {});
      ws.on('close', (_code, reason) => {
        settle(false);
        if (this.ws !== ws) return;
        // The owner shut down with no subscriber: none will come to us after a takeover (no handover).
        this.noFollowers = String(reason) === NO_FOLLOWERS_REASON;
        this.onLost();
      });
      ws.on('message', (data) => {
        let message: {
          type?: string;
          epoch?: string;
          id?: number;
          seq?: number;
          rejected?: { index: number; error: string }[];
          policy?: unknown;
        };
        try {
          message = JSON.parse(String(data));
        } catch {
          return;
        }
        if (message.type === 'connection.established' && !this.ws) {
          if (this.shutdown.started || this.owner) {
            ws.close(1000);
            settle(false);
            return;
          }
          // Only from an owner that proved it holds the secret (a nonce was sent and its proof checked): an
          // owner joined with a publish key alone could hand us any policy to enforce after a takeover.
          const policy = nonce ? readPolicy(message.policy) : undefined;
          // What we published under a policy (and re-publish to a new owner) goes to no owner that lets in
          // more: the process that bound the port first after our owner died may have been started with no
          // key at all. We own a port of our own with that policy instead (recover).
          if (this.policy && !enforces(policy, this.policy)) {
            this.ownerWeaker = true;
            this.lastRefusal =
              'the broadcaster now on the port lets in more than the one this process published to did (its API or publish keys, JWTs, Origins or Hosts): what was published there would be open to more readers';
            ws.close(1000);
            settle(false);
            return;
          }
          this.ws = ws;
          this.noFollowers = false;
          this.connectedEpoch = message.epoch;
          this.policy = policy;
          const sameOwner = this.lastEpoch === message.epoch;
          if (this.lastEpoch !== undefined && !sameOwner) this.sendRuns();
          this.lastEpoch = message.epoch;
          this.resendUnacked(sameOwner);
          settle(true);
          this.pump();
        } else if (message.type === 'published' && typeof message.id === 'number') {
          this.onAck(message.id, message.rejected);
        }
      });
    });
  }

  /** Our open runs, as a new owner needs them (seqs of another epoch zeroed). */
  openRuns(): RunSnapshot[] {
    return this.store
      .snapshot()
      .filter((run) => run.status !== 'completed')
      .map((run) => ({ ...run, lastSeq: 0, tests: run.tests.map((test) => ({ ...test, seq: 0 })) }));
  }

  private sendRuns(): void {
    const runs = this.openRuns();
    if (runs.length === 0 || !this.ws) return;
    const id = this.nextId++;
    this.inflight.set(id, { kind: 'runs', events: [] });
    this.ws.send(JSON.stringify({ type: 'runs', id, runs }));
  }

  /**
   * Batches the previous connection did not get acked. The same owner may have stored them: re-send them
   * with their ids, before anything newer, so it can tell. A new owner never saw them: they go back to the
   * queue (after our open runs) as new batches.
   */
  private resendUnacked(sameOwner: boolean): void {
    const batches = this.unacked;
    this.unacked = [];
    if (!sameOwner || !this.ws) {
      this.requeue(this.takeRetained().concat(batches.flatMap((batch) => batch.events)));
      return;
    }
    for (const { id, events } of batches) {
      this.inflight.set(id, { kind: 'publish', events });
      this.ws.send(publishFrame(id, events));
    }
  }

  /**
   * The recently acked events, to publish again to a new owner: the owner that acked them may have died
   * before its subscribers read them. They keep their `origin`, by which a subscriber that did read them
   * drops the repeat.
   */
  private takeRetained(): SerializedEvent[] {
    const events = this.retained;
    this.retained = [];
    this.retainedBytes = 0;
    return events;
  }

  private retain(event: SerializedEvent): void {
    this.retained.push(event);
    this.retainedBytes += event.json.length;
    if (this.retained.length > RETAIN_EVENTS * 2 || this.retainedBytes > RETAIN_BYTES * 2) {
      // Trimmed in bulk (not per event): at most twice the bound is held, never less than the bound.
      let drop = 0;
      let bytes = this.retainedBytes;
      while (this.retained.length - drop > RETAIN_EVENTS || bytes > RETAIN_BYTES) {
        bytes -= (this.retained[drop] as SerializedEvent).json.length;
        drop++;
      }
      this.retained = this.retained.slice(drop);
      this.retainedBytes = bytes;
    }
  }

  private requeue(events: SerializedEvent[]): void {
    if (events.length === 0) return;
    this.queue = events.concat(this.queue);
    this.queueBytes += events.reduce((n, e) => n + e.json.length, 0);
  }

  private pump(): void {
    if (this.pumpTimer) {
      clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
    }
    const ws = this.ws;
    if (!ws || ws.readyState !== WS_OPEN) return;
    while (this.queue.length > 0 && this.inflight.size < WINDOW) {
      let bytes = 0;
      let count = 0;
      while (
        count < this.queue.length &&
        count < BATCH_EVENTS &&
        (count === 0 || bytes + (this.queue[count] as SerializedEvent).json.length <= BATCH_BYTES)
      ) {
        bytes += (this.queue[count] as SerializedEvent).json.length;
        count++;
      }
      const events = this.queue.splice(0, count);
      this.queueBytes -= bytes;
      const id = this.nextId++;
      this.inflight.set(id, { kind: 'publish', events });
      ws.send(publishFrame(id, events));
    }
  }

  private onAck(id: number, rejected: { index: number; error: string }[] | undefined): void {
    const batch = this.inflight.get(id);
    if (!batch) return;
    this.inflight.delete(id);
    const refused = new Set(rejected?.map((r) => r.index));
    if (batch.kind === 'runs' && rejected?.length) {
      // Our own run state, refused: the owner's snapshots lack those runs, no event was lost.
      this.drops.warnOnce(
        'refused-runs',
        `testwire: the owner refused the state of ${rejected.length} open run(s): ${rejected[0]?.error}`,
      );
    } else if (rejected?.length) {
      for (const index of refused) this.drops.add(batch.events[index]?.envelope);
      this.drops.warnOnce(
        'refused',
        `testwire: the owner refused ${rejected.length} event(s): ${rejected[0]?.error}`,
      );
    }
    const events = batch.events;
    for (let index = 0; index < events.length; index++) {
      if (refused.has(index)) continue;
      const event = events[index] as SerializedEvent;
      this.retain(event);
      try {
        this.store.update(event.envelope);
      } catch {}
    }
    // More than a window of batches waiting: keep the pipe full. Otherwise the batching timer sends
    // the rest (an ack must not turn every later event into its own message again).
    if (this.queue.length > 0 && this.inflight.size < WINDOW && this.queueBytes >= BATCH_BYTES) this.pump();
    else if (this.queue.length > 0) this.schedulePump();
    this.settleWaiters();
  }

  private get idle(): boolean {
    return this.queue.length === 0 && this.inflight.size === 0 && this.unacked.length === 0;
  }

  private settleWaiters(): void {
    if (!this.idle && !this.owner) return;
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  /** The owner's socket closed: keep the unacked batches for the next owner and go find it. */
  private onLost(): void {
    this.ws = undefined;
    this.connectedEpoch = undefined;
    for (const [id, batch] of this.inflight)
      if (batch.kind === 'publish') this.unacked.push({ id, events: batch.events });
    this.unacked.sort((a, b) => a.id - b.id);
    this.inflight.clear();
    if (this.shutdown.started) {
      this.settleWaiters();
      return;
    }
    void this.recover();
  }

  /**
   * Finds an owner again, until one is found or this broadcaster closes: jittered retries that bind the port
   * (take over), or join the testwire owner holding it, or (held by something else) own an ephemeral port.
   * Runs by itself when the owner's socket closes; getBroadcaster starts it when `url` cannot be reached yet.
   * Never rejects; a second call while one runs does nothing.
   */
  async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      for (let attempt = 0; !this.shutdown.started && !this.owner && !this.ws; attempt++) {
        // Jitter so that of several publishers one binds first and the others find it.
        await sleep(backoffDelay(RECOVER_BACKOFF, attempt + 1));
        if (this.shutdown.started || this.owner || this.ws) break;
        if (!this.target.canTakeOver) {
          await this.connect();
          continue;
        }
        // The endpoint's access policy outlives its owner (policy.ts).
        const options = withPolicy(
          { ...this.options, host: this.target.host, port: this.target.port },
          this.policy,
        );
        const claim = await claimPort(options, { seedRuns: this.openRuns() });
        if (claim.kind === 'owner') {
          this.becomeOwner(claim.owner);
        } else if (claim.kind === 'testwire') {
          // Something that is not our owner answers there (another user's server), or an owner that enforces
          // less than our policy: stop sending it anything (the latter at once: a retry finds it the same).
          if (
            !(await this.connect()) &&
            ((attempt >= 4 && this.ownerUnproven) || this.ownerWeaker) &&
            !this.owner &&
            !this.ws
          )
            this.becomeOwner(
              await ownEphemeral(options, this.lastRefusal ?? 'not our owner', { seedRuns: this.openRuns() }),
            );
        } else if (attempt >= 4) {
          this.becomeOwner(await ownEphemeral(options, claim.reason, { seedRuns: this.openRuns() }));
        }
      }
    } catch (error) {
      this.options.logger.warn(
        `testwire: could not reconnect to or take over the broadcaster: ${(error as Error).message}`,
      );
    } finally {
      this.recovering = false;
    }
  }

  private becomeOwner(owner: Owner): void {
    if (this.shutdown.started) {
      void owner.close();
      return;
    }
    this.owner = owner;
    const unconfirmed = this.unacked.flatMap((batch) => batch.events).concat(this.queue);
    // Subscribers followed the owner we published to: they come back to us (see Handover). Without one
    // (an unreachable `url`, or an owner that shut down with no subscriber), nobody is on their way here.
    if (this.lastEpoch !== undefined && !this.noFollowers)
      this.handover = {
        until: Date.now() + HANDOVER_WAIT_MS,
        events: unconfirmed.map((event) => event.envelope),
      };
    this.unacked = [];
    this.queue = [];
    this.queueBytes = 0;
    owner.adopt(this.takeRetained(), true);
    owner.adopt(unconfirmed, false);
    this.lastEpoch = owner.epoch;
    this.options.logger.info?.(
      `testwire: the previous broadcaster went away; this process now serves ${owner.url}`,
    );
    void owner.flush().then(() => this.settleWaiters());
  }

  async flush(timeoutMs = FLUSH_BUDGET_MS): Promise<FlushResult> {
    const deadline = Date.now() + timeoutMs;
    if (!this.owner) {
      this.pump();
      await this.untilIdle(timeoutMs);
    }
    // Taken over meanwhile (or before): what was ours is the new owner's now.
    const owner = this.owner as Owner | undefined;
    if (owner) {
      const result = await owner.flush(Math.max(0, deadline - Date.now()));
      const dropped = addCounts(result.dropped, this.drops.counts());
      const unsent = await this.handedOver(owner, deadline);
      return unsent.length === 0
        ? { ...result, dropped }
        : { delivered: false, pending: countEvents(unsent), dropped, notHandedOver: true };
    }
    return {
      delivered: this.idle,
      pending: this.idle ? {} : countEvents(this.unconfirmed()),
      dropped: this.drops.counts(),
    };
  }

  /**
   * Waits (bounded by `deadline`) until a subscriber has been sent every event of the handover, and returns
   * those no subscriber has been sent when it stops: none once handed over. It stops waiting before the
   * deadline when the handover window has passed and no subscriber is on its way (see Handover). The events
   * published while it waits are not waited for (a later flush does).
   */
  private async handedOver(owner: Owner, deadline: number): Promise<EventEnvelope[]> {
    const handover = this.handover;
    if (!handover) return [];
    const followed = handover.events.length;
    // Ingested by owner.flush() before this: a seq of 0 is an event dropped at its ingest (counted there).
    const events = handover.events.filter((event) => event.seq > 0);
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const { seq } of events) {
      if (seq < first) first = seq;
      if (seq > last) last = seq;
    }
    for (;;) {
      const ranges = owner.hub.sentRanges();
      const now = Date.now();
      const stop = now >= deadline || owner.closed || (now >= handover.until && !owner.hub.catchingUp());
      // One subscriber has them all (the usual end), or, when we stop, each of them is with one.
      const unsent =
        events.length === 0 || ranges.some(([from, through]) => from < first && through >= last)
          ? []
          : stop
            ? unsentOf(events, ranges)
            : undefined;
      if (unsent?.length === 0) {
        // Handed over. Once the window has closed we are an owner like any; while it is open, what is
        // published next is followed as before.
        if (this.handover === handover) {
          if (now >= handover.until) this.handover = undefined;
          else handover.events.splice(0, followed);
        }
        return [];
      }
      if (unsent) return unsent;
      // Ref'd on purpose, bounded: the process must wait for its subscribers (the caller awaits flush()).
      await sleep(Math.min(HANDOVER_POLL_MS, deadline - now), { ref: true });
    }
  }

  /** Every event not yet acknowledged: queued, in flight, or waiting to be re-sent. */
  private *unconfirmed(): Iterable<EventEnvelope> {
    for (const { envelope } of this.queue) yield envelope;
    for (const batch of this.inflight.values()) for (const { envelope } of batch.events) yield envelope;
    for (const batch of this.unacked) for (const { envelope } of batch.events) yield envelope;
  }

  /**
   * Resolves once everything queued is acked (settleWaiters), or after `timeoutMs`. The timer is ref'd on
   * purpose (bounded): the runner awaits flush() and must get an answer.
   */
  private untilIdle(timeoutMs: number): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise<void>((resolvePromise) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolvePromise();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Calls `listener` once close() has finished (getBroadcaster forgets its instance). Returns the unbind function. */
  onClose(listener: () => void): () => void {
    return this.shutdown.onDone(listener);
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.shutdown.run(() => this.doClose(options.timeoutMs ?? this.options.closeTimeoutMs));
  }

  private async doClose(timeoutMs: number): Promise<void> {
    if (this.owner) {
      await this.owner.close({ timeoutMs });
      return;
    }
    if (!this.idle && this.ws) {
      // Closing: flush directly without the owner shortcut. Without a connection there is nothing to wait
      // for: the queued events are counted as dropped below.
      this.pump();
      await this.untilIdle(timeoutMs);
    }
    for (const { envelope } of this.queue) this.drops.add(envelope);
    for (const batch of this.unacked) for (const { envelope } of batch.events) this.drops.add(envelope);
    this.queue = [];
    this.unacked = [];
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.close(1000, 'Publisher done');
      if (!(await settledBy(closed(ws), Date.now() + 500))) ws.terminate();
    }
    if (this.owner) await (this.owner as Owner).close({ timeoutMs });
  }
}
