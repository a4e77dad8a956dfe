/**
 * The live page: one @testwire/client (reconnect, resume, run state) feeding a renderer that touches the
 * DOM at most once per animation frame.
 *
 *   client events ──> mark dirty (runs / lists / log / connection) ──> requestAnimationFrame ──> render
 *                                                                       lists: at most every 250 ms
 *
 * Handlers only record what changed; all DOM work happens in `render()`. A burst of 1000 events costs one
 * frame, and a background tab (no animation frames) costs nothing until it is shown again.
 */
import {
  type ConnectionState,
  createClient,
  type ResyncInfo,
  type RunSnapshot,
  type StateInfo,
  TestwireAuthError,
  type TestwireClient,
} from '@testwire/client';
import { type AuthProblem, authProblemOf } from './auth-problem.js';
import { baselineLine } from './baseline-line.js';
import { detailOf } from './detail.js';
import { renderDetail } from './detail-view.js';
import { h, reconcile, setAttr, setHidden, setText } from './dom.js';
import { explorerRows, type StatusFilter } from './explorer.js';
import { ExplorerView } from './explorer-view.js';
import { type HungItem, type HungReport, hungKey, hungReportOf, hungTestsOf } from './hung.js';
import { type GroupInfo, groupUpdate, shardRows } from './shards.js';
import { TestIndex } from './test-index.js';
import { type TimelineMode, timelineOf } from './timeline.js';
import { renderTimeline } from './timeline-view.js';
import {
  coverageFailures,
  EventLog,
  type FailureItem,
  failuresOf,
  formatClock,
  formatDuration,
  type LogEntry,
  orderRuns,
  parseTypeFilter,
  type RunCard,
  type RunClock,
  runCard,
  runInterruption,
  runLabel,
  runTitle,
  type SlowItem,
  slowTestsOf,
  summarizeEvent,
} from './view-model.js';

export interface DashboardOptions {
  /** Broadcaster base URL (the page's own origin and path). */
  url: string;
  apiKey?: string;
  token?: string;
}

/** How often the failure and slow-test lists may be recomputed (they scan every test of every run). */
const LISTS_INTERVAL_MS = 250;
const LOG_CAPACITY = 200;
const FAILURES_SHOWN = 100;
const SLOW_SHOWN = 10;
/** The timeline redraws every bar: at most this often. */
const TIMELINE_INTERVAL_MS = 1000;
/** Failed reconnection attempts after which the endpoint is called gone (the test run that served it ended). */
const GONE_AFTER_ATTEMPTS = 3;

const RESYNC_REASONS: Record<string, string> = {
  EPOCH_CHANGED: 'the broadcaster restarted',
  HISTORY_EVICTED: 'missed events were no longer in its history',
  FUTURE_SEQ: 'the broadcaster is behind this page',
};

type Shown =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'gone'
  | 'resynced'
  | 'catching-up'
  | 'unauthorized'
  | 'disconnected';

interface CardRefs {
  title: HTMLElement;
  badge: HTMLElement;
  framework: HTMLElement;
  duration: HTMLElement;
  tags: HTMLElement;
  started: HTMLElement;
  baseline: HTMLElement;
  coverage: HTMLElement;
  shards: HTMLElement;
  bar: HTMLElement;
  segPassed: HTMLElement;
  segFailed: HTMLElement;
  segSkipped: HTMLElement;
  progressText: HTMLElement;
  counts: Record<'passed' | 'failed' | 'skipped' | 'todo' | 'flaky' | 'retrying', HTMLElement>;
  flakyBox: HTMLElement;
  retryingBox: HTMLElement;
  current: HTMLElement;
  currentName: HTMLElement;
  currentFile: HTMLElement;
  note: HTMLElement;
}

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el)
    throw new Error(`testwire dashboard: the page has no #${id} element (index.html and app.js differ?)`);
  return el as T;
};

export class Dashboard {
  private client: TestwireClient | undefined;
  private readonly runs = new Map<string, RunSnapshot>();
  private readonly log = new EventLog(LOG_CAPACITY);
  /** Tests a reporter flagged as slow (performance.bottleneck), by id. */
  private readonly flagged = new Set<string>();
  /** Tests reported hung while they ran (performance.bottleneck `hung_test`), by run and id. */
  private readonly hung = new Map<string, HungReport>();
  private readonly hungEls = new Map<string, HTMLElement>();
  /** Every attempt, output line and step of every test: the explorer, detail and timeline read it. */
  private readonly index = new TestIndex();
  /** CI run groups (sharded runs merged by `testwire serve --redis`), by the group run's id. */
  private readonly groups = new Map<string, GroupInfo>();
  private readonly explorer: ExplorerView;
  private explorerSearch = '';
  private readonly explorerFilters = new Set<StatusFilter>();
  /** Groups the user opened or closed. */
  private readonly explorerOpen = new Map<string, boolean>();
  /** What the explorer last drew from: skip recomputing when nothing moved. */
  private explorerDrawn = '';
  /** When the tree was last recomputed and what that cost (ms), to pace live recomputes. */
  private explorerAt = 0;
  private explorerCost = 0;
  private selected: string | undefined;
  private detailDrawn = '';
  private timelineRun: string | undefined;
  /** Until the user picks a run, the timeline follows the first run listed (running ones come first). */
  private timelinePicked = false;
  private timelineMode: TimelineMode = 'files';
  private timelineAt = 0;
  private timelineDrawn = '';
  private authProblem: AuthProblem | undefined;
  /** The endpoint answers 429 LOCKED_OUT (too many wrong keys from this address), while reconnecting. */
  private lockedOut: AuthProblem | undefined;
  /**
   * When the endpoint was last known to answer (for "gone since"): the connection got in sync, an event came,
   * or the live connection was lost (it answered until then).
   */
  private answeredAt = 0;
  /** What the connection indicator shows (the run cards say why their time stopped). */
  private shown: Shown = 'connecting';
  /**
   * The `connection.established` of the connection that was lost: the client keeps it as `server` until its
   * next attempt opens, and it says nothing about catching up.
   */
  private lostServer: unknown;

