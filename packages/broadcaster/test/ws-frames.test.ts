/**
 * The frame-once write path: every event is framed once as a WebSocket text frame and written as is to
 * each subscriber's socket (one write per subscriber per tick). Checked on the raw bytes, from a plain TCP
 * client that does the upgrade itself, and with a real `ws` client that validates every frame it reads.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { FramedEntry } from '../src/history.js';
import { type Broadcaster, startBroadcaster } from '../src/index.js';
import { FrameJoiner } from '../src/subscriber.js';
import { encodeSplicedFrame, encodeTextFrame, frameRuns, SlabFramer, textFrameOf } from '../src/ws-frame.js';
import { Client, testOutput, testResult, waitFor } from './helpers.js';

// ws's frame encoder (not in @types/ws): the reference for our bytes.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** What `ws` itself would put on the wire for this text message from a server. */
const wsFrame = (payload: Buffer): Buffer =>
  Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));

describe('ws-frame encoding', () => {
  it('matches ws byte for byte across the 7-, 16- and 64-bit length forms, counting UTF-8 bytes', () => {
    const cases = [
      '',
      'x'.repeat(125),
      'x'.repeat(126),
      'x'.repeat(65_535),
      'x'.repeat(65_536),
      'x'.repeat(70_000),
      // 2 and 3-byte characters: the length is in bytes, so these cross the 125 / 64 KiB limits
      'é'.repeat(63),
      '→'.repeat(21_846),
    ];
    for (const json of cases) {
      const bytes = Buffer.from(json);
      const { frame, payload } = encodeTextFrame(json);
      expect(frame.equals(wsFrame(bytes)), `length ${bytes.length}`).toBe(true);
      expect(payload.equals(bytes)).toBe(true);
      // the payload is a view of the frame, not a copy
      expect(payload.buffer).toBe(frame.buffer);
      expect(textFrameOf(bytes).equals(frame)).toBe(true);
    }
    expect(encodeTextFrame('x'.repeat(70_000)).frame[1]).toBe(127);
    expect(encodeTextFrame('é'.repeat(63)).frame[1]).toBe(126); // 126 bytes, 63 characters
  });

  it('splices the seq into an event the same as framing its parts, in every length form and with UTF-8', () => {
    const head = '{"type":"test.output","timestamp":"2026-12-06T12:00:00.000Z",';
    const cases = ['x', 'é'.repeat(40), 'x'.repeat(130), '→'.repeat(21_846), 'x'.repeat(70_000)].map(
      (text) => `${head}"runId":"r_1","data":{"output":${JSON.stringify(text)}}}`,
    );
    // A head that is not ASCII (a timestamp made by someone else) takes the slicing path: same bytes.
    cases.push(`{"type":"test.output","timestamp":"2026-12-06 Zé",${cases[0]?.slice(head.length)}`);
    for (const json of cases) {
      const at = json.indexOf('"runId"');
      const expected = encodeTextFrame(json.slice(0, at), '"seq":42,', json.slice(at));
      const { frame, offset } = encodeSplicedFrame(json, at, '"seq":42,');
      expect(frame.equals(expected.frame), `length ${json.length}`).toBe(true);
      const entry = new FramedEntry({ seq: 42 } as never, frame, 0, frame.length, offset);
      expect(entry.ws).toBe(frame);
      expect(entry.frame.equals(expected.payload)).toBe(true);
      expect(entry.size).toBe(expected.payload.length);
      expect(JSON.parse(entry.frame.toString('utf8')).seq).toBe(42);
    }
  });

  it('frames events back to back in slabs, byte for byte as encodeSplicedFrame, and joins them without a copy', () => {
    const head = '{"type":"test.output","timestamp":"2026-12-06T12:00:00.000Z",';
    const event = (text: string) => `${head}"runId":"r_1","data":{"output":${JSON.stringify(text)}}}`;
    // Short (2-byte header), 16-bit lengths with UTF-8, one too big for a slab, and a head that is not ASCII.
    const texts = ['', 'é'.repeat(40), 'x'.repeat(130), '→'.repeat(300), 'x'.repeat(20_000)];
    const jsons = [
      ...texts.map(event),
      `{"type":"test.output","timestamp":"Zé",${event('x').slice(head.length)}`,
    ];
    const framer = new SlabFramer();
    const framed: Buffer[] = [];
    // Enough events to fill more than one 64 KiB slab.
    for (let round = 0; round < 60; round++)
      for (const json of jsons) {
        const at = json.indexOf('"runId"');
        const insert = `"seq":${round * 10 + 1},`;
        const { slab, start, end, offset } = framer.frame(json, at, insert);
        const frame = slab.subarray(start, end);
        const expected = encodeSplicedFrame(json, at, insert);
        expect(frame.equals(expected.frame), `length ${json.length}`).toBe(true);
        expect(offset).toBe(expected.offset);
        framed.push(frame);
      }
    // Frames made one after another in one slab are adjacent: their join is a view, equal to the concatenation.
    const [a, b, c] = jsons.slice(1, 4).map((json) => {
      const { slab, start, end } = framer.frame(json, json.indexOf('"runId"'), '"seq":7,');
      return slab.subarray(start, end);
    });
    const bytes = (a as Buffer).length + (b as Buffer).length + (c as Buffer).length;
    const runs = frameRuns([a, b, c] as Buffer[], bytes);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.equals(Buffer.concat([a, b, c] as Buffer[]))).toBe(true);
    expect(runs[0]?.buffer).toBe((a as Buffer).buffer);
    // Out of order: one piece per run, no copy.
    const swapped = frameRuns([b, a] as Buffer[], bytes - (c as Buffer).length);
    expect(swapped).toEqual([b, a]);
    // Every frame made above (several slabs, and the frames made apart): few pieces, the same bytes.
    const all = frameRuns(
      framed,
      framed.reduce((n, f) => n + f.length, 0),
    );
    expect(Buffer.concat(all).equals(Buffer.concat(framed))).toBe(true);
    expect(all.length).toBeLessThan(framed.length);
    // Scattered in more pieces than a write should carry: copied into one Buffer.
    const scattered = framed.filter((_, i) => i % 2 === 0);
    const copied = frameRuns(
      scattered,
      scattered.reduce((n, f) => n + f.length, 0),
    );
    expect(copied).toHaveLength(1);
    expect(copied[0]?.equals(Buffer.concat(scattered))).toBe(true);
  });

  it('FrameJoiner shares the join of identical frame lists only', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((s) => encodeTextFrame(s).frame) as [Buffer, Buffer, Buffer];
    const joiner = new FrameJoiner();
    const bytesOf = (runs: Buffer[]) => Buffer.concat(runs);
    const first = joiner.join([a, b, c], a.length * 3);
    expect(bytesOf(first).equals(Buffer.concat([a, b, c]))).toBe(true);
    expect(joiner.join([a, b, c], a.length * 3)).toBe(first); // another subscriber, same frames
    // same last frame, length and size, different frames: its own bytes
    const other = joiner.join([b, a, c], a.length * 3);
    expect(other).not.toBe(first);
    expect(bytesOf(other).equals(Buffer.concat([b, a, c]))).toBe(true);
    // same bytes, but different frame Buffers (e.g. two messages with the same text): still right
    const copy = Buffer.from(c);
    expect(bytesOf(joiner.join([a, b, copy], a.length * 3)).equals(bytesOf(first))).toBe(true);
  });
});
interface RawFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  /** 7, 16 or 64: which length form the header used. */
  lengthBits: number;
  payload: Buffer;
  raw: Buffer;
}

