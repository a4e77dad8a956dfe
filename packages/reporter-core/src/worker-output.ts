/**
 * The reporter's thread writes its output (warnings, TESTWIRE_DEBUG lines) straight to the process's file
 * descriptors 1 and 2, synchronously. A worker's process.stdout / process.stderr otherwise cross to the
 * runner's thread, which pipes them into its own process.stdout / process.stderr: setting that up when the
 * thread starts cost the runner's thread ~1–4 ms (creating those two streams, if the runner had not yet), and
 * whatever taps the runner's streams (mocha's output capture) took this thread's warnings for test output.
 * thread.ts starts the Worker with `stdout: true, stderr: true` and never reads them (but under Yarn PnP, where
 * Yarn's runtime runs on the thread before this: what is said before this file takes over is then piped).
 */
import { writeSync } from 'node:fs';

/** How often a write to a full non-blocking pipe is retried, ~2 ms apart, before the text is dropped. */
const FULL_PIPE_RETRIES = 50;
const nap = new Int32Array(new SharedArrayBuffer(4));

export function writeOutputDirectly(): void {
  direct(process.stdout, 1);
  direct(process.stderr, 2);
}

function direct(stream: NodeJS.WriteStream, fd: number): void {
  stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    try {
      writeAll(
        fd,
        typeof chunk === 'string' ? Buffer.from(chunk, encodingOf(encoding)) : (chunk as Uint8Array),
      );
    } catch {
      // a closed descriptor: output is best effort, never an error in the runner
    }
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as NodeJS.WriteStream['write'];
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  let retries = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || retries++ >= FULL_PIPE_RETRIES) throw error;
      Atomics.wait(nap, 0, 0, 2);
    }
  }
}

function encodingOf(encoding: unknown): BufferEncoding {
  return typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8';
}
