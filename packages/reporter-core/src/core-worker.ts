/**
 * The reporter's worker thread (see thread.ts): a Core — the same class a reporter runs in-thread — per
 * reporter of the process (`open` … `close`), applying the calls the runner's thread recorded, and answering
 * `await` once every call before it is applied and every run they completed has been flushed (bounded). The
 * cores share the thread's broadcaster (getBroadcaster), as cores on one thread always do.
 *
 * Built to dist/core-worker.cjs, with the protocol and the broadcaster in it (tsup.config.ts): the broadcaster
 * is handed to the cores here (provideBroadcaster) rather than loaded by them. The parent port stays ref'd
 * here: it keeps this thread alive while the broadcaster's own handles are unref'd; the parent unrefs this
 * Worker so the process can still exit.
 */
import { writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import * as broadcaster from '@testwire/broadcaster';
import { provideBroadcaster } from './broadcaster-loader.js';
import { decodeCalls } from './call-codec.js';
import { Core } from './core.js';
import type { RunLoss } from './loss.js';
import { type FromCoreThread, signalDone, type ThreadOptions, type ToCoreThread } from './thread-wire.js';
import { writeOutputDirectly } from './worker-output.js';

const port = parentPort;
if (!port) throw new Error('core-worker runs as a worker thread, started by @testwire/reporter-core');
const post = (message: FromCoreThread): void => port.postMessage(message);
provideBroadcaster(broadcaster);
writeOutputDirectly();
nameThread();

/**
 * Names this thread `testwire` where threads have names in /proc (Linux): `top -H`, `ps -L` and a CPU probe
 * tell the reporter's thread from the runner's. Elsewhere, nothing.
 */
function nameThread(): void {
  try {
    writeFileSync('/proc/thread-self/comm', 'testwire');
  } catch {
    // no /proc: the thread keeps its name
  }
}

interface Instance {
  core: Core;
  /** What runs lost, to go with the next answer (the runner's thread says it on stderr). */
  losses: RunLoss[];
}

const instances = new Map<number, Instance>();

function open(instance: number, options: ThreadOptions, beacon: SharedArrayBuffer | undefined): void {
  const losses: RunLoss[] = [];
  // The runner's thread samples its own process (heap, CPU) and sends the samples: the core only reads
  // `performanceIntervalMs` to say whether they come (system.health).
  const core = new Core(options, {
    onBroadcaster: (broadcaster) => post({ type: 'ready', instance, url: broadcaster.url }),
    onLoss: (loss) => losses.push(loss),
    ...(beacon ? { beacon } : {}),
  });
  instances.set(instance, { core, losses });
}

/**
 * Messages not handled yet, oldest first, handled in order; one batch of calls is applied per turn of the
 * event loop. A port hands over every message that came meanwhile in one go, and applying them all at once
 * turned each into events waiting for the broadcaster's ingest (~1 KB each, a whole fast file's worth):
 * alive across the garbage collector's young-generation passes, they were copied and promoted, and most of
 * the thread's GC time went there. Applied a batch per turn, the broadcaster ingests each batch's events
 * (its ingest runs in the same phase, scheduled first) before the next batch is applied, so what waits is
 * the compact call log. An `await` or a `close` waits its turn behind the batches before it.
 */
const queued: ToCoreThread[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(handleNext);
}

/** Handles queued messages up to and including the next batch of calls. */
function handleNext(): void {
  scheduled = false;
  for (let message = queued.shift(); message; message = queued.shift()) {
    handle(message);
    if (message.type === 'calls') break;
  }
  if (queued.length > 0) schedule();
}

function handle(message: ToCoreThread): void {
  switch (message.type) {
    case 'open':
      open(message.instance, message.options, message.beacon);
      break;
    case 'calls': {
      const core = instances.get(message.instance)?.core;
      if (core) for (const call of decodeCalls(message.calls)) core.apply(call);
      break;
    }
    case 'await': {
      const instance = instances.get(message.instance);
      const { signal } = message;
      void (instance?.core.settle() ?? Promise.resolve()).then(() => {
        const losses = instance ? instance.losses.splice(0) : [];
        // A blocking wait: the runner's thread sleeps on the signal (it cannot take messages meanwhile).
        if (signal) signalDone(signal, losses);
        post({ type: 'done', instance: message.instance, id: message.id, losses });
      });
      break;
    }
    case 'close': {
      // The runner dropped that reporter: forget its core once its last flush is over.
      const instance = instances.get(message.instance);
      if (instance) void instance.core.settle().then(() => instances.delete(message.instance));
      break;
    }
  }
}

port.on('message', (message: ToCoreThread) => {
  queued.push(message);
  schedule();
});
// Loaded: the runner's thread stops keeping the calls it posted for a start that fails (thread.ts).
post({ type: 'up' });
