/**
 * The call log as it crosses to the reporter's worker thread (thread.ts -> core-worker.ts): one flat array
 * per batch instead of an array of call objects. Posting clones the batch on the runner's thread, and the
 * structured clone writes every key of every object it meets: for the two calls every test makes (its start
 * and its result) the keys cost more than the values. So those two are written as a tag and their values —
 * the test's ref field by field (or SAME: the ref of the call before, as a start and its result usually
 * share theirs), the outcome field by field when it holds only the usual ones — and the run id once per batch
 * (again when it changes); any other call goes as its object. A ref's title path is written as its length
 * and its titles (an array is one more object for the clone to track), its file as SAME_FILE when it is the
 * file of the ref written before, and each `at` as its offset from the time written with the run id (a small
 * integer: nothing is boxed to push it, the clone writes a varint).
 *
 *   [RUN, runId, time,
 *    STARTED, at - time, attempt, timeout, file, 2, 'block', 'works', project, repeatIndex, ordinal, line, column,
 *      declaredIn,
 *    RESULT, at - time, status, rawStatus, duration, attempt, startedAt, assertions, worker, SAME,
 *    STARTED, at - time, attempt, timeout, SAME_FILE, 2, 'block', 'fails', …,
 *    CALL, {method: 'output', …}, …]
 *
 * decodeCalls gives back the same CoreCalls, with keys whose value was undefined left out (the core reads
 * fields, never keys) and one ref object for a start and its result. A batch that had to go through JSON
 * (something in it could not be cloned) has null where undefined was: read as undefined.
 */
import type { TestRef } from './api.js';
import type { CoreCall, RecordedOutcome } from './calls.js';

const RUN = 0;
const STARTED = 1;
const RESULT = 2;
const CALL = 3;
/** In place of a ref: the same ref as the call before. */
const SAME = -1;
/** In place of a ref's file: the file of the ref written before (a file is a string). */
const SAME_FILE = -2;
/** In place of a title path's length: the value that follows is the title path as it was given. */
const AS_IS = -1;

/** An encoded batch: what `CallEncoder.flush()` hands over and `decodeCalls` reads. */
export type EncodedCalls = unknown[];

// Every field of a ref and of an outcome is placed here: written in place, or (an outcome's rarer fields)
// sending the outcome as its object. A field added to TestRef or TestOutcome fails to compile until it is.
type RefField =
  | 'file'
  | 'titlePath'
  | 'project'
  | 'repeatIndex'
  | 'ordinal'
  | 'line'
  | 'column'
  | 'declaredIn';
type InlineOutcomeField =
  | 'status'
  | 'rawStatus'
  | 'duration'
  | 'attempt'
  | 'startedAt'
  | 'assertions'
  | 'worker';
type ObjectOutcomeField =
  | 'willRetry'
  | 'flaky'
  | 'timedOut'
  | 'errors'
  | 'attachments'
  | 'annotations'
  | 'benchmark';
type Exhaustive<T, Placed> = Exclude<keyof T, Placed> extends never ? true : false;
const placed: [
  Exhaustive<TestRef, RefField>,
  Exhaustive<RecordedOutcome, InlineOutcomeField | ObjectOutcomeField>,
] = [true, true];
void placed;

export class CallEncoder {
  /**
   * The batch, written in place: one array for every batch, so it grows to a batch's size once, not again
   * for every batch (a push-grown array is copied ~15 times on its way to a full batch's ~10,000 values, ~380
   * bytes per test on the runner's thread). `flush` lends it out; `length` is the values written.
   */
  private readonly out: unknown[] = [];
  private length = 0;
  private runId: string | undefined;
  /** The time the batch's `at`s are offsets from (written with the run id). */
  private time = 0;
  private lastRef: TestRef | undefined;
  private lastFile: string | undefined;
  /** Calls encoded since the last flush. */
  count = 0;

  push(call: CoreCall): void {
    this.count++;
    if (call.method === 'testStarted') {
      this.run(call.runId, call.at);
      this.put(STARTED);
      this.put(call.at - this.time);
      this.put(call.attempt);
      this.put(call.timeout);
      this.ref(call.test);
      return;
    }
    if (call.method === 'testResult') {
      const outcome = call.outcome;
      if (
        outcome.willRetry === undefined &&
        outcome.flaky === undefined &&
        outcome.timedOut === undefined &&
        outcome.errors === undefined &&
        outcome.attachments === undefined &&
        outcome.annotations === undefined &&
        outcome.benchmark === undefined
      ) {
        this.run(call.runId, call.at);
        this.put(RESULT);
        this.put(call.at - this.time);
        this.put(outcome.status);
        this.put(outcome.rawStatus);
        this.put(outcome.duration);
        this.put(outcome.attempt);
        this.put(outcome.startedAt);
        this.put(outcome.assertions);
        this.put(outcome.worker);
        this.ref(call.test);
        return;
      }
    }
    // The call carries its own run id.
    this.lastRef = undefined;
    this.put(CALL);
    this.put(call);
  }

