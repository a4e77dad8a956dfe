/**
 * A loopback port held by another OS user's process (root only: a child run as `nobody`) that prints whatever
 * reaches it: what a credential sent there would give away (@testwire/protocol/tcp-listeners).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/** Linux as root: a process of another user can be started. */
export const canRunAsAnotherUser =
  process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
/** The uid of `nobody` on Debian. */
export const NOBODY = 65534;

export interface OtherUsersListener {
  port: number;
  /** Every chunk it received, decoded as latin1, in order. */
  lines: string[];
  /**
   * Sends `text` to it from here and resolves once it printed it: whatever reached it before, it has printed.
   * The sentinel stands for "nothing more is on its way", without a fixed wait.
   */
  drained(text?: string): Promise<void>;
  /** Resolves once a chunk containing `text` arrived. */
  saw(text: string): Promise<void>;
  kill(): void;
}

export async function otherUsersListener(): Promise<OtherUsersListener> {
  const source = `
    const server = require('net').createServer((socket) => {
      socket.on('data', (chunk) => console.log(JSON.stringify(chunk.toString('latin1'))));
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 50);
    });
    server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', source], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { text: string; done: () => void }[] = [];
  let port = 0;
  let ready = () => {};
  const listening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as string | { port: number };
    if (typeof parsed !== 'string') {
      port = parsed.port;
      ready();
      return;
    }
    lines.push(parsed);
    for (const waiter of waiters.filter((w) => parsed.includes(w.text))) waiter.done();
  });
  const exited = once(child, 'exit').then(() =>
    Promise.reject(new Error("the other user's listener exited")),
  );
  exited.catch(() => {});
  await Promise.race([listening, exited]);
  const saw = (text: string) =>
    lines.some((line) => line.includes(text))
      ? Promise.resolve()
      : new Promise<void>((done) => waiters.push({ text, done }));
  return {
    port,
    lines,
    saw,
    async drained(text = `SENTINEL-${process.pid}-${Date.now()}`) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.end(text);
      await saw(text);
    },
    kill: () => child.kill('SIGKILL'),
  };
}
