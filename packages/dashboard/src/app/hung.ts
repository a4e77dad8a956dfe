/**
 * Tests a reporter reported hung while they ran (performance.bottleneck `hung_test`): what the dashboard's
 * "Hung tests" panel lists — those that have not ended since, with the time they have been running.
 */
import type { AnyEventEnvelope, RunSnapshot } from '@testwire/protocol';
import { type RunClock, runClockEnd, runTitle } from './view-model.js';

export interface HungReport {
  runId: string;
  id?: string;
  title: string;
  location?: string;
  /** ms it had run when reported. */
  elapsedMs: number;
  /** Epoch ms of the report. */
  at: number;
}

export interface HungItem {
  key: string;
  runTitle: string;
  title: string;
  location?: string;
  /**
   * ms it has run: to the time asked while its run runs and the page is live, to its run's end once the run
   * ended, to the run's last event while the page is not live (see `RunClock`).
   */
  elapsedMs: number;
  /** The run ended (interrupted or not) with the test still running. */
  runEnded: boolean;
}

/** The report in a `hung_test` bottleneck; undefined for any other event. */
export function hungReportOf(envelope: AnyEventEnvelope): HungReport | undefined {
  if (envelope.type !== 'performance.bottleneck' || envelope.data.type !== 'hung_test') return undefined;
  const d = envelope.data;
  const line = d.location?.line;
  const report: HungReport = {
    runId: envelope.runId,
    title: (d.titlePath?.length ? d.titlePath : [d.testName]).join(' › '),
    elapsedMs: d.elapsed ?? d.duration,
    at: Date.parse(envelope.timestamp) || Date.now(),
  };
  if (d.id) report.id = d.id;
  const file = d.location?.file ?? d.file;
  if (file) report.location = line !== undefined ? `${file}:${line}` : file;
  return report;
}

export const hungKey = (report: HungReport): string => `${report.runId}\0${report.id ?? report.title}`;

/** Reported hung tests that have not ended (no final result in their run), longest-running first. */
export function hungTestsOf(
  runs: RunSnapshot[],
  reports: Iterable<HungReport>,
  now: number,
  clockOf: (runId: string) => RunClock = () => ({ live: true }),
): HungItem[] {
  const byId = new Map(runs.map((run) => [run.runId, run]));
  const items: HungItem[] = [];
  for (const report of reports) {
    const run = byId.get(report.runId);
    if (!run) continue;
    const state = report.id ? run.tests.find((test) => test.id === report.id) : undefined;
    if (state && state.status !== 'running') continue;
    const runEnded = run.status === 'completed';
    items.push({
      key: hungKey(report),
      runTitle: runTitle(run),
      title: report.title,
      ...(report.location ? { location: report.location } : {}),
      elapsedMs: report.elapsedMs + Math.max(0, runClockEnd(run, now, clockOf(run.runId)) - report.at),
      runEnded,
    });
  }
  return items.sort((a, b) => b.elapsedMs - a.elapsedMs);
}
