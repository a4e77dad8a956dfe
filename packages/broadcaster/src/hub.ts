/**
 * The broadcaster's state and its single ingest path.
 *
 *   owner.publish() ──── admit() ── queued, ingested in slices ─┐
 *   publisher batch ──── admit() (keeps the received text) ─────┴─> ingest: seq ─> frame ─> history
 *                                                                     ─> run state ─> fan-out
 *   frame: the event's JSON encoded once with its seq spliced in, shared by every subscriber and the history.
 *
 * Everything a subscriber is sent goes through its queue, so protocol messages (resumed, replies) stay
 * ordered with the events around them. A snapshot is streamed from a shared build (snapshots.ts) at the
 * pace the subscriber reads, then the events after its seq are replayed from the history.
 */
import { randomBytes } from 'node:crypto';
import {
  type MessageId,
  type ResumeFailedMessage,
  type RunBrief,
  type RunSnapshot,
  RunStateStore,
  type SubscribeRequest,
} from '@testwire/protocol';
import { type SerializedEvent, serialize } from './admit.js';
import { FrameworkSwitches } from './framework-switch.js';
import { FramedEntry, History } from './history.js';
import { gapEnvelope, laggingEnvelope, type SourceError } from './notices.js';
import { QueuedTotal } from './queued-total.js';
import { type SnapshotBuild, SnapshotBuilder, type SnapshotBuilderOptions } from './snapshots.js';
import { FrameJoiner, type Subscriber } from './subscriber.js';
import { SlabFramer } from './ws-frame.js';

export interface HubOptions {
  historyMaxEvents: number;
  historyMaxBytes: number;
  /** The bound on bytes queued for all subscribers together (queued-total.ts). */
  subscriberTotalMaxBytes: number;
  /** A fixed epoch (a mirror whose seqs come from elsewhere, e.g. a Redis stream); default: a new random one. */
  epoch?: string;
  /** Tests kept per open run (RunStateOptions.maxTestsPerRun). Default unbounded. */
  maxTestsPerRun?: number;
  snapshot?: SnapshotBuilderOptions;
}

/** Snapshot requests and resumes a subscriber may have waiting behind the one under way. */
const MAX_DEFERRED = 2;

/** Random id of one broadcaster lifetime; a resume against another epoch cannot be served from history. */
export const newEpoch = (): string => randomBytes(6).toString('base64url');

/** How many departed subscribers' sent ranges the hub remembers (a handover needs the latest few). */
const DEPARTED_RANGES = 16;

export class Hub {
  readonly epoch: string;
  readonly startedAt = Date.now();
  seq = 0;
  readonly history: History;
  readonly store: RunStateStore;
  readonly subscribers = new Set<Subscriber>();
  /** What subscribers that left had been sent (sentRanges), the last DEPARTED_RANGES of them. */
  private readonly departed: [from: number, through: number][] = [];
  /** Subscribers disconnected for lagging since start. */
  lagged = 0;
  /** Bumped whenever the run state changes: a snapshot build of the same version is still current. */
  stateVersion = 0;
  readonly snapshots: SnapshotBuilder;
  /** What all subscribers hold together, and its bound: every Subscriber counts itself in it. */
  readonly queued: QueuedTotal<Subscriber>;

  private dirty = new Set<Subscriber>();
  private readonly framer = new SlabFramer();
  private readonly switches = new FrameworkSwitches();
  private flushScheduled = false;

  constructor(options: HubOptions) {
    this.history = new History(options.historyMaxEvents, options.historyMaxBytes);
    this.epoch = options.epoch ?? newEpoch();
    this.store = new RunStateStore({ maxTestsPerRun: options.maxTestsPerRun });
    this.queued = new QueuedTotal<Subscriber>(options.subscriberTotalMaxBytes, (subscriber) =>
      this.lag(
        subscriber,
        subscriber.gapIfDropped(),
        'Subscribers together held more than subscriberQueue.totalMaxBytes, this one the most',
      ),
    );
    this.snapshots = new SnapshotBuilder(
      {
        seq: () => this.seq,
        stateVersion: () => this.stateVersion,
        capture: () => this.store.snapshot(),
        canReplayFrom: (seq) => this.history.covers(seq, this.seq),
      },
      options.snapshot,
    );
  }

