/**
 * Which TCP connections the owner's HTTP server keeps. The endpoint lives in the test process: every socket is
 * one of the runner's file descriptors, and a process on this machine (another user's too: loopback has no
 * owner) can open as many as it likes, from 127.0.0.1, 127.0.0.2, … without sending a byte. So:
 *
 *   'connection' ── over `connectionsPerAddress` for its address, or `connections` in all ──> the oldest
 *                   quiet socket (of that address; of all) is closed to make room; none quiet: the new one is
 *   a quiet socket (no request yet) ── headersTimeoutMs ──> closed (a silent slowloris)
 *
 * A quiet socket is one that has not sent a request: an idle hold costs its holder nothing, so the holder
 * loses it first, and a client that speaks (a subscriber, a publisher, a dashboard) is never refused for
 * sockets that say nothing. `connections` is also kept under half the process's open-file limit, so that the
 * tests keep the other half whatever the endpoint is sent.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open sockets per client address. */
  connectionsPerAddress: number;
  /** Open sockets in all. */
  connections: number;
  /** How long a socket may stay quiet (no request) before it is closed. */
  headersTimeoutMs: number;
}

export class ConnectionAdmission {
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  /** Sockets that have sent no request yet, oldest first. */
  private readonly quiet = new Set<Socket>();
  /** Gives a socket's place back (once: at its close, or when it is closed to make room). */
  private readonly release = new WeakMap<Socket, () => void>();
  private readonly total: number;

  constructor(private readonly limits: ConnectionLimits) {
    this.total = Math.min(limits.connections, halfOfFileLimit());
  }

  /** A new socket: counted, or (over a bound, with no quiet socket to close instead) destroyed at once. */
  admit(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    if (
      (this.perAddress.get(address) ?? 0) >= this.limits.connectionsPerAddress &&
      !this.closeQuiet(address)
    ) {
      socket.destroy();
      return;
    }
    if (this.open >= this.total && !this.closeQuiet(undefined)) {
      socket.destroy();
      return;
    }
    this.open++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.quiet.add(socket);
    const timer = setTimeout(() => {
      if (this.quiet.has(socket)) socket.destroy();
    }, this.limits.headersTimeoutMs);
    timer.unref();
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      clearTimeout(timer);
      this.quiet.delete(socket);
      this.open--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
    this.release.set(socket, release);
    socket.once('close', release);
  }

  /** The socket sent a request (or an upgrade): it is no longer quiet. */
  spoke(socket: unknown): void {
    this.quiet.delete(socket as Socket);
  }

  /** Closes the oldest quiet socket (of `address`, when given); false when there is none. */
  private closeQuiet(address: string | undefined): boolean {
    for (const socket of this.quiet) {
      if (address !== undefined && (socket.remoteAddress ?? '') !== address) continue;
      // Its place is free now, not at its 'close' (a later turn): the socket that takes it is counted at once.
      this.release.get(socket)?.();
      socket.destroy();
      return true;
    }
    return false;
  }
}

/** Half the process's open-file limit (Linux: /proc/self/limits); no bound where it cannot be read. */
function halfOfFileLimit(): number {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return Math.max(64, Math.floor(Number(line[1]) / 2));
  } catch {}
  return Number.POSITIVE_INFINITY;
}
