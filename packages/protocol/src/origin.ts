/**
 * `origin`: the id a publisher gives each event it sends, `<publisherId>:<n>`, with `n` growing by one per
 * event of that publisher. It survives a change of owner (a takeover): the same event, re-published to the
 * new owner because its ack was lost, carries the same origin under a new epoch and seq. A subscriber that
 * remembers, per publisher, the highest `n` it delivered drops such a repeat (`OriginFilter`). See
 * docs/protocol.md "Takeover and duplicates".
 */

/** `<publisherId>:<n>`: the publisher's id (8–64 of `[A-Za-z0-9_-]`), then its event counter. */
export const ORIGIN_PATTERN = /^([A-Za-z0-9_-]{8,64}):([1-9]\d{0,15})$/;

/** The publisher and counter of an origin; undefined when it is not `<publisherId>:<n>`. */
export function parseOrigin(origin: unknown): { publisher: string; n: number } | undefined {
  if (typeof origin !== 'string') return undefined;
  const match = ORIGIN_PATTERN.exec(origin);
  return match ? { publisher: match[1] as string, n: Number(match[2]) } : undefined;
}

/** Publishers remembered by an OriginFilter (least recently seen forgotten first). */
const MAX_PUBLISHERS = 1024;

/**
 * Per publisher, the highest origin counter delivered. A publisher's events reach every owner in the order
 * it made them, so an event whose counter is not above that mark was delivered already (before a takeover).
 */
export class OriginFilter {
  private readonly marks = new Map<string, number>();

  /** True when `origin` was delivered before (drop the event); otherwise records it and returns false. */
  repeated(origin: unknown): boolean {
    const parsed = parseOrigin(origin);
    if (!parsed) return false;
    const mark = this.marks.get(parsed.publisher);
    if (mark !== undefined && parsed.n <= mark) return true;
    this.marks.delete(parsed.publisher);
    this.marks.set(parsed.publisher, parsed.n);
    if (this.marks.size > MAX_PUBLISHERS) this.marks.delete(this.marks.keys().next().value as string);
    return false;
  }
}
