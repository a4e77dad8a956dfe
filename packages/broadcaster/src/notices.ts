/**
 * The `system.error` events an endpoint says itself — about a source it mirrors (a gap, an event that was not
 * valid, a source that started again) or a subscriber that fell behind — built in one place, so that every
 * notice has the same shape: `{ component, error: { message, code, severity }, impact, recovery?, … }`.
 */
import type { EventEnvelope, PublishedEvent } from '@testwire/protocol';

/** What a notice says: the error, what it means for the reader, and what to do about it. */
export interface SourceError {
  message: string;
  code: string;
  severity: 'warning' | 'error';
  impact: string;
  recovery?: string;
}

type Gap = { fromSeq: number; toSeq: number };
type SystemErrorData = EventEnvelope<'system.error'>['data'];

/** The data of a `system.error` from `component`; `extra` adds the fields of notices about a gap. */
function systemErrorData(
  component: string,
  { impact, recovery, ...error }: SourceError,
  extra?: { gap: Gap; epoch: string },
): SystemErrorData {
  return { component, error, impact, ...(recovery ? { recovery } : {}), ...extra };
}

/** A `system.error` about the source, to be published at a seq of the stream. */
export function sourceNotice(component: string, error: SourceError): PublishedEvent {
  return {
    type: 'system.error',
    runId: '',
    timestamp: new Date().toISOString(),
    data: systemErrorData(component, error),
  };
}

/**
 * A notice at seq 0 — not part of the stream, so a client's resume position does not move — that the stream
 * skips `gap` of `epoch`.
 */
export function gapEnvelope(
  epoch: string,
  gap: Gap,
  component: string,
  error: SourceError,
): EventEnvelope<'system.error'> {
  return {
    type: 'system.error',
    timestamp: new Date().toISOString(),
    seq: 0,
    runId: '',
    data: systemErrorData(component, error, { gap, epoch }),
  };
}

/** The `system.error` envelope a lagging subscriber receives last (seq 0: it is not part of the stream). */
export function laggingEnvelope(
  epoch: string,
  gap: Gap,
  reason = 'Subscriber fell behind',
): EventEnvelope<'system.error'> {
  const what =
    gap.fromSeq > gap.toSeq
      ? `no event was dropped; events after ${gap.fromSeq - 1} will not be sent`
      : `events ${gap.fromSeq}..${gap.toSeq} were not sent`;
  return gapEnvelope(epoch, gap, 'broadcaster', {
    message: `${reason}: ${what}; reconnect and resume`,
    code: 'SUBSCRIBER_LAGGING',
    severity: 'warning',
    impact: 'This connection is closed (WebSocket code 4008); no further events are sent on it',
    recovery: `Reconnect and subscribe with "resume":{"epoch":"${epoch}","since":${gap.fromSeq - 1}} in the subscribe message`,
  });
}
