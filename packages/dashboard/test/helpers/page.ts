/** Reading the dashboard in a real page: waits on what it shows, with errors that say what it showed. */
import type { Page } from 'playwright-core';

export const WAIT_MS = 20_000;

/** Polls `probe` until it returns something other than undefined/false; the error names the last value. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  ms = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
}

/** What the connection indicator shows: its status and its detail line. */
export async function connectionShown(page: Page): Promise<{ status: string; detail: string }> {
  return page.evaluate(() => ({
    status: document.querySelector('[data-testid="connection-indicator"]')?.getAttribute('data-status') ?? '',
    detail: document.querySelector('#connection-detail')?.textContent ?? '',
  }));
}

export async function waitStatus(page: Page, status: string, ms = WAIT_MS): Promise<void> {
  let shown = { status: '', detail: '' };
  await until(
    `the connection status ${status}`,
    async () => {
      shown = await connectionShown(page);
      return shown.status === status;
    },
    ms,
  ).catch(() => {
    throw new Error(
      `connection status: expected ${status}, the page shows ${shown.status} (${shown.detail})`,
    );
  });
}

/** One run card as shown. */
export interface CardShown {
  badge: string;
  /** The badge's tooltip: what interrupted the run. */
  why: string | null;
  duration: string;
  /** The duration in ms, parsed back from `duration`. */
  durationMs: number;
  frozen: boolean;
  note: string;
  passed: number;
  failed: number;
}

/** ms of what formatDuration wrote: `12 ms`, `2.5 s`, `1m 05s`; NaN for anything else. */
export function parseDuration(text: string): number {
  let m = /^(\d+) ms$/.exec(text);
  if (m) return Number(m[1]);
  m = /^(\d+(?:\.\d)?) s$/.exec(text);
  if (m) return Number(m[1]) * 1000;
  m = /^(\d+)m (\d\d)s$/.exec(text);
  if (m) return (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return Number.NaN;
}

/** The card of `runId`, or undefined while the page shows none. */
export async function card(page: Page, runId: string): Promise<CardShown | undefined> {
  const raw = await page.evaluate((id) => {
    const el = [...document.querySelectorAll<HTMLElement>('[data-run-id]')].find(
      (e) => e.dataset.runId === id,
    );
    if (!el) return undefined;
    const text = (selector: string) => el.querySelector(selector)?.textContent ?? '';
    const note = el.querySelector<HTMLElement>('[data-testid="run-note"]');
    return {
      badge: text('.badge'),
      why: el.querySelector('.badge')?.getAttribute('title') ?? null,
      duration: text('.duration'),
      frozen: el.querySelector('.duration')?.getAttribute('data-frozen') === 'true',
      note: note && !note.hidden ? (note.textContent ?? '') : '',
      passed: Number(text('[data-count="passed"]')),
      failed: Number(text('[data-count="failed"]')),
    };
  }, runId);
  return raw && { ...raw, durationMs: parseDuration(raw.duration) };
}

/** The run ids of the cards on the page, in order. */
export function cardIds(page: Page): Promise<string[]> {
  return page.$$eval('[data-run-id]', (els) => els.map((e) => (e as HTMLElement).dataset.runId ?? ''));
}

/**
 * Starts recording, in the page, the moments (epoch ms, the machine's clock the test reads too) its connection
 * indicator's detail line is drawn anew. The page draws its run cards in the same frame as that line whenever
 * the connection state changes (every reconnection attempt: see Dashboard.start's onState), so a detail
 * drawn at or after a moment is a sentinel: the cards were drawn then too.
 */
export async function recordIndicatorDraws(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __indicatorDraws?: number[] };
    if (w.__indicatorDraws) return;
    const draws: number[] = [];
    w.__indicatorDraws = draws;
    const detail = document.querySelector('#connection-detail');
    if (!detail) throw new Error('the page has no #connection-detail');
    new MutationObserver(() => draws.push(Date.now())).observe(detail, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

/** Waits until the page drew its connection indicator at or after `at` (recordIndicatorDraws first). */
export async function indicatorDrawnSince(page: Page, at: number, ms = WAIT_MS): Promise<void> {
  await until(
    `the page to draw its connection indicator again, at or after ${new Date(at).toISOString()}`,
    () =>
      page.evaluate(
        (since) =>
          ((window as unknown as { __indicatorDraws?: number[] }).__indicatorDraws ?? []).some(
            (t) => t >= since,
          ),
        at,
      ),
    ms,
  );
}

/** `HH:MM:SS` in local time, as the page writes clocks. */
export function clock(ms: number): string {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Every `HH:MM:SS` the page can write for a moment between `from` and `to` (epoch ms, both included). */
export function clocksBetween(from: number, to: number): string[] {
  const shown: string[] = [];
  for (let s = Math.floor(from / 1000); s <= Math.floor(to / 1000); s++) shown.push(clock(s * 1000));
  return shown;
}
