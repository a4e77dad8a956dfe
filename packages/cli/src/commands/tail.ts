import type { AnyEventEnvelope, Filters, SubscribeRequest } from '@testwire/protocol';
import { checkFilters, filtersMatch, isEventType, Subscription, SubscriptionError } from '@testwire/protocol';
import {
  endpointFrom,
  endpointHelp,
  endpointOptions,
  type Io,
  parseCommand,
  parseCount,
  splitList,
} from '../args.js';
import { connectionError, endpointClient, lostReason } from '../connect.js';
import { CliError, ExitCode } from '../errors.js';
import { createColors, formatEvent, shouldColor } from '../format.js';
import { closeMonitor, hostTarget, LocalHost } from '../local-host.js';
import { terminalSafe } from '../terminal-text.js';

export const tailHelp = `Usage: testwire tail [options]

Prints the events of a testwire endpoint as they happen: one readable line each, or with --json one
envelope per line (NDJSON: {"type","timestamp","seq","runId","data"}). Reconnects and resumes without
loss when the endpoint goes away and comes back (a new test process starting a new broadcaster).

Options:
  --json                 NDJSON output, one event envelope per line
  --events <a,b>         event types to receive (default: every type)
  --patterns <p,q>       patterns, '*' for one segment: 'test.*', '*.error'
  --filter <key=value>   only events whose data.key equals value; repeat or use a,b for any-of;
                         'runId=r_…' follows one run; dot paths reach nested fields (error.type=…)
  --until <type>         exit after the first event of this type (e.g. test.completed); it is
                         received even when --events/--filter leave it out of the output (only the
                         runId, project and framework filters apply to it)
  --runs <n>             with --until: exit after the type was seen for n different runs (default 1)
  --exit-status          exit code follows the runs' success: 0 if every test.completed seen had
                         summary.success, 1 otherwise (implies --until test.completed)
  --replay               print the endpoint's history first (everything since it started), then live
  --wait                 when nothing is listening yet, do not fail: an endpoint on this machine is
                         hosted by tail itself (test runs join it, so a short run is printed whole;
                         a run still going when tail exits takes it over), a remote one waited for;
                         an endpoint it followed that goes away is never taken over: tail reconnects
  --no-host              with --wait, never host: wait for a test run or \`testwire serve\` instead
  -h, --help             show this help

${endpointHelp}

Several runs: --until and --exit-status count test.completed per run; with a monorepo running four
runners into one endpoint use --runs 4 (or --filter project=<name> to follow one of them).

A run whose test process owned the endpoint and died with it (SIGKILL), while another process took the
endpoint over, never sends its test.completed: --until test.completed counts it as completed,
interrupted (a failure for --exit-status), and says so on stderr; nothing is printed for it on stdout.

Exit codes: 0 ok, 1 a run failed (--exit-status), 2 bad usage, 3 cannot connect / unauthorized,
130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM).`;

/** Filters every event of a run carries: they also select which runs count for --until. */
const RUN_LEVEL_FILTERS = new Set(['runId', 'project', 'framework']);

/** Parses repeated `--filter key=value` flags into subscription filters (any-of on a repeated key). */
export function parseFilters(values: string[]): Filters | undefined {
  if (values.length === 0) return undefined;
  const filters: Record<string, string[]> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) {
      throw new CliError(
        `--filter: expected key=value, got ${JSON.stringify(value)}`,
        'USAGE',
        ExitCode.USAGE,
      );
    }
    const key = value.slice(0, eq).trim();
    const list = value
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim());
    filters[key] = [...(filters[key] ?? []), ...list];
  }
  const out: Filters = {};
  for (const [key, list] of Object.entries(filters)) {
    if (key === 'memoryThreshold' || key === 'cpuThreshold') out[key] = Number(list[0]);
    else out[key] = list.length === 1 ? list[0] : list;
  }
  try {
    return checkFilters(out);
  } catch (error) {
    if (error instanceof SubscriptionError)
      throw new CliError(`--filter: ${error.message}`, 'USAGE', ExitCode.USAGE);
    throw error;
  }
}