/** A WebSocket client on a bare TCP socket: does the upgrade, then splits what it reads into frames. */
class RawClient {
  readonly frames: RawFrame[] = [];
  private buffered = Buffer.alloc(0);
  private upgraded = false;
  status = '';

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
  }

  static async open(port: number, path: string): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    const client = new RawClient(socket);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitFor(() => client.texts().some((t) => t.type === 'connection.established'), 'the greeting');
    expect(client.status).toBe('HTTP/1.1 101 Switching Protocols');
    return client;
  }

  /** Sends a text frame, masked as a client must. */
  sendText(text: string): void {
    const payload = Buffer.from(text);
    expect(payload.length).toBeLessThan(126);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  }

  texts(): Record<string, any>[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString('utf8')));
  }

  /** The raw frame of the event with this seq. */
  eventFrame(seq: number): RawFrame | undefined {
    return this.frames.find((f) => f.opcode === 1 && JSON.parse(f.payload.toString('utf8')).seq === seq);
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    if (!this.upgraded) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.status = this.buffered.subarray(0, this.buffered.indexOf('\r\n')).toString();
      this.buffered = this.buffered.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) return;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let length = (b[1] as number) & 0x7f;
      let offset = 2;
      let lengthBits = 7;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
        lengthBits = 16;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
        lengthBits = 64;
      }
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      this.frames.push({
        fin: ((b[0] as number) & 0x80) !== 0,
        opcode: (b[0] as number) & 0x0f,
        masked,
        lengthBits,
        payload: b.subarray(offset, offset + length),
        raw: b.subarray(0, offset + length),
      });
      this.buffered = b.subarray(offset + length);
    }
  }
}

