/**
 * The finished run `testwire baseline save|compare` works on: from an endpoint (its `snapshot`, which keeps
 * every test's latest result even after the history evicted the events) or from a stored run (the NDJSON of
 * `testwire tail --json`, folded through the same RunStateStore every consumer uses).
 */
import { readFileSync } from 'node:fs';
import { isEventEnvelope, type RunSnapshot, RunStateStore, type TestStatus } from '@testwire/protocol';
import type { RunTest } from '@testwire/reporter-core/baseline';
import { connectionError, endpointClient } from './connect.js';
import type { Endpoint } from './endpoint.js';
import { CliError, ExitCode } from './errors.js';

/** Every run the endpoint knows, from one `snapshot` request. */
export async function runsFromEndpoint(endpoint: Endpoint): Promise<RunSnapshot[]> {
  const client = endpointClient(endpoint, { wait: false, events: [], runState: false });
  try {
    await client.connect();
    return (await client.snapshot()).runs;
  } catch (error) {
    throw connectionError(error, endpoint);
  } finally {
    await client.close();
  }
}

/** Every run of a stored stream: one envelope per line (`testwire tail --json > run.ndjson`). */
export function runsFromFile(path: string): RunSnapshot[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 'BAD_INPUT', ExitCode.USAGE);
  }
  const store = new RunStateStore({ maxCompletedRuns: Number.MAX_SAFE_INTEGER });
  let seq = 0;
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new CliError(
        `${path}:${lineNumber} is not JSON (expected one event envelope a line, as \`testwire tail --json\` writes)`,
        'BAD_INPUT',
        ExitCode.USAGE,
      );
    }
    // A stored envelope keeps its seq; one without (hand-written) gets the next.
    const envelope = parsed as { seq?: unknown };
    if (typeof envelope.seq !== 'number') envelope.seq = ++seq;
    else seq = envelope.seq;
    if (!isEventEnvelope(envelope)) {
      throw new CliError(
        `${path}:${lineNumber} is not an event envelope ({"type","timestamp","seq","runId","data"})`,
        'BAD_INPUT',
        ExitCode.USAGE,
      );
    }
    store.apply(envelope);
  }
  return store.snapshot();
}

/**
 * The run to use: `runId` when given, else the last completed run. Only a completed run has final results
 * (a test still running or about to be retried has none yet).
 */
export function pickRun(runs: RunSnapshot[], runId: string | undefined, where: string): RunSnapshot {
  if (runId) {
    const run = runs.find((candidate) => candidate.runId === runId);
    if (!run)
      throw new CliError(
        `no run ${runId} at ${where} (runs: ${runs.map((r) => r.runId).join(', ') || 'none'})`,
        'NO_RUN',
      );
    if (run.status !== 'completed')
      throw new CliError(
        `run ${runId} at ${where} has not completed yet; wait for its end`,
        'RUN_NOT_COMPLETED',
      );
    return run;
  }
  const completed = runs.filter((run) => run.status === 'completed');
  const run = completed.at(-1);
  if (!run) {
    const running = runs.map((r) => r.runId).join(', ');
    throw new CliError(
      `no completed run at ${where}${running ? ` (still running: ${running}; wait for it, or pass --run)` : ''}`,
      'NO_RUN',
    );
  }
  return run;
}

/** The run's final results, as a baseline keeps them. */
export function runTests(run: RunSnapshot): RunTest[] {
  const out: RunTest[] = [];
  for (const test of run.tests) {
    if (test.status === 'running') continue;
    // A failed attempt that was to be retried, with no later attempt: the run ended on a failure.
    const status: TestStatus = test.status;
    const entry: RunTest = {
      id: test.id,
      test: test.testName,
      titlePath: test.titlePath,
      file: test.file,
      status,
    };
    // The runner's project (Playwright project, Jest displayName), as the reporter keeps it.
    if (test.project !== undefined && test.project !== run.project) entry.project = test.project;
    if (typeof test.duration === 'number') entry.duration = test.duration;
    out.push(entry);
  }
  return out;
}
