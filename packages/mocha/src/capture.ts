/**
 * Output capture for serial mode. Mocha does not attribute output to tests, so the adapter taps
 * `process.stdout.write` / `process.stderr.write` (what `console.*` ends up calling) while a run is active
 * and hands each chunk to a listener that knows which test is running.
 *
 *   console.log('x') ─> (method = 'log') ─> process.stdout.write ─> original write (terminal unchanged)
 *                                                               └─> listener('x\n', 'stdout', 'log')
 *
 * The original write always runs first and with the same arguments: output is never swallowed, reordered
 * or delayed. Reporters' own printing happens while the capture is suspended (see `suspend`), so the
 * terminal reporter's lines are not sent back as test output.
 */

export type OutputListener = (text: string, stream: 'stdout' | 'stderr', method: string | undefined) => void;

type Write = NodeJS.WriteStream['write'];

/** What is tapped: two writable streams and, optionally, a console whose methods write to them. */
export interface CaptureTargets {
  stdout: { write: Write };
  stderr: { write: Write };
  console?: Console;
}
type ConsoleMethod = (...args: unknown[]) => void;

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export class OutputCapture {
  private active = false;
  private suspended = 0;
  private forwarding = false;
  private method: string | undefined;
  private restore: Array<() => void> = [];

  /** `targets` defaults to the process's own streams and the global console (injectable for tests). */
  constructor(
    private readonly listener: OutputListener,
    private readonly targets: CaptureTargets = { stdout: process.stdout, stderr: process.stderr, console },
  ) {}

  /** Starts tapping stdout/stderr and console. Idempotent. */
  install(): void {
    if (this.active) return;
    this.active = true;
    this.tapStream(this.targets.stdout, 'stdout');
    this.tapStream(this.targets.stderr, 'stderr');
    if (this.targets.console) for (const name of CONSOLE_METHODS) this.tapConsole(this.targets.console, name);
  }

  /**
   * Stops capturing and puts the originals back where they are still ours; a wrapper someone else has
   * since wrapped stays in their chain but only passes through.
   */
  uninstall(): void {
    if (!this.active) return;
    this.active = false;
    for (const restore of this.restore.splice(0).reverse()) restore();
  }

  /** Runs `fn.apply(thisArg, args)` with capture off: what it prints is reporter output, not test output. */
  suspend<T>(fn: (...args: unknown[]) => T, thisArg: unknown, args: unknown[]): T {
    this.suspended++;
    try {
      return Reflect.apply(fn, thisArg, args);
    } finally {
      this.suspended--;
    }
  }

  private forward(chunk: unknown, stream: 'stdout' | 'stderr'): void {
    if (!this.active || this.suspended > 0 || this.forwarding) return;
    // A listener that prints (a warning on stderr) must not feed itself.
    this.forwarding = true;
    try {
      const text = chunkToString(chunk);
      if (text) this.listener(text, stream, this.method);
    } catch {
      // capture is best effort; the write itself already happened
    } finally {
      this.forwarding = false;
    }
  }

  private tapStream(stream: { write: Write }, name: 'stdout' | 'stderr'): void {
    const original = stream.write;
    const capture = this;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      // Forward exactly what the caller passed (encoding and callback forms vary).
      const result = (original as (...a: unknown[]) => boolean).apply(this, args);
      capture.forward(args[0], name);
      return result;
    } as Write;
    stream.write = wrapper;
    this.restore.push(() => {
      if (stream.write === wrapper) stream.write = original;
    });
  }

  private tapConsole(console: Console, name: (typeof CONSOLE_METHODS)[number]): void {
    const target = console as unknown as Record<string, ConsoleMethod>;
    const original = target[name];
    if (typeof original !== 'function') return;
    const capture = this;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      const previous = capture.method;
      capture.method = name;
      try {
        return original.apply(this, args);
      } finally {
        capture.method = previous;
      }
    };
    target[name] = wrapper;
    this.restore.push(() => {
      if (target[name] === wrapper) target[name] = original;
    });
  }
}

function chunkToString(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  // Bytes written by a test are text in practice (the encoding argument only applies to strings).
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  return '';
}
