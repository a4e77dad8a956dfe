/**
 * The call log as it crosses to the reporter's worker thread (thread.ts -> core-worker.ts): one flat array
 * per batch instead of an array of call objects. Posting clones the batch on the runner's thread, and the
 * structured clone writes every key of every object it meets: for the two calls every test makes (its start
 * and its result) the keys cost more than the values. So those two are written as a tag and their values
 * (the outcome's too, when it holds only the usual fields), the run id once per batch (and again when it
 * changes); any other call goes as its object. The test's ref stays an object: a start and its result
 * usually share it, and the clone writes a shared object once per message.
 *
 *   [RUN, runId, STARTED, at, test, attempt, timeout, RESULT, at, test, status, rawStatus, duration, attempt,
 *    startedAt, assertions, CALL, {method: 'output', …}, …]
 *
 * decodeCalls gives back the same CoreCalls (keys whose value was undefined left out). A batch that had to go
 * through JSON (something in it could not be cloned) has null where undefined was: read as undefined.
 */
import type { TestRef } from './api.js';
import type { CoreCall, RecordedOutcome } from './calls.js';

const RUN = 0;
const STARTED = 1;
const RESULT = 2;
const CALL = 3;

/** An encoded batch: what `CallEncoder.take()` returns and `decodeCalls` reads. */
export type EncodedCalls = unknown[];

/** Fields of an outcome written in place (any other field, when defined, sends the outcome as an object). */
const PLAIN_OUTCOME_FIELDS = new Set([
  'status',
  'rawStatus',
  'duration',
  'attempt',
  'startedAt',
  'assertions',
]);

export class CallEncoder {
  private out: EncodedCalls = [];
  private runId: string | undefined;
  /** Calls encoded since the last take. */
  count = 0;

  push(call: CoreCall): void {
    const out = this.out;
    this.count++;
    if (call.method === 'testStarted') {
      this.run(call.runId);
      out.push(STARTED, call.at, call.test, call.attempt, call.timeout);
      return;
    }
    if (call.method === 'testResult') {
      const outcome = call.outcome;
      if (isPlain(outcome)) {
        this.run(call.runId);
        out.push(
          RESULT,
          call.at,
          call.test,
          outcome.status,
          outcome.rawStatus,
          outcome.duration,
          outcome.attempt,
          outcome.startedAt,
          outcome.assertions,
        );
        return;
      }
    }
    // The call carries its own run id.
    out.push(CALL, call);
  }

  /** The batch so far; the encoder starts a new one. */
  take(): EncodedCalls {
    const out = this.out;
    this.out = [];
    this.runId = undefined;
    this.count = 0;
    return out;
  }

  private run(runId: string): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.out.push(RUN, runId);
  }
}

/** The calls of an encoded batch, in order. Throws on a batch that is not one (a wire bug, not user input). */
export function decodeCalls(encoded: EncodedCalls): CoreCall[] {
  const calls: CoreCall[] = [];
  let runId = '';
  let i = 0;
  while (i < encoded.length) {
    const tag = encoded[i];
    if (tag === RUN) {
      runId = encoded[i + 1] as string;
      i += 2;
    } else if (tag === STARTED) {
      const call: CoreCall = {
        method: 'testStarted',
        at: encoded[i + 1] as number,
        runId,
        test: encoded[i + 2] as TestRef,
        attempt: defined(encoded[i + 3]) as number,
      };
      const timeout = defined(encoded[i + 4]);
      if (timeout !== undefined) call.timeout = timeout as number;
      calls.push(call);
      i += 5;
    } else if (tag === RESULT) {
      const outcome = {
        status: defined(encoded[i + 3]),
        rawStatus: defined(encoded[i + 4]),
        duration: defined(encoded[i + 5]),
      } as RecordedOutcome;
      const attempt = defined(encoded[i + 6]);
      if (attempt !== undefined) outcome.attempt = attempt as number;
      const startedAt = defined(encoded[i + 7]);
      if (startedAt !== undefined) outcome.startedAt = startedAt as number;
      const assertions = defined(encoded[i + 8]);
      if (assertions !== undefined) outcome.assertions = assertions as number;
      calls.push({
        method: 'testResult',
        at: encoded[i + 1] as number,
        runId,
        test: encoded[i + 2] as TestRef,
        outcome,
      });
      i += 9;
    } else if (tag === CALL) {
      calls.push(encoded[i + 1] as CoreCall);
      i += 2;
    } else {
      throw new Error(`not an encoded call batch: tag ${String(tag)} at ${i}`);
    }
  }
  return calls;
}

/** A value in place; null only where JSON carried an undefined. */
function defined(value: unknown): unknown {
  return value === null ? undefined : value;
}

/** Only the fields written in place are defined (others may be present as undefined: vitest's outcomes). */
function isPlain(outcome: RecordedOutcome): boolean {
  for (const key in outcome) {
    if (!PLAIN_OUTCOME_FIELDS.has(key) && (outcome as Record<string, unknown>)[key] !== undefined)
      return false;
  }
  return true;
}