  /**
   * Gives each event its seq and frames it: its JSON is encoded once, with the seq spliced in, straight into
   * the WebSocket frame every subscriber and the history share (a view of it is the payload SSE reads). Then
   * history, run state, fan-out. Returns the last seq given.
   */
  ingest(events: readonly SerializedEvent[]): number {
    for (const event of events) {
      this.ingestOne(event);
      // A run of another framework starting after one ended: framework.switched follows its test.started.
      const switched =
        event.envelope.type === 'test.started' || event.envelope.type === 'test.completed'
          ? this.switches.observe(event.envelope)
          : undefined;
      const serialized = switched ? serialize(switched) : undefined;
      if (serialized?.ok) this.ingestOne(serialized.event);
    }
    // Write now rather than in one more event-loop turn: the batch is complete, and every subscriber it
    // touched gets all of it in one write.
    if (this.dirty.size > 0) this.flushAll();
    return this.seq;
  }

  private ingestOne({ envelope, json, seqAt }: SerializedEvent): void {
    const seq = ++this.seq;
    envelope.seq = seq;
    const { slab, start, end, offset } = this.framer.frame(json, seqAt, `"seq":${seq},`);
    const entry = new FramedEntry(envelope, slab, start, end, offset);
    this.history.push(entry);
    try {
      // `apply` would also build a view of the run, unused here
      if (this.store.update(envelope)) this.stateVersion++;
    } catch {
      // Run state is best effort: a malformed local event must not stop the stream.
    }
    for (const subscriber of this.subscribers) {
      const gap = subscriber.deliver(entry, envelope);
      if (gap) this.lag(subscriber, gap);
    }
  }

  /** Registers a subscriber: from now on it gets every live event its subscription matches. */
  add(subscriber: Subscriber): void {
    subscriber.coveredFrom = this.seq;
    subscriber.givenFrom = this.seq;
    this.subscribers.add(subscriber);
  }

  /**
   * Adds to a subscriber's subscription (throws SubscriptionError, changing nothing, for a bad request).
   * Events before now that the new part matches were not sent: a later resume must not assume they were.
   */
  subscribe(subscriber: Subscriber, request: SubscribeRequest): void {
    subscriber.subscription.subscribe(request);
    subscriber.coveredFrom = this.seq;
    subscriber.givenFrom = this.seq;
    subscriber.subscriptionVersion++;
  }

  remove(subscriber: Subscriber): void {
    // What it was sent stays sent: a subscriber that had everything and left at once (`tail --until
    // test.completed`) had taken a handover, though it is gone before the publisher looks (sentRanges).
    const range = this.sentRange(subscriber);
    if (range) {
      this.departed.push(range);
      if (this.departed.length > DEPARTED_RANGES) this.departed.shift();
    }
    subscriber.mode = 'closed';
    subscriber.dropQueue();
    subscriber.leaveTotal();
    this.subscribers.delete(subscriber);
    this.dirty.delete(subscriber);
  }

