/**
 * Saying what a run lost on its way to the endpoint. A run's events are lost when a bounded queue drops them
 * or when the process exits with events the endpoint has not confirmed, i.e. when the final flush reached
 * flushTimeoutMs. Neither may happen silently: one line on stderr (from the runner's thread, so that it is
 * written before the process exits) and a `system.error` that goes out with whatever can still be sent.
 */
import type { EventCounts, SystemErrorData } from '@testwire/protocol';
// A module of its own (inlined at build): loss lines are said on the runner's thread, which loads no protocol.
import { redactCredentials } from '@testwire/protocol/redact';
import type { DeliveryReport } from './delivery.js';

/** What one run lost, as known when its final flush returned. Plain data: it crosses threads. */
export interface RunLoss {
  runId: string;
  /** The endpoint, when known. */
  url?: string;
  /** The flush bound (flushTimeoutMs). */
  boundMs: number;
  /** Dropped on the way (a bounded queue was full, refused by the endpoint), by type. */
  dropped: Record<string, number>;
  /** Not confirmed by the endpoint when the bound was reached, by type; undefined when nobody could tell. */
  unconfirmed: Record<string, number> | undefined;
  /** Why the reporter itself dropped events (the broadcaster warns of its own drops when they happen). */
  dropReason?: string;
  /**
   * The unconfirmed events are in this process's history, given to no subscriber: it took the endpoint over
   * from an owner that went away, and no subscriber came back in time (the broadcaster's handover).
   */
  notHandedOver?: true;
  /** Why the unconfirmed events are, when the target said (Redis' last error): said instead of the bound hint. */
  pendingReason?: string;
}

/** The loss of `runId` in `report`, or undefined when the run lost nothing. */
export function runLoss(
  report: DeliveryReport,
  runId: string,
  url: string | undefined,
  boundMs: number,
): RunLoss | undefined {
  const dropped = report.dropped[runId] ?? {};
  const unconfirmed = report.unconfirmed === undefined ? undefined : (report.unconfirmed[runId] ?? {});
  if (sum(dropped) === 0 && unconfirmed !== undefined && sum(unconfirmed) === 0) return undefined;
  return {
    runId,
    ...(url ? { url: redactCredentials(url) } : {}),
    boundMs,
    dropped,
    unconfirmed,
    ...(sum(dropped) > 0 && report.dropReason ? { dropReason: report.dropReason } : {}),
    ...(report.notHandedOver && unconfirmed !== undefined && sum(unconfirmed) > 0
      ? { notHandedOver: true as const }
      : {}),
    ...(report.pendingReason && unconfirmed !== undefined && sum(unconfirmed) > 0
      ? { pendingReason: report.pendingReason }
      : {}),
  };
}

const FLUSH_HINT = 'on a loaded machine, raise flushTimeoutMs (env TESTWIRE_FLUSH_TIMEOUT)';
const HANDOVER_HINT =
  'start `testwire serve` before the runs for an endpoint that outlives the test processes';

/** The loss in one sentence, without the `testwire: ` prefix. */
export function describeLoss(loss: RunLoss): string {
  const parts: string[] = [];
  const { unconfirmed, dropped } = loss;
  if (unconfirmed === undefined)
    parts.push(`its delivery was not confirmed within the flush bound of ${loss.boundMs} ms`);
  else if (loss.notHandedOver)
    parts.push(
      `${sum(unconfirmed)} event(s) reached no subscriber (${list(unconfirmed)}): the endpoint's owner went away, ` +
        'this process took the endpoint over, and no subscriber came back for them before the run ended',
    );
  else if (sum(unconfirmed) > 0)
    parts.push(
      `${sum(unconfirmed)} event(s) not confirmed within the flush bound of ${loss.boundMs} ms (${list(unconfirmed)})`,
    );
  if (sum(dropped) > 0)
    parts.push(
      `${sum(dropped)} event(s) dropped (${list(dropped)}): ${loss.dropReason ?? 'refused by the owner (the warning before names why) or a bounded queue was full'}`,
    );
  const where = loss.url ?? 'the endpoint';
  const pending = unconfirmed === undefined || sum(unconfirmed) > 0;
  return (
    `run ${loss.runId}: ${parts.join('; ')}. ` +
    (loss.notHandedOver
      ? `They are missing from ${where} once this process exits; ${HANDOVER_HINT}`
      : pending
        ? `They are missing from ${where} if the process exits before they are sent; ${loss.pendingReason ?? FLUSH_HINT}`
        : `They are missing from ${where}`)
  );
}

/** The stderr line of a loss. */
export function lossLine(loss: RunLoss): string {
  return `testwire: ${describeLoss(loss)}\n`;
}

/**
 * The stderr line when the reporter's thread did not answer at all within the bound (the machine is starved,
 * or the thread is stuck): the runner's thread only knows what it recorded.
 */
export function silentThreadLine(
  runId: string,
  url: string | undefined,
  waitedMs: number,
  results: number,
): string {
  return (
    `testwire: run ${runId}: the reporter's thread did not confirm delivery within ${waitedMs} ms; ` +
    `up to ${results} test.result event(s) and the test.completed may be missing from ${url ? redactCredentials(url) : 'the endpoint'} ` +
    `if the process exits before they are sent; ${FLUSH_HINT}\n`
  );
}

/** `data` of the `system.error` that tells subscribers (framework and project are added by the core). */
export function lossEventData(loss: RunLoss): SystemErrorData {
  const pending = loss.unconfirmed === undefined || sum(loss.unconfirmed) > 0;
  return {
    component: 'reporter',
    error: {
      message: describeLoss(loss),
      code: loss.notHandedOver ? 'NOT_HANDED_OVER' : pending ? 'FLUSH_TIMEOUT' : 'EVENTS_DROPPED',
      severity: 'error',
    },
    impact: `The stream of run ${loss.runId} may lack the events counted in "dropped" and "unconfirmed"`,
    recovery: loss.notHandedOver
      ? 'A subscriber that connects while this process still runs gets them; start `testwire serve` before the runs for an endpoint that outlives the test processes'
      : pending
        ? `Events not confirmed may still arrive before this one; ${loss.pendingReason ?? 'on a loaded machine raise flushTimeoutMs (TESTWIRE_FLUSH_TIMEOUT)'}`
        : "Rerun to get the complete stream; see the reporter's stderr for why events were dropped",
    runId: loss.runId,
    ...(sum(loss.dropped) > 0 ? { dropped: loss.dropped } : {}),
    ...(loss.unconfirmed && sum(loss.unconfirmed) > 0 ? { unconfirmed: loss.unconfirmed } : {}),
  };
}

function sum(counts: Record<string, number>): number {
  let total = 0;
  for (const n of Object.values(counts)) total += n;
  return total;
}

/** The types that matter most first: `test.result 3, test.completed 1, test.output 12`. */
const ORDER = ['test.completed', 'test.result', 'test.failed', 'test.started'];
function list(counts: Record<string, number>): string {
  const rank = (type: string) => {
    const index = ORDER.indexOf(type);
    return index === -1 ? ORDER.length : index;
  };
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
}

export type { EventCounts };
