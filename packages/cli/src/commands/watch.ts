import type { ResyncInfo } from '@testwire/client';
import type { AnyEventEnvelope, RunSnapshot } from '@testwire/protocol';
import { endpointFrom, endpointHelp, endpointOptions, type Io, parseCommand, parseCount } from '../args.js';
import { connectionError, endpointClient, lostReason } from '../connect.js';
import { ExitCode } from '../errors.js';
import {
  type Colors,
  createColors,
  errorLine,
  formatDuration,
  formatRunSummary,
  runLabel,
  shouldColor,
  titleOf,
  totalOf,
} from '../format.js';
import { shardLabel } from '../group-runs.js';
import { GroupPoller, type GroupView, quietFor, type ShardView } from '../group-status.js';
import { createLiveArea, type LiveArea } from '../live-area.js';
import { closeMonitor, hostTarget, LocalHost } from '../local-host.js';
import { type ConnectionView, renderFrame, type WatchChange, WatchModel } from '../monitor.js';
import { terminalSafe } from '../terminal-text.js';
import { fetchStatus } from './status.js';

export const watchHelp = `Usage: testwire watch [options]

A live terminal monitor of every run streaming into an endpoint: per run a progress bar, counts
(passed / failed / skipped / todo), the test running now, failures with their first error line,
slow tests, memory and CPU. Redraws in place on a terminal; prints plain log lines otherwise
(piped, CI). Survives the endpoint going away and coming back.

When nothing listens at an endpoint on this machine (the default 127.0.0.1:7357, or --port), watch hosts
it itself, as \`testwire serve\` would: test runs join it, so a run of a fraction of a second is seen whole.
When watch exits while a run is still publishing to it, that run's process takes the endpoint over.
An endpoint another process owned (a serve, a run) that goes away is never taken over by watch: it keeps
reconnecting, and follows whatever binds the port next (a serve started again, a new run).

Options:
  --exit-when-done   exit once every run seen has completed, printing each run's summary
  --runs <n>         exit once n runs have completed (and none is still running); for several
                     runners starting at different moments (implies --exit-when-done)
  --exit-status      with --exit-when-done: exit 1 if any run failed (default: 0 when done)
  --slow <ms>        list tests slower than this under "slow" (default 1000)
  --plain            log lines even on a terminal
  --no-wait          fail at once when nothing is listening (default: host it, or wait for it)
  --no-host          never host the endpoint: wait for a test run or \`testwire serve\` to bring it up
  -h, --help         show this help

${endpointHelp}

On an endpoint of \`testwire serve --redis\` (sharded CI), each shard is a run labelled \`shard k/N @host\`,
the group's run has the summed counts and how many shards are reporting, finished and silent; a shard
serve calls silent (no event for its --silence) or interrupted is marked so (watch reads serve's /status
every 2 s for it: silence is not an event).

A run that ended interrupted (a signal, its process gone) is shown as such, not as failed. When the
process that owned the endpoint dies (SIGKILL) while running a run of its own, and another takes the
endpoint over, that run never completes: watch shows it interrupted (owner lost), with its counts as
they were, and counts it as completed for --exit-when-done / --runs.

Runs already complete when watch started (earlier runs of a long-lived \`testwire serve\`) are shown
but do not count for --exit-when-done / --runs. Exit codes: 0 done, 1 a run failed (--exit-status),
2 bad usage, 3 cannot connect / unauthorized, 130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM).`;

/** Frames per second at most on a terminal. */
const MAX_FPS = 10;

/** What the views are told about the connection. */
type LinkStatus =
  | { state: 'connected'; resumed: boolean }
  | { state: 'disconnected'; reason: string; retryInMs: number };

