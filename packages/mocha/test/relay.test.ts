/**
 * The parallel relay's parts on real objects: an event streamed from a worker reads as mocha's own burst
 * reads (mocha 11's serializer is the reference) without the worker's objects being changed; the main
 * process's socket refuses a connection without the secret; and a burst skips exactly the events its stream
 * delivered, on mocha's real ParallelBufferedRunner; held (`--bail`), a stream reaches the reporter when its
 * burst begins, never when it does not come, and all at once when released.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { until } from '@testwire-tests/support';
import { afterEach, describe, expect, it } from 'vitest';
import { ParallelRelay, type RelayStream } from '../src/parallel-relay.js';
import { RELAY_ENV, RELAY_MARKER, readRelayConfig } from '../src/relay-wire.js';
import { deserializeEvent, serializeEvent } from '../src/serialize-event.js';
import { mochaDir } from './helpers/run.js';

const mochaRequire = createRequire(join(mochaDir(11), 'node_modules/mocha/package.json'));
const Mocha = mochaRequire('./lib/mocha.js') as any;
const { SerializableEvent } = mochaRequire('./lib/nodejs/serializer.js') as any;
const ParallelBufferedRunner = mochaRequire('./lib/nodejs/parallel-buffered-runner.js') as any;

/** A test of a real suite tree, failed with an assertion error that refers to an object with a method. */
function failedTest() {
  const root = new Mocha.Suite('', new Mocha.Context(), true);
  const suite = Mocha.Suite.create(root, 'outer');
  const test = new Mocha.Test('adds', () => {});
  test.file = '/project/math.test.js';
  suite.addTest(test);
  test.state = 'failed';
  test.duration = 12;
  const actual: Record<string, unknown> = { sum: 3, format: () => 'three' };
  actual.self = actual;
  const error = Object.assign(new Error('3 !== 2'), { code: 'ERR_ASSERTION', actual, expected: 2 });
  return { test, error, actual };
}

describe('serializeEvent / deserializeEvent', () => {
  it('read as mocha’s burst reads, and leave the worker’s objects as they were', () => {
    const { test, error, actual } = failedTest();
    const ours = deserializeEvent(JSON.parse(JSON.stringify(serializeEvent(test, error))));
    // the worker's objects: the method and the cycle are still there (mocha's serializer removes both)
    expect(typeof actual.format).toBe('function');
    expect(actual.self).toBe(actual);

    const reference = SerializableEvent.deserialize(
      JSON.parse(
        JSON.stringify(SerializableEvent.create('fail', failedTest().test, failedTest().error).serialize()),
      ),
    );
    const [a, b] = [ours.data as any, reference.data as any];
    for (const method of ['titlePath', 'fullTitle', 'currentRetry', 'isPending'])
      expect(a[method](), method).toEqual(b[method]());
    for (const field of ['title', 'file', 'duration', 'state', 'type', 'body'])
      expect(a[field], field).toEqual(b[field]);
    expect(a.parent.fullTitle()).toBe(b.parent.fullTitle());
    const [ea, eb] = [
      ours.error as Error & Record<string, unknown>,
      reference.error as Error & Record<string, unknown>,
    ];
    expect(ea).toBeInstanceOf(Error);
    expect({ message: ea.message, code: ea.code, expected: ea.expected }).toEqual({
      message: eb.message,
      code: eb.code,
      expected: eb.expected,
    });
    expect(ea.stack).toBe(error.stack);
    expect(ea.actual).toEqual({ sum: 3, self: '[Circular]' });
  });
});

