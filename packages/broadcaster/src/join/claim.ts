/**
 * Claiming a port: bind it (owner), or find that a testwire owner holds it (join), or that something
 * else does (warn once, own an ephemeral port instead).
 */
import { request } from 'node:http';
import { urlHost } from '../http-util.js';
import type { ResolvedOptions } from '../options.js';
import { Owner, type OwnerInternals } from '../owner.js';
import { sleep } from '../timers.js';

/**
 * `timeout`: the port took the connection but did not answer in time. On a loaded machine that is most
 * likely a testwire owner starved of CPU, not something else: callers try to join it (a foreign server
 * then refuses the WebSocket upgrade) rather than give the port up. `reset`: the connection was reset before
 * any answer — what a testwire owner at its connection bound does (connections.ts): looked at again, then
 * taken as `timeout` is.
 */
export type ProbeResult = 'testwire' | 'foreign' | 'unreachable' | 'timeout' | 'reset';

/** GET /status: is a testwire broadcaster answering on host:port? (A 401 with our marker counts.) */
export function probeTestwire(host: string, port: number, timeoutMs = 1000): Promise<ProbeResult> {
  // The first answer counts: a promise ignores later ones (a 'close' after 'end', an 'error' after 'timeout').
  return new Promise((done) => {
    const req = request(
      {
        host: urlHost(host).replace(/^\[|\]$/g, ''),
        port,
        path: '/status',
        method: 'GET',
        timeout: timeoutMs,
        headers: { accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 1024 * 1024) res.destroy();
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (res.headers['x-testwire']) return done('testwire');
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            done(body?.server === 'testwire' ? 'testwire' : 'foreign');
          } catch {
            done('foreign');
          }
        });
        res.on('error', () => done('foreign'));
        res.on('close', () => done('foreign'));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done('timeout');
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'unreachable' : error.code === 'ECONNRESET' ? 'reset' : 'foreign'),
    );
    req.end();
  });
}

export type Claim =
  | { kind: 'owner'; owner: Owner }
  | { kind: 'testwire' }
  | { kind: 'foreign'; reason: string };

/** Tries to bind; tells what holds the port when that fails. */
export async function claimPort(options: ResolvedOptions, internals: OwnerInternals = {}): Promise<Claim> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { kind: 'owner', owner: await Owner.start(options, internals) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE')
        return { kind: 'foreign', reason: `${code ?? 'error'}: ${(error as Error).message}` };
    }
    const probe = await probeTestwire(options.host, options.port);
    // A slow answer is taken for a starved testwire owner: joining it tells (see ProbeResult).
    if (probe === 'testwire' || probe === 'timeout' || (probe === 'reset' && attempt >= 3))
      return { kind: 'testwire' };
    // Refused right after EADDRINUSE: the holder is going away (or still starting); reset: an owner at its
    // connection bound. Look again shortly.
    if ((probe === 'unreachable' || probe === 'reset') && attempt < 3) {
      // Ref'd: the caller awaits the claim and must not be cut short; always short.
      await sleep(20 + Math.random() * 30, { ref: true });
      continue;
    }
    return { kind: 'foreign', reason: 'the port is in use by something that is not a testwire broadcaster' };
  }
}

let warnedForeign = false;

/** Warns once per process and owns an ephemeral port on the same host. */
export async function ownEphemeral(
  options: ResolvedOptions,
  reason: string,
  internals: OwnerInternals = {},
): Promise<Owner> {
  const owner = await Owner.start({ ...options, port: 0 }, internals);
  if (!warnedForeign) {
    warnedForeign = true;
    options.logger.warn(
      `testwire: cannot use ${urlHost(options.host)}:${options.port} (${reason}); broadcasting on ${owner.url} instead (set TESTWIRE_PORT or the "port" option to choose another port)`,
    );
  }
  return owner;
}