export async function watch(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand('watch', argv, {
    ...endpointOptions,
    'exit-when-done': { type: 'boolean' },
    runs: { type: 'string' },
    'exit-status': { type: 'boolean' },
    slow: { type: 'string' },
    plain: { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    'no-host': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(`${watchHelp}\n`);
    return ExitCode.OK;
  }
  const endpoint = endpointFrom(values, io);
  const runsWanted = parseCount(values.runs, '--runs', 0);
  const exitWhenDone = Boolean(values['exit-when-done']) || runsWanted > 0;
  const slowThresholdMs = parseCount(values.slow, '--slow', 1000);
  const tty = Boolean(io.stdout.isTTY) && !values.plain && io.env.TERM !== 'dumb';
  const c = createColors(shouldColor(io.stdout, io.env));
  // The client keeps the run state (runs of a broadcaster that went away stay on screen); the model adds
  // what a monitor shows on top of it.
  const client = endpointClient(endpoint, {
    events: [
      'test.started',
      'test.progress',
      'test.result',
      'test.failed',
      'test.completed',
      'performance.metrics',
      'performance.bottleneck',
      'coverage.completed',
    ],
    runState: { maxCompletedRuns: 50 },
    keepStaleRuns: true,
    wait: !values['no-wait'],
  });
  const model = new WatchModel({ slowThresholdMs, store: client.state });
  // Nothing listening on this machine: host the endpoint, so a short run's reporter joins us (local-host.ts).
  const target = values['no-wait'] || values['no-host'] ? undefined : hostTarget(endpoint);

  return await new Promise<number>((resolve, reject) => {
    let connection: ConnectionView = { state: 'connecting' };
    let connectedOnce = false;
    let finished = false;
    let doneTimer: NodeJS.Timeout | undefined;
    const view = tty
      ? new TtyView(io.stdout, endpoint.httpUrl, model, c, () => connection)
      : new PlainView(io.stdout, c, endpoint.httpUrl);
    const host =
      target &&
      new LocalHost(target, {
        apiKey: endpoint.apiKey,
        warn: (message) => io.stderr.write(`testwire watch: ${message}\n`),
        onHosting: () => view.hosting(),
      });

    const poller = new GroupPoller(
      endpoint,
      (at) => fetchStatus(at).then(terminalSafe),
      (group, changed) => {
        if (finished) return;
        model.group = group;
        view.group(group, changed);
      },
    );

    /** Stops everything; resolves once the hosted endpoint (if any) is closed and handed over. */
    const stop = (): Promise<void> => {
      finished = true;
      poller.stop();
      // Our own client, then the endpoint we host (local-host.ts: the order matters for the handover).
      const closed = closeMonitor(client, host);
      if (doneTimer) clearTimeout(doneTimer);
      view.stop();
      // Runs publishing to our endpoint take it over once it closes (the broadcaster's handover). Our signal
      // handlers stay until then: the hosted broadcaster's own (it removes its secret file on a signal)
      // re-raises the signal when it finds no other handler, which would kill us mid-close.
      return closed.then(() => {
        process.removeListener('SIGINT', onSigint);
        process.removeListener('SIGTERM', onSigterm);
      });
    };
    const finish = (code: number, reason?: string) => {
      if (finished) return;
      const stopped = stop();
      printSummary(io.stdout, model, c, reason);
      const failed = model.sessionRuns().some((run) => run.status === 'completed' && !run.summary?.success);
      void stopped.then(() =>
        resolve(code === ExitCode.OK && values['exit-status'] && failed ? ExitCode.FAILURE : code),
      );
    };
    const fail = (error: unknown) => {
      if (finished) return;
      void stop().then(() => reject(connectionError(error, endpoint)));
    };
    const onSigint = () => finish(ExitCode.INTERRUPTED, 'interrupted');
    const onSigterm = () => finish(143, 'terminated');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);

    // Runners start at different moments: when all runs seen are complete, wait a moment for another
    // one to show up before calling it done (not needed once --runs is reached).
    const checkDone = () => {
      if (!exitWhenDone || finished || doneTimer) return;
      if (!model.isDone(runsWanted)) return;
      doneTimer = setTimeout(
        () => {
          doneTimer = undefined;
          if (model.isDone(runsWanted)) finish(ExitCode.OK);
        },
        runsWanted > 0 ? 100 : 1500,
      );
    };

    // The client has applied each event to client.state before its handlers run.
    // What the stream says is shown only as text (terminal-text.ts).
    client.on('*', (_data, received) => {
      if (finished) return;
      const event = terminalSafe(received);
      view.event(event, model.observe(event));
      checkDone();
    });
    client.onRunState((update) => {
      if (finished || update.reason !== 'snapshot') return;
      // The runs already going when we connected.
      const runs = terminalSafe(client.state.snapshot());
      model.adoptRuns(runs);
      view.snapshot(runs);
      checkDone();
    });
    client.onResync((received) => {
      if (finished) return;
      const info = terminalSafe(received);
      model.adoptRuns(info.runs);
      view.resync(info);
      checkDone();
    });
    client.onState((state, info) => {
      if (finished) return;
      if (state === 'open') {
        poller.start();
        connection = { state: 'connected', hosted: host?.hosting };
        view.status({ state: 'connected', resumed: connectedOnce });
        connectedOnce = true;
      } else if (state === 'reconnecting') {
        host?.refused(info.error, connectedOnce);
        const reason = lostReason(info.error);
        const retryInMs = info.delayMs ?? 0;
        // Before the first connection there is nothing to "re"-connect to: the run has not started yet.
        connection = connectedOnce
          ? { state: 'reconnecting', reason, retryAt: Date.now() + retryInMs }
          : { state: 'waiting' };
        view.status({ state: 'disconnected', reason, retryInMs });
      } else if (state === 'closed' && info.error) {
        fail(info.error);
      }
    });
    client.onError((error) => {
      // Anything else (a lagging notice, a stray frame) is recovered from by the client itself.
      if (error.serverCode === 'INVALID_SUBSCRIPTION') fail(error);
    });
    // Host first when nothing listens, then connect (to our own endpoint, or to whoever bound it first).
    void (host ? host.claim() : Promise.resolve(false)).then(() => {
      if (!finished) client.connect().catch(fail);
    }, fail);
  });
}

function printSummary(out: NodeJS.WriteStream, model: WatchModel, c: Colors, reason?: string): void {
  const session = model.sessionRuns();
  const runs = session.length > 0 ? session : model.runs();
  const completed = runs.filter((run) => run.status === 'completed').length;
  const head =
    runs.length === 0
      ? 'no runs seen'
      : `${completed} of ${runs.length} run${runs.length === 1 ? '' : 's'} completed`;
  const lines = [c.bold(`testwire watch: ${head}${reason ? ` (${reason})` : ''}`)];
  for (const run of runs) lines.push(...formatRunSummary(run, c));
  out.write(`${lines.join('\n')}\n`);
}

interface View {
  event(event: AnyEventEnvelope, change: WatchChange): void;
  /** A sharded CI group's shape, from serve's /status: `changed`, the shards whose state changed. */
  group(group: GroupView, changed: ShardView[]): void;
  snapshot(runs: RunSnapshot[]): void;
  resync(info: ResyncInfo): void;
  status(status: LinkStatus): void;
  /** This process now hosts the endpoint (nothing was listening). */
  hosting(): void;
  stop(): void;
}

/** In-place monitor on a terminal: throttled redraws, a ticker for elapsed times, resize aware. */
class TtyView implements View {
  private readonly area: LiveArea;
  private readonly ticker: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private readonly onResize = () => {
    this.area.reset();
    this.draw();
  };

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly url: string,
    private readonly model: WatchModel,
    private readonly c: Colors,
    private readonly connection: () => ConnectionView,
  ) {
    this.area = createLiveArea(out);
    // Elapsed times and the reconnect countdown move without events.
    this.ticker = setInterval(() => this.request(), 500);
    out.on('resize', this.onResize);
    this.draw();
  }

  event(): void {
    this.request();
  }
  snapshot(): void {
    this.request();
  }
  resync(): void {
    this.request();
  }
  status(): void {
    this.request();
  }
  group(): void {
    this.request();
  }
  hosting(): void {
    this.request();
  }

  /** At most MAX_FPS frames a second; the last change always gets drawn. */
  private request(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastDraw + 1000 / MAX_FPS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, wait);
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const lines = renderFrame(this.model, {
      url: this.url,
      connection: this.connection(),
      colors: this.c,
      width: this.out.columns || 80,
      height: this.out.rows || 24,
    });
    this.area.render(lines);
  }

  stop(): void {
    clearInterval(this.ticker);
    if (this.pending) clearTimeout(this.pending);
    this.out.removeListener('resize', this.onResize);
    // The final summary replaces the live frame, so what stays in the scrollback is the outcome.
    this.area.clear();
    this.area.done();
  }
}

