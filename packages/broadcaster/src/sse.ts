/**
 * Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 *
 *   id: <epoch>:<seq>
 *   event: <type>
 *   data: <line 1>
 *   data: <line 2>      <- every line of the payload gets its own `data:` prefix
 *                       <- a blank line ends the event
 */

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

const NEWLINE = /\r\n|\r|\n/;
// id and event are single-line fields: a newline would start a forged field. Strip rather than throw.
const singleLine = (value: string): string => value.replace(/[\r\n\0]/g, '');

/** Formats one SSE event. Multi-line data is split so each line is its own `data:` field. */
export function formatSseEvent(message: SseMessage): string {
  let out = '';
  if (message.id !== undefined) out += `id: ${singleLine(message.id)}\n`;
  if (message.event !== undefined) out += `event: ${singleLine(message.event)}\n`;
  for (const line of message.data.split(NEWLINE)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by EventSource, keeps proxies and idle timeouts from closing the stream. */
export function formatSseComment(text: string): string {
  return `${text
    .split(NEWLINE)
    .map((line) => `: ${line}`)
    .join('\n')}\n\n`;
}

/** Where a subscriber resumes: after seq `since` of `epoch` (absent: the current epoch). */
export interface ResumeFrom {
  epoch?: string;
  since: number;
}

/** Parses `Last-Event-ID` / `?lastEventId=`: `<epoch>:<seq>` or a bare seq. Undefined for garbage. */
export function parseLastEventId(value: string | undefined | null): ResumeFrom | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const match = /^(?:([A-Za-z0-9_-]{1,64}):)?(\d{1,15})$/.exec(text);
  if (!match) return undefined;
  return { epoch: match[1], since: Number(match[2]) };
}