export async function tail(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand('tail', argv, {
    ...endpointOptions,
    json: { type: 'boolean' },
    events: { type: 'string', multiple: true },
    patterns: { type: 'string', multiple: true },
    filter: { type: 'string', multiple: true },
    until: { type: 'string' },
    runs: { type: 'string' },
    'exit-status': { type: 'boolean' },
    replay: { type: 'boolean' },
    wait: { type: 'boolean' },
    'no-host': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(`${tailHelp}\n`);
    return ExitCode.OK;
  }
  const endpoint = endpointFrom(values, io);
  const events = splitList(values.events);
  const patterns = splitList(values.patterns);
  const filters = parseFilters(values.filter ?? []);
  const exitStatus = Boolean(values['exit-status']);
  const until = values.until ?? (exitStatus ? 'test.completed' : undefined);
  if (until !== undefined && !isEventType(until)) {
    throw new CliError(
      `--until: unknown event type ${JSON.stringify(until)} (e.g. test.completed)`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
  const runsWanted = parseCount(values.runs, '--runs', 1);
  if (runsWanted < 1) throw new CliError('--runs: expected at least 1', 'USAGE', ExitCode.USAGE);

  const subscribe: SubscribeRequest = {
    ...(events.length || patterns.length ? { events, patterns } : { patterns: ['*'] }),
    ...(filters ? { filters } : {}),
  };
  // --until / --exit-status must see their event type even when the printed selection leaves it out:
  // subscribe to it as well, print only what was asked for.
  const printed = new Subscription().subscribe(subscribe);
  const requests = [subscribe];
  // Only run-level filters decide which runs count: `status=failed` must not hide test.completed.
  const runFilters =
    filters && Object.fromEntries(Object.entries(filters).filter(([key]) => RUN_LEVEL_FILTERS.has(key)));
  const countedFilters = runFilters && Object.keys(runFilters).length ? runFilters : undefined;
  // A run whose process owned the endpoint and died with it never sends its test.completed: the client
  // tells it from its run state (which runs were going), so every run's start must reach it too.
  const ownerLost = until === 'test.completed';
  if (until) {
    const needed = ownerLost ? [until, 'test.started'] : [until];
    const missing = needed.filter((type) => !(printed.selects(type) && filters === undefined));
    if (missing.length)
      requests.push({ events: missing, ...(countedFilters ? { filters: countedFilters } : {}) });
  }

  const color = !values.json && shouldColor(io.stdout, io.env);
  const c = createColors(color);
  const print = (event: AnyEventEnvelope) => {
    // JSON escapes every control character itself; text goes out only as text (terminal-text.ts).
    io.stdout.write(values.json ? `${JSON.stringify(event)}\n` : `${formatEvent(terminalSafe(event), c)}\n`);
  };

  const client = endpointClient(endpoint, {
    events: subscribe.events,
    patterns: subscribe.patterns,
    filters: subscribe.filters,
    replay: Boolean(values.replay),
    // Only each run's status matters here: no test is kept, only those running.
    runState: ownerLost ? { maxTestsPerRun: 0 } : false,
    wait: Boolean(values.wait),
  });
  // Nothing listening on this machine: host the endpoint, so a short run's reporter joins us (local-host.ts).
  const target = values.wait && !values['no-host'] ? hostTarget(endpoint) : undefined;
  const host =
    target &&
    new LocalHost(target, {
      apiKey: endpoint.apiKey,
      warn: (message) => io.stderr.write(`testwire tail: ${message}\n`),
      onHosting: () =>
        io.stderr.write(
          `testwire tail: nothing was listening; hosting ${endpoint.httpUrl} here (test runs join it; a run still going when tail exits takes it over)\n`,
        ),
    });
  // Kept across reconnects like the first; a refusal by the server arrives through onError.
  for (const request of requests.slice(1)) client.subscribe(request).catch(() => {});

  return await new Promise<number>((resolve, reject) => {
    const untilRuns = new Set<string>();
    let failedRun = false;
    let finished = false;
    let connectedOnce = false;

    /** Stops everything; resolves once the hosted endpoint (if any) is closed and handed over. */
    const stop = (): Promise<void> => {
      finished = true;
      // Our own client, then the endpoint we host (local-host.ts: the order matters for the handover).
      const closed = closeMonitor(client, host);
      io.stdout.removeListener('error', onStdoutError);
      // Runs publishing to our endpoint take it over once it closes (the broadcaster's handover). Our signal
      // handlers stay until then: the hosted broadcaster's own (it removes its secret file on a signal)
      // re-raises the signal when it finds no other handler, which would kill us mid-close.
      return closed.then(() => {
        process.removeListener('SIGINT', onSigint);
        process.removeListener('SIGTERM', onSigterm);
      });
    };
    const finish = (code: number) => {
      if (finished) return;
      void stop().then(() => resolve(code));
    };
    const fail = (error: unknown) => {
      if (finished) return;
      void stop().then(() => reject(connectionError(error, endpoint)));
    };
    const onSigint = () => finish(ExitCode.INTERRUPTED);
    const onSigterm = () => finish(143);
    // `testwire tail | head`: the reader went away; that is a normal end.
    const onStdoutError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') finish(ExitCode.OK);
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    io.stdout.on('error', onStdoutError);

    client.on('*', (_data, event) => {
      if (finished) return;
      if (printed.matches(event)) print(event);
      if (event.type === 'test.completed' && !event.data.summary.success) failedRun = true;
      if (until && event.type === until) {
        untilRuns.add(event.runId);
        if (untilRuns.size >= runsWanted) finish(exitStatus && failedRun ? ExitCode.FAILURE : ExitCode.OK);
      }
    });
    // Notes go to stderr, never into the (--json) output.
    // One note per time the endpoint is away: a local one is tried again every 250 ms (connect.ts).
    let awayNoted = false;
    client.onState((state, info) => {
      if (state === 'reconnecting') {
        host?.refused(info.error, connectedOnce);
        if (awayNoted) return;
        awayNoted = true;
        io.stderr.write(
          connectedOnce
            ? `testwire tail: connection lost (${lostReason(info.error)}), retrying until it is back\n`
            : `testwire tail: waiting for ${endpoint.httpUrl} (${lostReason(info.error)}), retrying until it is up\n`,
        );
      } else if (state === 'open') {
        awayNoted = false;
        if (connectedOnce) io.stderr.write('testwire tail: reconnected\n');
        connectedOnce = true;
      } else if (state === 'closed' && info.error) {
        fail(info.error);
      }
    });
    client.onResync((info) => {
      if (finished) return;
      io.stderr.write(
        info.replayed
          ? `testwire tail: ${endpoint.httpUrl} is a new broadcaster (the previous one went away); printing its events from its first\n`
          : `testwire tail: events were lost (${info.message}); going on from there\n`,
      );
      if (!ownerLost) return;
      // Runs the previous owner process was running itself died with it: their test.completed never comes.
      // They count as completed (interrupted, not a success) for --until test.completed / --exit-status.
      let counted = false;
      for (const run of info.interruptedRuns) {
        const selected =
          !countedFilters ||
          filtersMatch(countedFilters, {
            type: 'test.completed',
            runId: run.runId,
            data: { project: run.project, framework: run.framework },
          });
        if (!selected || untilRuns.has(run.runId)) continue;
        io.stderr.write(
          `testwire tail: run ${run.runId} (${[run.framework, run.project].filter(Boolean).join(' ')}) was running when the process that owned the endpoint went away; it will not complete: counted as completed, interrupted (owner lost)\n`,
        );
        untilRuns.add(run.runId);
        failedRun = true;
        counted = true;
      }
      if (counted && untilRuns.size >= runsWanted) finish(exitStatus ? ExitCode.FAILURE : ExitCode.OK);
    });
    client.onError((error) => {
      if (error.serverCode === 'INVALID_SUBSCRIPTION') fail(error);
      else if (error.serverCode === 'SUBSCRIBER_LAGGING')
        io.stderr.write('testwire tail: fell behind the endpoint; resuming where it left off\n');
      else io.stderr.write(`testwire tail: ${error.message}\n`);
    });
    // Host first when nothing listens, then connect (to our own endpoint, or to whoever bound it first).
    void (host ? host.claim() : Promise.resolve(false)).then(() => {
      if (!finished) client.connect().catch(fail);
    }, fail);
  });
}
