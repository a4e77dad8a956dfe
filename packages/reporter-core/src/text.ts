import { stripVTControlCharacters } from 'node:util';

/** Colours, cursor moves and hyperlinks (CSI and OSC sequences) as runners print them: Node's own stripper. */
export function stripAnsi(text: string): string {
  return text.includes('\u001B') || text.includes('\u009B') ? stripVTControlCharacters(text) : text;
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}
