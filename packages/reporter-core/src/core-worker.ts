/**
 * The core thread (see core-thread.ts): runs a Core — the same class a reporter runs in-thread — per reporter
 * core of the process (`open` … `close`), on the calls the runner's thread recorded, each at the time it was
 * made, and answers `await` once every call before it is replayed and every runCompleted (with its bounded
 * flush) of that core has finished. The cores share the thread's broadcaster (getBroadcaster), as cores on
 * one thread always do.
 *
 * Built to dist/core-worker.cjs. The parent port stays ref'd here: it keeps this thread alive while the
 * broadcaster's own handles are unref'd; the parent unrefs this Worker so the process can still exit.
 */
import { parentPort } from 'node:worker_threads';
import type { TestError } from '@testwire/protocol';
import {
  Core,
  type PerformanceSample,
  type RunResultInfo,
  type RunStartInfo,
  type TestOutcome,
  type TestRef,
} from './core.js';
import {
  type Call,
  type FromCoreThread,
  SIGNAL_BYTES,
  SIGNAL_HEADER,
  type ToCoreThread,
} from './core-thread.js';
import type { CoverageReport } from './coverage.js';
import type { RunLoss } from './loss.js';
import type { ReporterCoreOptions } from './options.js';

const port = parentPort;
if (!port) throw new Error('core-worker runs as a worker thread, started by @testwire/reporter-core');
const post = (message: FromCoreThread): void => port.postMessage(message);

interface Instance {
  core: Core;
  /** runCompleted calls still flushing. */
  completing: Set<Promise<void>>;
  /** What runs lost, to go with the next answer (the runner's thread says it on stderr). */
  losses: RunLoss[];
}

const instances = new Map<number, Instance>();
/** The run id of the call being replayed: the runner's thread decides run ids. */
let callRunId = '';

function open(instance: number, options: ReporterCoreOptions): void {
  const losses: RunLoss[] = [];
  const core = new Core(
    // The runner's thread samples its own process (heap, CPU) and sends the samples.
    { ...options, performanceIntervalMs: 0 },
    {
      nextRunId: () => callRunId,
      errorsNormalized: true,
      quiet: true,
      onBroadcaster: (broadcaster) => post({ type: 'ready', instance, url: broadcaster.url }),
      onLoss: (loss) => losses.push(loss),
    },
  );
  instances.set(instance, { core, completing: new Set<Promise<void>>(), losses });
}

function replay({ core, completing }: Instance, call: Call): void {
  const [method, at, runId] = call;
  callRunId = runId;
  core.replayAt(at, () => {
    switch (method) {
      case 'runStarted':
        core.runStarted(call[3] as RunStartInfo);
        break;
      case 'testsDiscovered':
        core.testsDiscovered(call[3] as number, call[4] as { final?: boolean } | undefined);
        break;
      case 'fileStarted':
        core.fileStarted(call[3] as string);
        break;
      case 'testStarted':
        core.testStarted(call[3] as TestRef, call[4] as number | undefined);
        break;
      case 'testResult':
        core.testResult(call[3] as TestRef, call[4] as TestOutcome);
        break;
      case 'output':
        core.output(
          call[3] as TestRef | undefined,
          call[4] as string,
          call[5] as 'stdout' | 'stderr',
          call[6] as string | undefined,
        );
        break;
      case 'fileFailed':
        core.fileFailed(call[3] as string, call[4] as TestError);
        break;
      case 'hookFailed':
        core.hookFailed(call[3] as TestRef | undefined, call[4] as TestError, call[5] as string | undefined);
        break;
      case 'runError':
        core.runError(call[3] as TestError);
        break;
      case 'coverage':
        core.coverage(call[3] as CoverageReport);
        break;
      case 'runCompleted': {
        const done = core.runCompleted(call[3] as RunResultInfo);
        completing.add(done);
        void done.finally(() => completing.delete(done));
        break;
      }
      case 'performanceSample':
        core.performanceSample(call[3] as PerformanceSample);
        break;
    }
  });
}

port.on('message', (message: ToCoreThread) => {
  switch (message.type) {
    case 'open':
      open(message.instance, message.options);
      break;
    case 'calls': {
      const instance = instances.get(message.instance);
      if (instance) for (const call of message.calls) replay(instance, call);
      break;
    }
    case 'await': {
      const instance = instances.get(message.instance);
      const pending = [...(instance?.completing ?? [])];
      const { signal } = message;
      void Promise.allSettled(pending).then(() => {
        const losses = instance ? instance.losses.splice(0) : [];
        // completeBeforeExit: the runner's thread sleeps on this flag (it cannot take messages meanwhile)
        if (signal) signalDone(signal, losses);
        post({ type: 'done', instance: message.instance, id: message.id, losses });
      });
      break;
    }
    case 'close': {
      // The runner dropped that reporter: forget its core once its last flush is over.
      const instance = instances.get(message.instance);
      if (!instance) break;
      void Promise.allSettled([...instance.completing]).then(() => instances.delete(message.instance));
      break;
    }
  }
});

/** Writes the losses into the shared buffer (see SIGNAL_BYTES), then wakes the runner's thread. */
function signalDone(signal: SharedArrayBuffer, losses: RunLoss[]): void {
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
