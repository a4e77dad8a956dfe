/**
 * Text from the stream, made safe for a terminal, and how wide it is there.
 *
 * What a test suite writes into a title, a file name, an error or its output reaches the terminal only as
 * text: escape sequences (CSI — clearing the screen, moving the cursor —, OSC — a window title, a clipboard
 * write, a hyperlink —, their 8-bit C1 forms), the other control characters and bidirectional overrides
 * (which make `login ‮dessap` read as "passed") are removed. Fields shown on one line (titles, names,
 * files) get their line breaks and tabs as spaces; blocks (output, messages, stacks) keep their lines.
 */
import { stripVTControlCharacters } from 'node:util';

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, with line breaks and tabs
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, line breaks and tabs allowed
const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The fields of events and run snapshots whose text is a block of lines, not one line. */
const BLOCK_FIELDS = new Set(['output', 'message', 'stack', 'fullStack', 'diff', 'expected', 'actual']);

/** `text` without escape sequences or control characters; on one line unless `block`. */
export function safeText(text: string, block = false): string {
  if (!(block ? UNSAFE_IN_BLOCK : UNSAFE_IN_LINE).test(text)) return text;
  const line = block ? text : text.replace(/[\t\n\r]+/g, ' ');
  return stripVTControlCharacters(line).replace(CONTROLS, '');
}

/**
 * A copy of `value` (an event, a run snapshot, a /status body) with every string made safe, each by its
 * field's kind; `value` itself when nothing needed it.
 */
export function terminalSafe<T>(value: T, field = ''): T {
  if (typeof value === 'string') return safeText(value, BLOCK_FIELDS.has(field)) as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const safe = terminalSafe(item, field);
      if (safe === item) return;
      copy ??= value.slice();
      copy[i] = safe;
    });
    return (copy ?? value) as T;
  }
  if (typeof value === 'object' && value !== null) {
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const safe = terminalSafe(item, key);
      if (safe === item) continue;
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = safe;
    }
    return (copy ?? value) as T;
  }
  return value;
}

/** Cells a code point takes in a terminal: 0 (combining marks, zero-width), 2 (East Asian wide, emoji) or 1. */
export function cellsOf(codePoint: number): number {
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f)
  )
    return 0;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  )
    return 2;
  return 1;
}
