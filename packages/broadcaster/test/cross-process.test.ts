/**
 * Several processes on one port: join as publisher, takeover after the owner dies, a port held by
 * something else, and processes ending by themselves.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { RunStateStore } from '@testwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { getBroadcaster, probeTestwire, resetBroadcasterSingleton, resolveOptions } from '../src/index.js';
import { claimPort } from '../src/join/claim.js';
import { Client, freePort, getJson, type Msg, recordingLogger, waitFor } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const children: ChildProcess[] = [];
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A forked peer (test/fixtures/peer.mjs) and the messages it sent. */
class Peer {
  readonly messages: Msg[] = [];
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(join(FIXTURES, 'peer.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(this.child);
    this.child.on('message', (m) => this.messages.push(m as Msg));
  }
  next(type: string, timeoutMs = 20_000, from = 0): Promise<Msg> {
    return waitFor(
      () => this.messages.slice(from).find((m) => m.type === type || m.type === 'error'),
      type,
      timeoutMs,
    ).then((m) => {
      if (m.type === 'error') throw new Error(`peer failed: ${m.message}`);
      return m;
    });
  }
  async get(port: number): Promise<Msg> {
    await this.next('boot');
    this.child.send({ cmd: 'get', options: { port } });
    return this.next('ready');
  }
  send(message: Msg): void {
    this.child.send(message);
  }
}

describe('cross-process', () => {
  it('a second process joins the first as publisher and its events reach the first one’s subscribers', async () => {
    const port = await freePort();
    const owner = new Peer();
    const publisher = new Peer();
    const a = await owner.get(port);
    expect(a.role).toBe('owner');
    const b = await publisher.get(port);
    expect(b).toMatchObject({ role: 'publisher', url: a.url, epoch: a.epoch });
    const subscriber = await Client.open(`ws://127.0.0.1:${port}/ws?events=*`);
    cleanups.push(() => subscriber.close());
    const status = await getJson(`http://127.0.0.1:${port}/status`);
    expect(status.publishers).toBe(1);

    publisher.send({ cmd: 'run', runId: 'r_pub', tests: 50, intervalMs: 0 });
    const ran = await publisher.next('ran');
    expect(ran.dropped).toBe(0);
    await waitFor(() => subscriber.events().some((e) => e.type === 'test.completed'), 'test.completed');
    const events = subscriber.events();
    expect(events).toHaveLength(52);
    expect(events.filter((e) => e.type === 'test.result').map((e) => e.data.id)).toEqual(
      Array.from({ length: 50 }, (_, i) => `r_pub-t${i + 1}`),
    );
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 52 }, (_, i) => seqs[0] + i));
    // The owner's run state holds the publisher's run.
    const snapshot = await subscriber.request({ type: 'snapshot' }, 'snapshot');
    expect(snapshot.runs[0]).toMatchObject({
      runId: 'r_pub',
      status: 'completed',
      counts: { passed: 43, failed: 7 },
    });
  });

  it('takes the port over within ~1 s when the owner is SIGKILLed; a resuming subscriber misses nothing', async () => {
    const port = await freePort();
    const owner = new Peer();
    const publishers = [new Peer(), new Peer()];
    const a = await owner.get(port);
    for (const p of publishers) expect((await p.get(port)).role).toBe('publisher');
    const sub = await Client.open(`ws://127.0.0.1:${port}/ws?events=*`);
    cleanups.push(() => sub.close());

    const TESTS = 120;
    const runIds = ['r_one', 'r_two'];
    publishers.forEach((p, i) => {
      p.send({ cmd: 'run', runId: runIds[i], tests: TESTS, intervalMs: 10, reportEvery: 30 });
    });
    for (const p of publishers) await p.next('progress');
    await waitFor(() => sub.events().length >= 40, 'some events before the kill');
    const killedAt = Date.now();
    owner.child.kill('SIGKILL');
    await sub.closed;
    const lastSeq = Math.max(...sub.events().map((e) => e.seq));

    // Exactly one publisher wins the port; the other joins it.
    const winner = await waitFor(
      () => publishers.find((p) => p.messages.some((m) => m.type === 'role' && m.role === 'owner')),
      'the takeover',
      5000,
    );
    const role = winner.messages.find((m) => m.type === 'role' && m.role === 'owner') as Msg;
    expect(role.epoch).not.toBe(a.epoch);
    expect(role.at - killedAt).toBeLessThan(1500);
    const loser = publishers.find((p) => p !== winner) as Peer;
    const rejoined = await waitFor(
      () => loser.messages.find((m) => m.type === 'role' && m.epoch === role.epoch),
      'the loser joining the winner',
      5000,
    );
    expect(rejoined.role).toBe('publisher');

    // Reconnect and resume against the dead epoch: resume.failed + snapshot, then live events.
    const again = await Client.open(`ws://127.0.0.1:${port}/ws`);
    cleanups.push(() => again.close());
    again.send({ type: 'subscribe', events: ['*'] });
    again.send({ type: 'resume', epoch: a.epoch, since: lastSeq });
    const failed = await again.next((m) => m.type === 'resume.failed');
    expect(failed).toMatchObject({ reason: 'EPOCH_CHANGED', epoch: role.epoch });
    const snapshot = await again.next((m) => m.type === 'snapshot');
    for (const p of publishers) await p.next('ran', 10_000);
    await waitFor(
      () => again.events().filter((e) => e.type === 'test.completed').length === 2,
      'both test.completed after takeover',
    );

    // Snapshot + live events rebuild both runs entirely.
    const state = new RunStateStore();
    state.restore(snapshot.runs);
    for (const e of again.events()) if (e.seq > snapshot.seq) state.apply(e as never);
    for (const runId of runIds) {
      const run = state.get(runId);
      expect(run?.status).toBe('completed');
      expect(run?.tests.map((t) => t.id).sort()).toEqual(
        Array.from({ length: TESTS }, (_, i) => `${runId}-t${i + 1}`).sort(),
      );
      expect(run?.counts).toMatchObject({
        passed: TESTS - Math.floor(TESTS / 7),
        failed: Math.floor(TESTS / 7),
        completed: TESTS,
      });
    }
    // Live events after the snapshot are in order without duplicates.
    const seqs = again.events().map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('warns once and binds an ephemeral port when the port is held by something that is not testwire', async () => {
    const port = await freePort();
    const foreign = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => foreign.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => foreign.close(r)));
    const logger = recordingLogger();
    resetBroadcasterSingleton();
    const b = await getBroadcaster({ port, logger });
    cleanups.push(() => b.close());
    expect(b.role).toBe('owner');
    expect(b.port).not.toBe(port);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(b.url);
    expect(logger.warnings[0]).toContain(String(port));
    const status = await getJson(`${b.url}/status`);
    expect(status.server).toBe('testwire');
    // Same instance on the next call, no second warning.
    expect(await getBroadcaster({ port, logger })).toBe(b);
    expect(logger.warnings).toHaveLength(1);
  });

  it('a port that takes the connection but answers too late is a starved owner to join, not something foreign', async () => {
    // A publisher re-probing a loaded owner's port must not give up on it and go off to an ephemeral port of
    // its own (where nobody listens): claimPort joins what does not answer in time.
    const port = await freePort();
    const accepted: Socket[] = [];
    const silent = createNetServer((socket) => accepted.push(socket));
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    cleanups.push(() => {
      for (const socket of accepted) socket.destroy();
      return new Promise((r) => silent.close(() => r(undefined)));
    });
    expect(await probeTestwire('127.0.0.1', port, 200)).toBe('timeout');
    const claim = await claimPort(resolveOptions({ port, host: '127.0.0.1', logger: recordingLogger() }));
    expect(claim.kind).toBe('testwire');
  });

  async function runUntilExit(
    script: string,
    subscribers: number,
  ): Promise<{ ms: number; code: number | null; out: string }> {
    const child = spawn(process.execPath, [join(FIXTURES, script), String(subscribers)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await waitFor(
      () => out.split('\n')[0]?.startsWith('http') && out.split('\n')[0],
      'the child URL',
    );
    const subs: Client[] = [];
    for (let i = 0; i < subscribers - 1; i++)
      subs.push(await Client.open(`${url.replace('http', 'ws')}/ws?events=*`));
    // And one SSE subscriber.
    const sse = await fetch(`${url}/events`);
    const reader = sse.body?.getReader();
    cleanups.push(() => reader?.cancel().catch(() => {}));
    cleanups.push(() => {
      for (const s of subs) s.close();
    });
    const started = Date.now();
    const code = await exited;
    return { ms: Date.now() - started, code, out };
  }

  it('a process that closed its broadcaster with subscribers connected exits by itself promptly', async () => {
    const { ms, code, out } = await runUntilExit('close-and-exit.mjs', 3);
    expect(out).toContain('closed 3');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3000);
  });

  it('a broadcaster that is never closed does not keep its process alive', async () => {
    const { ms, code, out } = await runUntilExit('no-close.mjs', 1);
    expect(out).toContain('published 1');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3000);
  });
});
