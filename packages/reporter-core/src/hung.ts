/**
 * The hung-test detector, on the core's side (the reporter's worker thread in production): a test still
 * running past its threshold is reported while it runs, once per attempt. It keeps working while the
 * runner's thread is blocked by a synchronous endless test: the calls recorded there wait in a batch that is
 * not posted until the thread is free again, so the runner's thread also writes each test start and each
 * result into a small shared buffer (the beacon) that the detector reads.
 *
 *   runner thread: testStarted/testResult ─> batch ─(post, 20–100 ms)─> core: running map ───┐
 *                  └─> beacon (shared memory: starts, results, the last start) ──────────────┴─> HungWatch.scan()
 *                                                                            (unref'd interval) ─> onHung()
 *
 * What the core knows of a test, and until when (Core.watched):
 *  - a test in its running map ran at least until the last call the core applied (each call carries its time
 *    on the runner's thread, and calls are applied in order): a result recorded after that may be waiting in
 *    the batch. Only when the beacon counts no result the core has not applied does it know the test runs now;
 *  - the last test started on the runner's thread, from the beacon: it runs now unless a result was recorded
 *    after its start (serial runners: its own).
 * So a test that ended while its result waits in a batch is never reported, and the test that blocks the
 * runner's thread is, by its title path, before its start reached the core.
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

/** A running test to judge, and the epoch ms until which it is known to have run. */
export interface Watched {
  entry: RunningEntry;
  until: number;
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
    /** The running tests and until when each is known to run (Core.watched: its map and the beacon). */
    private readonly watched: (now: number) => Watched[],
    /** Reports one hung test (`elapsed` ms it is known to have run, against `threshold`). */
    private readonly onHung: (entry: RunningEntry, elapsed: number, threshold: number) => void,
    private readonly guard: (body: () => void) => void,
    /** Told after each scan (CoreHooks.onHungScan). */
    private readonly scanned?: (now: number) => void,
  ) {
    if (option <= 0) return;
    // Fine enough for a threshold of a second or more; a scan of a handful of entries costs nothing.
    this.timer = setInterval(() => this.guard(() => this.scan(Date.now())), scanInterval(option));
    this.timer.unref?.();
  }

  scan(now: number): void {
    for (const { entry, until } of this.watched(now)) this.check(entry, until);
    this.scanned?.(now);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(entry: RunningEntry, until: number): void {
    if (entry.hung) return;
    const threshold = hungThreshold(entry, this.option);
    const elapsed = until - entry.at;
    if (elapsed <= threshold) return;
    entry.hung = true;
    this.onHung(entry, elapsed, threshold);
  }
}

function scanInterval(option: number): number {
  return Math.max(100, Math.min(1000, Math.floor(option / 4)));
}

// ---------------------------------------------------------------------------------------------------------
// The beacon (shared memory, written on the runner's thread at each test start: a few stores and the title
// path copied as UTF-16 code units, no string built or encoded; the file, UTF-8, only when it changes; and at
// each result: two stores):
//   Int32 [0] count of starts written (stored last), [1] title path code units, [2] file bytes, [3] attempt,
//   [4] timeout (0: none), [5] the count of starts when the last result was written, [6] count of results
//   written (stored last); Float64 at byte 32: the last start's epoch ms; file bytes from 40, the title path
//   (titles separated by U+001F, UTF-16) from 40 + FILE_BYTES.
// A reader that sees a count change while it reads retries on its next scan.

const FILE_BYTES = 2048;
const PATH_UNITS = 3072;
const HEADER = 40;
const TIME_AT = 32;
const STARTS = 0;
const STARTS_AT_RESULT = 5;
const RESULTS = 6;
const SEPARATOR = '\u001f';
const SEPARATOR_UNIT = 0x1f;

export function createBeacon(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + FILE_BYTES + 2 * PATH_UNITS);
}