  /**
   * Hands the batch so far to `send` (it must copy it before returning, as posting does: the array is
   * written again for the next batch) and starts a new one. Nothing to hand over: `send` is not called.
   */
  flush(send: (batch: EncodedCalls) => void): void {
    if (this.count === 0) return;
    const out = this.out;
    // What a longer batch before left beyond this one's end goes (only a much shorter batch gives memory back).
    if (out.length !== this.length) out.length = this.length;
    try {
      send(out);
    } finally {
      this.clear();
    }
  }

  /** Drops the batch so far. */
  clear(): void {
    this.length = 0;
    this.runId = undefined;
    this.lastRef = undefined;
    this.lastFile = undefined;
    this.count = 0;
  }

  private put(value: unknown): void {
    this.out[this.length++] = value;
  }

  private run(runId: string, at: number): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.time = at;
    this.put(RUN);
    this.put(runId);
    this.put(at);
  }

  private ref(ref: TestRef): void {
    if (ref === this.lastRef) {
      this.put(SAME);
      return;
    }
    this.lastRef = ref;
    const file = ref.file;
    if (file === this.lastFile) this.put(SAME_FILE);
    else {
      this.lastFile = file;
      this.put(file);
    }
    const titlePath = ref.titlePath;
    if (Array.isArray(titlePath)) {
      const length = titlePath.length;
      this.put(length);
      for (let t = 0; t < length; t++) this.put(titlePath[t]);
    } else {
      this.put(AS_IS);
      this.put(titlePath);
    }
    this.put(ref.project);
    this.put(ref.repeatIndex);
    this.put(ref.ordinal);
    this.put(ref.line);
    this.put(ref.column);
    this.put(ref.declaredIn);
  }
}

/** The calls of an encoded batch, in order. Throws on a batch that is not one (a wire bug, not user input). */
export function decodeCalls(encoded: EncodedCalls): CoreCall[] {
  const calls: CoreCall[] = [];
  let runId = '';
  let time = 0;
  let lastRef: TestRef | undefined;
  let lastFile = '';
  let i = 0;
  /** The ref at `i` (moves `i` past it). */
  const ref = (): TestRef => {
    if (encoded[i] === SAME && lastRef) {
      i += 1;
      return lastRef;
    }
    const file = encoded[i] === SAME_FILE ? lastFile : (encoded[i] as string);
    lastFile = file;
    const length = encoded[i + 1] as number;
    let titlePath: string[];
    if (length === AS_IS) {
      titlePath = encoded[i + 2] as string[];
      i += 3;
    } else {
      titlePath = encoded.slice(i + 2, i + 2 + length) as string[];
      i += 2 + length;
    }
    const test: TestRef = { file, titlePath };
    assign(test, 'project', encoded[i]);
    assign(test, 'repeatIndex', encoded[i + 1]);
    assign(test, 'ordinal', encoded[i + 2]);
    assign(test, 'line', encoded[i + 3]);
    assign(test, 'column', encoded[i + 4]);
    assign(test, 'declaredIn', encoded[i + 5]);
    i += 6;
    lastRef = test;
    return test;
  };
  while (i < encoded.length) {
    const tag = encoded[i];
    if (tag === RUN) {
      runId = encoded[i + 1] as string;
      time = encoded[i + 2] as number;
      i += 3;
    } else if (tag === STARTED) {
      const at = time + (encoded[i + 1] as number);
      const attempt = defined(encoded[i + 2]) as number;
      const timeout = defined(encoded[i + 3]);
      i += 4;
      const call: CoreCall = { method: 'testStarted', at, runId, test: ref(), attempt };
      if (timeout !== undefined) call.timeout = timeout as number;
      calls.push(call);
    } else if (tag === RESULT) {
      const at = time + (encoded[i + 1] as number);
      const outcome = {
        status: defined(encoded[i + 2]),
        rawStatus: defined(encoded[i + 3]),
        duration: defined(encoded[i + 4]),
      } as RecordedOutcome;
      assign(outcome, 'attempt', encoded[i + 5]);
      assign(outcome, 'startedAt', encoded[i + 6]);
      assign(outcome, 'assertions', encoded[i + 7]);
      assign(outcome, 'worker', encoded[i + 8]);
      i += 9;
      calls.push({ method: 'testResult', at, runId, test: ref(), outcome });
    } else if (tag === CALL) {
      calls.push(encoded[i + 1] as CoreCall);
      lastRef = undefined;
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

/** Sets an optional field that has a value (no key for an undefined one). */
function assign<T extends object>(target: T, key: keyof T, value: unknown): void {
  const present = defined(value);
  if (present !== undefined) (target as Record<keyof T, unknown>)[key] = present;
}
