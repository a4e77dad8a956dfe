/**
 * Server-to-client WebSocket text frames (RFC 6455 §5.2), built once and shared by every subscriber.
 *
 *   0x81 | len                      payload  (len < 126)
 *   0x81 | 126 | len:u16            payload  (len < 64 KiB)
 *   0x81 | 127 | len:u64            payload
 *
 * FIN + opcode 1 (text), no RSV bits (permessage-deflate is off on the subscriber server), no mask (a
 * server never masks). The bytes are therefore the same for every connection: an event is framed once and
 * written to each subscriber's socket as is, instead of going through `ws.send` per subscriber.
 */

import { SLAB_MAX_FRAME, Slabs } from './slab.js';

/** Header size of a text frame carrying `length` payload bytes. */
export function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** First header byte of a complete text frame (FIN + text). */
export const TEXT = 0x81;
/** First header bytes of a text message sent in fragments (RFC 6455 §5.4): its first, middle and last frames. */
export const TEXT_FIRST = 0x01;
export const CONTINUATION = 0x00;
export const CONTINUATION_FIN = 0x80;

/** Writes a frame header at `at` in `target`; returns its length. */
function writeHeader(target: Buffer, length: number, first = TEXT, at = 0): number {
  target[at] = first;
  if (length < 126) {
    target[at + 1] = length;
    return 2;
  }
  if (length < 65_536) {
    target[at + 1] = 126;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    return 4;
  }
  // 64-bit length; a Buffer is below 2^48 bytes, so the top two bytes are 0 (as ws writes it).
  target[at + 1] = 127;
  target[at + 2] = 0;
  target[at + 3] = 0;
  target.writeUIntBE(length, at + 4, 6);
  return 10;
}

/**
 * Encodes the text `parts` (written one after the other) as UTF-8, once, into a complete text frame.
 * `payload` is a view of the frame's payload bytes (no copy): the history keeps it as the event's JSON, and
 * SSE reads it. The hub passes an event's JSON in two parts with its seq between them.
 */
export function encodeTextFrame(...parts: string[]): { frame: Buffer; payload: Buffer } {
  return encodeFrame(TEXT, ...parts);
}

/**
 * Like `encodeTextFrame`, with the first header byte given: one fragment of a message streamed in parts
 * (`TEXT_FIRST`, then `CONTINUATION`…, then `CONTINUATION_FIN`). Control frames (ping, close) may come
 * between fragments; data frames may not.
 */
export function encodeFrame(first: number, ...parts: string[]): { frame: Buffer; payload: Buffer } {
  let length = 0;
  for (const part of parts) length += Buffer.byteLength(part);
  const frame = Buffer.allocUnsafe(frameHeaderLength(length) + length);
  const offset = writeHeader(frame, length, first);
  let at = offset;
  for (const part of parts) at += frame.write(part, at, 'utf8');
  return { frame, payload: frame.subarray(offset) };
}

/**
 * `json` with `insert` (ASCII) spliced in at character `at`, as one text frame: what encodeTextFrame makes of
 * `json.slice(0, at), insert, json.slice(at)`, without the slices. The hub frames every event so, its seq
 * spliced in after the timestamp: `json` is written once, then its first `at` bytes are moved to make room.
 * Returns the frame and where its payload starts.
 */
export function encodeSplicedFrame(
  json: string,
  at: number,
  insert: string,
): { frame: Buffer; offset: number } {
  // The part before `at` must be as many bytes as characters (the event's type and timestamp: ASCII).
  if (!asciiHead(json, at)) {
    const { frame, payload } = encodeTextFrame(json.slice(0, at), insert, json.slice(at));
    return { frame, offset: frame.length - payload.length };
  }
  const length = Buffer.byteLength(json) + insert.length;
  const frame = Buffer.allocUnsafe(frameHeaderLength(length) + length);
  const offset = writeHeader(frame, length);
  frame.write(json, offset + insert.length, 'utf8');
  frame.copyWithin(offset, offset + insert.length, offset + insert.length + at);
  frame.write(insert, offset + at, 'latin1');
  return { frame, offset };
}

