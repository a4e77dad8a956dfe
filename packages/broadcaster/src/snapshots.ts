/**
 * Snapshots of the run state, serialized once per state version and shared by every subscriber that asks,
 * built in time slices so the owner's event loop is never blocked for more than `sliceMs`.
 *
 *   acquire(minSeq) ─ the latest build, if it is at or after minSeq (or the state has not changed since)
 *                   └ else wait for the next build: one at a time; every request made meanwhile shares it
 *   build: capture the runs (test states are immutable: a copy of the list is a consistent view, O(tests)
 *          reference copies) ─> serialize a slice of tests per event-loop turn ─> parts of ~64 KiB
 *
 * A build's parts are the body of a `snapshot` message, `{"type":"snapshot",<id,epoch,seq>,"runs":[` +
 * parts + `]}`: the head is per subscriber (its request id and the seq it is labelled with), the parts are
 * framed once as WebSocket continuation frames (their payloads are what SSE writes) and shared.
 */
import type { RunSnapshot } from '@testwire/protocol';
import { CONTINUATION, CONTINUATION_FIN, encodeFrame } from './ws-frame.js';

/** One piece of a streamed message: its WebSocket frame and its bytes for SSE. */
export interface StreamPart {
  readonly ws: Buffer;
  readonly sse: Buffer;
}

export interface SnapshotBuild {
  /** Latest seq when the runs were captured. */
  readonly seq: number;
  /** Run-state version when captured (see Hub.stateVersion). */
  readonly version: number;
  readonly parts: StreamPart[];
  /** The last part (`]}`), WebSocket FIN; set once every part is built. */
  tail?: StreamPart;
  /** Bytes of the body so far. */
  bytes: number;
  /** Called (once each) when a part is added or the build completes. */
  readonly listeners: Set<() => void>;
  /** Longest time one slice of this build took (ms, wall clock): what it blocked the event loop for. */
  maxSliceMs: number;
  /**
   * Longest CPU time of one slice (ms, the process's: other threads, e.g. GC, count too). On a loaded
   * machine the wall time of a slice includes waiting for a core; this does not.
   */
  maxSliceCpuMs: number;
  /** From capture to the last part (ms). */
  buildMs?: number;
}

export interface SnapshotSource {
  /** Latest seq given to an event. */
  seq(): number;
  /** Bumped whenever the run state changes. */
  stateVersion(): number;
  /** The runs now (a consistent copy). */
  capture(): RunSnapshot[];
  /** False when the history no longer holds the events after `seq` (a subscriber could not catch up). */
  canReplayFrom(seq: number): boolean;
}

export interface SnapshotBuilderOptions {
  /** Longest serialization slice per event-loop turn. Default 4 ms. */
  sliceMs?: number;
  /** Target size of one part. Default 64 KiB. */
  partBytes?: number;
}

type Waiter = (build: SnapshotBuild, seq: number) => void;

export class SnapshotBuilder {
  /** The newest build, complete or under way; kept so later requests can share it. */
  latest?: SnapshotBuild;
  /** Builds started since creation (a figure for /status and tests). */
  builds = 0;
  private building = false;
  private waiting: { minSeq: number; waiter: Waiter }[] = [];
  private readonly sliceMs: number;
  private readonly partBytes: number;

  constructor(
    private readonly source: SnapshotSource,
    options: SnapshotBuilderOptions = {},
  ) {
    this.sliceMs = options.sliceMs ?? 4;
    this.partBytes = options.partBytes ?? 64 * 1024;
  }

  /**
   * Calls `waiter` with a build that shows the state at or after `minSeq`, and the seq to label it with:
   * the build's seq, or the latest seq when the state has not changed since the build's capture.
   * Synchronously when the latest build serves; otherwise once the next build has started.
   */
  acquire(minSeq: number, waiter: Waiter): void {
    const build = this.latest;
    if (build && this.serves(build, minSeq)) {
      waiter(build, this.labelFor(build));
      return;
    }
    this.waiting.push({ minSeq, waiter });
    if (!this.building) this.startSoon();
  }

