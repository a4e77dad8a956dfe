/**
 * The owner's half of the publisher protocol (the other half is publisher.ts): processes of this machine
 * (or holders of credentials) that joined this owner and publish into its stream.
 *
 *   upgrade /ws?role=publisher&publisherId=…  ── x-testwire-publisher secret | credentials, no browser ──> peer
 *                                             └─ x-testwire-nonce (a joiner) ─> 101 ─> its proof, ≤ 1 KiB ─> peer
 *   {type:'publish', id, events} ─> each event through admit() ─> hub, after the local events queued before it
 *                                 <─ {type:'published', id, seq, rejected?}   (remembered per publisherId)
 *   {type:'runs', id, runs}      ─> merged into the run state  <─ {type:'published', id, seq}
 *   a batch id at or below the last one stored for its publisherId ─> the same ack again, nothing stored
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCodes,
  PROTOCOL_VERSION,
  type PublishedEvent,
  type PublishedMessage,
  type RunSnapshot,
  validateRunSnapshot,
} from '@testwire/protocol';
import type WebSocket from 'ws';
import { admit, type SerializedEvent } from '../admit.js';
import { type Authenticator, safeEqual } from '../auth.js';
import { closed, LazyWebSocketServer, rejectUpgrade } from '../http-util.js';
import type { Hub } from '../hub.js';
import type { ResolvedOptions } from '../options.js';
import { VERSION } from '../version.js';
import { WS_OPEN } from '../ws-module.js';
import { readPublisherFrame } from './batch.js';
import {
  NO_FOLLOWERS_REASON,
  NONCE,
  NONCE_HEADER,
  newNonce,
  OWNER_NONCE_HEADER,
  OWNER_PROOF_HEADER,
  PROOF_MAX_BYTES,
  PROOF_TIMEOUT_MS,
  proof,
  proofMatches,
} from './handshake.js';
import { lostPublisherCompletion, PUBLISHER_LOST_GRACE_MS } from './lost-publisher.js';
import { policyOf } from './policy.js';
import { newSecret, PUBLISHER_HEADER, removeSecret, writeSecret } from './secret.js';

/** Publisher batches may be far larger than a subscriber's frames. */
const PUBLISHER_MAX_PAYLOAD = 32 * 1024 * 1024;
/** Publishers whose last batch id is remembered (least recently seen forgotten first). */
const MAX_PUBLISHER_RECORDS = 1024;
/** Acks kept per publisher to answer a re-sent batch exactly (a publisher has at most 8 batches in flight). */
const ACKS_KEPT = 32;
/** `publisherId` from the publisher's handshake URL. */
const PUBLISHER_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * What the owner remembers of one publisher across its connections: a publisher that lost its socket between
 * our storing a batch and its reading the ack sends that batch again (same id) on its next connection.
 */
interface PublisherRecord {
  /** Highest batch id processed; ids of one publisher only grow. */
  lastId: number;
  /** The acks of the latest batches, by id, re-sent verbatim for a duplicate. */
  acks: Map<number, string>;
}

/** An event or run of a publisher's message that the owner refused, and why (in the `published` ack). */
type Rejection = NonNullable<PublishedMessage['rejected']>[number];

/** One joined publisher's socket; `alive` is the owner's heartbeat mark. */
export interface PublisherPeer {
  ws: WebSocket;
  alive: boolean;
  publisherId?: string;
  /** Runs this connection published events of: completed as interrupted if it dies with them open. */
  runs: Set<string>;
}

/** Where the ingress puts what publishers send: the owner. */
export interface IngressTarget {
  readonly hub: Hub;
  /** Publishes an event of the owner's own (a lost publisher's runs completed on its behalf). */
  publish(event: PublishedEvent): void;
  /** Ingests the local events queued so far: a publisher's batch comes after what was published before it arrived. */
  ingestQueued(): void;
}

export class PublisherIngress {
  readonly peers = new Set<PublisherPeer>();
  private readonly wss: LazyWebSocketServer;
  private readonly secret = newSecret();
  private readonly records = new Map<string, PublisherRecord>();
  private port?: number;
  private closing = false;
  /** Challenged joiners whose proof has not come yet (awaitProof): not peers. */
  private readonly unproven = new Set<WebSocket>();
  /** Upgrades answering a joiner's challenge: the owner's half of the handshake goes in their 101 headers. */
  private readonly challenges = new WeakMap<IncomingMessage, { joiner: string; owner: string }>();

