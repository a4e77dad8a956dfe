/**
 * The wire of the parallel relay: in `mocha --parallel`, each worker streams its file's runner events to the
 * main process as they happen, one JSON object a line over a local socket the main process opened, while
 * mocha's own burst still carries the whole file when it ends.
 *
 *   worker: TestwireWorkerReporter (extends mocha's ParallelBuffered)
 *     ├─ live, per event:  hello, event, output, event… end ──socket──> main: ParallelRelay ─> TestwireReporter
 *     │                    (the main process closes the connection when it has read `end`)
 *     └─ then, the file's burst, led by a RELAY_MARKER event ──workerpool──> main: the runner
 *                           (its reporters print it; testwire skips the events the socket delivered)
 *
 * The socket carries a prefix of the file's events, in order: whatever it did not deliver (a worker that
 * could not connect, a connection that broke, a stream that fell behind) the burst still delivers.
 */

import type { MochaRunnable } from './mocha-types.js';

/** Environment variable through which the main process hands the relay to the workers it forks. */
export const RELAY_ENV = 'TESTWIRE_MOCHA_RELAY';

/** Name of the event that leads a file's burst: which stream the burst is the end of. */
export const RELAY_MARKER = 'testwire relay';

/**
 * Name of the event a worker adds, in its stream and its burst alike, when a suite whose hook failed ends: the
 * tests the failure kept from ending, which serial mode reports then (mocha's own reporters ignore it).
 */
export const UNRUN_EVENT = 'testwire unrun';

/** A line longer than this ends the connection (its stream falls back to the burst). */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

/**
 * How long a worker waits, at its file's end, for the main process to confirm it read the whole stream before
 * it sends the burst anyway (the burst has everything; only console output is in the stream alone).
 */
export const FINISH_TIMEOUT_MS = 2000;

/** A worker stops streaming when this many bytes wait unsent (the burst delivers the rest). */
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

/** What the main process hands its workers (JSON in RELAY_ENV, set before mocha forks them). */
export interface RelayConfig {
  /** Unix socket path or Windows pipe name the main process listens on. */
  socket: string;
  /** The secret a connection presents first (hex). */
  token: string;
  /** Absolute path of the running mocha's ParallelBuffered reporter, which the worker reporter extends. */
  base: string;
  /** Stream the tests' console output. */
  output: boolean;
}

/** An event as mocha's serializer shapes it (`$$key` for methods, `__type: 'Error'` for errors). */
export interface SerializedEvent {
  data?: unknown;
  error?: unknown;
}

/** The lines a worker sends, in this order: one hello, then events and output as they happen. */
export type RelayMessage =
  | { t: 'hello'; token: string; stream: string }
  | { t: 'event'; name: string; event: SerializedEvent }
  /** `file`: written while the file loaded (load-output.ts), from the file: its file-level output. */
  | { t: 'output'; text: string; std: 'stdout' | 'stderr'; via?: string; file?: string }
  /** The file ended: the main process closes the connection once it has read this far. */
  | { t: 'end' };

/** Data of the RELAY_MARKER event (the id property lets mocha's linkPartialObjects link it like any object). */
export interface RelayMarkerData {
  __mocha_id__: string;
  stream: string;
  /** The worker stopped the file at a failure under bail, leaving tests of it unrun (bail.ts `bailed`). */
  bailed?: boolean;
}

/** Data of the UNRUN_EVENT, as the main process's reporter gets it (deserialized). */
export interface UnrunData {
  __mocha_id__: string;
  /** The failed hook's title, as mocha names it (`"before each" hook for "adds"`). */
  hook: string;
  /** In declaration order; `began`: the test began (a before-each hook failed for it) and never ended. */
  tests: Array<MochaRunnable & { began?: boolean }>;
}

/** The relay config in `env`, or undefined when there is none or it is not one. */
export function readRelayConfig(env: NodeJS.ProcessEnv): RelayConfig | undefined {
  const raw = env[RELAY_ENV];
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<RelayConfig>;
    if (
      typeof value.socket === 'string' &&
      typeof value.token === 'string' &&
      typeof value.base === 'string' &&
      typeof value.output === 'boolean'
    )
      return value as RelayConfig;
  } catch {
    // not ours
  }
  return undefined;
}
