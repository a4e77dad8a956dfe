/**
 * Errors the client reports. Every error has a stable `code`; messages say what went wrong and what to do.
 */

export type TestwireErrorCode =
  /** The server refused the credentials (HTTP 401/403 before the upgrade). Never retried. */
  | 'AUTH_FAILED'
  /** Could not connect (refused, reset, timeout) after every attempt the reconnect policy allows. */
  | 'CONNECTION_FAILED'
  /**
   * Catching up after a (re)connect made no progress for `connectTimeoutMs` (no frame arrived). Reported to
   * `onError`; the client reconnects and resumes from what it already delivered.
   */
  | 'RESYNC_STALLED'
  /** The server is not a testwire broadcaster, or spoke an unexpected protocol. */
  | 'PROTOCOL_ERROR'
  /** A request (`subscribe`, `snapshot`, …) got no answer in time. */
  | 'REQUEST_TIMEOUT'
  /** The server answered a request with an `error` message (its code is in `serverCode`). */
  | 'SERVER_ERROR'
  /** The client was closed while the operation was pending. */
  | 'CLIENT_CLOSED'
  /** An async iterator's buffer overflowed: the consumer is slower than the stream. */
  | 'BUFFER_OVERFLOW'
  /** The operation is not available on this transport (runtime subscribe over SSE). */
  | 'UNSUPPORTED'
  /** A handler passed to `on()` threw. */
  | 'HANDLER_ERROR'
  /** Invalid options or arguments (a programmer error). */
  | 'INVALID_ARGUMENT';

export class TestwireError extends Error {
  readonly code: TestwireErrorCode;
  /** For SERVER_ERROR: the server's error code (INVALID_SUBSCRIPTION, RATE_LIMITED, …). */
  readonly serverCode?: string;
  /** HTTP status of a refused request (AUTH_FAILED, and PROTOCOL_ERROR for other 4xx answers). */
  readonly status?: number;

  constructor(
    code: TestwireErrorCode,
    message: string,
    options?: { cause?: unknown; serverCode?: string; status?: number },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'TestwireError';
    this.code = code;
    if (options?.serverCode) this.serverCode = options.serverCode;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** The broadcaster refused the API key or token. Retrying with the same credentials cannot help. */
export class TestwireAuthError extends TestwireError {
  /** HTTP status of the refused request (401 or 403; 0 when a browser could not tell). */
  declare readonly status: number;

  constructor(message: string, status: number) {
    super('AUTH_FAILED', message, { status });
    this.name = 'TestwireAuthError';
  }
}
