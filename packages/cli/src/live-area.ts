/**
 * Redraws a block of lines in place at the bottom of a TTY without flicker:
 *
 *   - each frame is ONE write: cursor up to the frame's first line, every line rewritten followed by
 *     "erase to end of line", then "erase below" — nothing is blanked before it is redrawn;
 *   - wrapped in synchronized-output marks (DEC 2026) for terminals that support them;
 *   - lines must already fit the terminal width (a wrapped line would break the cursor arithmetic);
 *   - the cursor is hidden while the area is live and shown again by `done()` and on process exit.
 */
export interface LiveArea {
  /** Replaces the area's content. Identical frames are not rewritten. */
  render(lines: string[]): void;
  /** Erases the area (the next output starts where the area was). */
  clear(): void;
  /** Forgets the area's position after a resize (the terminal may have re-wrapped it): clears the screen. */
  reset(): void;
  /** Stops: shows the cursor again. The last frame stays unless `clear()` was called. */
  done(): void;
}

const ESC = '\x1b[';
const SYNC_START = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

export function createLiveArea(stream: NodeJS.WriteStream): LiveArea {
  let height = 0;
  let previous = '';
  let active = true;
  const restore = () => {
    if (active) stream.write(SHOW_CURSOR);
  };
  process.once('exit', restore);
  stream.write(HIDE_CURSOR);

  const moveToTop = () => (height > 0 ? `\r${ESC}${height}A` : '\r');

  return {
    render(lines) {
      if (!active) return;
      const body = lines.map((line) => `${line}${ESC}K\n`).join('');
      if (body === previous) return;
      stream.write(`${SYNC_START}${moveToTop()}${body}${ESC}J${SYNC_END}`);
      previous = body;
      height = lines.length;
    },
    clear() {
      if (height > 0) stream.write(`${moveToTop()}${ESC}J`);
      height = 0;
      previous = '';
    },
    reset() {
      if (!active) return;
      stream.write(`${ESC}2J${ESC}H`);
      height = 0;
      previous = '';
    },
    done() {
      if (!active) return;
      stream.write(SHOW_CURSOR);
      active = false;
      process.removeListener('exit', restore);
    },
  };
}
