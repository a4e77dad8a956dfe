import type { Io } from './args.js';
import { ExitCode } from './errors.js';

/**
 * Keeps a standalone server alive until Ctrl-C / SIGTERM, then closes it (bounded by `close` itself); a
 * second signal exits at once.
 */
export function untilSignal(io: Io, close: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    // The broadcaster unrefs its sockets (it must never keep a test process alive); a standalone server
    // is the one place where staying alive is the point.
    const keepAlive = setInterval(() => {}, 1 << 30);
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) {
        // Second Ctrl-C: the user does not want to wait for the graceful close.
        io.stderr.write('testwire serve: forced exit\n');
        process.exit(ExitCode.FAILURE);
      }
      closing = true;
      io.stderr.write(`testwire serve: ${signal}, closing…\n`);
      close()
        .catch((error: Error) => io.stderr.write(`testwire serve: close failed: ${error.message}\n`))
        .finally(() => {
          clearInterval(keepAlive);
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          resolve(ExitCode.OK);
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
