/**
 * A streaming parser for `text/event-stream` that follows the WHATWG "event stream interpretation" rules.
 *
 *   chunk ─> lines (LF, CRLF or CR; a CR at the end of a chunk may pair with an LF in the next)
 *         ─> fields  `event:` `data:` (multi-line, joined with \n) `id:` `retry:`  `: comment`
 *         ─> blank line dispatches one event (nothing when no data was given)
 *
 * Isomorphic: feed it decoded text (use a streaming `TextDecoder`); it never buffers more than one event.
 */

/** One dispatched server-sent event. */
export interface SSEMessage {
  /** `event:` field, `'message'` when the event named none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event id in force when this event was dispatched (ids persist across events). */
  id: string;
}

export interface SSEParserHandlers {
  onEvent(message: SSEMessage): void;
  /** A valid `retry:` field (milliseconds). */
  onRetry?(ms: number): void;
  /** A comment line (`: keep-alive`), without the colon and one leading space. */
  onComment?(text: string): void;
}

export class SSEParser {
  private buffer = '';
  private sawBom = false;
  /** A chunk ended with CR: if the next starts with LF, that LF belongs to the same line end. */
  private pendingCR = false;
  private data: string[] = [];
  private eventType = '';
  private lastId = '';

  constructor(private readonly handlers: SSEParserHandlers) {}

  /** The last event id seen (what a reconnect sends as `Last-Event-ID`). */
  get lastEventId(): string {
    return this.lastId;
  }

  /** Feeds decoded text; dispatches every complete event it contains. */
  feed(chunk: string): void {
    if (!chunk) return;
    if (!this.sawBom) {
      this.sawBom = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      if (chunk[0] === '\n') chunk = chunk.slice(1);
    }
    let text = this.buffer + chunk;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) this.pendingCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    text = text.slice(start);
    this.buffer = text;
  }

  /** Forgets a partly received event (the connection dropped); keeps the last event id. */
  reset(): void {
    this.buffer = '';
    this.pendingCR = false;
    this.sawBom = false;
    this.data = [];
    this.eventType = '';
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.handlers.onComment?.(line.slice(line.charCodeAt(1) === 32 ? 2 : 1));
      return;
    }
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon !== -1) {
      field = line.slice(0, colon);
      value = line.slice(colon + (line.charCodeAt(colon + 1) === 32 ? 2 : 1));
    }
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      // Unknown fields are ignored, as the spec says.
    }
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.eventType || 'message';
    this.data = [];
    this.eventType = '';
    if (data.length === 0) return;
    this.handlers.onEvent({ event, data: data.join('\n'), id: this.lastId });
  }
}