/** Runner thread: each test start (the count of starts so far, its time and test) and each result. */
export class BeaconWriter {
  private readonly header: Int32Array;
  private readonly time: Float64Array;
  private readonly fileBytes: Uint8Array;
  private readonly path: Uint16Array;
  private readonly encoder = new TextEncoder();
  private count = 0;
  private results = 0;
  private file: string | undefined;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 7);
    this.time = new Float64Array(buffer, TIME_AT, 1);
    this.fileBytes = new Uint8Array(buffer, HEADER, FILE_BYTES);
    this.path = new Uint16Array(buffer, HEADER + FILE_BYTES, PATH_UNITS);
  }

  write(test: TestRef, attempt: number, at: number, timeout: number | undefined): void {
    const header = this.header;
    if (test.file !== this.file) {
      this.file = test.file;
      header[2] = this.encoder.encodeInto(String(test.file), this.fileBytes).written;
    }
    // Copied unit by unit (truncated at the end of the buffer): cheaper than joining and encoding.
    const path = this.path;
    const titles = test.titlePath;
    let length = 0;
    for (let t = 0; t < titles.length && length < PATH_UNITS; t++) {
      if (t > 0) path[length++] = SEPARATOR_UNIT;
      const part = titles[t];
      const title = typeof part === 'string' ? part : String(part);
      const end = Math.min(title.length, PATH_UNITS - length);
      for (let c = 0; c < end; c++) path[length + c] = title.charCodeAt(c);
      length += end;
    }
    header[1] = length;
    header[3] = attempt;
    header[4] = timeout ?? 0;
    this.time[0] = at;
    Atomics.store(header, STARTS, ++this.count);
  }

  /** A test result (of any test: which one does not matter to the reader). */
  ended(): void {
    this.header[STARTS_AT_RESULT] = this.count;
    Atomics.store(this.header, RESULTS, ++this.results);
  }
}

/** What the runner's thread recorded, as the beacon counts it. */
export interface BeaconCounts {
  /** Test starts written. */
  starts: number;
  /** Test results written. */
  results: number;
  /** A result was written after the last start: on a serial runner, the last test started has ended. */
  lastEnded: boolean;
}

/** Core side: the counts (undefined when a write changed them while they were read). */
export function readBeaconCounts(buffer: SharedArrayBuffer): BeaconCounts | undefined {
  const header = new Int32Array(buffer, 0, 7);
  const results = Atomics.load(header, RESULTS);
  const startsAtResult = header[STARTS_AT_RESULT] as number;
  const starts = Atomics.load(header, STARTS);
  if (Atomics.load(header, RESULTS) !== results) return undefined;
  return { starts, results, lastEnded: results > 0 && startsAtResult >= starts };
}

/**
 * Core side: the last start written, if any (undefined when torn). Its ref has file and title path only:
 * twins (ordinal > 0), repeat index, project and line are not in it.
 */
export function readBeacon(buffer: SharedArrayBuffer): { count: number; entry: RunningEntry } | undefined {
  const header = new Int32Array(buffer, 0, 7);
  const count = Atomics.load(header, STARTS);
  if (count === 0) return undefined;
  // TextDecoder does not read shared memory: copies.
  const file = new TextDecoder().decode(new Uint8Array(buffer, HEADER, header[2]).slice());
  const units = new Uint16Array(buffer, HEADER + FILE_BYTES, Math.min(header[1] ?? 0, PATH_UNITS)).slice();
  let path = '';
  for (let start = 0; start < units.length; start += 1024)
    path += String.fromCharCode(...units.subarray(start, start + 1024));
  const attempt = header[3] || 1;
  const timeout = header[4];
  const at = new Float64Array(buffer, TIME_AT, 1)[0] as number;
  if (Atomics.load(header, STARTS) !== count) return undefined;
  const entry: RunningEntry = { ref: { file, titlePath: path.split(SEPARATOR) }, attempt, at };
  if (timeout > 0) entry.timeout = timeout;
  return { count, entry };
}
