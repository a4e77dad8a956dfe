/**
 * How `tail` and `watch` subscribe: a @testwire/client with the CLI's reconnect policy, and its errors
 * turned into one-line CLI errors with the right exit code.
 *
 * The client does the hard part — resume without loss or duplicates across reconnects, and when the
 * broadcaster changed (a new test process started its own) the new one's events from its first — so the
 * CLI prints, counts and renders exactly what the client delivers.
 */
import {
  createClient,
  type TestwireClient,
  type TestwireClientOptions,
  TestwireError,
} from '@testwire/client';
import type { Endpoint } from './endpoint.js';
import { CliError, ExitCode } from './errors.js';

export interface EndpointClientOptions
  extends Pick<
    TestwireClientOptions,
    'events' | 'patterns' | 'filters' | 'replay' | 'runState' | 'keepStaleRuns'
  > {
  /** Keep retrying while nothing listens at first (a monitor started before the test run). */
  wait: boolean;
}

/**
 * A client for `endpoint`: waits for it (`wait`) or fails at once when nothing listens, and once connected
 * reconnects for as long as the command runs: a remote endpoint 250 ms doubling to 5 s, full jitter; one on
 * this machine every 250 ms at most (full jitter), since the broadcaster a runner starts lives only as long
 * as the run — a mocha run of 0.7 s would be over between two tries of a backoff grown to seconds (a
 * refused connection to loopback costs next to nothing).
 */
export function endpointClient(endpoint: Endpoint, options: EndpointClientOptions): TestwireClient {
  const { wait, ...rest } = options;
  const local = isLoopback(endpoint.httpUrl);
  return createClient({
    url: endpoint.httpUrl,
    ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
    reconnect: {
      attempts: Number.POSITIVE_INFINITY,
      initialAttempts: wait ? Number.POSITIVE_INFINITY : 0,
      baseDelayMs: local ? 100 : 250,
      maxDelayMs: local ? 250 : 5000,
    },
    connectTimeoutMs: 5000,
    ...rest,
  });
}

/** The endpoint refused us (401/403): with a key, the key is wrong; without one, one is needed. */
export function authError(endpoint: Endpoint, status: number | undefined): CliError {
  return new CliError(
    endpoint.apiKey
      ? `${endpoint.httpUrl} refused the API key (HTTP ${status}): check --api-key / TESTWIRE_API_KEY`
      : `${endpoint.httpUrl} requires an API key (HTTP ${status}): pass --api-key or set TESTWIRE_API_KEY`,
    'UNAUTHORIZED',
    ExitCode.CONNECTION,
  );
}

/** The one-line error for a client error that ends the command. */
export function connectionError(error: unknown, endpoint: Endpoint): CliError {
  if (error instanceof CliError) return error;
  if (!(error instanceof TestwireError)) {
    return new CliError(String((error as Error)?.message ?? error), 'UNEXPECTED', ExitCode.FAILURE);
  }
  switch (error.code) {
    case 'AUTH_FAILED':
      return authError(endpoint, error.status);
    case 'PROTOCOL_ERROR':
      return new CliError(
        `${endpoint.httpUrl} is not a testwire endpoint${error.status ? ` (HTTP ${error.status} on /ws)` : ''}`,
        'NOT_TESTWIRE',
        ExitCode.CONNECTION,
      );
    case 'CONNECTION_FAILED':
      return nothingListening(endpoint, error.cause as NodeJS.ErrnoException | undefined);
    case 'SERVER_ERROR':
      if (error.serverCode === 'INVALID_SUBSCRIPTION') {
        return new CliError(
          `the endpoint refused the subscription: ${error.message}`,
          error.serverCode,
          ExitCode.USAGE,
        );
      }
      return new CliError(error.message, error.serverCode ?? error.code, ExitCode.FAILURE);
    default:
      return new CliError(error.message, error.code, ExitCode.FAILURE);
  }
}

/** Why a connection was lost, short: `ECONNREFUSED`, `connection closed (code 1001, …)`. */
export function lostReason(error: Error | undefined): string {
  if (!error) return 'closed';
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && !(error instanceof TestwireError) ? code : error.message;
}

/** The one-line error for "could not connect at all". */
export function nothingListening(endpoint: Endpoint, error?: NodeJS.ErrnoException): CliError {
  const refused =
    !error ||
    ['ECONNREFUSED', 'ECONNRESET', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EHOSTUNREACH'].includes(error.code ?? '');
  const detail = refused ? '' : ` (${lostReason(error)})`;
  return new CliError(
    `nothing is listening at ${endpoint.httpUrl}${detail} (start a run with a testwire reporter or \`testwire serve\`)`,
    'NOTHING_LISTENING',
    ExitCode.CONNECTION,
  );
}

/** True for an endpoint on this machine: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(httpUrl: string): boolean {
  const host = new URL(httpUrl).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
