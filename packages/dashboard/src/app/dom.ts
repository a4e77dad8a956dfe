/**
 * Tiny DOM helpers. Text always goes in through `textContent` (test names and error messages are
 * untrusted: a title like `<img onerror=…>` must render as text), and setters skip writes that would not
 * change anything, so a frame that re-applies the same state costs no layout.
 */

type Attrs = Record<string, string | number | boolean | undefined>;

const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Untrusted text without bidirectional overrides and isolates: one in a title reorders what follows it
 * (`login ‮dessap` reads "login passed").
 */
export function plainText(text: string): string {
  return BIDI_CONTROL.test(text) ? text.replace(BIDI_CONTROLS, '') : text;
}

/** `h('li', {class: 'x'}, 'text', child)` */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...children.map((child) => (typeof child === 'string' ? plainText(child) : child)));
  return el;
}

export function setText(el: Element, untrusted: string): void {
  const text = plainText(untrusted);
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el: Element, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

export function setHidden(el: HTMLElement, hidden: boolean): void {
  if (el.hidden !== hidden) el.hidden = hidden;
}

/**
 * Makes `container`'s children the elements of `items`, in order: existing elements (by key) are updated
 * in place and moved only when out of place; new ones are created; the rest removed. Keeps focus and
 * `<details>` open state of items that stay.
 */
export function reconcile<T>(
  container: Element,
  items: readonly T[],
  cache: Map<string, HTMLElement>,
  key: (item: T) => string,
  create: (item: T) => HTMLElement,
  update: (el: HTMLElement, item: T) => void,
): void {
  const keep = new Set<string>();
  let cursor = container.firstElementChild;
  for (const item of items) {
    const k = key(item);
    keep.add(k);
    let el = cache.get(k);
    if (!el) {
      el = create(item);
      cache.set(k, el);
    }
    update(el, item);
    if (el === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      container.insertBefore(el, cursor);
    }
  }
  for (const [k, el] of cache) {
    if (!keep.has(k)) {
      el.remove();
      cache.delete(k);
    }
  }
}