  private dirtyCards = false;
  private dirtyLists = false;
  private dirtyLog = false;
  private dirtyConnection = true;
  private frame = 0;
  private listsAt = 0;
  private listsTimer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  private connection: { state: ConnectionState; info: StateInfo; resync?: ResyncInfo; error?: Error } = {
    state: 'connecting',
    info: {},
  };

  private filter = parseTypeFilter('');
  private logRebuild = false;
  private logPaused = false;
  /** Highest log key rendered; rows of newer entries are prepended on the next frame. */
  private logRendered = 0;

  private readonly cards = new Map<string, HTMLElement>();
  private readonly cardRefs = new WeakMap<HTMLElement, CardRefs>();
  private readonly failureEls = new Map<string, HTMLElement>();
  private readonly slowEls = new Map<string, HTMLElement>();
  private nextCardId = 1;

  private readonly el = {
    connection: byId('connection'),
    connectionLabel: byId('connection-label'),
    connectionDetail: byId('connection-detail'),
    server: byId('server'),
    reconnect: byId<HTMLButtonElement>('reconnect'),
    runs: byId('runs'),
    runsEmpty: byId('runs-empty'),
    runsCount: byId('runs-count'),
    failures: byId('failures'),
    failuresEmpty: byId('failures-empty'),
    failuresCount: byId('failures-count'),
    failuresMore: byId('failures-more'),
    slow: byId('slow'),
    slowEmpty: byId('slow-empty'),
    hungPanel: byId('hung-panel'),
    hung: byId('hung'),
    log: byId('log'),
    logCount: byId('log-count'),
    logFilter: byId<HTMLInputElement>('log-filter'),
    logPause: byId<HTMLButtonElement>('log-pause'),
    logClear: byId<HTMLButtonElement>('log-clear'),
    announcer: byId('announcer'),
    wsUrl: byId('ws-url'),
    explorer: byId('explorer'),
    explorerEmpty: byId('explorer-empty'),
    explorerCount: byId('explorer-count'),
    explorerSearch: byId<HTMLInputElement>('explorer-search'),
    explorerFilters: byId('explorer-filters'),
    detail: byId('detail'),
    explore: byId('explore'),
    timelinePanel: byId('timeline-panel'),
    timeline: byId('timeline'),
    timelineRun: byId<HTMLSelectElement>('timeline-run'),
  };

