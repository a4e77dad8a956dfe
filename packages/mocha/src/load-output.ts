/**
 * Output written while mocha loads the test files — `console.log` at a file's top level, or in a module it
 * requires — before any reporter exists: mocha loads its reporter first (its CLI checks `--reporter` by
 * loading it; `new Mocha()` loads one by name), then the files, and makes the reporter only when the run
 * begins. From when mocha loads this package, the output is held here with the files on the stack that wrote
 * it, and handed to the reporter when it begins the run (serial mode) or its file (a `--parallel` worker),
 * which sends it as file-level output of the test file that wrote it.
 *
 *   mocha: load reporter ── load a.js: console.log('x') ── new Reporter ── run begins
 *          └ capture starts   held: 'x', from a.js ─────── taken ───────── test.output of a.js
 */
import { fileURLToPath } from 'node:url';
import { type CaptureTargets, OutputCapture, type OutputListener } from './capture.js';

/** One write, and the files on the stack that wrote it (innermost first). */
export interface HeldOutput {
  text: string;
  stream: 'stdout' | 'stderr';
  method: string | undefined;
  /** The stack's file paths, innermost first: the test file is the first of them that is one. */
  files: string[];
}

/** Held output beyond this many characters is dropped: a bound, not a budget. */
export const MAX_HELD_CHARS = 1024 * 1024;
/** What one held write costs against MAX_HELD_CHARS besides its text: its stack's paths. */
const HELD_WRITE_COST = 1024;

/** Frames kept per write: console's own frames, then the caller's require chain, down to the test file. */
const STACK_FRAMES = 40;

/**
 * Captures from `start()` on: what is written goes to the listener `route` names, else it is held (with
 * where it was written from) until `take()`, up to MAX_HELD_CHARS.
 */
export class LoadOutput {
  private held: HeldOutput[] = [];
  private chars = 0;
  private target: OutputListener | undefined;
  private readonly capture: OutputCapture;

  /** `targets`: the process's streams and console by default (injectable for tests). */
  constructor(targets?: CaptureTargets) {
    this.capture = new OutputCapture((text, stream, method) => {
      if (this.target) this.target(text, stream, method);
      else this.hold(text, stream, method);
    }, targets);
  }

  start(): this {
    this.capture.install();
    return this;
  }

  /** Stops capturing (what was held stays, for `take()`). */
  stop(): void {
    this.capture.uninstall();
  }

  /** What was held, in order; holding starts again from empty. */
  take(): HeldOutput[] {
    const held = this.held;
    this.held = [];
    this.chars = 0;
    return held;
  }

  /** Where the capture's writes go from now on; undefined: held again. */
  route(target: OutputListener | undefined): void {
    this.target = target;
  }

  private hold(text: string, stream: 'stdout' | 'stderr', method: string | undefined): void {
    // Each write held also keeps its stack's paths (and the stack string behind them): counted at a fixed
    // 1 KiB, so a file writing in a loop at load holds ~1,000 writes, not a million.
    const cost = text.length + HELD_WRITE_COST;
    if (this.chars + cost > MAX_HELD_CHARS) return;
    this.chars += cost;
    this.held.push({ text, stream, method, files: stackFiles() });
  }
}

/** The first of `files` (absolute paths) on the stack that wrote `output`, or undefined: none of them wrote it. */
export function writtenFrom(output: HeldOutput, files: ReadonlySet<string>): string | undefined {
  for (const file of output.files) if (files.has(file)) return file;
  return undefined;
}

/** The current stack, up to STACK_FRAMES frames. */
export function currentStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_FRAMES;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack;
}

/** The file paths on the current stack, innermost first (node internals left out). */
function stackFiles(): string[] {
  const files: string[] = [];
  for (const line of currentStack().split('\n')) {
    // "    at fn (/abs/file.js:1:2)", "    at /abs/file.js:1:2", "    at file:///abs/file.mjs:1:2"
    const match = /^\s*at (?:.*? \()?(.+?):\d+:\d+\)?$/.exec(line);
    if (!match) continue;
    let file = match[1];
    if (file.startsWith('node:')) continue;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (files[files.length - 1] !== file) files.push(file);
  }
  return files;
}