  constructor(
    private readonly target: IngressTarget,
    private readonly options: ResolvedOptions,
    private readonly auth: Authenticator,
  ) {
    this.wss = new LazyWebSocketServer(PUBLISHER_MAX_PAYLOAD, (server) =>
      server.on('headers', (headers: string[], req: IncomingMessage) => {
        const challenge = this.challenges.get(req);
        if (!challenge) return;
        headers.push(
          `${OWNER_NONCE_HEADER}: ${challenge.owner}`,
          `${OWNER_PROOF_HEADER}: ${proof(this.secret, 'owner', challenge.joiner, challenge.owner)}`,
        );
      }),
    );
  }

  /** Writes this owner's secret for `port`, where processes of the same OS user read it to join. */
  advertise(port: number): void {
    this.port = port;
    const written = writeSecret(port, this.secret);
    if (written.skipped.length > 0) {
      this.options.logger.warn(
        `testwire: skipped secret directories that are not this user's own (planted by another user?): ${written.skipped.join('; ')}${written.path ? `; using ${written.path}` : ''}`,
      );
    }
    if (written.error) {
      this.options.logger.warn(
        `testwire: could not write the publisher secret (${written.error}); other test processes will not be able to join this broadcaster`,
      );
    }
  }

  /**
   * `/ws?role=publisher`, never from a browser: a joiner's challenge (handshake.ts), the secret itself (a
   * client that holds it), or a credential that may publish (a publish key, a JWT with the publish scope).
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): Promise<void> {
    if (req.headers.origin !== undefined) {
      rejectUpgrade(socket, 403, {
        error: 'FORBIDDEN_ORIGIN',
        message: 'Publisher connections are not accepted from browsers',
      });
      return;
    }
    const nonce = req.headers[NONCE_HEADER];
    const challenged = typeof nonce === 'string' && NONCE.test(nonce);
    if (challenged) this.challenges.set(req, { joiner: nonce, owner: newNonce() });
    const presented = req.headers[PUBLISHER_HEADER];
    const bySecret = typeof presented === 'string' && safeEqual(presented, this.secret);
    let ok = challenged || bySecret;
    if (typeof presented === 'string' && !ok) this.auth.failed(req);
    if (!ok && this.auth.enabled) {
      const result = await this.auth.check(req, query);
      if (result.ok && !result.publish) {
        rejectUpgrade(socket, 403, {
          error: 'FORBIDDEN',
          message:
            'This credential may read but not publish: publishing needs the publisher secret, a publishKey, or a JWT whose scope holds "testwire:publish"',
        });
        return;
      }
      if (!result.ok && result.status === 429) {
        rejectUpgrade(socket, 429, { error: result.code, message: result.message });
        return;
      }
      ok = result.ok;
    }
    if (!ok) {
      rejectUpgrade(socket, 401, {
        error: 'UNAUTHORIZED',
        message:
          'Publisher connections need the secret of this broadcaster (same OS user) or a credential that may publish (publishKey, or a JWT whose scope holds "testwire:publish")',
      });
      return;
    }
    if (socket.destroyed || this.closing) return;
    const publisherId = query.get('publisherId');
    const id = publisherId !== null && PUBLISHER_ID.test(publisherId) ? publisherId : undefined;
    const challenge = this.challenges.get(req);
    this.wss.get().handleUpgrade(req, socket, head, (ws) => {
      if (!challenge) {
        this.accept(ws, id, bySecret);
        return;
      }
      const expected = proof(this.secret, 'publisher', challenge.joiner, challenge.owner);
      this.awaitProof(ws, socket, req, expected, () => this.accept(ws, id, true));
    });
  }

  /**
   * A challenged joiner, before its proof (handshake.ts): its first message must be the proof. Until then it
   * is not a publisher: not counted, not pinged, told nothing (not even connection.established), and it may
   * send no more than PROOF_MAX_BYTES (a publisher's frames may be 32 MiB, which `ws` would buffer whole
   * before any check). A wrong proof closes it (1008), a late one too; more bytes end the socket at once.
   */
  private awaitProof(
    ws: WebSocket,
    socket: Duplex,
    req: IncomingMessage,
    expected: string,
    proven: () => void,
  ): void {
    this.unproven.add(ws);
    let settled = false;
    let received = 0;
    const countBytes = (chunk: Buffer): void => {
      // Still called for the chunk whose proof settled it (emit runs the listeners it started with).
      if (settled) return;
      received += chunk.length;
      if (received <= PROOF_MAX_BYTES) return;
      done();
      this.auth.failed(req);
      ws.terminate();
    };
    const refuse = (reason: string): void => {
      done();
      this.auth.failed(req);
      ws.close(CloseCodes.POLICY_VIOLATION, reason);
    };
    const timer = setTimeout(() => refuse('No publisher proof'), PROOF_TIMEOUT_MS);
    timer.unref();
    const onMessage = (data: WebSocket.RawData): void => {
      let presented: unknown;
      try {
        const message = JSON.parse(String(data));
        if (message?.type === 'auth') presented = message.proof;
      } catch {}
      if (!proofMatches(presented, expected)) {
        refuse('Wrong publisher proof');
        return;
      }
      done();
      if (ws.readyState === WS_OPEN && !this.closing) proven();
      else ws.terminate();
    };
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', countBytes);
      ws.off('message', onMessage);
      this.unproven.delete(ws);
    };
    socket.on('data', countBytes);
    ws.once('message', onMessage);
    ws.on('error', () => {});
    ws.once('close', done);
  }

  /** The record of a publisher id, most recently used last (the Map's order is the LRU order). */
  private record(publisherId: string): PublisherRecord {
    let record = this.records.get(publisherId);
    if (record) this.records.delete(publisherId);
    else record = { lastId: 0, acks: new Map() };
    this.records.set(publisherId, record);
    if (this.records.size > MAX_PUBLISHER_RECORDS) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
    return record;
  }

  /**
   * A publisher, proven (or holding the secret or a credential that may publish): counted, told the epoch
   * and seq, and its messages taken. `publisherId` (stable for the publisher's lifetime) lets us drop a
   * batch we already stored: without it a batch whose ack was lost with the connection would be ingested
   * twice. `holdsSecret`: it proved the secret (not a publish key or JWT alone): only it is told the policy.
   */
  private accept(ws: WebSocket, publisherId: string | undefined, holdsSecret: boolean): void {
    const peer: PublisherPeer = { ws, alive: true, runs: new Set(), ...(publisherId ? { publisherId } : {}) };
    let lastRunId = '';
    this.peers.add(peer);
    const sendText = (text: string): void => {
      if (ws.readyState === WS_OPEN) ws.send(text);
    };
    const send = (message: object): void => sendText(JSON.stringify(message));
    /** Sends the ack of a processed batch and remembers it for a re-send. */
    const ack = (record: PublisherRecord | undefined, id: number, message: object): void => {
      const text = JSON.stringify(message);
      if (record) {
        record.lastId = id;
        record.acks.set(id, text);
        if (record.acks.size > ACKS_KEPT) record.acks.delete(record.acks.keys().next().value as number);
      }
      sendText(text);
    };
    send({
      type: 'connection.established',
      server: 'testwire',
      protocol: PROTOCOL_VERSION,
      version: VERSION,
      epoch: this.target.hub.epoch,
      seq: this.target.hub.seq,
      connectionId: `p_${this.peers.size}`,
      runs: [],
      heartbeatMs: this.options.heartbeatMs,
      // Only to a publisher that proved the secret (a process of this user, which may take the port over):
      // what it must keep enforcing then. One with a publish key or a JWT alone learns no key digests.
      ...(holdsSecret ? { policy: policyOf(this.options) } : {}),
    });
    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      this.peers.delete(peer);
      this.watchLost(peer);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(CloseCodes.UNSUPPORTED_DATA, 'Binary frames are not supported');
        return;
      }
      const message = readPublisherFrame((data as Buffer).toString('utf8'));
      if (!message) {
        send({ type: 'error', code: 'INVALID_JSON', message: 'Publisher message is not valid JSON' });
        return;
      }
      const id = typeof message.id === 'number' ? message.id : undefined;
      const batch = message.type === 'publish' || message.type === 'runs';
      const record = batch && id !== undefined && publisherId ? this.record(publisherId) : undefined;
      const { hub } = this.target;
      if (record && id !== undefined && id <= record.lastId) {
        // Already stored (the ack was lost with the previous connection): ack again, ingest nothing.
        sendText(record.acks.get(id) ?? JSON.stringify({ type: 'published', id, seq: hub.seq }));
        return;
      }
      try {
        if (message.type === 'publish' && id !== undefined && message.events) {
          const accepted: SerializedEvent[] = [];
          const rejected: Rejection[] = [];
          message.events.forEach(({ value, text }, index) => {
            const admission = admit(value, text);
            if (admission.ok) {
              accepted.push(admission.event);
              const { runId } = admission.event.envelope;
              if (runId !== lastRunId && runId !== '') {
                lastRunId = runId;
                peer.runs.add(runId);
              }
            } else rejected.push({ index, error: admission.error });
          });
          this.target.ingestQueued();
          const seq = hub.ingest(accepted);
          ack(record, id, { type: 'published', id, seq, ...(rejected.length ? { rejected } : {}) });
        } else if (message.type === 'runs' && id !== undefined && Array.isArray(message.runs)) {
          // A publisher re-seeding its open runs after the owner changed (see publisher.ts). The run state
          // trusts the shapes it is given: a malformed run is refused here, with why, and the others merged.
          this.target.ingestQueued();
          const runs: RunSnapshot[] = [];
          const rejected: Rejection[] = [];
          message.runs.forEach((value, index) => {
            const checked = validateRunSnapshot(value);
            if (checked.ok) runs.push(checked.value);
            else rejected.push({ index, error: checked.error });
          });
          for (const run of runs) peer.runs.add(run.runId);
          hub.mergeRuns(runs);
          ack(record, id, { type: 'published', id, seq: hub.seq, ...(rejected.length ? { rejected } : {}) });
        } else if (message.type === 'ping') {
          send({ type: 'pong', timestamp: new Date().toISOString() });
        } else {
          send({
            type: 'error',
            code: 'INVALID_MESSAGE',
            message: 'Publishers send {type:"publish", id, events} or {type:"runs", id, runs}',
            ...(id !== undefined ? { id } : {}),
          });
        }
      } catch (error) {
        // Whatever a publisher sends, nothing may throw out of a socket handler: that would end the owner's
        // process, a test run. The message is answered with what went wrong, and not acknowledged.
        send({
          type: 'error',
          code: 'INVALID_MESSAGE',
          message: `The owner could not process this ${JSON.stringify(message.type)} message (${(error as Error)?.message}); it was not acknowledged`,
          ...(id !== undefined ? { id } : {}),
        });
      }
    });
  }

  /**
   * A publisher's connection closed: after the grace period, unless it came back (same publisherId) or the
   * owner is closing, its runs still running are completed as interrupted (lost-publisher.ts).
   */
  private watchLost(peer: PublisherPeer): void {
    if (this.closing || peer.runs.size === 0) return;
    const timer = setTimeout(() => {
      if (this.closing) return;
      for (const other of this.peers) if (peer.publisherId && other.publisherId === peer.publisherId) return;
      const now = Date.now();
      for (const runId of peer.runs) {
        const run = this.target.hub.store.get(runId);
        if (run?.status === 'running') this.target.publish(lostPublisherCompletion(run, now));
      }
    }, PUBLISHER_LOST_GRACE_MS);
    timer.unref();
  }

  /**
   * Withdraws the secret and sends close 1001 to every publisher; resolves once all have closed. `followers`:
   * some subscriber may follow to the next owner (else the close says so: NO_FOLLOWERS_REASON).
   */
  async close(followers = true): Promise<void> {
    this.closing = true;
    if (this.port !== undefined) removeSecret(this.port, this.secret);
    for (const ws of this.unproven) ws.terminate();
    const all: Promise<void>[] = [];
    for (const peer of this.peers) {
      all.push(closed(peer.ws));
      peer.ws.close(CloseCodes.GOING_AWAY, followers ? 'Broadcaster shutting down' : NO_FOLLOWERS_REASON);
    }
    await Promise.allSettled(all);
  }

  /** Ends what is left at once. */
  terminate(): void {
    for (const ws of this.unproven) ws.terminate();
    for (const peer of this.peers) peer.ws.terminate();
    this.wss.close();
  }
}
