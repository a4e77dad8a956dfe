/// <reference types="node" />
/**
 * Who listens on a TCP port of this host (Node on Linux: /proc/net/tcp and tcp6, which list every socket of
 * this network namespace with its owner's uid). Node-only, unlike the rest of this package: its own export,
 * `@testwire/protocol/tcp-listeners`.
 *
 * Two uses: a client (watch, tail, status, a publisher) sends an API key or token to a loopback endpoint only
 * when the process listening there runs as the same OS user — when the owner of the port went away, any
 * local user may bind it next and would be handed the key; and the broadcaster's sweep of secret files tells
 * whether anything still listens on a port.
 *
 * The package's own types leave Node out (`types: []`: the rest runs in browsers); this file brings them in
 * for itself, and test/isomorphic.test.ts keeps every other module free of Node.
 */
import { readFileSync } from 'node:fs';

export interface TcpListener {
  /** The bound address, as Node prints it: `127.0.0.1`, `0.0.0.0`, `::1`, `::`, `::ffff:127.0.0.1`. */
  address: string;
  port: number;
  /** The uid of the socket's owner. */
  uid: number;
}

/** TCP socket state LISTEN in /proc/net/tcp{,6}. */
const TCP_LISTEN = '0A';
const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/**
 * The listening sockets of one table's text (`sl local_address rem_address st … uid …`): `local_address`
 * is `<hex address>:<hex port>`, the address in 32-bit words of host byte order (little-endian here).
 */
export function parseTcpTable(text: string): TcpListener[] {
  const listeners: TcpListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (fields[3] !== TCP_LISTEN || !local) continue;
    const colon = local.lastIndexOf(':');
    const uid = Number(fields[7]);
    const address = hexAddress(local.slice(0, colon));
    if (address === undefined || !Number.isInteger(uid)) continue;
    listeners.push({ address, port: Number.parseInt(local.slice(colon + 1), 16), uid });
  }
  return listeners;
}

/** Every listening TCP socket of this host's network namespace; undefined where neither table can be read. */
export function tcpListeners(): TcpListener[] | undefined {
  let read = 0;
  const listeners: TcpListener[] = [];
  for (const table of TABLES) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue; // not Linux, or a kernel without that family
    }
    read++;
    listeners.push(...parseTcpTable(text));
  }
  return read > 0 ? listeners : undefined;
}

/**
 * When the process listening at a loopback `url` (`http:`/`ws:`, `127.x`, `::1` or `localhost`) runs as
 * another OS user than this one (root excepted): why credentials must not go there, in one sentence. Undefined when it is
 * ours, when the URL is not loopback (a remote host is not in our tables), when nothing listens, or where it
 * cannot be told (no /proc, no `process.getuid`).
 */
export function anotherUsersListener(url: string | URL): string | undefined {
  if (typeof process === 'undefined' || typeof process.getuid !== 'function') return undefined;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const addresses = loopbackAddresses(host);
  if (!addresses) return undefined;
  const port = Number(target.port || (target.protocol === 'https:' || target.protocol === 'wss:' ? 443 : 80));
  const listeners = tcpListeners()?.filter((listener) => listener.port === port);
  if (!listeners?.length) return undefined;
  // A connection reaches a socket bound to its exact address before one bound to a wildcard address.
  const exact = listeners.filter((listener) => addresses.includes(listener.address));
  const reached =
    exact.length > 0 ? exact : listeners.filter((listener) => WILDCARDS.includes(listener.address));
  const uid = process.getuid();
  // root's listener is trusted: root can read this process's key anyway (and a container's published port is
  // root's docker-proxy).
  const other = reached.find((listener) => listener.uid !== uid && listener.uid !== 0);
  if (!other) return undefined;
  return (
    `the process listening on ${host.includes(':') ? `[${host}]` : host}:${port} runs as another user ` +
    `(uid ${other.uid}; this process runs as uid ${uid}), so testwire does not send it the API key or token`
  );
}

const WILDCARDS = ['0.0.0.0', '::'];

/** The addresses a loopback host name connects to, as `parseTcpTable` prints them; undefined if not loopback. */
function loopbackAddresses(host: string): string[] | undefined {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return ['127.0.0.1', '::1', '::ffff:127.0.0.1'];
  if (lower === '::1') return ['::1'];
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(lower)) return [lower, `::ffff:${lower}`];
  return undefined;
}

/** `0100007F` -> `127.0.0.1`; 32 hex digits -> an IPv6 address (`::1`, `::ffff:127.0.0.1`, `::`). */
function hexAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  hex = hex.toLowerCase();
  if (hex.length === 8) return ipv4(hex);
  if (hex.length !== 32) return undefined;
  // Four 32-bit words, each in host byte order: their bytes in network order, then eight 16-bit groups.
  let bytes = '';
  for (let word = 0; word < 32; word += 8) bytes += swap(hex.slice(word, word + 8));
  if (bytes.startsWith('00000000000000000000ffff')) return `::ffff:${ipv4(swap(bytes.slice(24)))}`;
  const groups: string[] = [];
  for (let at = 0; at < 32; at += 4) groups.push(Number.parseInt(bytes.slice(at, at + 4), 16).toString(16));
  return compress(groups);
}

/** The bytes of a 32-bit word the other way round: `0100007F` -> `7F000001`. */
function swap(word: string): string {
  return word.slice(6, 8) + word.slice(4, 6) + word.slice(2, 4) + word.slice(0, 2);
}

/** A little-endian 32-bit word -> dotted quad. */
function ipv4(word: string): string {
  const big = swap(word);
  return [0, 2, 4, 6].map((at) => Number.parseInt(big.slice(at, at + 2), 16)).join('.');
}

/** Eight groups -> the shortest form (the longest run of zero groups as `::`). */
function compress(groups: string[]): string {
  let bestAt = -1;
  let bestLength = 0;
  for (let at = 0; at < groups.length; ) {
    if (groups[at] !== '0') {
      at++;
      continue;
    }
    let end = at;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - at > bestLength) [bestAt, bestLength] = [at, end - at];
    at = end;
  }
  if (bestLength < 2) return groups.join(':');
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLength).join(':')}`;
}