  constructor(private readonly options: DashboardOptions) {
    this.el.logFilter.addEventListener('input', () => {
      this.filter = parseTypeFilter(this.el.logFilter.value);
      this.logRebuild = true;
      this.markLog();
    });
    this.el.logPause.addEventListener('click', () => {
      this.logPaused = !this.logPaused;
      if (!this.logPaused) this.logRebuild = true;
      this.markLog();
    });
    this.el.logClear.addEventListener('click', () => {
      this.log.clear();
      this.logRebuild = true;
      this.markLog();
    });
    this.el.reconnect.addEventListener('click', () => this.start());
    this.explorer = new ExplorerView(this.el.explorer, {
      open: (key) => this.openTest(key),
      toggle: (key, open) => {
        this.explorerOpen.set(key, open);
        this.explorerDrawn = '';
        this.renderExplorer();
      },
    });
    this.el.explorerSearch.addEventListener('input', () => {
      this.explorerSearch = this.el.explorerSearch.value;
      this.renderExplorer();
    });
    this.el.explorerFilters.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-filter]');
      if (!button) return;
      const filter = button.dataset.filter as StatusFilter;
      if (this.explorerFilters.has(filter)) this.explorerFilters.delete(filter);
      else this.explorerFilters.add(filter);
      setAttr(button, 'aria-pressed', String(this.explorerFilters.has(filter)));
      this.renderExplorer();
    });
    // "Open the test" in failures, slowest and hung lists: the key is the test's (`<runId>\0<id>`).
    document.addEventListener('click', (event) => {
      const target = (event.target as Element).closest<HTMLElement>('[data-open-test]');
      const key = target?.dataset.openTest;
      if (key && this.index.get(key)) this.openTest(key);
    });
    this.el.detail.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.closeDetail();
    });
    this.el.timelineRun.addEventListener('change', () => {
      this.timelineRun = this.el.timelineRun.value;
      this.timelinePicked = true;
      this.timelineDrawn = '';
      this.renderTimeline(true);
    });
    this.el.timelinePanel.addEventListener('click', (event) => {
      const target = event.target as Element;
      const mode = target.closest<HTMLButtonElement>('button[data-mode]');
      if (mode) {
        this.timelineMode = mode.dataset.mode as TimelineMode;
        for (const b of this.el.timelinePanel.querySelectorAll<HTMLElement>('button[data-mode]'))
          setAttr(b, 'aria-pressed', String(b.dataset.mode === this.timelineMode));
        this.timelineDrawn = '';
        this.renderTimeline(true);
        return;
      }
      const bar = target.closest<HTMLElement>('[data-test-key]');
      if (bar?.dataset.testKey) this.openTest(bar.dataset.testKey);
    });
    // /status and /events want the key too, and a link cannot send it (nor should it carry it): say so.
    if (options.apiKey || options.token) {
      for (const id of ['keyed-links', 'keyed-links-events']) setHidden(byId(id), true);
      setHidden(byId('keyed-links-note'), false);
    }
    const ws = new URL('ws', options.url.endsWith('/') ? options.url : `${options.url}/`);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    setText(this.el.wsUrl, ws.toString());
  }

  /** Connects (again, after a fatal error); the client then keeps reconnecting on its own. */
  start(): void {
    const previous = this.client;
    if (previous) void previous.close();
    this.runs.clear();
    this.index.clear();
    this.log.clear();
    this.hung.clear();
    this.flagged.clear();
    this.groups.clear();
    this.authProblem = undefined;
    this.lockedOut = undefined;
    this.connection = { state: 'connecting', info: {} };
    const client = createClient({
      url: this.options.url,
      apiKey: this.options.apiKey,
      token: this.options.token,
      // A dashboard is left open for hours: keep trying, but never more often than every 5 s once idle.
      reconnect: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 250, maxDelayMs: 5000 },
      runState: { maxCompletedRuns: 50 },
      // The runs of an endpoint that went away stay on screen, as in `testwire watch`: a takeover or a restart
      // of `testwire serve` does not empty the page. The ones still running that the new owner does not carry
      // died with the old one: the client completes them as interrupted (owner_lost).
      keepStaleRuns: true,
      // The broadcaster's whole history first: a page opened mid-run or after it shows what a page open
      // from the start shows (every attempt and output line, the event log, slow and hung marks). When the
      // history no longer holds the start, the client resyncs from a snapshot instead (onResync).
      replay: true,
    });
    this.client = client;

    client.onState((state, info) => {
      if (this.client !== client) return;
      const resync = state === 'open' ? this.connection.resync : undefined;
      const wasOpen = this.connection.state === 'open';
      this.connection = { state, info, resync, error: info.error ?? this.connection.error };
      if (state === 'open' || wasOpen) this.answeredAt = Date.now();
      if (state === 'reconnecting') this.lostServer = client.server;
      // Live until now: the runs running were going until now; from here their time stops (RunClock).
      if (wasOpen && state !== 'open')
        for (const run of this.runs.values())
          if (run.status === 'running') this.index.heard(run.runId, this.answeredAt);
      if (state === 'open') {
        this.connection.error = undefined;
        this.lockedOut = undefined;
      }
      // Run times run to now only while live: the cards change with the connection.
      this.dirtyCards = true;
      this.dirtyLists = true;
      // Something answers but refuses: a lock-out (429, too many wrong keys) is retried by the client like
      // a dead endpoint. Ask once what it is, so the page does not call a locked-out endpoint gone.
      if (state === 'reconnecting' && info.attempt === GONE_AFTER_ATTEMPTS) this.probeLockout(client);
      this.dirtyConnection = true;
      this.schedule();
    });
    client.onResync((info) => {
      if (this.client !== client) return;
      // Shown once the connection is back in sync (the `open` that follows).
      this.connection.resync = info;
      // A new broadcaster replays its events from its first: start its runs over from its snapshot, or their
      // events would add output lines twice. The runs it does not carry (kept: keepStaleRuns) keep what is
      // known of them. A gap (replayed false): keep what is known, correct it.
      if (info.replayed) this.index.forget(info.runs.map((run) => run.runId));
      this.index.restore(client.state.snapshot());
      this.dirtyLists = true;
      this.announce(`Resynced: ${RESYNC_REASONS[info.reason] ?? info.reason}; runs rebuilt from a snapshot.`);
    });
    client.onError((error) => {
      if (this.client !== client) return;
      this.connection.error = error;
      this.dirtyConnection = true;
      if (error instanceof TestwireAuthError) this.explainAuth(client);
      this.schedule();
    });
    client.onRunState((update) => {
      if (this.client !== client) return;
      if (update.reason === 'event' && update.run) {
        // `update.run` builds its test list only when read; cards never read it.
        this.runs.set(update.run.runId, update.run);
        const type = update.event?.type;
        if (type !== 'test.progress' && type !== 'test.output') this.dirtyLists = true;
        if (type === 'test.completed') this.announceCompleted(update.run);
      } else {
        this.runs.clear();
        for (const run of client.state.snapshot()) this.runs.set(run.runId, run);
        this.dirtyLists = true;
      }
      this.dirtyCards = true;
      this.schedule();
    });
    client.on('*', (data, envelope) => {
      if (this.client !== client) return;
      this.answeredAt = Date.now();
      // Catching up: the indicator shows how far.
      if (this.connection.state !== 'open') this.dirtyConnection = true;
      this.log.push(envelope);
      if (this.index.apply(envelope)) this.dirtyLists = true;
      const group = groupUpdate(envelope, this.groups.get(envelope.runId));
      if (group) {
        this.groups.set(envelope.runId, group);
        this.dirtyCards = true;
      }
      const hung = hungReportOf(envelope);
      if (hung) {
        this.hung.set(hungKey(hung), hung);
        this.dirtyLists = true;
      } else if (envelope.type === 'performance.bottleneck') {
        const id = (data as { id?: string }).id;
        if (id) {
          this.flagged.add(id);
          this.dirtyLists = true;
        }
      }
      this.markLog();
    });
    client.connect().catch((error: Error) => {
      // Reported through onState('closed') as well; keep the reason for the status line.
      if (this.client === client) {
        this.connection.error = error;
        this.dirtyConnection = true;
        if (error instanceof TestwireAuthError) this.explainAuth(client);
        this.schedule();
      }
    });
    // Running runs show a live duration.
    this.ticker ??= setInterval(() => {
      // Not live: the indicator's catch-up progress and retry count move without events.
      if (this.connection.state !== 'open') {
        this.dirtyConnection = true;
        this.schedule();
      }
      for (const run of this.runs.values()) {
        if (run.status === 'running') {
          this.dirtyCards = true;
          // A hung test's time grows with the run's.
          if (this.hung.size > 0) this.dirtyLists = true;
          this.schedule();
          return;
        }
      }
    }, 1000);
    this.dirtyCards = true;
    this.dirtyLists = true;
    this.dirtyConnection = true;
    this.logRebuild = true;
    this.schedule();
  }

  // -------------------------------------------------------------------------------------------------------
  // Scheduling

  private markLog(): void {
    this.dirtyLog = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private comeBackForLists(wait: number): void {
    if (this.listsTimer) return;
    this.listsTimer = setTimeout(() => {
      this.listsTimer = undefined;
      this.schedule();
    }, wait);
  }

  private render(): void {
    if (this.dirtyConnection) {
      this.dirtyConnection = false;
      this.renderConnection();
    }
    if (this.dirtyCards) {
      this.dirtyCards = false;
      this.renderCards();
    }
    if (this.dirtyLists) {
      const wait = LISTS_INTERVAL_MS - (performance.now() - this.listsAt);
      if (wait <= 0) {
        this.dirtyLists = false;
        this.listsAt = performance.now();
        this.renderLists();
        // A paced part (the explorer, the timeline) left its update for later: come back for it even when
        // no event follows (a page opened after the run gets its last events in one burst).
        if (this.dirtyLists) this.comeBackForLists(LISTS_INTERVAL_MS);
      } else {
        this.comeBackForLists(wait);
      }
    }
    if (this.dirtyLog) {
      this.dirtyLog = false;
      this.renderLog();
    }
    this.renderServer();
  }

  // -------------------------------------------------------------------------------------------------------
  // Connection

  /** The page is connected and in sync: running runs' times run to now. */
  private isLive(): boolean {
    return this.connection.state === 'open';
  }

  /** What a run's times are measured with (see RunClock). */
  private clockOf(runId: string): RunClock {
    return { live: this.isLive(), heardAt: this.index.runs.get(runId)?.heardAt };
  }

  /**
   * Connected, not in sync yet: the endpoint's history (a fresh page's replay, a new broadcaster's, a resume)
   * is coming in. `connection.established` said how far it goes; the client's seq is how far it got (0 while a
   * new broadcaster's events are held until they can be sorted).
   */
  private catchUp(): string | undefined {
    const state = this.connection.state;
    const server = this.client?.server;
    if ((state !== 'connecting' && state !== 'reconnecting') || !server || this.lockedOut) return undefined;
    if (server === this.lostServer) return undefined;
    const seq = this.client?.seq ?? 0;
    const total = server.seq;
    if (total <= 0) return 'subscribing';
    if (seq <= 0 || seq > total) return `replaying ${total} events of its history`;
    return `${seq} of ${total} events of its history (${Math.floor((seq / total) * 100)}%)`;
  }

  private renderConnection(): void {
    const { state, info, resync, error } = this.connection;
    let shown: Shown;
    let label: string;
    let detail = '';
    const catchUp = this.catchUp();
    switch (catchUp ? 'catching-up' : state) {
      case 'catching-up':
        shown = 'catching-up';
        label = 'Catching up…';
        detail = catchUp ?? '';
        break;
      case 'open':
        if (resync) {
          shown = 'resynced';
          label = 'Resynced';
          detail = `${RESYNC_REASONS[resync.reason] ?? resync.message}: runs rebuilt from a snapshot`;
        } else {
          shown = 'connected';
          label = 'Connected';
          detail = 'live';
        }
        break;
      case 'reconnecting':
        if (this.lockedOut) {
          shown = 'unauthorized';
          label = this.lockedOut.label;
          detail = `${this.lockedOut.detail}; retrying (attempt ${info.attempt ?? 1})`;
          setAttr(this.el.connection, 'data-auth', this.lockedOut.kind);
        } else if ((info.attempt ?? 1) >= GONE_AFTER_ATTEMPTS) {
          // The test run that served this page has ended (or the endpoint was stopped): say so, keep
          // the last state on screen, and come back when an endpoint answers here again.
          shown = 'gone';
          label = 'Endpoint gone';
          detail = `nothing answers${this.answeredAt ? ` since ${formatClock(this.answeredAt).slice(0, 8)}` : ''}; showing the last state, retrying (attempt ${info.attempt})`;
        } else {
          shown = 'reconnecting';
          label = 'Reconnecting…';
          detail = `attempt ${info.attempt ?? 1}${info.delayMs !== undefined ? `, next in ${formatDuration(info.delayMs)}` : ''}${info.error?.message ? ` · ${info.error.message}` : ''}`;
        }
        break;
      case 'closed':
        if (error instanceof TestwireAuthError || (error as { code?: string })?.code === 'AUTH_FAILED') {
          shown = 'unauthorized';
          const problem = this.authProblem;
          label = problem?.label ?? 'Not authorized';
          detail = problem?.detail ?? 'checking what the broadcaster said…';
          setAttr(this.el.connection, 'data-auth', problem?.kind);
        } else {
          shown = 'disconnected';
          label = 'Disconnected';
          detail = error?.message ?? '';
        }
        break;
      default:
        shown = 'connecting';
        label = 'Connecting…';
    }
    if (shown !== this.shown) this.dirtyCards = true;
    this.shown = shown;
    setAttr(this.el.connection, 'data-status', shown);
    if (shown !== 'unauthorized') setAttr(this.el.connection, 'data-auth', undefined);
    setText(this.el.connectionLabel, label);
    setText(this.el.connectionDetail, detail);
    setHidden(this.el.reconnect, state !== 'closed');
  }

  /** Version, epoch and position of the stream; the seq moves with every event, so this runs every frame. */
  private renderServer(): void {
    const server = this.client?.server;
    setText(
      this.el.server,
      server && this.connection.state === 'open'
        ? `testwire ${server.version} · epoch ${server.epoch.slice(0, 8)} · seq ${this.client?.seq ?? 0}`
        : '',
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Run cards

  private renderCards(): void {
    const client = this.client;
    if (client) {
      for (const id of this.runs.keys()) if (!client.state.has(id)) this.runs.delete(id);
    }
    const now = Date.now();
    const cards = orderRuns([...this.runs.values()]).map((run) => runCard(run, now, this.clockOf(run.runId)));
    reconcile(
      this.el.runs,
      cards,
      this.cards,
      (c) => c.runId,
      (c) => this.createCard(c),
      (el, c) => this.updateCard(el, c),
    );
    setHidden(this.el.runsEmpty, cards.length > 0);
    const running = cards.filter((c) => c.outcome === 'running').length;
    setText(
      this.el.runsCount,
      cards.length ? `${cards.length}${running ? ` · ${running} running` : ''}` : '',
    );
    const failed = cards.reduce((n, c) => n + c.failed, 0);
    const parts: string[] = [];
    if (failed) parts.push(`✗ ${failed} failed`);
    if (running) parts.push(`● ${running} running`);
    else if (cards.length && !failed)
      parts.push(cards.some((c) => c.outcome === 'failed') ? '✗ failed' : '✓ passed');
    const title = parts.length ? `${parts.join(' · ')} — testwire` : 'testwire';
    if (document.title !== title) document.title = title;
  }

  private createCard(card: RunCard): HTMLElement {
    const id = `run-${this.nextCardId++}`;
    const count = (name: keyof CardRefs['counts'], label: string) => {
      const dd = h('dd', { 'data-count': name }, '0');
      return { box: h('div', { class: `count-box ${name}` }, h('dt', {}, label), dd), dd };
    };
    const passed = count('passed', 'passed');
    const failed = count('failed', 'failed');
    const skipped = count('skipped', 'skipped');
    const todo = count('todo', 'todo');
    const flaky = count('flaky', 'flaky');
    const retrying = count('retrying', 'retrying');
    const refs: CardRefs = {
      title: h('h3', { class: 'run-title', id: `${id}-title` }),
      badge: h('span', { class: 'badge' }),
      framework: h('span', { class: 'framework' }),
      duration: h('span', { class: 'duration', title: 'Duration' }),
      tags: h('span', { class: 'tags' }),
      started: h('span', { class: 'started' }),
      baseline: h('p', { class: 'baseline-line', hidden: true, 'data-testid': 'run-baseline' }),
      coverage: h('dl', { class: 'coverage', hidden: true, 'aria-label': 'Coverage' }),
      shards: h('ol', { class: 'shards', hidden: true, 'aria-label': 'Shards', 'data-testid': 'shards' }),
      bar: h('div', {
        class: 'bar',
        role: 'progressbar',
        'aria-labelledby': `${id}-title`,
        'aria-valuemin': 0,
      }),
      segPassed: h('span', { class: 'seg passed' }),
      segFailed: h('span', { class: 'seg failed' }),
      segSkipped: h('span', { class: 'seg skipped' }),
      progressText: h('p', { class: 'progress-text' }),
      counts: {
        passed: passed.dd,
        failed: failed.dd,
        skipped: skipped.dd,
        todo: todo.dd,
        flaky: flaky.dd,
        retrying: retrying.dd,
      },
      flakyBox: flaky.box,
      retryingBox: retrying.box,
      current: h('p', { class: 'current', hidden: true }),
      currentName: h('span', { class: 'current-name' }),
      currentFile: h('span', { class: 'current-file' }),
      note: h('p', { class: 'run-note', hidden: true, 'data-testid': 'run-note' }),
    };
    refs.bar.append(refs.segPassed, refs.segFailed, refs.segSkipped);
    refs.current.append(
      h('span', { class: 'current-mark', 'aria-hidden': 'true' }, '▶'),
      refs.currentName,
      refs.currentFile,
    );
    const el = h(
      'article',
      { class: 'run', 'data-run-id': card.runId, 'aria-labelledby': `${id}-title` },
      h('header', { class: 'run-head' }, refs.title, refs.badge),
      h('p', { class: 'run-meta' }, refs.framework, refs.started, refs.duration, refs.tags),
      refs.note,
      refs.bar,
      refs.progressText,
      h('dl', { class: 'counts' }, passed.box, failed.box, retrying.box, skipped.box, todo.box, flaky.box),
      refs.current,
      refs.baseline,
      refs.coverage,
      refs.shards,
    );
    this.cardRefs.set(el, refs);
    return el;
  }

  private updateCard(el: HTMLElement, c: RunCard): void {
    const r = this.cardRefs.get(el);
    if (!r) return;
    setAttr(el, 'data-outcome', c.outcome);
    setText(r.title, c.title);
    setAttr(r.title, 'title', c.runId);
    setText(r.badge, c.badge);
    setAttr(r.badge, 'title', c.interruptedText);
    setText(r.framework, c.framework);
    setText(r.duration, formatDuration(c.durationMs));
    setAttr(r.duration, 'data-frozen', c.heardAt ? 'true' : undefined);
    setText(
      r.note,
      c.heardAt ? `${this.whyNotLive()}: its time stopped at ${c.heardAt}, when last heard of` : '',
    );
    setHidden(r.note, !c.heardAt);
    setText(r.tags, c.tags.join(' · '));
    const group = this.groups.get(c.runId);
    const shards = group ? shardRows(group, this.runs) : [];
    const shown = shards.map((x) => `${x.key}:${x.state}:${x.completed}/${x.total}:${x.failed}`).join(' ');
    if (r.shards.dataset.shown !== shown) {
      r.shards.dataset.shown = shown;
      r.shards.replaceChildren(
        ...shards.map((x) =>
          h(
            'li',
            { class: 'shard', 'data-state': x.state, 'data-failed': x.failed > 0 ? 'true' : undefined },
            h('span', { class: 'shard-label' }, x.label),
            h('span', { class: 'shard-state' }, x.state),
            h(
              'span',
              { class: 'shard-counts' },
              x.state === 'expected'
                ? 'not started'
                : `${x.completed}/${x.total || '?'}${x.failed ? ` · ✗ ${x.failed}` : ''}`,
            ),
          ),
        ),
      );
      setHidden(r.shards, shards.length === 0);
    }
    if (group) {
      const tag = `group ${group.id}${group.expected ? ` · ${group.shards.length}/${group.expected} shards` : ''}${group.reporting !== undefined ? ` · ${group.reporting} reporting` : ''}`;
      setText(r.tags, [tag, ...c.tags].join(' · '));
    }
    setText(r.started, [c.started ? `started ${c.started}` : '', c.vcs ?? ''].filter(Boolean).join(' · '));
    const indexed = this.index.runs.get(c.runId);
    const baseline = baselineLine(indexed?.baseline);
    setText(r.baseline, baseline ?? '');
    setAttr(
      r.baseline,
      'data-regression',
      indexed?.baseline?.regressed.size || indexed?.baseline?.newlyFailing.size ? 'true' : undefined,
    );
    setHidden(r.baseline, baseline === undefined);
    const below = coverageFailures(indexed?.thresholds);
    const coverage = `${c.coverage.map((m) => `${m.metric}:${m.pct}`).join(' ')}|${below.join('|')}`;
    if (r.coverage.dataset.shown !== coverage) {
      r.coverage.dataset.shown = coverage;
      r.coverage.replaceChildren(
        ...c.coverage.map((m) => {
          const meter = h(
            'span',
            { class: 'meter', 'aria-hidden': 'true' },
            h('span', { class: 'meter-fill' }),
          );
          (meter.firstChild as HTMLElement).style.width = `${Math.max(0, Math.min(100, m.pct))}%`;
          return h(
            'div',
            { class: 'coverage-metric', 'data-metric': m.metric },
            h('dt', { class: 'coverage-name' }, m.metric),
            h('dd', { class: 'coverage-value' }, `${m.pct}%`, meter),
          );
        }),
      );
      if (below.length > 0) {
        const shown = below.slice(0, 10);
        r.coverage.append(
          h(
            'div',
            { class: 'coverage-failures' },
            h('dt', { class: 'coverage-name' }, 'below threshold'),
            ...shown.map((line) => h('dd', { class: 'coverage-failure' }, line)),
            below.length > shown.length
              ? h('dd', { class: 'coverage-failure' }, `and ${below.length - shown.length} more`)
              : '',
          ),
        );
      }
      setHidden(r.coverage, c.coverage.length === 0 && below.length === 0);
    }
    const total = c.total || 1;
    const indeterminate = c.progress === undefined;
    // Unknown total: no proportions to show, the bar's stripes say "in progress" instead.
    const width = (n: number) => (indeterminate ? '0%' : `${Math.min(100, (n / total) * 100).toFixed(2)}%`);
    setAttr(r.bar, 'data-indeterminate', indeterminate ? 'true' : undefined);
    if (r.segPassed.style.width !== width(c.passed)) r.segPassed.style.width = width(c.passed);
    if (r.segFailed.style.width !== width(c.failed)) r.segFailed.style.width = width(c.failed);
    const rest = c.skipped + c.todo;
    if (r.segSkipped.style.width !== width(rest)) r.segSkipped.style.width = width(rest);
    setAttr(r.bar, 'aria-valuemax', indeterminate ? undefined : String(c.total));
    setAttr(r.bar, 'aria-valuenow', indeterminate ? undefined : String(c.completed));
    const text = indeterminate
      ? `${c.completed} done, total not known yet`
      : `${c.completed} of ${c.total} tests · ${percentText(c)}`;
    setAttr(r.bar, 'aria-valuetext', text);
    setText(r.progressText, text);
    setText(r.counts.passed, String(c.passed));
    setText(r.counts.failed, String(c.failed));
    setText(r.counts.skipped, String(c.skipped));
    setText(r.counts.todo, String(c.todo));
    setText(r.counts.flaky, String(c.flaky));
    setHidden(r.flakyBox, c.flaky === 0);
    setText(r.counts.retrying, String(c.retrying));
    setHidden(r.retryingBox, c.retrying === 0);
    setHidden(r.current, !c.current);
    setText(r.currentName, c.current ?? '');
    setText(r.currentFile, c.currentFile ?? '');
  }

  /** Why a running run's time does not run to now, in words, for its card. */
  private whyNotLive(): string {
    switch (this.shown) {
      case 'gone':
        return 'endpoint gone';
      case 'catching-up':
        return 'catching up';
      case 'unauthorized':
        return 'not authorized';
      default:
        return this.shown === 'connecting' ? 'connecting' : 'not connected';
    }
  }

  private announceCompleted(run: RunSnapshot): void {
    const c = run.counts;
    const verdict =
      runInterruption(run) ?? (run.summary ? (run.summary.success ? 'passed' : 'failed') : 'finished');
    this.announce(
      `${runTitle(run)} ${verdict}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped.`,
    );
  }

  private announce(text: string): void {
    setText(this.el.announcer, text);
  }

  // -------------------------------------------------------------------------------------------------------
  // Failures and slow tests

  private renderLists(): void {
    const runs = this.client ? this.client.state.snapshot() : [];
    const failures = failuresOf(runs, FAILURES_SHOWN);
    reconcile(
      this.el.failures,
      failures.items,
      this.failureEls,
      (f) => f.key,
      (f) => this.createFailure(f),
      (el, f) => this.updateFailure(el, f),
    );
    setHidden(this.el.failuresEmpty, failures.total > 0);
    setText(this.el.failuresCount, failures.total ? String(failures.total) : '');
    const more = failures.total - failures.items.length;
    setHidden(this.el.failuresMore, more <= 0);
    setText(this.el.failuresMore, more > 0 ? `and ${more} more` : '');

    const slow = slowTestsOf(runs, SLOW_SHOWN, this.flagged);
    reconcile(
      this.el.slow,
      slow,
      this.slowEls,
      (s) => s.key,
      (s) => this.createSlow(s),
      (el, s) => this.updateSlow(el, s),
    );
    setHidden(this.el.slowEmpty, slow.length > 0);

    const hung = hungTestsOf(runs, this.hung.values(), Date.now(), (id) => this.clockOf(id));
    reconcile(
      this.el.hung,
      hung,
      this.hungEls,
      (item) => item.key,
      () => this.createSlow(),
      (el, item) => this.updateHung(el, item),
    );
    setHidden(this.el.hungPanel, hung.length === 0);

    const client = this.client;
    if (client) this.index.prune((id) => client.state.has(id));
    this.renderExplorer(runs, false);
    this.renderDetail();
    this.renderTimeline(false, runs);
  }

  // -------------------------------------------------------------------------------------------------------
  // Explorer, detail, timeline

  private explorerRuns(): RunSnapshot[] {
    return orderRuns(this.client ? (this.client.state.briefs() as RunSnapshot[]) : []);
  }

  /**
   * Live updates (`byUser` false) recompute the tree at most every 10× what the last recompute cost, so a
   * run of tens of thousands of tests takes at most ~10 % of the main thread; what the user asks for
   * (a search, a filter, opening a group) is drawn at once.
   */
  private renderExplorer(runs?: RunSnapshot[], byUser = true): void {
    const filters = [...this.explorerFilters].sort().join(',');
    const mark = `${this.index.version}|${this.runs.size}|${this.explorerSearch}|${filters}`;
    if (mark === this.explorerDrawn) return;
    const started = performance.now();
    if (!byUser && started - this.explorerAt < this.explorerCost * 10) {
      this.dirtyLists = true; // come back for it
      return;
    }
    this.explorerDrawn = mark;
    const model = explorerRows(
      orderRuns(runs ?? this.explorerRuns()),
      this.index,
      { search: this.explorerSearch, statuses: this.explorerFilters },
      this.explorerOpen,
    );
    this.explorerAt = performance.now();
    this.explorerCost = this.explorerAt - started;
    this.explorer.setRows(model.rows);
    setHidden(this.el.explorerEmpty, model.rows.length > 0);
    setText(
      this.el.explorerEmpty,
      model.total === 0 ? 'No tests yet.' : 'No test matches the search and filters.',
    );
    setText(
      this.el.explorerCount,
      model.total === 0
        ? ''
        : model.matched === model.total
          ? String(model.total)
          : `${model.matched} of ${model.total}`,
    );
  }

  private openTest(key: string): void {
    this.selected = key;
    this.detailDrawn = '';
    this.explorer.select(key);
    this.renderDetail();
    const title = this.el.detail.querySelector<HTMLElement>('#detail-title');
    title?.focus({ preventScroll: false });
  }

  private closeDetail(): void {
    this.selected = undefined;
    this.explorer.select(undefined);
    this.detailDrawn = '';
    this.renderDetail();
    this.el.explorer.focus();
  }

  private renderDetail(): void {
    const test = this.selected ? this.index.get(this.selected) : undefined;
    if (!test) {
      setHidden(this.el.detail, true);
      setAttr(this.el.explore, 'data-detail', undefined);
      if (this.detailDrawn !== '') {
        this.el.detail.replaceChildren();
        this.detailDrawn = '';
      }
      return;
    }
    const run = this.index.runs.get(test.runId);
    const live = this.isLive();
    const ticking = test.status === 'running' && !run?.completed && live;
    // A running test's "so far" changes every second; otherwise only a new event redraws.
    const mark = `${test.key}|${test.seq}|${test.status}|${test.output.length}|${test.outputDropped}|${test.attempts.length}|${test.attempts.reduce((n, a) => n + a.steps.length, 0)}|${run?.completed}|${run?.endedAt}|${live}|${ticking ? Math.floor(Date.now() / 1000) : ''}`;
    if (mark === this.detailDrawn) return;
    this.detailDrawn = mark;
    const hadFocus = this.el.detail.contains(document.activeElement);
    const open = new Set<number>();
    this.el.detail.querySelectorAll('details').forEach((d, i) => {
      if (d.open) open.add(i);
    });
    this.el.detail.replaceChildren(
      ...renderDetail(detailOf(test, run, Date.now(), live), () => this.closeDetail()),
    );
    // Keep what the reader opened (stacks, steps) open across redraws of the same test.
    [...this.el.detail.querySelectorAll('details')].forEach((d, i) => {
      if (open.has(i)) d.open = true;
    });
    setHidden(this.el.detail, false);
    // Two columns only while a detail is open (a class from here: Firefox 115 has no :has()).
    setAttr(this.el.explore, 'data-detail', 'open');
    if (hadFocus) this.el.detail.querySelector<HTMLElement>('#detail-title')?.focus({ preventScroll: true });
  }

  private renderTimeline(force: boolean, runs?: RunSnapshot[]): void {
    const now = Date.now();
    if (!force && now - this.timelineAt < TIMELINE_INTERVAL_MS) {
      this.dirtyLists = true; // come back for it
      return;
    }
    const ordered = orderRuns(runs ?? this.explorerRuns());
    const withTimes = ordered.filter((r) => this.index.runs.get(r.runId)?.tests.size);
    setHidden(this.el.timelinePanel, withTimes.length === 0);
    if (withTimes.length === 0) return;
    // The run options: keyed by id, labelled like the explorer's runs.
    const select = this.el.timelineRun;
    const options = withTimes.map((r) => `${r.runId}\0${runLabel(r)}`).join('\n');
    if (select.dataset.options !== options) {
      select.dataset.options = options;
      select.replaceChildren(...withTimes.map((r) => h('option', { value: r.runId }, runLabel(r))));
    }
    const picked = this.timelinePicked ? withTimes.find((r) => r.runId === this.timelineRun) : undefined;
    const run = picked ?? withTimes[0];
    this.timelineRun = run.runId;
    if (select.value !== run.runId) select.value = run.runId;
    const record = this.index.runs.get(run.runId);
    const live = run.status === 'running' && this.isLive();
    const mark = `${run.runId}|${this.timelineMode}|${this.index.version}|${live ? now : ''}`;
    if (mark === this.timelineDrawn) return;
    this.timelineAt = now;
    this.timelineDrawn = mark;
    // Not live: running bars stop at the run's last event, as its card's time does.
    const end = live || run.status !== 'running' ? now : (record?.heardAt ?? now);
    const model = record && timelineOf(this.index, run.runId, this.timelineMode, end);
    this.el.timeline.replaceChildren(
      ...(model ? renderTimeline(model) : [h('p', { class: 'empty' }, 'No timings yet.')]),
    );
    if (live) this.dirtyLists = true;
  }

  private probeLockout(client: TestwireClient): void {
    void authProblemOf(this.options.url, { apiKey: this.options.apiKey, token: this.options.token }).then(
      (problem) => {
        if (this.client !== client || problem.kind !== 'locked') return;
        this.lockedOut = problem;
        this.dirtyConnection = true;
        this.schedule();
      },
    );
  }

  private explainAuth(client: TestwireClient): void {
    void authProblemOf(this.options.url, { apiKey: this.options.apiKey, token: this.options.token }).then(
      (problem) => {
        if (this.client !== client) return;
        this.authProblem = problem;
        this.dirtyConnection = true;
        this.schedule();
      },
    );
  }

  private updateHung(el: HTMLElement, item: HungItem): void {
    const q = (cls: string) => el.querySelector(`.${cls}`) as HTMLElement;
    setAttr(el, 'data-ended', item.runEnded ? 'true' : undefined);
    setText(q('slow-duration'), formatDuration(item.elapsedMs));
    setText(q('slow-title'), item.runEnded ? `${item.title} (was still running)` : item.title);
    setAttr(q('slow-title'), 'data-open-test', item.key);
    setText(q('slow-location'), item.location ?? '');
    setText(q('slow-run'), item.runTitle);
  }

  private createFailure(f: FailureItem): HTMLElement {
    return h(
      'li',
      { class: 'failure', 'data-scope': f.scope },
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('span', { class: 'failure-title' }),
          h('span', { class: 'failure-message' }),
          h(
            'span',
            { class: 'failure-where' },
            h('code', { class: 'failure-location' }),
            h('span', { class: 'failure-run' }),
          ),
        ),
        h('pre', { class: 'failure-details' }),
        h('button', { class: 'button open-test', type: 'button', hidden: true }, 'Open the test'),
      ),
    );
  }

  private updateFailure(el: HTMLElement, f: FailureItem): void {
    const q = (cls: string) => el.querySelector(`.${cls}`) as HTMLElement;
    setText(q('failure-title'), f.scope === 'test' ? f.title : `${f.scope}: ${f.title}`);
    setText(q('failure-message'), f.firstLine);
    setText(q('failure-location'), f.location ?? '');
    setText(q('failure-run'), f.runTitle);
    setText(q('failure-details'), f.details || f.firstLine);
    // Failures of tests open in the detail (all attempts, output); failures outside tests have none.
    const open = q('open-test');
    setAttr(open, 'data-open-test', f.scope === 'test' ? f.key : undefined);
    setHidden(open, f.scope !== 'test');
  }

  private createSlow(_s?: SlowItem): HTMLElement {
    return h(
      'li',
      { class: 'slow-item' },
      h('span', { class: 'slow-duration' }),
      h('button', { class: 'slow-title link-button', type: 'button' }),
      h(
        'span',
        { class: 'slow-where' },
        h('code', { class: 'slow-location' }),
        h('span', { class: 'slow-run' }),
      ),
    );
  }

  private updateSlow(el: HTMLElement, s: SlowItem): void {
    const q = (cls: string) => el.querySelector(`.${cls}`) as HTMLElement;
    setAttr(el, 'data-status', s.status);
    setAttr(el, 'data-flagged', s.flagged ? 'true' : undefined);
    setText(q('slow-duration'), formatDuration(s.durationMs));
    setText(q('slow-title'), s.title);
    setAttr(q('slow-title'), 'data-open-test', s.key);
    setText(q('slow-location'), s.location ?? '');
    setText(q('slow-run'), s.runTitle);
  }

  // -------------------------------------------------------------------------------------------------------
  // Event log

  private renderLog(): void {
    setText(this.el.logPause, this.logPaused ? 'Resume' : 'Pause');
    setAttr(this.el.logPause, 'aria-pressed', String(this.logPaused));
    setAttr(this.el.logFilter, 'aria-invalid', this.filter.error ? 'true' : undefined);
    setAttr(this.el.logFilter, 'title', this.filter.error);
    if (this.logPaused) {
      setText(this.el.logCount, `paused · ${this.log.size} held`);
      return;
    }
    const list = this.el.log;
    if (this.logRebuild) {
      this.logRebuild = false;
      list.replaceChildren();
      this.logRendered = 0;
    }
    // New entries, newest first, prepended in one insertion.
    const fresh: HTMLElement[] = [];
    for (const entry of this.log.newestFirst()) {
      if (entry.key <= this.logRendered) break;
      if (this.filter.matches(entry.type)) fresh.push(this.logRow(entry));
    }
    if (fresh.length > 0) list.prepend(...fresh);
    const newest = this.log.newestFirst()[0];
    if (newest) this.logRendered = Math.max(this.logRendered, newest.key);
    // Drop rows of entries that left the ring.
    const oldest = this.log.oldestKey;
    let last = list.lastElementChild as HTMLElement | null;
    while (last && Number(last.dataset.key) < oldest) {
      const previous = last.previousElementSibling as HTMLElement | null;
      last.remove();
      last = previous;
    }
    const shown = list.childElementCount;
    setText(this.el.logCount, this.filter.all ? String(shown) : `${shown} of ${this.log.size}`);
  }

  private logRow(entry: LogEntry): HTMLElement {
    const [category] = entry.type.split('.');
    const status = (entry.event.data as { status?: unknown } | undefined)?.status;
    return h(
      'li',
      {
        class: 'log-row',
        'data-key': entry.key,
        'data-type': entry.type,
        'data-category': category,
        'data-status': typeof status === 'string' ? status : undefined,
      },
      h('time', { datetime: entry.timestamp }, formatClock(entry.timestamp)),
      h('span', { class: 'log-seq' }, `#${entry.seq}`),
      h('span', { class: 'log-type' }, entry.type),
      h('span', { class: 'log-summary' }, summarizeEvent(entry.event)),
    );
  }
}

/** 100% only once every test is done: 999 of 1000 reads 99%, not a rounded-up 100%. */
function percentText(card: RunCard): string {
  const ratio = card.progress ?? 0;
  return `${card.completed >= card.total && card.total > 0 ? 100 : Math.min(99, Math.floor(ratio * 100))}%`;
}