/** Header bytes reserved for a frame in a slab: the 16-bit length form, which every slab frame uses but one. */
const SLAB_HEADER = 4;

/**
 * Frames the events the hub ingests one after another into shared slabs: what `encodeSplicedFrame` makes,
 * without measuring each event's UTF-8 length first and without a Buffer allocation per event. Consecutive
 * events are adjacent in memory, so a subscriber's queue of them is written as views of the slabs
 * (`frameRuns`) instead of being copied into one Buffer. A slab is only appended to, never reused: a frame
 * handed to a socket, or kept in the history, stays as it was. The end a slab leaves unused is under a quarter
 * of it (the room an event may need), and ~1 KB for events of the usual size.
 */
export class SlabFramer {
  private readonly slabs = new Slabs();

  /**
   * Frames one event: where its frame lies (no view of it is made here: the history keeps where, and a view
   * is made only for a subscriber or a replay).
   */
  frame(json: string, at: number, insert: string): SlabFrame {
    // Enough room whatever the characters (3 UTF-8 bytes per UTF-16 unit at most); larger events, and a head
    // that is not ASCII, go through encodeSplicedFrame.
    const room = SLAB_HEADER + insert.length + json.length * 3;
    if (room > SLAB_MAX_FRAME || !asciiHead(json, at)) {
      const { frame, offset } = encodeSplicedFrame(json, at, insert);
      return { slab: frame, start: 0, end: frame.length, offset };
    }
    const slabs = this.slabs;
    const slab = slabs.reserve(room);
    const used = slabs.used;
    const payload = used + SLAB_HEADER;
    // As encodeSplicedFrame: the JSON after room for the insert, its head moved back, the insert between.
    const length = insert.length + slab.write(json, payload + insert.length, 'utf8');
    slab.copyWithin(payload, payload + insert.length, payload + insert.length + at);
    slab.write(insert, payload + at, 'latin1');
    // Under 64 KiB by the room check; under 126 bytes (no event is) the 2-byte header leaves a gap before it.
    const start = length < 126 ? payload - 2 : used;
    writeHeader(slab, length, TEXT, start);
    slabs.used = payload + length;
    return { slab, start, end: slabs.used, offset: payload - start };
  }
}

/** One frame in a slab: `slab[start, end)`, its payload from `start + offset`. */
export interface SlabFrame {
  slab: Buffer;
  start: number;
  end: number;
  offset: number;
}

function asciiHead(json: string, at: number): boolean {
  for (let i = 0; i < at; i++) if (json.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Most pieces a subscriber's write is made of; beyond it the frames are copied into one Buffer instead. */
const MAX_RUNS = 16;

/**
 * The frames as few Buffers as they lie in memory: one view per run of frames back to back in one slab (the
 * hub's events, in seq order), written together (a corked socket writes them with one writev) with no copy.
 * Frames scattered in more than MAX_RUNS pieces are copied into one Buffer.
 */
export function frameRuns(frames: readonly Buffer[], bytes: number): Buffer[] {
  const runs: Buffer[] = [];
  let first = frames[0] as Buffer;
  let length = first.length;
  const close = (): void => {
    runs.push(length === first.length ? first : Buffer.from(first.buffer, first.byteOffset, length));
  };
  for (let i = 1; i < frames.length; i++) {
    const frame = frames[i] as Buffer;
    if (frame.buffer === first.buffer && frame.byteOffset === first.byteOffset + length) {
      length += frame.length;
      continue;
    }
    close();
    if (runs.length === MAX_RUNS) return [Buffer.concat(frames, bytes)];
    first = frame;
    length = frame.length;
  }
  close();
  return runs;
}

/** Frames an existing payload (one copy). For payloads that were not encoded with `encodeTextFrame`. */
export function textFrameOf(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderLength(payload.length) + payload.length);
  payload.copy(frame, writeHeader(frame, payload.length));
  return frame;
}
