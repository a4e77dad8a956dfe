/**
 * The slabs the broadcaster writes shared frames into (ws-frame.ts's WebSocket frames, sse-frame.ts's SSE
 * frames): frames of consecutive events lie back to back, so a subscriber's queue of them is written as views
 * of the slabs (`frameRuns`), never copied into a Buffer of its own. A slab is only appended to, never reused:
 * a frame handed to a socket, or kept in the history, stays as it was. A frame that may need more than
 * `SLAB_MAX_FRAME` bytes gets a Buffer of its own, so the end a slab leaves unused is under a quarter of it.
 */
export const SLAB_BYTES = 64 * 1024;
/** The most room a frame may ask of a slab. */
export const SLAB_MAX_FRAME = SLAB_BYTES / 4;

export class Slabs {
  private slab = Buffer.alloc(0);
  /** Bytes of the current slab taken: a frame is written from here, and this moved past it. */
  used = 0;

  /** The slab to write `room` bytes into from `used` (a new one when the current has not that much left). */
  reserve(room: number): Buffer {
    if (this.slab.length - this.used < room) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    return this.slab;
  }
}