/** Log lines for pipes and CI: run started, failures, 25/50/75 % milestones, completion, connection. */
class PlainView implements View {
  private readonly milestones = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly c: Colors,
    private readonly url: string,
  ) {}

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }

  /** The runner, and for sharded CI the shard and its host (or the group). */
  private label(run: RunSnapshot): string {
    return `${runLabel(run, this.c)}${shardLabel(run)}`;
  }

  private announce(run: RunSnapshot): void {
    if (this.announced.has(run.runId)) return;
    this.announced.add(run.runId);
    this.line(`▶ ${this.label(run)} started (${totalOf(run.totalTests)}) ${this.c.dim(run.runId)}`);
  }

  /** Silent and interrupted shards (and a silent one heard from again): serve's /status, not events. */
  group(group: GroupView, changed: ShardView[]): void {
    for (const shard of changed) {
      const which = `shard ${shard.shard ?? '?'}/${shard.total ?? group.expected ?? '?'}${shard.hostname ? ` @${shard.hostname}` : ''}`;
      const was = this.shardStates.get(shard.runId);
      this.shardStates.set(shard.runId, shard.state);
      if (shard.state === 'silent')
        this.line(
          `  ${this.c.yellow('◌')} ${which} silent: no event for ${formatDuration(quietFor(group, shard))} (${group.reporting} reporting, ${group.finished} finished, ${group.silent} silent) ${this.c.dim(shard.runId)}`,
        );
      else if (shard.state === 'interrupted')
        this.line(`  ${this.c.red('✗')} ${which} interrupted ${this.c.dim(shard.runId)}`);
      else if (shard.state === 'reporting' && was === 'silent')
        this.line(`  ${which} reporting again ${this.c.dim(shard.runId)}`);
    }
  }
  private readonly shardStates = new Map<string, string>();

  event(event: AnyEventEnvelope, change: WatchChange): void {
    const run = change.run;
    if (!run) return;
    this.announce(run);
    if (event.type === 'test.result' && event.data.status === 'failed' && !event.data.willRetry) {
      const key = `${run.runId}:${event.data.id}:${event.data.attempt}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.line(
          `  ${this.c.red('✗')} ${this.label(run)}: ${titleOf(event.data.titlePath, event.data.testName)}  ${this.c.red(errorLine(event.data.error ?? event.data.errors?.[0]))}`,
        );
      }
    }
    if (event.type === 'test.failed' && event.data.scope && event.data.scope !== 'test') {
      this.line(
        `  ${this.c.red('✗')} ${this.label(run)} [${event.data.scope}] ${event.data.file ?? ''}  ${this.c.red(errorLine(event.data.error))}`,
      );
    }
    // A replayed event's run is already further on: its milestones would come out of order.
    if (!change.replayed && run.status === 'running' && run.totalKnown && run.totalTests > 0) {
      const quarter = Math.floor((run.counts.completed / run.totalTests) * 4);
      const last = this.milestones.get(run.runId) ?? 0;
      if (quarter > last && quarter < 4) {
        this.milestones.set(run.runId, quarter);
        // The percentage of the counts printed beside it (a burst can cross 25% and land at 40%).
        const percent = Math.floor((run.counts.completed / run.totalTests) * 100);
        this.line(`  ${this.label(run)} ${percent}% (${run.counts.completed}/${run.totalTests})`);
      }
    }
    if (change.completed) for (const line of formatRunSummary(run, this.c, 3)) this.line(line);
  }

  snapshot(runs: RunSnapshot[]): void {
    for (const run of runs) {
      if (run.status !== 'running') continue;
      this.announce(run);
      this.line(`  ${this.label(run)} in progress: ${run.counts.completed}/${run.totalTests}`);
    }
  }

  resync(info: ResyncInfo): void {
    this.line(
      info.replayed
        ? `testwire watch: ${this.url} is a new broadcaster (the previous one went away); catching up from its first event`
        : `testwire watch: missed events (${info.message}); showing the state as of now`,
    );
    // Runs the previous broadcaster's process was running itself: they died with it and will never complete.
    for (const run of info.interruptedRuns) {
      this.line(
        `testwire watch: ${this.label(run)} was running when the process that owned ${this.url} went away; it will not complete`,
      );
      for (const line of formatRunSummary(run, this.c, 3)) this.line(line);
    }
    this.snapshot(info.runs);
  }

  status(status: LinkStatus): void {
    if (status.state === 'connected') {
      this.line(`testwire watch: ${status.resumed ? 'reconnected to' : 'connected to'} ${this.url}`);
    } else if (status.state === 'disconnected' && !this.lostShown) {
      this.lostShown = true;
      this.line(`testwire watch: waiting for ${this.url} (${status.reason}); retrying until it is up`);
    }
    if (status.state === 'connected') this.lostShown = false;
  }
  private lostShown = false;

  hosting(): void {
    this.line(
      `testwire watch: nothing was listening at ${this.url}; hosting it here (test runs join it; a run still going when watch exits takes it over)`,
    );
  }

  stop(): void {}
}