  /** Coalesces writes: every subscriber touched in this tick is flushed once, in one corked write. */
  schedule = (subscriber: Subscriber): void => {
    this.dirty.add(subscriber);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushAll);
  };

  flushAll = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = new Set();
    const joiner = new FrameJoiner();
    for (const subscriber of dirty) subscriber.flush(joiner);
  };

  /** O(runs): the tests are not read. */
  runBriefs(): RunBrief[] {
    return this.store.briefs().map((run) => ({
      runId: run.runId,
      framework: run.framework,
      ...(run.project !== undefined ? { project: run.project } : {}),
      status: run.status,
      ...(run.interrupted ? { interrupted: true } : {}),
      ...(run.interruptedBy !== undefined ? { interruptedBy: run.interruptedBy } : {}),
    }));
  }

  /** Seeds run state from another epoch (a publisher taking over, or joining a new owner). */
  mergeRuns(runs: readonly RunSnapshot[]): void {
    for (const run of runs) this.store.merge(run);
    this.stateVersion++;
  }

  /**
   * Sends a `snapshot` of every run, then the events after it: live delivery stops, the queue is written,
   * the snapshot (a shared build) streams at the pace the transport drains, then the history is replayed
   * from the snapshot's seq. Asked for, the snapshot is at or after the latest seq (as if sent at once);
   * after `resume.failed`, at or after the last event sent (an older build may serve a reconnect storm:
   * the replay brings the rest). Behind a snapshot or replay under way, the request waits (at most
   * MAX_DEFERRED of them): false when it cannot.
   */
  sendSnapshot(subscriber: Subscriber, id?: MessageId, afterResumeFailed = false): boolean {
    if (subscriber.mode === 'closed') return true;
    if (subscriber.mode !== 'live')
      return this.whenIdle(subscriber, () => this.sendSnapshot(subscriber, id, afterResumeFailed));
    subscriber.mode = 'snapshot';
    this.dirty.delete(subscriber);
    subscriber.flush();
    const minSeq = afterResumeFailed ? subscriber.lastSeq : this.seq;
    this.snapshots.acquire(minSeq, (build, seq) =>
      this.streamSnapshot(subscriber, build, seq, id, afterResumeFailed),
    );
    return true;
  }

  /**
   * Runs `action` now when the subscriber is live, else once the snapshot or replay under way has ended
   * (at most MAX_DEFERRED waiting: false when full).
   */
  whenIdle(subscriber: Subscriber, action: () => void): boolean {
    if (subscriber.mode === 'live' || subscriber.mode === 'closed') {
      action();
      return true;
    }
    if (subscriber.deferred.length >= MAX_DEFERRED) return false;
    subscriber.deferred.push(action);
    return true;
  }

  private streamSnapshot(
    subscriber: Subscriber,
    build: SnapshotBuild,
    seq: number,
    id: MessageId | undefined,
    afterResumeFailed: boolean,
  ): void {
    if (subscriber.mode !== 'snapshot') return;
    const { transport } = subscriber;
    const head = `{"type":"snapshot",${id !== undefined ? `"id":${JSON.stringify(id)},` : ''}"epoch":"${this.epoch}","seq":${seq},"runs":[`;
    subscriber.flush();
    if (!subscriber.writeNow(transport.streamHead(head, 'snapshot', `${this.epoch}:${seq}`))) return;
    subscriber.holding = true;
    // In flight: half the bound, at most 1 MiB (the kernel holds more): a turn writes little per reader.
    const limit = Math.min(1024 * 1024, Math.max(64 * 1024, subscriber.maxBytes / 2));
    let next = 0;
    const step = (): void => {
      if (subscriber.mode !== 'snapshot') return;
      for (;;) {
        if (transport.bufferedAmount() >= limit) {
          if (transport.needsDrain()) transport.onDrain(step);
          else setImmediate(step);
          return;
        }
        const part = build.parts[next] ?? (next === build.parts.length ? build.tail : undefined);
        if (!part) {
          build.listeners.add(step);
          return;
        }
        if (!subscriber.writeNow(transport.streamPart(part))) return;
        if (part === build.tail) break;
        next++;
      }
      subscriber.holding = false;
      // After resume.failed the snapshot stands for the events up to its seq (as the history did not).
      if (afterResumeFailed && seq > subscriber.lastSeq) subscriber.lastSeq = seq;
      subscriber.flush();
      // The events after the snapshot, from the history, at the same pace; then live. After resume.failed
      // the snapshot stands for every event before its seq: replayed to the end, the subscriber was given all.
      this.replay(subscriber, seq, undefined, false, afterResumeFailed ? 0 : seq);
    };
    step();
  }

  /**
   * Resume from `{epoch, since}`: replay every missed event that matches the subscription, then `resumed`;
   * or `resume.failed` + `snapshot` when the history cannot serve it.
   *
   * Every event goes out at most once and in seq order on a connection. So when live delivery already went
   * past `since` (a standalone `resume` that arrived after `subscribe` and a live event), the events up to
   * `lastSeq` are skipped, which is only right if none of them was missed: otherwise they could only come
   * after a later event, and a client that drops `seq <= last seen` would lose them silently. That case
   * answers `resume.failed` `ALREADY_LIVE` + `snapshot` instead. Callers avoid it by applying the
   * subscription and the resume in one synchronous step (`subscribe` with `resume`, the `/ws` URL, SSE
   * `Last-Event-ID`): no live event can be queued in between.
   */
  resume(subscriber: Subscriber, epoch: string | undefined, since: number, id?: MessageId): boolean {
    if (subscriber.mode === 'closed') return true;
    if (subscriber.mode === 'snapshot')
      return this.whenIdle(subscriber, () => this.resume(subscriber, epoch, since, id));
    let failed: ResumeFailedMessage['reason'] | undefined;
    let message = '';
    if (epoch !== undefined && epoch !== this.epoch) {
      failed = 'EPOCH_CHANGED';
      message = `The broadcaster restarted (epoch ${epoch} is gone, now ${this.epoch}); a snapshot of every run follows`;
    } else if (since > this.seq) {
      failed = 'FUTURE_SEQ';
      message = `seq ${since} was never sent in epoch ${this.epoch} (latest is ${this.seq}); a snapshot follows`;
    } else if (!this.history.covers(since, this.seq)) {
      failed = 'HISTORY_EVICTED';
      message = `Events after seq ${since} are no longer in the history (oldest held: ${this.history.oldestSeq}); a snapshot follows`;
    } else if (subscriber.lastSeq > since && this.missedBeforeLive(subscriber, since)) {
      failed = 'ALREADY_LIVE';
      message =
        `Live events up to seq ${subscriber.lastSeq} were already sent on this connection, so the missed events after seq ${since} ` +
        'cannot follow them in order; a snapshot follows. Resume in the subscribe message ({"type":"subscribe", …, "resume":{"epoch","since"}}) ' +
        'or in the /ws URL (?lastEventId=<epoch>:<seq>) so the replay comes before any live event';
    }
    if (failed) {
      if (subscriber.mode === 'replay') subscriber.mode = 'live'; // this request replaces that replay
      const msg: ResumeFailedMessage = {
        type: 'resume.failed',
        ...(id !== undefined ? { id } : {}),
        reason: failed,
        message,
        epoch: this.epoch,
        since,
        oldestSeq: this.history.oldestSeq,
      };
      if (subscriber.send(msg)) this.sendSnapshot(subscriber, id, true);
      return true;
    }
    this.replay(subscriber, since, id, true);
    return true;
  }

  /**
   * Starts replaying the history after `since`; `announce`: end with `resumed`; `gives`: the subscriber's
   * `givenFrom` once it has run to its end.
   */
  private replay(
    subscriber: Subscriber,
    since: number,
    id: MessageId | undefined,
    announce: boolean,
    gives = since,
  ): void {
    subscriber.mode = 'replay';
    subscriber.replayGives = gives;
    subscriber.cursor = since;
    subscriber.replaySince = since;
    subscriber.replayed = 0;
    subscriber.replayId = id;
    subscriber.replayVersion = subscriber.subscriptionVersion;
    subscriber.announceReplay = announce;
    this.pump(subscriber);
  }

  /**
   * True when an event after `since` that matches the subscription may not have been sent although a later
   * one was: one at or before both `coveredFrom` (before it, live delivery does not vouch for anything) and
   * `lastSeq` (after it, the replay sends it). The history holds them all (checked by the caller).
   */
  private missedBeforeLive(subscriber: Subscriber, since: number): boolean {
    const end = Math.min(subscriber.coveredFrom, subscriber.lastSeq);
    for (let seq = since + 1; seq <= end; seq++) {
      const entry = this.history.get(seq);
      if (!entry || subscriber.subscription.matches(entry)) return true;
    }
    return false;
  }

  /**
   * Replays history to a subscriber at the pace its transport drains. Live events are not queued meanwhile:
   * the history holds them, so the replay catches up with them in order, without duplicates.
   */
  pump = (subscriber: Subscriber): void => {
    if (subscriber.mode !== 'replay') return;
    const limit = Math.max(64 * 1024, subscriber.maxBytes / 2);
    while (subscriber.cursor < this.seq) {
      if (subscriber.pendingBytes() >= limit) {
        subscriber.flush();
        if (subscriber.transport.needsDrain()) subscriber.transport.onDrain(() => this.pump(subscriber));
        else setImmediate(() => this.pump(subscriber));
        return;
      }
      const seq = subscriber.cursor + 1;
      const entry = this.history.get(seq);
      if (!entry) {
        // Evicted while this subscriber replayed slowly.
        this.lag(subscriber, { fromSeq: seq, toSeq: this.seq });
        return;
      }
      if (seq > subscriber.lastSeq && subscriber.subscription.matches(entry)) {
        const frame = subscriber.transport.eventFrame(entry);
        // Made to lag for the total of all subscribers: told its gap from this event on.
        if (!subscriber.roomFor(frame.length)) return;
        subscriber.pushEvent(seq, frame);
        subscriber.replayed++;
      }
      subscriber.cursor = seq;
    }
    subscriber.mode = 'live';
    // Replayed to the end under one subscription: everything it matches after `since` has been sent.
    if (subscriber.replayVersion === subscriber.subscriptionVersion) {
      subscriber.coveredFrom = Math.min(subscriber.coveredFrom, subscriber.replaySince);
      subscriber.givenFrom = Math.min(subscriber.givenFrom, subscriber.replayGives);
    }
    if (subscriber.announceReplay) {
      const sent = subscriber.send({
        type: 'resumed',
        ...(subscriber.replayId !== undefined ? { id: subscriber.replayId } : {}),
        epoch: this.epoch,
        since: subscriber.replaySince,
        replayed: subscriber.replayed,
        seq: this.seq,
      } as { type: string });
      if (!sent) return;
    }
    // Requests that waited: one at a time, each may start another snapshot or replay.
    while (subscriber.mode === 'live' && subscriber.deferred.length > 0) subscriber.deferred.shift()?.();
  };

  /**
   * What of the stream has left this process to a subscriber: one range `[from, through]` (seqs `from + 1` to
   * `through`) per subscriber that has been given every event after `from` its subscription matches and has
   * written them out through `through` (Subscriber.sentThrough). Subscribers that follow nothing, or whose
   * position is not known right now, give no range; those that left give the range they had been sent (the
   * last few of them). The handover after a takeover reads it (publisher.ts).
   */
  sentRanges(): [from: number, through: number][] {
    const ranges: [number, number][] = [...this.departed];
    for (const subscriber of this.subscribers) {
      const range = this.sentRange(subscriber);
      if (range) ranges.push(range);
    }
    return ranges;
  }

  private sentRange(subscriber: Subscriber): [from: number, through: number] | undefined {
    if (subscriber.subscription.empty) return undefined;
    const through = subscriber.sentThrough(this.seq);
    return through !== undefined && through > subscriber.givenFrom
      ? [subscriber.givenFrom, through]
      : undefined;
  }

  /** True while a subscriber is on its way through the stream: a snapshot or replay under way, bytes unwritten. */
  catchingUp(): boolean {
    for (const subscriber of this.subscribers)
      if (subscriber.mode === 'replay' || subscriber.mode === 'snapshot' || subscriber.pendingBytes() > 0)
        return true;
    return false;
  }

  /**
   * Tells every subscriber that the stream skips `gap` (a mirror's source lost those events before it read
   * them), with a `system.error` at seq 0 ({@link gapEnvelope}) queued ahead of the event after the gap. The
   * connections stay open: nobody has those events.
   */
  tellGap(gap: { fromSeq: number; toSeq: number }, component: string, error: SourceError): void {
    const envelope = gapEnvelope(this.epoch, gap, component, error);
    for (const subscriber of this.subscribers) subscriber.notice(envelope);
  }

  /**
   * Tells a subscriber where its gap is (SUBSCRIBER_LAGGING), then closes its transport (WS 4008, SSE end).
   * In the middle of a streamed snapshot no message can be added: the close alone says it.
   */
  lag = (subscriber: Subscriber, gap: { fromSeq: number; toSeq: number }, reason?: string): void => {
    if (subscriber.mode === 'closed') return;
    this.lagged++;
    subscriber.dropQueue();
    subscriber.mode = 'live';
    subscriber.notice(laggingEnvelope(this.epoch, gap, reason));
    subscriber.flush();
    subscriber.mode = 'closed';
    subscriber.deferred.length = 0;
    this.subscribers.delete(subscriber);
    this.dirty.delete(subscriber);
    subscriber.transport.endLagging();
  };

  /**
   * A subscriber that stopped reading (it left a heartbeat ping unanswered): what is queued is written,
   * nothing dropped, then the lag notice for the events after the last one written, and close 4008. A
   * reader that was only stalled gets everything in order, the notice, and the close; a dead peer is
   * terminated by `ws`'s close timeout.
   */
  stalled(subscriber: Subscriber, reason: string): void {
    if (subscriber.mode === 'closed') return;
    subscriber.flush();
    if (subscriber.holding) subscriber.dropQueue();
    this.lag(subscriber, { fromSeq: subscriber.lastSeq + 1, toSeq: this.seq }, reason);
  }
}
