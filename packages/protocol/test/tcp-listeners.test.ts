import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { anotherUsersListener, parseTcpTable, tcpListeners } from '../src/tcp-listeners.js';

const linux = process.platform === 'linux';
const root = typeof process.getuid === 'function' && process.getuid() === 0;
/** The uid of `nobody` on Debian: another user for the listener. */
const NOBODY = 65534;

const servers: Server[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(host: string): Promise<number> {
  const server = createServer();
  servers.push(server);
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** A listener on 127.0.0.1 run by another user (root only: a child with `uid: nobody`): its port. */
async function othersListener(): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer(c=>c.destroy()).listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return Number(line.toString().trim());
}

describe('parseTcpTable', () => {
  it('lists the listening sockets with address, port and uid; other states are left out', () => {
    const v4 = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1CBD 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3747140 1',
      '   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 275 1',
      '   2: 0100007F:B208 0100007F:9A27 01 00000000:00000000 03:00000991 00000000     0        0 0 3',
    ].join('\n');
    expect(parseTcpTable(v4)).toEqual([
      { address: '127.0.0.1', port: 7357, uid: 1000 },
      { address: '0.0.0.0', port: 2024, uid: 0 },
    ]);
    const v6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:1CBD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1',
      '   1: 00000000000000000000000000000000:1CBE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 2 1',
      '   2: 0000000000000000FFFF00000100007F:1CBF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1',
      '   3: B80D0120000000000000000001000000:1CC0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1',
    ].join('\n');
    expect(parseTcpTable(v6)).toEqual([
      { address: '::1', port: 7357, uid: 1000 },
      { address: '::', port: 7358, uid: 33 },
      { address: '::ffff:127.0.0.1', port: 7359, uid: 0 },
      { address: '2001:db8::1', port: 7360, uid: 0 },
    ]);
  });
});

describe.runIf(linux)('tcpListeners (this host)', () => {
  it('finds a socket this process listens on, IPv4 and IPv6, with this uid', async () => {
    const v4 = await listen('127.0.0.1');
    const v6 = await listen('::1');
    const listeners = tcpListeners() ?? [];
    expect(listeners).toContainEqual({ address: '127.0.0.1', port: v4, uid: process.getuid?.() });
    expect(listeners).toContainEqual({ address: '::1', port: v6, uid: process.getuid?.() });
  });
});

describe.runIf(linux)('anotherUsersListener', () => {
  it("says nothing of this user's own listener, of a port nothing listens on, or of a remote host", async () => {
    const port = await listen('127.0.0.1');
    expect(anotherUsersListener(`http://127.0.0.1:${port}`)).toBeUndefined();
    expect(anotherUsersListener(`ws://localhost:${port}/ws`)).toBeUndefined();
    const wildcard = await listen('::');
    expect(anotherUsersListener(`http://[::1]:${wildcard}`)).toBeUndefined();
    expect(anotherUsersListener('http://testwire.example:443')).toBeUndefined();
  });

  it.runIf(root)(
    "trusts root's listener: a process of another user asking of root's port hears nothing",
    async () => {
      const port = await listen('127.0.0.1');
      const module = fileURLToPath(new URL('../dist/tcp-listeners.cjs', import.meta.url));
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const { anotherUsersListener } = require(${JSON.stringify(module)});
         console.log(JSON.stringify({ why: anotherUsersListener('http://127.0.0.1:${port}') ?? null }))`,
        ],
        { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const [code] = (await once(child, 'exit')) as [number];
      expect(code, out).toBe(0);
      expect(JSON.parse(out)).toEqual({ why: null });
    },
  );

  it.runIf(root)(
    "names another user's listener on the loopback port (and its uid), under each loopback name",
    async () => {
      const port = await othersListener();
      for (const url of [`http://127.0.0.1:${port}`, `ws://localhost:${port}/ws`]) {
        const why = anotherUsersListener(url);
        expect(why, url).toMatch(
          new RegExp(`listening on (127\\.0\\.0\\.1|localhost):${port} runs as another user`),
        );
        expect(why, url).toContain(`uid ${NOBODY}`);
      }
    },
  );
});
