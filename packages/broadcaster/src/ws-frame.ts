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

/** Header size of a text frame carrying `length` payload bytes. */
export function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(target: Buffer, length: number): number {
  target[0] = 0x81;
  if (length < 126) {
    target[1] = length;
    return 2;
  }
  if (length < 65_536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
    return 4;
  }
  // 64-bit length; a Buffer is below 2^48 bytes, so the top two bytes are 0 (as ws writes it).
  target[1] = 127;
  target[2] = 0;
  target[3] = 0;
  target.writeUIntBE(length, 4, 6);
  return 10;
}

/**
 * Encodes the text `parts` (written one after the other) as UTF-8, once, into a complete text frame.
 * `payload` is a view of the frame's payload bytes (no copy): the history keeps it as the event's JSON, and
 * SSE reads it. The hub passes an event's JSON in two parts with its seq between them.
 */
export function encodeTextFrame(...parts: string[]): { frame: Buffer; payload: Buffer } {
  let length = 0;
  for (const part of parts) length += Buffer.byteLength(part);
  const frame = Buffer.allocUnsafe(frameHeaderLength(length) + length);
  const offset = writeHeader(frame, length);
  let at = offset;
  for (const part of parts) at += frame.write(part, at, 'utf8');
  return { frame, payload: frame.subarray(offset) };
}

/** Frames an existing payload (one copy). For payloads that were not encoded with `encodeTextFrame`. */
export function textFrameOf(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderLength(payload.length) + payload.length);
  payload.copy(frame, writeHeader(frame, payload.length));
  return frame;
}
