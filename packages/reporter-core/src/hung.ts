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
// The beacon (shared memory, written on the runner's thread at each test start: a few stores and the title
// path copied as UTF-16 code units, no string built or encoded; the file, UTF-8, only when it changes):
//   Int32 [0] count of starts written (stored last), [1] title path code units, [2] file bytes, [3] attempt,
//   [4] timeout (0: none); Float64 at byte 24: the start's epoch ms; file bytes from 32, the title path (titles
//   separated by U+001F, UTF-16) from 32 + FILE_BYTES.
// A reader that sees the count change while it reads retries on its next scan.

const FILE_BYTES = 2048;
const PATH_UNITS = 3072;
const HEADER = 32;
const SEPARATOR = '\u001f';
const SEPARATOR_UNIT = 0x1f;

export function createBeacon(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + FILE_BYTES + 2 * PATH_UNITS);
}

/** Runner thread: one test start (the count of starts so far, its time and test). */
export class BeaconWriter {
  private readonly header: Int32Array;
  private readonly time: Float64Array;
  private readonly fileBytes: Uint8Array;
  private readonly path: Uint16Array;
  private readonly encoder = new TextEncoder();
  private count = 0;
  private file: string | undefined;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 5);
    this.time = new Float64Array(buffer, 24, 1);
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
    Atomics.store(header, 0, ++this.count);
  }
}

/**
 * Core side: the last start written, if any (undefined when torn). Its ref has file and title path only:
 * twins (ordinal > 0), repeat index, project and line are not in it.
 */
export function readBeacon(buffer: SharedArrayBuffer): { count: number; entry: RunningEntry } | undefined {
  const header = new Int32Array(buffer, 0, 5);
  const count = Atomics.load(header, 0);
  if (count === 0) return undefined;
  // TextDecoder does not read shared memory: copies.
  const file = new TextDecoder().decode(new Uint8Array(buffer, HEADER, header[2]).slice());
  const units = new Uint16Array(buffer, HEADER + FILE_BYTES, Math.min(header[1] ?? 0, PATH_UNITS)).slice();
  let path = '';
  for (let start = 0; start < units.length; start += 1024)
    path += String.fromCharCode(...units.subarray(start, start + 1024));
  const attempt = header[3] || 1;
  const timeout = header[4];
  const at = new Float64Array(buffer, 24, 1)[0] as number;
  if (Atomics.load(header, 0) !== count) return undefined;
  const entry: RunningEntry = { ref: { file, titlePath: path.split(SEPARATOR) }, attempt, at };
  if (timeout > 0) entry.timeout = timeout;
  return { count, entry };
}
