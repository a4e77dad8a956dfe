/**
 * A mirror: an owner whose events, epoch and seqs come from another source (a Redis stream read by
 * `testwire serve --redis`), so that every mirror of one source gives an event the same `<epoch>:<seq>`, and a
 * subscriber resumes on any of them, or on one that restarted, without loss.
 *
 *   source ── append(seq, event) ──> admit() ──> hub.ingest (the seq is the source's)  ──> WS, SSE, /status
 */
import type { PublishedEvent } from '@testwire/protocol';
import { admit } from './admit.js';
import type { HealthComponent } from './introspection.js';
import { type SourceError, sourceNotice } from './notices.js';
import { type BroadcasterOptions, resolveOptions } from './options.js';
import { Owner } from './owner.js';
import type { Broadcaster } from './types.js';

export type { SourceError } from './notices.js';

/** What {@link Mirror.append} did with an event. */
export type AppendResult = 'appended' | 'duplicate' | 'invalid';

export interface Mirror extends Omit<Broadcaster, 'publish' | 'role'> {
  readonly role: 'mirror';
  /** The latest seq appended (0 before the first). */
  readonly seq: number;
  /**
   * Appends the source's event number `seq` (seqs only grow; a seq at or below the latest is a duplicate and is
   * ignored). A gap (the source lost events before this mirror read them) empties the replay history, since
   * a resume across it could not be served without loss: such a resume gets `resume.failed` and a snapshot;
   * the subscribers connected then are told of it (a `system.error` at seq 0, code SOURCE_GAP, with `gap`:
   * see `MirrorOptions.gapNotice`) before the event after it.
   * An event that fails validation is replaced, at its seq, by a `system.error` (code INVALID_EVENT) that
   * says why, so the seqs stay contiguous. Never throws.
   */
  append(seq: number, event: PublishedEvent): AppendResult;
  /**
   * Appends, at the next seq, a `system.error` that the source itself is not what it was (`component`: who
   * says so), and returns that seq: the source's numbering started again, say.
   */
  notice(component: string, error: SourceError): number;
}

export interface MirrorOptions extends Omit<BroadcasterOptions, 'url'> {
  /** The source's epoch: the same for every mirror of the source. */
  epoch: string;
  /** Fields added to `/status` (called on each request). */
  status?: () => Record<string, unknown>;
  /**
   * Components added to `/health` (called on each request): the source's own (its Redis connection, say). One
   * that is not `healthy` makes the whole `degraded`: the endpoint serves, what it serves may lag.
   */
  health?: () => HealthComponent[];
  /**
   * What the subscribers are told of a gap: the source's own words for why it lost the events (a Redis stream
   * trimmed to its length bound, say). Default: that the source no longer had them.
   */
  gapNotice?: (gap: { fromSeq: number; toSeq: number }) => SourceError;
}

/** Binds `host:port` and serves what is appended. Rejects like startBroadcaster (bad options, listen error). */
export async function startMirror(options: MirrorOptions): Promise<Mirror> {
  const { epoch, status, health, gapNotice = sourceGap, ...rest } = options;
  if (typeof epoch !== 'string' || epoch === '')
    throw new TypeError('startMirror: epoch must be a non-empty string');
  const owner = await Owner.start(resolveOptions(rest), {
    mirror: { epoch, ...(status ? { status } : {}), ...(health ? { health } : {}) },
  });
  const read = (get: () => unknown): PropertyDescriptor => ({ get, enumerable: true });
  const members: Pick<Mirror, 'role' | 'append' | 'notice' | 'flush' | 'close'> = {
    role: 'mirror',
    append(seq, event) {
      const { hub } = owner;
      if (!Number.isSafeInteger(seq) || seq <= hub.seq) return 'duplicate';
      const admitted = admit(event);
      const stored = admitted.ok ? admitted : admit(invalidNotice(seq, admitted.error));
      if (!stored.ok) return 'invalid';
      if (seq !== hub.seq + 1) {
        hub.history.clear();
        const gap = { fromSeq: hub.seq + 1, toSeq: seq - 1 };
        hub.tellGap(gap, 'mirror', gapNotice(gap));
      }
      hub.seq = seq - 1;
      hub.ingest([stored.event]);
      return admitted.ok ? 'appended' : 'invalid';
    },
    notice(component, error) {
      const seq = owner.hub.seq + 1;
      members.append(seq, sourceNotice(component, error));
      return seq;
    },
    flush: (timeoutMs) => owner.flush(timeoutMs),
    close: (closeOptions) => owner.close(closeOptions),
  };
  return Object.defineProperties(members, {
    url: read(() => owner.url),
    wsUrl: read(() => owner.wsUrl),
    host: read(() => owner.host),
    port: read(() => owner.port),
    epoch: read(() => owner.epoch),
    dropped: read(() => owner.dropped),
    seq: read(() => owner.hub.seq),
  }) as Mirror;
}

/** The default words for a gap in the source. */
function sourceGap({ fromSeq, toSeq }: { fromSeq: number; toSeq: number }): SourceError {
  return {
    message: `events ${fromSeq}..${toSeq} of the source are missing: it no longer had them when this endpoint read it`,
    code: 'SOURCE_GAP',
    severity: 'error',
    impact: 'Those events are missing from the stream, and from the runs’ state that this endpoint serves',
  };
}

/** What stands at the seq of a source's event that failed validation. */
function invalidNotice(seq: number, why: string): PublishedEvent {
  return sourceNotice('mirror', {
    message: `event ${seq} of the source was not valid: ${why}`,
    code: 'INVALID_EVENT',
    severity: 'warning',
    impact: 'That event is missing from the stream',
  });
}
