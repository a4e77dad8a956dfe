/**
 * `watch` and `tail --wait` host the endpoint themselves when it is on this machine and nothing listens yet.
 *
 * A reporter's broadcaster lives only as long as its run: a mocha run of 0.7 s owns the port for a few
 * hundred milliseconds and exits, which can be over before a monitor polling for it connects. A monitor that
 * owns the port instead (a broadcaster as `testwire serve` starts it: loopback, Host/Origin checks, auth as
 * configured) is found by the run's reporter, which joins it as a publisher: every event reaches the
 * monitor, however short the run. When the monitor exits while a run publishes to it, the broadcaster closes
 * and a publisher takes the port over (the broadcaster's handover): the run goes on as if it owned the
 * endpoint from the start.
 *
 *   nothing listens, never connected ──> bind now (a reporter that binds first wins: EADDRINUSE, we connect)
 *   connected to an endpoint another process owns, then it went away ──> never bind: follow its URL
 *
 * A monitor is a consumer: once it has followed another process's endpoint, nothing of that stream needs it
 * to own the port. The runs that published to the owner that left take the port over themselves (the
 * broadcaster's handover, within milliseconds, seeded with their open runs); with none, no run was going.
 * What comes next binds the port itself — `testwire serve` started again (which a monitor holding the port
 * would lock out: EADDRINUSE), a new run's reporter — and the monitor's client, retrying every 250 ms at
 * most, follows it from its first event.
 */
import type { Broadcaster } from '@testwire/broadcaster';
import { DEFAULT_HOST } from '@testwire/protocol';
import { isLoopback } from './connect.js';
import type { Endpoint } from './endpoint.js';

/** How long closing the hosted broadcaster may take (subscribers get a going-away close, publishers take over). */
const CLOSE_TIMEOUT_MS = 2000;

/** The interface and port a command can host an endpoint on. */
export interface HostTarget {
  host: string;
  port: number;
}

/**
 * Where `endpoint` can be hosted by this process: a plain http URL on loopback with its port given and no
 * path (an endpoint behind a path or TLS is a proxy's, not a broadcaster this process could stand in for).
 * `localhost` binds 127.0.0.1, the interface reporters bind by default. Undefined when it cannot be hosted.
 */
export function hostTarget(endpoint: Endpoint): HostTarget | undefined {
  const url = new URL(endpoint.httpUrl);
  if (url.protocol !== 'http:' || !isLoopback(endpoint.httpUrl)) return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  const port = Number(url.port);
  if (!url.port || !Number.isInteger(port) || port === 0) return undefined;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  return { host: hostname === 'localhost' ? DEFAULT_HOST : hostname, port };
}

export interface LocalHostOptions {
  apiKey?: string;
  /** Where the hosted broadcaster reads its settings (TESTWIRE_PUBLISH_KEY, TESTWIRE_JWT_SECRET…). */
  env?: NodeJS.ProcessEnv;
  /** The broadcaster's warnings, and why hosting is not possible (once). */
  warn(message: string): void;
  /** Called once this process owns the endpoint. */
  onHosting(url: string): void;
}

/** A monitor's own client of the endpoint (a @testwire/client): all `closeMonitor` needs of it. */
export interface OwnClient {
  close(): Promise<void>;
}

/**
 * Closes a monitor (`watch`, `tail --wait`): its own client first, then the endpoint it hosts, if any.
 *
 * The order is the handover's: a hosted broadcaster that closes with no subscriber left tells the runs
 * publishing to it that nobody will follow the endpoint (its NO_FOLLOWERS close reason), so the run that takes
 * the port over waits for no one and prints no loss line. Closed the other way round, our own client would
 * still be counted a follower, and the run would wait for it and then say its events reached no subscriber.
 *
 * Resolves once the hosted endpoint is closed and handed over (its runs took the port over); with nothing
 * hosted, at once (the client's close goes on by itself: nobody waits on it). Never rejects: a monitor
 * that is ending has nothing left to report a failed close to.
 */
export function closeMonitor(client: OwnClient, host: LocalHost | undefined): Promise<void> {
  const clientClosed = client.close().catch(() => {});
  if (!host) return Promise.resolve();
  return clientClosed.then(() => host.close()).catch(() => {});
}

/** The endpoint this process hosts (or would host) for its own monitor and the runs that join it. */
export class LocalHost {
  private broadcaster: Broadcaster | undefined;
  private binding: Promise<boolean> | undefined;
  private closed = false;
  /** Binding failed for a reason that will not go away (not EADDRINUSE): stop trying, wait as before. */
  private givenUp = false;

  constructor(
    private readonly target: HostTarget,
    private readonly options: LocalHostOptions,
  ) {}

  get hosting(): boolean {
    return this.broadcaster !== undefined;
  }

  /**
   * Binds the endpoint. True once this process owns it; false when something holds the port (a reporter or
   * another monitor bound it first: connect to it as a client) or it cannot be bound at all.
   */
  claim(): Promise<boolean> {
    if (this.broadcaster) return Promise.resolve(true);
    if (this.closed || this.givenUp) return Promise.resolve(false);
    this.binding ??= this.bind().finally(() => {
      this.binding = undefined;
    });
    return this.binding;
  }

  /**
   * The client could not reach the endpoint (`error`, its reason). Nothing listening before the first
   * connection: bind at once. After a connection (to another process's endpoint): never — follow its URL.
   */
  refused(error: Error | undefined, everConnected: boolean): void {
    if (this.broadcaster || everConnected) return;
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED') void this.claim();
  }

  /** Closes the hosted broadcaster: its subscribers get a going-away close, its publishers take the port over. */
  async close(): Promise<void> {
    this.closed = true;
    await this.binding;
    const broadcaster = this.broadcaster;
    this.broadcaster = undefined;
    await broadcaster?.close({ timeoutMs: CLOSE_TIMEOUT_MS });
  }

  private async bind(): Promise<boolean> {
    const { host, port } = this.target;
    // The broadcaster would require credentials this process cannot give its own monitor (a publish key or
    // a JWT secret in the environment, no API key): it would lock itself out. Wait for an endpoint instead.
    const env = this.options.env ?? process.env;
    const locks = ['TESTWIRE_PUBLISH_KEY', 'TESTWIRE_JWT_SECRET'].filter((name) => env[name]);
    if (!this.options.apiKey && locks.length > 0) {
      this.givenUp = true;
      this.options.warn(
        `not hosting ${host}:${port}: ${locks.join(' and ')} ${locks.length > 1 ? 'are' : 'is'} set and there is no API key (TESTWIRE_API_KEY) to read the endpoint this process would host; waiting for an endpoint instead`,
      );
      return false;
    }
    try {
      // Loaded on demand, as `serve` does: a monitor that never hosts starts without the server.
      const { startBroadcaster } = await import('@testwire/broadcaster');
      const broadcaster = await startBroadcaster({
        host,
        port,
        ...(this.options.apiKey ? { apiKey: this.options.apiKey } : {}),
        // The command lives as long as the user wants it; closing it releases everything.
        keepAlive: true,
        logger: { warn: this.options.warn, info: () => {} },
      });
      if (this.closed) {
        await broadcaster.close({ timeoutMs: CLOSE_TIMEOUT_MS });
        return false;
      }
      this.broadcaster = broadcaster;
      this.options.onHosting(broadcaster.url);
      return true;
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') return false;
      this.givenUp = true;
      this.options.warn(
        `cannot host ${host}:${port} (${err.code ?? err.message}); waiting for an endpoint to come up instead`,
      );
      return false;
    }
  }
}