  /** Frees the retained build (nothing references it but subscribers still streaming it). */
  release(): void {
    if (!this.building) this.latest = undefined;
  }

  private serves(build: SnapshotBuild, minSeq: number): boolean {
    const current = build.version === this.source.stateVersion();
    const label = current ? this.source.seq() : build.seq;
    return label >= minSeq && this.source.canReplayFrom(label);
  }

  private labelFor(build: SnapshotBuild): number {
    return build.version === this.source.stateVersion() ? this.source.seq() : build.seq;
  }

  private startSoon(): void {
    this.building = true;
    // One turn later: every request of this turn (a reconnect storm arrives in bursts) shares the build.
    setImmediate(() => this.start());
  }

  private start(): void {
    const runs = this.source.capture();
    const build: SnapshotBuild = {
      seq: this.source.seq(),
      version: this.source.stateVersion(),
      parts: [],
      bytes: 0,
      listeners: new Set(),
      maxSliceMs: 0,
      maxSliceCpuMs: 0,
    };
    this.builds++;
    this.latest = build;
    // Everyone waiting is served by this build: it captured the state now, after their requests.
    const waiting = this.waiting;
    this.waiting = [];
    for (const { waiter } of waiting) waiter(build, build.seq);
    this.serialize(build, runs);
  }

  private serialize(build: SnapshotBuild, runs: RunSnapshot[]): void {
    const started = performance.now();
    let run = 0;
    let test = -1; // -1: the run's fields come next
    let pending: string[] = [];
    let pendingLength = 0;
    const add = (text: string): void => {
      pending.push(text);
      pendingLength += text.length;
    };
    const emit = (): void => {
      if (pending.length === 0) return;
      const { frame, payload } = encodeFrame(CONTINUATION, pending.join(''));
      pending = [];
      pendingLength = 0;
      build.parts.push({ ws: frame, sse: payload });
      build.bytes += payload.length;
      notify(build);
    };
    const measure = (sliceStart: number, cpuStart: NodeJS.CpuUsage): void => {
      const cpu = process.cpuUsage(cpuStart);
      build.maxSliceMs = Math.max(build.maxSliceMs, performance.now() - sliceStart);
      build.maxSliceCpuMs = Math.max(build.maxSliceCpuMs, (cpu.user + cpu.system) / 1000);
    };
    const step = (): void => {
      const sliceStart = performance.now();
      const cpuStart = process.cpuUsage();
      const deadline = sliceStart + this.sliceMs;
      let n = 0;
      while (run < runs.length) {
        const current = runs[run] as RunSnapshot;
        if (test < 0) {
          const { tests: _tests, ...fields } = current;
          const json = JSON.stringify(fields);
          add(`${run > 0 ? ',' : ''}${json.slice(0, -1)},"tests":[`);
          test = 0;
        } else if (test < current.tests.length) {
          add(`${test > 0 ? ',' : ''}${JSON.stringify(current.tests[test])}`);
          test++;
        } else {
          add(']}');
          run++;
          test = -1;
        }
        if (pendingLength >= this.partBytes) emit();
        if ((++n & 127) === 0 && performance.now() > deadline) {
          measure(sliceStart, cpuStart);
          setImmediate(step);
          return;
        }
      }
      emit();
      const { frame, payload } = encodeFrame(CONTINUATION_FIN, ']}');
      build.tail = { ws: frame, sse: Buffer.concat([payload, Buffer.from('\n\n')]) };
      measure(sliceStart, cpuStart);
      build.buildMs = performance.now() - started;
      notify(build);
      this.building = false;
      if (this.waiting.length > 0) this.startSoon();
    };
    step();
  }
}

function notify(build: SnapshotBuild): void {
  if (build.listeners.size === 0) return;
  const listeners = [...build.listeners];
  build.listeners.clear();
  for (const listener of listeners) listener();
}
