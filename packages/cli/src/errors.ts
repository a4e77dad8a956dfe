/** An error meant for the user: printed as one line `testwire: <message>` on stderr, then exit `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    /** Stable identifier, e.g. `NOTHING_LISTENING`, `UNAUTHORIZED`, `USAGE`. */
    readonly code: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes, so scripts can tell a failed run from a broken invocation. */
export const ExitCode = {
  OK: 0,
  /** The run(s) failed (`--exit-status`), or a generic error. */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Nothing listening, refused, not a testwire endpoint, bad auth. */
  CONNECTION: 3,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;