let broadcaster: Broadcaster | undefined;
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) close();
  await broadcaster?.close();
  broadcaster = undefined;
});

describe('frame-once fan-out on the wire', () => {
  it('subscribers get the same bytes per event: valid unmasked text frames, 64-bit lengths above 64 KiB', async () => {
    const b = await startBroadcaster({ port: 0, dashboardDir: false });
    broadcaster = b;
    const all = await Promise.all([0, 1, 2].map(() => RawClient.open(b.port, '/ws?events=*')));
    const failed = await RawClient.open(b.port, '/ws?events=test.result&status=failed');
    const ws = await Client.open(`${b.wsUrl}?events=*`);
    for (const client of [...all, failed]) cleanup.push(() => client.socket.destroy());
    cleanup.push(() => ws.close());

    const big = `${'x'.repeat(70_000)}\nline 2 "quoted" ${'é'.repeat(10)}`;
    // One tick: one ingest, so each subscriber gets these in one write (shared between identical lists).
    const published = [
      testResult(1),
      testOutput(big),
      testResult(5), // failed
      testOutput('short'),
      testResult(10), // failed
    ];
    for (const event of published) b.publish(event);
    const n = published.length;
    await waitFor(() => all.every((c) => c.eventFrame(n)) && failed.eventFrame(5), 'every event on the wire');
    await waitFor(() => ws.events().length === n, 'the ws client to get every event');

    for (let seq = 1; seq <= n; seq++) {
      const frames = all.map((c) => c.eventFrame(seq) as RawFrame);
      for (const frame of frames) {
        expect(frame.fin && !frame.masked && frame.opcode === 1).toBe(true);
        expect(frame.raw.equals(frames[0]?.raw as Buffer)).toBe(true);
      }
      const envelope = JSON.parse((frames[0] as RawFrame).payload.toString('utf8'));
      expect(envelope).toMatchObject({ seq, type: published[seq - 1]?.type, data: published[seq - 1]?.data });
      // the ws client (which validates every frame) read the same event
      expect(ws.events()[seq - 1]).toEqual(envelope);
    }
    expect(all[0]?.eventFrame(2)?.lengthBits).toBe(64);
    expect(all[0]?.eventFrame(2)?.payload.length).toBeGreaterThan(70_000);
    expect(all[0]?.eventFrame(1)?.lengthBits).toBe(16);
    // The filtered subscriber got only its events, in order, with the very same frames.
    const ownEvents = failed.texts().filter((m) => m.seq > 0);
    expect(ownEvents.map((m) => m.seq)).toEqual([3, 5]);
    expect(failed.eventFrame(3)?.raw.equals(all[0]?.eventFrame(3)?.raw as Buffer)).toBe(true);

    // Protocol messages use the same framing: a bare `ping` gets a short (7-bit length) `pong`.
    all[0]?.sendText('ping');
    await waitFor(() => all[0]?.texts().some((m) => m.type === 'pong'), 'pong');
    const pong = all[0]?.frames.find((f) => f.opcode === 1 && f.payload.includes('"pong"'));
    expect(pong?.lengthBits).toBe(7);
    expect(pong?.masked).toBe(false);
  });

  it('close() sends the queued events, then a close frame 1001, and nothing after it', async () => {
    const b = await startBroadcaster({ port: 0, dashboardDir: false });
    broadcaster = b;
    const raw = await RawClient.open(b.port, '/ws?events=*');
    cleanup.push(() => raw.socket.destroy());
    for (let i = 1; i <= 20; i++) b.publish(testResult(i));
    const closing = b.close({ timeoutMs: 500 });
    await waitFor(() => raw.frames.some((f) => f.opcode === 8), 'the close frame');
    const closeAt = raw.frames.findIndex((f) => f.opcode === 8);
    expect(raw.frames[closeAt]?.payload.readUInt16BE(0)).toBe(1001);
    expect(raw.frames.slice(closeAt + 1)).toEqual([]);
    const seqs = raw
      .texts()
      .map((m) => m.seq)
      .filter((s) => s > 0);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    raw.socket.destroy();
    await closing;
    broadcaster = undefined;
  });
});
