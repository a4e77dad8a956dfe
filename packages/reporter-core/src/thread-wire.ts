/**
 * What crosses between the runner's thread (thread.ts) and the reporter's worker thread (core-worker.ts):
 * the messages, and the shared buffer through which the worker answers a runner thread that is blocked
 * waiting for it (completeBeforeExit), as that thread cannot take messages meanwhile.
 */
import type { EncodedCalls } from './call-codec.js';
import type { RunLoss } from './loss.js';
import type { ResolvedOptions } from './options.js';

/** Options as the worker's core gets them: resolved once, on the runner's thread (a sink cannot cross). */
export type ThreadOptions = Omit<ResolvedOptions, 'sink'>;

/**
 * Runner thread -> worker. One worker per process serves every reporter core in it (`instance`): a mocha
 * --watch rerun constructs a new reporter, and must not leave a thread behind per run.
 */
export type ToCoreThread =
  /** `beacon`: the test starts of the runner's thread in shared memory (hung.ts). */
  | { type: 'open'; instance: number; options: ThreadOptions; beacon?: SharedArrayBuffer }
  /** The calls of a batch, encoded (call-codec.ts). */
  | { type: 'calls'; instance: number; calls: EncodedCalls }
  /** Answer `done` once every call before this one is applied and every run they completed is flushed. */
  | { type: 'await'; instance: number; id: number; signal?: SharedArrayBuffer }
  | { type: 'close'; instance: number };

export type FromCoreThread =
  /** The thread's file is loaded and takes messages (before it, an error is a start that failed). */
  | { type: 'up' }
  | { type: 'ready'; instance: number; url: string | undefined }
  | { type: 'done'; instance: number; id: number; losses: RunLoss[] };

/**
 * The shared buffer of a blocking wait:
 *   Int32 [0] flag (0 waiting, 1 done), Int32 [1] byte length of the JSON of the losses, then those bytes.
 */
const SIGNAL_BYTES = 64 * 1024;
const SIGNAL_HEADER = 8;

export function createSignal(): SharedArrayBuffer {
  return new SharedArrayBuffer(SIGNAL_BYTES);
}

/** Worker side: writes the losses into the buffer, then wakes the runner's thread. */
export function signalDone(signal: SharedArrayBuffer, losses: RunLoss[]): void {
  const header = new Int32Array(signal, 0, 2);
  // A few counts per run: it always fits, but a buffer overrun must not be possible.
  let list = losses;
  let bytes = new TextEncoder().encode(JSON.stringify(list));
  while (bytes.length > SIGNAL_BYTES - SIGNAL_HEADER && list.length > 0) {
    list = list.slice(0, -1);
    bytes = new TextEncoder().encode(JSON.stringify(list));
  }
  new Uint8Array(signal, SIGNAL_HEADER, bytes.length).set(bytes);
  Atomics.store(header, 1, bytes.length);
  Atomics.store(header, 0, 1);
  Atomics.notify(header, 0);
}

/** Runner side: sleeps until the worker signals (or `timeoutMs`); its losses, or undefined on time-out. */
export function waitForSignal(signal: SharedArrayBuffer, timeoutMs: number): RunLoss[] | undefined {
  const header = new Int32Array(signal, 0, 2);
  Atomics.wait(header, 0, 0, timeoutMs);
  if (Atomics.load(header, 0) !== 1) return undefined;
  const bytes = new Uint8Array(signal, SIGNAL_HEADER, Math.max(0, Atomics.load(header, 1)));
  // A copy: TextDecoder does not read shared memory.
  return bytes.length > 0 ? (JSON.parse(new TextDecoder().decode(bytes.slice())) as RunLoss[]) : [];
}