describe('ParallelRelay', () => {
  const saved = process.env[RELAY_ENV];
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    if (saved === undefined) delete process.env[RELAY_ENV];
    else process.env[RELAY_ENV] = saved;
  });

  function start(hold = false) {
    const runner = new ParallelBufferedRunner(new Mocha.Suite('', new Mocha.Context(), true));
    const received: Array<{ stream: string; name: string; title?: string }> = [];
    const relay = ParallelRelay.start(
      runner,
      {
        event: (stream: RelayStream, name: string, data: unknown) =>
          received.push({ stream: stream.id, name, title: (data as { title?: string })?.title }),
        output: () => undefined,
      },
      { output: true, hold },
    );
    if (!relay) throw new Error('the relay did not start');
    cleanups.push(() => relay.close());
    const config = readRelayConfig(process.env);
    if (!config) throw new Error(`no ${RELAY_ENV} for the workers`);
    return { runner, relay, config, received };
  }

  function client(path: string): Socket {
    const socket = connect(path);
    socket.on('error', () => undefined);
    cleanups.push(() => socket.destroy());
    return socket;
  }

  const line = (message: object) => `${JSON.stringify(message)}\n`;
  const event = (name: string, title: string) => line({ t: 'event', name, event: { data: { title } } });

  it('names the streaming worker reporter for mocha’s workers, and refuses a connection without the secret', async () => {
    const { runner, config, received } = start();
    expect(runner._workerReporter).toMatch(/worker-reporter\.cjs$/);
    expect(config.base).toMatch(/parallel-buffered\.js$/);

    const intruder = client(config.socket);
    intruder.write(
      line({ t: 'hello', token: '00'.repeat(32), stream: 'intruder' }) + event('test', 'forged'),
    );
    await new Promise((resolve) => intruder.once('close', resolve));

    // a sentinel through a good connection: what the intruder sent would have come first
    const worker = client(config.socket);
    worker.write(line({ t: 'hello', token: config.token, stream: 'w1' }) + event('test', 'sentinel'));
    await until('the sentinel', () => received.find((e) => e.title === 'sentinel'));
    expect(received).toEqual([{ stream: 'w1', name: 'test', title: 'sentinel' }]);
  });

  it('a burst skips the events its stream delivered, and takes the rest', async () => {
    const { runner, relay, config, received } = start();
    const worker = client(config.socket);
    worker.write(
      line({ t: 'hello', token: config.token, stream: 's1' }) + event('suite', 'file') + event('test', 'one'),
    );
    await until('two streamed events', () => (received.length === 2 ? true : undefined));

    // mocha's burst of that file: the marker, then every event of the file in the order the worker emitted them
    const seen: Array<[string, boolean]> = [];
    for (const name of ['suite', 'test', 'pass', 'test end', 'suite end'])
      runner.on(name, () => seen.push([name, relay.skipping]));
    runner.emit(RELAY_MARKER, { __mocha_id__: 'testwire-s1', stream: 's1' });
    for (const name of ['suite', 'test', 'pass', 'test end', 'suite end']) runner.emit(name, {});
    expect(seen).toEqual([
      ['suite', true],
      ['test', true],
      ['pass', false],
      ['test end', false],
      ['suite end', false],
    ]);
    // after the burst, the stream is over: a line it still sends is refused (the relay closes it), unread
    const closed = new Promise((resolve) => worker.once('close', resolve));
    worker.write(event('pass', 'late'));
    await closed;
    expect(received.map((e) => e.title)).toEqual(['file', 'one']);
    // a burst whose stream was never read is taken whole, and its late stream refused
    seen.length = 0;
    runner.emit(RELAY_MARKER, { __mocha_id__: 'testwire-s3', stream: 's3' });
    runner.emit('suite', {});
    expect(seen).toEqual([['suite', false]]);
    const late = client(config.socket);
    const refused = new Promise((resolve) => late.once('close', resolve));
    late.write(line({ t: 'hello', token: config.token, stream: 's3' }) + event('test', 'too late'));
    await refused;
    expect(received.map((e) => e.title)).toEqual(['file', 'one']);
  });

  it('held: a stream reaches the reporter when its burst begins, before the burst, which skips it', async () => {
    const { runner, relay, config, received } = start(true);
    // two files' streams, read to their end (the relay closes each once it has read `end`)
    const read = ['h1', 'h2'].map((stream) => {
      const worker = client(config.socket);
      const closed = new Promise((resolve) => worker.once('close', resolve));
      worker.write(
        line({ t: 'hello', token: config.token, stream }) +
          event('suite', `${stream} file`) +
          event('test', `${stream} one`) +
          line({ t: 'end' }),
      );
      worker.end();
      return closed;
    });
    await Promise.all(read);
    expect(received).toEqual([]);

    const seen: Array<[string, boolean]> = [];
    for (const name of ['suite', 'test', 'pass']) runner.on(name, () => seen.push([name, relay.skipping]));
    runner.emit(RELAY_MARKER, { __mocha_id__: 'testwire-h1', stream: 'h1', bailed: true });
    expect(received.map((e) => e.title)).toEqual(['h1 file', 'h1 one']);
    for (const name of ['suite', 'test', 'pass']) runner.emit(name, {});
    expect(seen).toEqual([
      ['suite', true],
      ['test', true],
      ['pass', false],
    ]);
    expect(relay.bailedInFile).toBe(true);
    // h2's burst never comes (mocha bailed): closing drops what it holds, release after it hands over nothing
    relay.close();
    relay.release('all');
    expect(received.map((e) => e.title)).toEqual(['h1 file', 'h1 one']);
  });

  it('held, then released: the streams cut off (or all) whose burst never came are handed over', async () => {
    const { relay, config, received } = start(true);
    const send = (stream: string, ...lines: string[]) => {
      const worker = client(config.socket);
      const closed = new Promise((resolve) => worker.once('close', resolve));
      worker.write(line({ t: 'hello', token: config.token, stream }) + lines.join(''));
      return { worker, closed };
    };
    // f1 ran to its end (mocha dropped its burst for a bail); c1's worker died mid-file (no `end`)
    const f1 = send('f1', event('test', 'finished'), line({ t: 'end' }));
    const c1 = send('c1', event('test', 'running'));
    await f1.closed;
    // the relay reads what c1 sent before it sees c1's end, and closes its side after that
    c1.worker.end();
    await c1.closed;
    expect(received).toEqual([]);
    relay.release('cut off');
    expect(received).toEqual([{ stream: 'c1', name: 'test', title: 'running' }]);
    // from now on, as it comes
    send('live', event('test', 'live'));
    await until('the live event', () => (received.length === 2 ? true : undefined));
    expect(received[1]).toEqual({ stream: 'live', name: 'test', title: 'live' });
  });
});
