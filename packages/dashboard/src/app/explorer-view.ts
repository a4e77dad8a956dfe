/**
 * The explorer's tree in the page, virtualized: rows have one fixed height, the list is a tall spacer,
 * and only the rows in view (plus a margin) exist as elements — ten thousand tests scroll as smoothly as
 * ten. A WAI-ARIA tree with a roving tabindex: Tab reaches the focused row, arrows move (Right/Left open
 * and close groups), Home/End jump, Enter or Space opens a test's detail or toggles a group.
 */
import { h, setAttr, setText } from './dom.js';
import type { ExplorerRow } from './explorer.js';
import { formatDuration } from './view-model.js';

export const ROW_HEIGHT = 28;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 12;

const ICON: Record<string, string> = {
  passed: '✓',
  failed: '✗',
  skipped: '○',
  todo: '✎',
  running: '●',
  retrying: '↻',
  flaky: '≈',
  unfinished: '⊘',
  empty: '·',
};

export interface ExplorerViewEvents {
  /** A test row was activated (click, Enter, Space). */
  open(testKey: string): void;
  /** A group was opened or closed. */
  toggle(key: string, open: boolean): void;
}

export class ExplorerView {
  private rows: ExplorerRow[] = [];
  private readonly els = new Map<string, HTMLElement>();
  private focusKey: string | undefined;
  private selectedKey: string | undefined;
  private readonly spacer: HTMLElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly on: ExplorerViewEvents,
  ) {
    this.spacer = h('div', { class: 'explorer-spacer', 'aria-hidden': 'true' });
    container.append(this.spacer);
    container.addEventListener('scroll', () => this.draw(), { passive: true });
    container.addEventListener('click', (event) => {
      const row = (event.target as Element).closest<HTMLElement>('.tree-row');
      if (!row?.dataset.key) return;
      this.focusKey = row.dataset.key;
      this.activate(this.indexOf(row.dataset.key), (event.target as Element).closest('.twisty') !== null);
      this.draw();
    });
    container.addEventListener('keydown', (event) => this.onKey(event));
    // Focus that arrives on a row some other way (a click, a screen reader, a test) moves the tab stop.
    container.addEventListener('focusin', (event) => {
      const row = (event.target as Element).closest<HTMLElement>('.tree-row');
      if (row?.dataset.key && row.dataset.key !== this.focusKey) {
        this.focusKey = row.dataset.key;
        this.draw();
      }
    });
    container.addEventListener('focus', () => {
      // Tab into the tree: focus lands on the container when no row is drawn with tabindex 0.
      const i = Math.max(0, this.indexOf(this.focusKey));
      this.moveFocus(i);
    });
  }

  /** New rows (after a change or a new query); the scroll position and focus are kept. */
  setRows(rows: ExplorerRow[]): void {
    this.rows = rows;
    const height = `${rows.length * ROW_HEIGHT}px`;
    if (this.spacer.style.height !== height) this.spacer.style.height = height;
    this.draw();
  }

  select(key: string | undefined): void {
    this.selectedKey = key;
    this.draw();
  }

  private indexOf(key: string | undefined): number {
    return key === undefined ? -1 : this.rows.findIndex((r) => r.key === key);
  }

  /** Draws the rows in view; reuses elements by key. */
  private draw(): void {
    const c = this.container;
    const first = Math.max(0, Math.floor(c.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((c.clientHeight || 600) / ROW_HEIGHT);
    const last = Math.min(this.rows.length, first + visible + 2 * OVERSCAN);
    const keep = new Set<string>();
    const focusIndex = this.indexOf(this.focusKey);
    const tabIndex = Math.max(focusIndex, 0);
    const hadFocus = c.contains(document.activeElement) && document.activeElement !== c;
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      keep.add(row.key);
      let el = this.els.get(row.key);
      if (!el) {
        el = this.create();
        this.els.set(row.key, el);
        c.append(el);
      }
      this.update(el, row, i, i === tabIndex);
    }
    for (const [key, el] of this.els) {
      if (!keep.has(key)) {
        el.remove();
        this.els.delete(key);
      }
    }
    // No row of the tab stop drawn: the container itself takes Tab and hands focus on.
    setAttr(c, 'tabindex', this.els.has(this.rows[tabIndex]?.key ?? '') ? '-1' : '0');
    if (hadFocus && this.focusKey) {
      const el = this.els.get(this.focusKey);
      if (el && document.activeElement !== el) el.focus({ preventScroll: true });
    }
  }

  private create(): HTMLElement {
    return h(
      'div',
      { class: 'tree-row', role: 'treeitem' },
      h('span', { class: 'twisty', 'aria-hidden': 'true' }),
      h('span', { class: 'tree-icon', 'aria-hidden': 'true' }),
      h('span', { class: 'tree-label' }),
      h('span', { class: 'tree-meta' }),
    );
  }

  private update(el: HTMLElement, row: ExplorerRow, index: number, tabStop: boolean): void {
    const [twisty, icon, label, meta] = el.children as unknown as HTMLElement[];
    el.dataset.key = row.key;
    setAttr(el, 'data-kind', row.kind);
    setAttr(el, 'data-status', row.status);
    setAttr(el, 'aria-level', String(row.depth + 1));
    // The tree is flattened and only partly drawn: say each row's place among its siblings.
    setAttr(el, 'aria-posinset', String(row.pos));
    setAttr(el, 'aria-setsize', String(row.size));
    setAttr(el, 'aria-expanded', row.kind === 'test' ? undefined : String(row.expanded));
    setAttr(el, 'aria-selected', row.kind === 'test' ? String(row.key === this.selectedKey) : undefined);
    setAttr(el, 'tabindex', tabStop ? '0' : '-1');
    setAttr(el, 'title', row.label);
    const top = `${index * ROW_HEIGHT}px`;
    if (el.style.top !== top) el.style.top = top;
    const indent = `${0.5 + row.depth * 1.1}rem`;
    if (el.style.paddingLeft !== indent) el.style.paddingLeft = indent;
    setText(twisty, row.kind === 'test' ? '' : row.expanded ? '▾' : '▸');
    setText(icon, ICON[row.status] ?? '·');
    setText(label, row.label);
    let text: string;
    if (row.kind === 'test') {
      text = [...(row.marks ?? []), row.durationMs !== undefined ? formatDuration(row.durationMs) : '']
        .filter(Boolean)
        .join(' · ');
    } else {
      const c = row.counts;
      text = c
        ? [
            c.failed ? `✗ ${c.failed}` : '',
            c.running ? `● ${c.running}` : '',
            `✓ ${c.passed}`,
            c.skipped ? `○ ${c.skipped}` : '',
          ]
            .filter(Boolean)
            .join('  ')
        : '';
    }
    setText(meta, text);
  }

  private activate(index: number, twistyOnly = false): void {
    const row = this.rows[index];
    if (!row) return;
    if (row.kind === 'test') {
      if (!twistyOnly && row.testKey) this.on.open(row.testKey);
    } else {
      this.on.toggle(row.key, !row.expanded);
    }
  }

  private moveFocus(index: number): void {
    const row = this.rows[Math.max(0, Math.min(this.rows.length - 1, index))];
    if (!row) return;
    this.focusKey = row.key;
    const i = this.indexOf(row.key);
    const c = this.container;
    const top = i * ROW_HEIGHT;
    if (top < c.scrollTop) c.scrollTop = top;
    else if (top + ROW_HEIGHT > c.scrollTop + c.clientHeight) c.scrollTop = top + ROW_HEIGHT - c.clientHeight;
    this.draw();
    this.els.get(row.key)?.focus({ preventScroll: true });
  }

  private onKey(event: KeyboardEvent): void {
    const i = Math.max(0, this.indexOf(this.focusKey));
    const row = this.rows[i];
    const page = Math.max(1, Math.floor(this.container.clientHeight / ROW_HEIGHT) - 1);
    switch (event.key) {
      case 'ArrowDown':
        this.moveFocus(i + 1);
        break;
      case 'ArrowUp':
        this.moveFocus(i - 1);
        break;
      case 'PageDown':
        this.moveFocus(i + page);
        break;
      case 'PageUp':
        this.moveFocus(i - page);
        break;
      case 'Home':
        this.moveFocus(0);
        break;
      case 'End':
        this.moveFocus(this.rows.length - 1);
        break;
      case 'ArrowRight':
        if (row && row.kind !== 'test' && !row.expanded) this.on.toggle(row.key, true);
        else this.moveFocus(i + 1);
        break;
      case 'ArrowLeft': {
        if (row && row.kind !== 'test' && row.expanded) {
          this.on.toggle(row.key, false);
          break;
        }
        // To the parent: the nearest row above with a smaller depth.
        for (let p = i - 1; p >= 0; p--) {
          if (row && this.rows[p].depth < row.depth) {
            this.moveFocus(p);
            break;
          }
        }
        break;
      }
      case 'Enter':
      case ' ':
        this.activate(i);
        break;
      default:
        return;
    }
    event.preventDefault();
  }
}
