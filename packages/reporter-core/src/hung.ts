/**
 * The hung-test detector, on the core's side (the reporter's worker thread in production): a test still
 * running past its threshold is reported while it runs, once per attempt. It keeps working while the
 * runner's thread is blocked by a synchronous endless test: the test's start may then never have been posted
 * to the core (calls are batched), so the runner's thread also writes each test start into a small shared
 * buffer (the beacon) that the detector reads when the core has not seen that start.
 *
 *   runner thread: testStarted ─> batch ─(post, every 20 ms)─> core: running map ─┐
 *                             └─> beacon (shared memory: seq, time, test) ─────────┴─> HungWatch.scan()
 *                                                                       (unref'd interval) ─> onHung()
 */
import type { TestRef } from './api.js';

/** A test that is running, as the core knows it. */
export interface RunningEntry {
  ref: TestRef;
  attempt: number;
  /** Epoch ms of its start (the call's time on the runner's thread). */
  at: number;
  /** Its own timeout, when the adapter knows it. */
  timeout?: number;
  /** Reported hung already (once per attempt). */
  hung?: boolean;
}

/** Past its own timeout by this much, a test the runner has not ended is hung. */
export const TIMEOUT_GRACE_MS = 1000;

/** How long a test may run before it is hung: its own timeout plus grace when known, else the option. */
export function hungThreshold(entry: { timeout?: number }, option: number): number {
  return entry.timeout !== undefined && entry.timeout > 0 ? entry.timeout + TIMEOUT_GRACE_MS : option;
}

/**
 * Scans the running tests on an unref'd interval while a run is open (a few entries: one per worker).
 * `option` 0 turns it off (tests with their own timeout are then not watched either).
 */
export class HungWatch {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly option: number,
    private readonly running: Map<string, RunningEntry>,
    /** Reports one hung test (`elapsed` ms so far, against `threshold`). */
    private readonly onHung: (entry: RunningEntry, elapsed: number, threshold: number) => void,
    /** A test whose start the core has not applied yet, read from the beacon (runner thread blocked). */
    private readonly unseen: () => RunningEntry | undefined,
    private readonly guard: (body: () => void) => void,
  ) {
    if (option <= 0) return;
    // Fine enough for a threshold of a second or more; a scan of a handful of entries costs nothing.
    this.timer = setInterval(() => this.guard(() => this.scan(Date.now())), scanInterval(option));
    this.timer.unref?.();
  }

  scan(now: number): void {
    for (const entry of this.running.values()) this.check(entry, now);
    const blocked = this.unseen();
    if (blocked) this.check(blocked, now);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(entry: RunningEntry, now: number): void {
    if (entry.hung) return;
    const threshold = hungThreshold(entry, this.option);
    const elapsed = now - entry.at;
    if (elapsed <= threshold) return;
    entry.hung = true;
    this.onHung(entry, elapsed, threshold);
  }
}

function scanInterval(option: number): number {
  return Math.max(100, Math.min(1000, Math.floor(option / 4)));
}

// ---------------------------------------------------------------------------------------------------------
// The beacon: Int32 [0] count of test starts written, [1] byte length; Float64 [1] the start's epoch ms;
// from byte 16 the JSON of [ref, attempt, timeout]. The writer stores the count last; a reader that sees the
// count change while it reads retries later.

const BEACON_BYTES = 8 * 1024;
const BEACON_HEADER = 16;

export function createBeacon(): SharedArrayBuffer {
  return new SharedArrayBuffer(BEACON_BYTES);
}

/** Runner thread: one test start (the count of starts so far, its time and test). */
export class BeaconWriter {
  private readonly header: Int32Array;
  private readonly time: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly encoder = new TextEncoder();
  private count = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 2);
    this.time = new Float64Array(buffer, 8, 1);
    this.bytes = new Uint8Array(buffer, BEACON_HEADER);
  }

  write(test: TestRef, attempt: number, at: number, timeout: number | undefined): void {
    const { written } = this.encoder.encodeInto(
      JSON.stringify(timeout === undefined ? [test, attempt] : [test, attempt, timeout]),
      this.bytes,
    );
    this.time[0] = at;
    Atomics.store(this.header, 1, written);
    Atomics.store(this.header, 0, ++this.count);
  }
}

/** Core side: the start numbered `count`, if it has been written (undefined if torn or not there). */
export function readBeacon(buffer: SharedArrayBuffer): { count: number; entry: RunningEntry } | undefined {
  const header = new Int32Array(buffer, 0, 2);
  const count = Atomics.load(header, 0);
  if (count === 0) return undefined;
  const length = Atomics.load(header, 1);
  const at = new Float64Array(buffer, 8, 1)[0];
  const text = new TextDecoder().decode(new Uint8Array(buffer, BEACON_HEADER, length).slice());
  if (Atomics.load(header, 0) !== count) return undefined;
  try {
    const [ref, attempt, timeout] = JSON.parse(text) as [TestRef, number, number?];
    return { count, entry: { ref, attempt, at, ...(timeout !== undefined ? { timeout } : {}) } };
  } catch {
    return undefined;
  }
}
